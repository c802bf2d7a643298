// The HomeRack planner: racks on the left, the selected rack's elevation and its panels
// (devices, thermal, optimizer, cabling) on the right. Client-side routes are /racks/<id>;
// the edge's SPA fallback serves this page for them.

import { get, post, put, del, token, onUnauthorized, ApiError } from './api.js';
import { h, replace, field, formValues, fmt } from './dom.js';
import { drawElevation } from './elevation.js';
import { brandLogos, TYPES } from './model.js';
import { devicesPanel, thermalPanel, optimizerPanel } from './panels.js';
import { cablingPanel } from './cabling.js';

const state = {
  racks: [],
  rackId: null,
  layout: null,
  thermal: null,         // the last thermal analysis of the selected rack
  thermalOverlay: false, // drawn on the elevation
  tab: 'devices',
  selectedDeviceId: null,
  targetU: null,         // the U chosen by clicking an empty slot
};

const el = {
  list: document.getElementById('rack-list'),
  view: document.getElementById('rack-view'),
  newRack: document.getElementById('new-rack'),
  newRackBody: document.getElementById('new-rack-body'),
};

// ------------------------------------------------------------------ messages -------------

/** Shows the outcome of an action next to the rack (never an alert box). */
export function say(message, kind = 'info', status) {
  const box = document.getElementById('rack-message') || document.getElementById('global-message');
  if (!box) return;
  const text = message instanceof ApiError
    ? `${message.status ? `${message.status} ` : ''}${message.message}` : String(message);
  const isError = message instanceof ApiError || kind === 'error';
  replace(box, h('p', {
    class: `msg ${isError ? 'error' : kind}`,
    dataset: { status: message instanceof ApiError ? message.status : (status ?? '') },
  }, text));
}

export function clearMessage() {
  const box = document.getElementById('rack-message');
  if (box) box.replaceChildren();
}

/** Runs an action; its ApiError is shown next to the rack, and true means it succeeded. */
export async function attempt(action, success) {
  try {
    await action();
    if (success) say(success, 'ok');
    return true;
  } catch (err) {
    if (err instanceof ApiError) say(err);
    else { say(`Unexpected error: ${err.message}`, 'error'); console.error(err); }
    return false;
  }
}

// --------------------------------------------------------------------- token -------------

function setupToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const clear = document.getElementById('token-clear');
  const status = document.getElementById('token-status');
  const show = () => {
    const signedIn = Boolean(token.get());
    clear.hidden = !signedIn;
    status.textContent = signedIn ? 'Signed in for this tab' : '';
    status.className = 'token-status';
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    input.value = '';
    show();
    clearMessage();
  });
  clear.addEventListener('click', () => { token.set(''); show(); });
  onUnauthorized((message) => {
    status.textContent = message;
    status.className = 'token-status error';
    input.focus();
  });
  show();
}

// --------------------------------------------------------------------- racks -------------

const WIDTHS = [['11"', '11"'], ['18"', '18"'], ['19"', '19"'], ['23"', '23"']];

function rackForm(rack, onSubmit, submitLabel) {
  const r = rack || {};
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const form = h('form', { class: 'rack-form grid-form', novalidate: true },
    field('Name', { name: 'name', required: true, maxlength: 200, value: r.name ?? '' }),
    field('Location', { name: 'location', value: r.location ?? '' }),
    field('Height (U)', { name: 'total_height_u', type: 'number', min: 1, max: 100, value: r.total_height_u ?? 42 }),
    field('Width', { name: 'width_inches', value: r.width_inches ?? '19"' }, WIDTHS),
    field('Depth (mm)', { name: 'depth_mm', type: 'number', min: 200, max: 1500, value: r.depth_mm ?? 700 }),
    field('Max weight (kg)', { name: 'max_weight_kg', type: 'number', min: 0, max: 2000, value: r.max_weight_kg ?? 500 }),
    field('Max power (W)', { name: 'max_power_watts', type: 'number', min: 0, max: 50000, value: r.max_power_watts ?? 5000 }),
    field('Cooling (BTU/hr)', { name: 'cooling_capacity_btu', type: 'number', min: 0, max: 100000, value: r.cooling_capacity_btu ?? 17000 }),
    errors,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel)));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    for (const bad of form.querySelectorAll('[aria-invalid]')) bad.removeAttribute('aria-invalid');
    try {
      await onSubmit(formValues(form));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.append(h('p', { class: 'msg error', dataset: { status: err.status } }, `${err.status} ${err.message}`));
      for (const fe of err.fieldErrors) {
        const input = form.elements.namedItem(fe.field);
        if (input) input.setAttribute('aria-invalid', 'true');
      }
    }
  });
  return form;
}

async function loadRacks() {
  state.racks = await get('/racks?limit=1000');
  renderRackList();
}

function renderRackList() {
  replace(el.list, state.racks.length
    ? state.racks.map((rack) => h('li', {},
      h('a', {
        href: `/racks/${rack.id}`, class: 'rack-link', dataset: { rackId: rack.id },
        'aria-current': rack.id === state.rackId ? 'page' : null,
        onclick: (event) => { event.preventDefault(); navigate(rack.id); },
      }, h('span', { class: 'rack-name' }, rack.name),
      h('span', { class: 'rack-meta' }, `${rack.total_height_u}U · ${rack.width_inches}${rack.location ? ` · ${rack.location}` : ''}`))))
    : h('li', { class: 'empty-state' }, 'No racks yet.'));
}

function setupNewRack() {
  el.newRackBody.append(rackForm(null, async (values) => {
    const rack = await post('/racks', values);
    el.newRack.open = false;
    el.newRackBody.replaceChildren();
    setupNewRack();
    await loadRacks();
    await navigate(rack.id);
    say(`Rack "${rack.name}" created.`, 'ok');
  }, 'Create rack'));
}

// ------------------------------------------------------------------- routing -------------

function rackIdFromPath() {
  const match = /^\/racks\/(\d+)\/?$/.exec(location.pathname);
  return match ? Number(match[1]) : null;
}

async function navigate(rackId, { push = true } = {}) {
  if (push) history.pushState({ rackId }, '', rackId ? `/racks/${rackId}` : '/');
  state.rackId = rackId;
  state.thermal = null;
  state.thermalOverlay = false;
  state.selectedDeviceId = null;
  state.targetU = null;
  state.optimization = null;
  renderRackList();
  if (!rackId) { renderEmpty(); return; }
  try {
    state.layout = await get(`/racks/${rackId}/layout`);
  } catch (err) {
    state.layout = null;
    replace(el.view, h('div', { id: 'global-message', class: 'messages' }));
    say(err instanceof ApiError && err.status === 404 ? `Rack ${rackId} does not exist (any more).` : err);
    return;
  }
  renderRack();
}

function renderEmpty() {
  replace(el.view,
    h('div', { id: 'global-message', class: 'messages' }),
    h('div', { class: 'empty-state' },
      h('h2', {}, 'Plan a rack'),
      h('p', {}, state.racks.length
        ? 'Choose a rack on the left, or create a new one.'
        : 'Create your first rack with "New rack" on the left.')));
  if (!state.racks.length) el.newRack.open = true;
}

// ---------------------------------------------------------------- rack view --------------

/** Reloads the layout (and the thermal analysis when it is shown) and redraws. */
export async function refresh() {
  state.layout = await get(`/racks/${state.rackId}/layout`);
  if (state.thermalOverlay || state.tab === 'thermal') {
    state.thermal = await get(`/racks/${state.rackId}/thermal-analysis`);
  }
  renderRack({ keepMessage: true });
}

function renderRack({ keepMessage = false } = {}) {
  const { rack } = state.layout;
  const oldMessage = keepMessage ? document.getElementById('rack-message')?.cloneNode(true) : null;
  const focusedBlock = document.activeElement?.closest?.('.device-block')?.dataset.deviceId;
  const tabs = [
    ['devices', 'Devices'], ['thermal', 'Thermal'], ['optimize', 'Optimize'], ['cabling', 'Cabling'],
  ];
  const panelBox = h('div', { class: 'tab-panel', id: 'tab-panel', role: 'tabpanel', 'aria-labelledby': `tab-${state.tab}` });
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Rack tools' },
    tabs.map(([id, label]) => h('button', {
      type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': 'tab-panel',
      'aria-selected': String(state.tab === id), tabindex: state.tab === id ? 0 : -1,
      onclick: () => selectTab(id),
      onkeydown: (event) => {
        const i = tabs.findIndex(([t]) => t === id);
        if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
          event.preventDefault();
          const next = tabs[(i + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length][0];
          selectTab(next).then(() => document.getElementById(`tab-${next}`)?.focus());
        }
      },
    }, label)));

  const editBox = h('div', { class: 'edit-box', hidden: true });
  const deleteBox = h('span', { class: 'delete-box' });
  const header = h('div', { class: 'rack-header' },
    h('div', {},
      h('h2', { id: 'rack-title' }, rack.name),
      h('p', { class: 'rack-facts' },
        `${rack.total_height_u}U · ${rack.width_inches} · ${fmt(rack.depth_mm)} mm deep`,
        rack.location ? ` · ${rack.location}` : '',
        h('br'),
        h('span', { id: 'utilization' }, `${fmt(state.layout.utilization_percent, 2)} % used`),
        ` · ${fmt(state.layout.total_weight_kg, 1)} / ${fmt(rack.max_weight_kg)} kg`,
        ` · ${fmt(state.layout.total_power_watts)} / ${fmt(rack.max_power_watts)} W`)),
    h('div', { class: 'rack-actions' },
      h('button', {
        type: 'button', id: 'edit-rack', 'aria-expanded': 'false',
        onclick: (event) => {
          editBox.hidden = !editBox.hidden;
          event.currentTarget.setAttribute('aria-expanded', String(!editBox.hidden));
          if (!editBox.hidden) editBox.querySelector('input')?.focus();
        },
      }, 'Edit'),
      deleteBox));
  resetDelete(deleteBox, rack);
  editBox.append(rackForm(rack, async (values) => {
    await put(`/racks/${rack.id}`, values);
    await loadRacks();
    await refresh();
    say('Rack saved.', 'ok');
  }, 'Save rack'));

  const svg = drawElevation({
    rack, positions: state.layout.positions,
    thermal: state.thermalOverlay ? state.thermal : null,
    selectedDeviceId: state.selectedDeviceId,
    onSlot: (u) => { state.targetU = u; selectTab('devices', { focusTarget: true }); },
    onMove: (p, startU) => attempt(async () => {
      await put(`/racks/${rack.id}/positions/${p.id}`, { start_u: startU });
      await refresh();
    }, `Moved to U${startU}.`),
    onSelect: (p) => { state.selectedDeviceId = p.device_id; selectTab('devices'); },
    onToggleLock: (p) => attempt(async () => {
      await put(`/racks/${rack.id}/positions/${p.id}`, { locked: !p.locked });
      await refresh();
    }, p.locked ? 'Unlocked.' : 'Locked: the optimizer keeps it in place.'),
  });

  const overlayToggle = h('label', { class: 'toggle' },
    h('input', {
      type: 'checkbox', id: 'thermal-toggle', checked: state.thermalOverlay,
      onchange: async (event) => {
        state.thermalOverlay = event.currentTarget.checked;
        if (state.thermalOverlay) await attempt(async () => { state.thermal = await get(`/racks/${rack.id}/thermal-analysis`); });
        renderRack({ keepMessage: true });
        document.getElementById('thermal-toggle')?.focus();
      },
    }), ' Thermal overlay');

  const figure = h('figure', { class: 'elevation-wrap' },
    h('div', { class: 'elevation-tools' }, overlayToggle,
      h('span', { class: 'hint' }, 'Drag a device, or focus it and use ↑/↓; L locks. Click a free U to choose it.')),
    h('div', { class: 'elevation-scroll', id: 'elevation' }, svg),
    legend());

  const message = oldMessage || h('div', { id: 'rack-message', class: 'messages', role: 'status', 'aria-live': 'polite' });
  replace(el.view, header, editBox, message, h('div', { class: 'rack-body' }, figure,
    h('div', { class: 'panels' }, tablist, panelBox)));
  renderTab(panelBox);
  if (focusedBlock) el.view.querySelector(`.device-block.front[data-device-id="${focusedBlock}"]`)?.focus();
}

function resetDelete(box, rack) {
  replace(box, h('button', {
    type: 'button', id: 'delete-rack', class: 'danger',
    onclick: () => {
      replace(box,
        h('span', { class: 'confirm-text' }, `Delete "${rack.name}" and its positions?`),
        h('button', {
          type: 'button', id: 'confirm-delete-rack', class: 'danger',
          onclick: () => attempt(async () => {
            await del(`/racks/${rack.id}`);
            await loadRacks();
            await navigate(null);
            say(`Rack "${rack.name}" deleted.`, 'ok');
          }),
        }, 'Delete'),
        h('button', { type: 'button', onclick: () => resetDelete(box, rack) }, 'Cancel'));
      box.querySelector('#confirm-delete-rack').focus();
    },
  }, 'Delete…'));
}

function legend() {
  return h('figcaption', { class: 'legend' },
    h('ul', {}, TYPES.map(([slug, name]) => h('li', {}, h('span', { class: `swatch type-${slug}` }), name)),
      h('li', {}, h('span', { class: 'swatch empty' }), 'Free U'),
      h('li', {}, h('span', { class: 'swatch locked' }), 'Locked (the optimizer keeps it)'),
      h('li', {}, h('span', { class: 'swatch hot' }), 'Hot spot (thermal overlay)')));
}

async function selectTab(id, { focusTarget = false } = {}) {
  state.tab = id;
  if (id === 'thermal' && !state.thermal) {
    await attempt(async () => { state.thermal = await get(`/racks/${state.rackId}/thermal-analysis`); });
  }
  for (const tab of el.view.querySelectorAll('[role=tab]')) {
    const on = tab.id === `tab-${id}`;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  const box = document.getElementById('tab-panel');
  if (!box) return;
  box.setAttribute('aria-labelledby', `tab-${id}`);
  renderTab(box);
  if (focusTarget) document.getElementById('place-u')?.focus();
}

/** The context a panel gets: the state and the page's actions. */
function context() {
  return {
    state, refresh, say, attempt, clearMessage,
    redraw: () => renderRack({ keepMessage: true }),
    showThermal: async (on) => {
      state.thermalOverlay = on;
      state.thermal = await get(`/racks/${state.rackId}/thermal-analysis`);
      renderRack({ keepMessage: true });
    },
  };
}

function renderTab(box) {
  const ctx = context();
  const panel = { devices: devicesPanel, thermal: thermalPanel, optimize: optimizerPanel, cabling: cablingPanel }[state.tab];
  replace(box, panel(ctx));
}

// ---------------------------------------------------------------------- boot -------------

async function loadBrands() {
  try {
    const brands = await get('/brands?limit=1000');
    brandLogos.clear();
    for (const b of brands) if (b.logo_url) brandLogos.set(b.name.trim().toLowerCase(), b.logo_url);
  } catch (err) {
    // Logos are decoration: the planner works without them.
    void err;
  }
}

export async function reloadBrands() { await loadBrands(); }

async function boot() {
  setupToken();
  setupNewRack();
  document.getElementById('home-link').addEventListener('click', (event) => {
    event.preventDefault();
    navigate(null);
  });
  window.addEventListener('popstate', () => navigate(rackIdFromPath(), { push: false }));
  try {
    await Promise.all([loadRacks(), loadBrands()]);
  } catch (err) {
    replace(el.view, h('div', { id: 'global-message', class: 'messages' }));
    say(err instanceof ApiError ? err : `Could not load the racks: ${err.message}`, 'error');
    return;
  }
  const fromPath = rackIdFromPath();
  if (fromPath) await navigate(fromPath, { push: false });
  else renderEmpty();
  document.body.dataset.ready = 'true';
}

boot();
