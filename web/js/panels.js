// The rack's tool panels: devices (search, add, place, move, lock, remove), the thermal
// analysis, and the optimizer (proposal beside the current layout, scores, apply).
// Each panel is a function of the page context (`ctx`: state, refresh, say, attempt, ...).

import { get, post, put, del, ApiError } from './api.js';
import { h, replace, field, formValues, fmt } from './dom.js';
import { drawElevation } from './elevation.js';
import { profile, lowestFreeU, occupancy, occupied, AIRFLOW, typeName } from './model.js';

const AIRFLOWS = Object.entries(AIRFLOW);
const WIDTHS = [['', 'unknown'], ['11"', '11"'], ['18"', '18"'], ['19"', '19"'], ['23"', '23"']];

// ------------------------------------------------------------------- devices -------------

export function devicesPanel(ctx) {
  const { state } = ctx;
  const rack = state.layout.rack;
  const placedIds = new Set(state.layout.positions.map((p) => p.device_id));
  const placeBox = h('div', { class: 'place-box' }, h('p', { class: 'hint' }, 'Loading devices…'));
  const box = h('div', { class: 'devices-panel' },
    h('section', { 'aria-labelledby': 'h-add' },
      h('h3', { id: 'h-add' }, 'Add a device'),
      searchForm(ctx),
      newSpecification(ctx)),
    h('section', { 'aria-labelledby': 'h-place' }, h('h3', { id: 'h-place' }, 'Place a device'), placeBox),
    h('section', { 'aria-labelledby': 'h-placed' },
      h('h3', { id: 'h-placed' }, `In this rack (${state.layout.positions.length})`),
      placedTable(ctx)));

  const fill = (devices) => {
    const free = devices.filter((d) => !placedIds.has(d.id));
    if (!free.length) {
      replace(placeBox, h('p', { class: 'hint' }, 'Every device is in this rack. Add one above.'));
      return;
    }
    const select = h('select', { id: 'place-device', name: 'device_id' }, free.map((d) => {
      const info = profile(d);
      const height = info.heightU === null ? 'no height' : `${info.heightU}U`;
      return h('option', { value: d.id, selected: d.id === state.pendingDeviceId }, `${info.name} · ${height}`);
    }));
    const uInput = h('input', { id: 'place-u', name: 'start_u', type: 'number', min: 1, max: rack.total_height_u, required: true });
    const suggest = () => {
      if (state.targetU) { uInput.value = state.targetU; return; }
      const device = free.find((d) => String(d.id) === select.value);
      const u = device ? lowestFreeU(rack, state.layout.positions, profile(device).heightU ?? 0) : null;
      uInput.value = u ?? '';
    };
    select.addEventListener('change', () => { state.targetU = null; suggest(); });
    suggest();
    const form = h('form', { class: 'place-form inline-form', id: 'place-form' },
      h('div', { class: 'field' }, h('label', { for: 'place-device' }, 'Device'), select),
      h('div', { class: 'field narrow' }, h('label', { for: 'place-u' }, 'At U'), uInput),
      h('label', { class: 'toggle' }, h('input', { type: 'checkbox', name: 'locked', id: 'place-locked' }), ' locked'),
      h('button', { type: 'submit', class: 'primary', id: 'place-submit' }, 'Place'),
      h('button', {
        type: 'button', id: 'delete-device', class: 'danger subtle',
        onclick: () => ctx.attempt(async () => {
          await del(`/devices/${select.value}`);
          state.devices = null;
          ctx.redraw();
        }, 'Device deleted.'),
      }, 'Delete device'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = formValues(form);
      ctx.attempt(async () => {
        await post(`/racks/${rack.id}/positions`, {
          device_id: Number(values.device_id), start_u: Number(values.start_u), locked: Boolean(values.locked),
        });
        state.targetU = null;
        state.pendingDeviceId = null;
        await ctx.refresh();
      }, `Placed at U${values.start_u}.`);
    });
    replace(placeBox, form, h('p', { class: 'hint' },
      'The server\'s placement rules decide: a clash, a device too tall or too wide is refused with its reason.'));
  };
  if (state.devices) fill(state.devices);
  else {
    get('/devices?limit=1000').then((devices) => { state.devices = devices; fill(devices); })
      .catch((err) => replace(placeBox, h('p', { class: 'msg error' }, err.message)));
  }
  return box;
}

function searchForm(ctx) {
  const results = h('ul', { class: 'search-results', id: 'search-results', 'aria-live': 'polite' });
  const input = h('input', { id: 'catalog-search', type: 'search', name: 'q', placeholder: 'brand or model, e.g. USW', required: true });
  const form = h('form', { class: 'inline-form', role: 'search' },
    h('div', { class: 'field grow' }, h('label', { for: 'catalog-search' }, 'Search the catalog and specifications'), input),
    h('button', { type: 'submit', id: 'search-submit' }, 'Search'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    replace(results, h('li', { class: 'hint' }, 'Searching…'));
    try {
      const hits = await get(`/search?q=${encodeURIComponent(q)}&limit=10`);
      showHits(ctx, results, hits, q);
    } catch (err) {
      replace(results, h('li', { class: 'msg error' }, err.message));
    }
  });
  return h('div', {}, form, results);
}

function showHits(ctx, list, hits, q) {
  if (!hits.length) {
    replace(list, h('li', { class: 'hint' }, `Nothing matches "${q}". Describe it below as a new specification.`));
    return;
  }
  replace(list, hits.map((hit) => {
    const kind = { specification: 'spec', model: 'catalog', brand: 'brand' }[hit.type];
    const facts = [hit.device_type, hit.height_u !== undefined && hit.height_u !== null ? `${hit.height_u}U` : null]
      .filter(Boolean).join(' · ');
    const action = hit.type === 'brand'
      ? h('button', {
        type: 'button', onclick: async () => {
          try {
            const models = await get(`/brands/${hit.id}/models?limit=50`);
            showHits(ctx, list, models.map((m) => ({
              type: 'model', id: m.id, name: `${hit.name} ${m.name}${m.variant ? ` ${m.variant}` : ''}`,
              device_type: m.device_type?.name, height_u: m.height_u,
            })), hit.name);
          } catch (err) { replace(list, h('li', { class: 'msg error' }, err.message)); }
        },
      }, 'Models')
      : h('button', {
        type: 'button', class: 'add-device', dataset: { kind: hit.type, id: hit.id },
        onclick: () => addDevice(ctx, hit.type === 'model' ? { model_id: hit.id } : { specification_id: hit.id }, hit.name),
      }, 'Add device');
    return h('li', { class: 'hit', dataset: { kind: hit.type, id: hit.id } },
      h('span', { class: `badge ${kind}` }, kind),
      h('span', { class: 'hit-name' }, hit.name),
      facts ? h('span', { class: 'hit-facts' }, facts) : '',
      action);
  }));
}

async function addDevice(ctx, reference, name) {
  const path = reference.model_id ? '/devices/from-model' : '/devices';
  await ctx.attempt(async () => {
    const device = await post(path, reference);
    ctx.state.devices = null;
    ctx.state.pendingDeviceId = device.id;
    ctx.redraw();
    document.getElementById('place-u')?.focus();
  }, `Added ${name}: choose a U and place it.`);
}

function newSpecification(ctx) {
  const errors = h('div', { class: 'form-errors', role: 'alert' });
  const form = h('form', { class: 'grid-form', id: 'spec-form', novalidate: true },
    field('Brand', { name: 'brand', required: true, maxlength: 100 }),
    field('Model', { name: 'model', required: true, maxlength: 100 }),
    field('Height (U)', { name: 'height_u', type: 'number', min: 0, max: 50, step: 0.5, value: 1, required: true }),
    field('Power (W)', { name: 'power_watts', type: 'number', min: 0, max: 10000 }),
    field('Weight (kg)', { name: 'weight_kg', type: 'number', min: 0, max: 500, step: 0.1 }),
    field('Depth (mm)', { name: 'depth_mm', type: 'number', min: 0, max: 1500 }),
    field('Width', { name: 'width_type', value: '' }, WIDTHS),
    field('Airflow', { name: 'airflow_pattern', value: 'front_to_back' }, AIRFLOWS),
    errors,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'spec-submit' }, 'Create and add device')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    try {
      const spec = await post('/device-specs', formValues(form));
      const device = await post('/devices', { specification_id: spec.id });
      ctx.state.devices = null;
      ctx.state.pendingDeviceId = device.id;
      ctx.redraw();
      ctx.say(`Added ${spec.brand} ${spec.model}: choose a U and place it.`, 'ok');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.append(h('p', { class: 'msg error', dataset: { status: err.status } }, `${err.status} ${err.message}`));
    }
  });
  return h('details', { class: 'spec-details', id: 'spec-details' },
    h('summary', {}, 'Not in the catalog? Describe a new device'), form);
}

function placedTable(ctx) {
  const { state } = ctx;
  const rack = state.layout.rack;
  const positions = [...state.layout.positions].sort((a, b) => b.start_u - a.start_u);
  if (!positions.length) return h('p', { class: 'hint' }, 'Nothing placed yet.');
  return h('div', { class: 'table-scroll' }, h('table', { class: 'placed-table', id: 'placed-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Device'), h('th', { scope: 'col' }, 'U'),
      h('th', { scope: 'col' }, 'Move to'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Lock and remove')))),
    h('tbody', {}, positions.map((p) => {
      const info = profile(p.device);
      const moveId = `move-${p.id}`;
      const moveInput = h('input', { id: moveId, type: 'number', min: 1, max: rack.total_height_u, value: p.start_u, 'aria-label': `New U for ${info.name}` });
      return h('tr', {
        dataset: { deviceId: p.device_id, positionId: p.id },
        class: state.selectedDeviceId === p.device_id ? 'selected' : null,
      },
      h('th', { scope: 'row' }, info.name, h('span', { class: 'sub' }, `${typeName(info.type)} · ${info.heightU ?? '?'}U · ${fmt(info.powerW)} W`)),
      h('td', {}, `U${p.start_u}`),
      h('td', {}, h('form', {
        class: 'move-form',
        onsubmit: (event) => {
          event.preventDefault();
          const u = Number(moveInput.value);
          ctx.attempt(async () => { await put(`/racks/${rack.id}/positions/${p.id}`, { start_u: u }); await ctx.refresh(); }, `Moved to U${u}.`);
        },
      }, moveInput, h('button', { type: 'submit', class: 'move-button' }, 'Move'))),
      h('td', {}, h('div', { class: 'row-actions' }, h('label', { class: 'lock-cell' }, h('input', {
        type: 'checkbox', class: 'lock-toggle', checked: p.locked, 'aria-label': `Lock ${info.name}`,
        onchange: (event) => {
          const locked = event.currentTarget.checked;
          ctx.attempt(async () => { await put(`/racks/${rack.id}/positions/${p.id}`, { locked }); await ctx.refresh(); },
            locked ? `${info.name} locked.` : `${info.name} unlocked.`);
        },
      }), 'lock'), h('button', {
        type: 'button', class: 'remove-button subtle icon', title: 'Remove from the rack',
        'aria-label': `Remove ${info.name} from the rack`,
        onclick: () => ctx.attempt(async () => { await del(`/racks/${rack.id}/positions/${p.id}`); await ctx.refresh(); }, `${info.name} removed from the rack.`),
      }, '✕'))));
    }))));
}

// ------------------------------------------------------------------- thermal -------------

export function thermalPanel(ctx) {
  const t = ctx.state.thermal;
  if (!t) {
    return h('div', {}, h('p', { class: 'hint' }, 'No thermal analysis loaded.'),
      h('button', { type: 'button', onclick: () => ctx.attempt(() => ctx.showThermal(ctx.state.thermalOverlay)) }, 'Analyse'));
  }
  const c = t.cooling_efficiency;
  const d = t.heat_distribution;
  const zoneMax = Math.max(d.bottom_zone_btu, d.middle_zone_btu, d.top_zone_btu, 1);
  return h('div', { class: 'thermal-panel', id: 'thermal-panel' },
    h('div', { class: 'thermal-head' },
      h('p', {}, 'Cooling ', h('span', { class: `status status-${c.status}`, id: 'cooling-status' }, c.status),
        ` · ${fmt(c.utilization_percent, 1)} % of ${fmt(c.cooling_capacity_btu_hr)} BTU/hr used`,
        ` · ${fmt(c.remaining_capacity_btu_hr)} BTU/hr (${fmt(c.remaining_capacity_tons, 2)} t) left`),
      h('label', { class: 'toggle' }, h('input', {
        type: 'checkbox', id: 'thermal-overlay-panel', checked: ctx.state.thermalOverlay,
        onchange: (event) => ctx.attempt(() => ctx.showThermal(event.currentTarget.checked)),
      }), ' Show on the elevation')),
    h('table', { class: 'zone-table' },
      h('caption', {}, `Heat by zone: ${fmt(d.total_heat_btu_hr)} BTU/hr from ${d.device_count} devices (${fmt(d.total_power_watts)} W)`),
      h('tbody', {}, [['Top', d.top_zone_btu], ['Middle', d.middle_zone_btu], ['Bottom', d.bottom_zone_btu]].map(([zone, btu]) =>
        h('tr', {}, h('th', { scope: 'row' }, zone),
          h('td', {}, h('meter', { min: 0, max: zoneMax, value: btu, 'aria-label': `${zone} zone heat` })),
          h('td', { class: 'num' }, `${fmt(btu)} BTU/hr`))))),
    h('h3', {}, 'Hot spots'),
    t.hot_spots.length
      ? h('ul', { class: 'hot-spots', id: 'hot-spots' }, t.hot_spots.map((spot) => h('li', { class: `sev-${spot.severity}` },
        h('strong', {}, spot.device_name), ` at ${spot.position} (${spot.zone}): ${fmt(spot.heat_output_btu_hr)} BTU/hr, ${spot.severity}`)))
      : h('p', { class: 'hint' }, 'None: no device gives off 1000 BTU/hr or more.'),
    h('h3', {}, 'Airflow conflicts'),
    t.airflow_conflicts.length
      ? h('ul', { class: 'conflicts', id: 'airflow-conflicts' }, t.airflow_conflicts.map((conflict) => h('li', {}, conflict.message)))
      : h('p', { class: 'hint' }, 'None.'),
    h('h3', {}, 'Recommendations'),
    h('ul', { class: 'recommendations', id: 'recommendations' }, t.recommendations.map((r) => h('li', {}, r))),
    h('p', { class: 'hint' }, `Analysed ${new Date(t.timestamp).toLocaleString()}.`));
}

// ------------------------------------------------------------------ optimizer ------------

const FACTORS = [
  ['cable', 'cable_management', 'Cable management', 0.30],
  ['weight', 'weight_distribution', 'Weight distribution', 0.25],
  ['thermal', 'thermal_management', 'Thermal management', 0.25],
  ['access', 'access_frequency', 'Access frequency', 0.20],
];

export function optimizerPanel(ctx) {
  const { state } = ctx;
  const rack = state.layout.rack;
  const locked = state.layout.positions.filter((p) => p.locked);
  const resultBox = h('div', { class: 'optimization', id: 'optimization' });
  const weights = state.weights || Object.fromEntries(FACTORS.map(([key, , , value]) => [key, value]));
  const form = h('form', { class: 'grid-form weights', id: 'optimize-form' },
    FACTORS.map(([key, , label]) => field(`${label} weight`, { name: key, type: 'number', min: 0, max: 1, step: 0.05, value: weights[key] })),
    h('p', { class: 'hint span' }, 'The weights must add up to 1. ',
      locked.length ? `Locked devices stay where they are: ${locked.map((p) => profile(p.device).name).join(', ')}.` : 'No device is locked.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'optimize-run' }, 'Run optimizer')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form);
    state.weights = values;
    ctx.attempt(async () => {
      state.optimization = await post(`/racks/${rack.id}/optimize`, {
        weights: values, locked_positions: locked.map((p) => p.device_id),
      });
      showResult(ctx, resultBox);
    });
  });
  if (state.optimization) showResult(ctx, resultBox);
  return h('div', {}, form, resultBox);
}

function showResult(ctx, box) {
  const { state } = ctx;
  const result = state.optimization;
  const rack = state.layout.rack;
  const current = state.layout.positions;
  const byDevice = new Map(current.map((p) => [p.device_id, p]));
  const proposed = result.positions.map((p) => ({ ...p, device: p.device || byDevice.get(p.device_id)?.device }));
  const moves = proposed.filter((p) => byDevice.get(p.device_id)?.start_u !== p.start_u);
  const m = result.metadata;
  replace(box,
    h('div', { class: 'side-by-side' },
      h('figure', {}, h('figcaption', {}, `Current (${fmt(m.current_score, 2)})`),
        drawElevation({ rack, positions: current, compact: true })),
      h('figure', { id: 'proposed-layout' }, h('figcaption', {}, `Proposed (${fmt(m.optimized_score, 2)})`),
        drawElevation({ rack, positions: proposed, compact: true }))),
    h('table', { class: 'score-table', id: 'score-table' },
      h('caption', {}, `${m.algorithm}: ${m.alternatives_evaluated} layouts evaluated, ${m.devices_placed} of ${m.total_devices} devices placed`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Factor'), h('th', { scope: 'col' }, 'Weight'), h('th', { scope: 'col' }, 'Score'))),
      h('tbody', {},
        FACTORS.map(([key, scoreKey, label]) => h('tr', { dataset: { factor: scoreKey } },
          h('th', { scope: 'row' }, label), h('td', { class: 'num' }, fmt(m.weights?.[key], 2)),
          h('td', { class: 'num' }, fmt(result.score[scoreKey], 2)))),
        h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'Total'), h('td', {}, ''),
          h('td', { class: 'num', id: 'score-total' }, fmt(result.score.total, 2))),
        h('tr', {}, h('th', { scope: 'row' }, 'Change'), h('td', {}, ''),
          h('td', { class: 'num' }, m.improvement_percentage === null ? '–' : `${m.improvement_percentage > 0 ? '+' : ''}${fmt(m.improvement_percentage, 1)} %`)))),
    result.improvements.length ? h('ul', { class: 'improvements' }, result.improvements.map((text) => h('li', {}, text))) : '',
    moves.length
      ? h('div', {},
        h('ul', { class: 'moves', id: 'moves' }, moves.map((p) => h('li', { dataset: { deviceId: p.device_id, toU: p.start_u } },
          `${profile(p.device).name}: U${byDevice.get(p.device_id)?.start_u ?? '–'} → U${p.start_u}`))),
        h('button', {
          type: 'button', class: 'primary', id: 'optimize-apply',
          onclick: (event) => {
            event.currentTarget.disabled = true;
            ctx.attempt(async () => {
              await applyLayout(rack, current, proposed);
              state.optimization = null;
              await ctx.refresh();
            }, `Applied: ${moves.length} device${moves.length === 1 ? '' : 's'} moved.`);
          },
        }, 'Apply this layout'))
      : h('p', { class: 'hint', id: 'no-moves' }, 'The current layout is already the proposal: nothing to apply.'));
}

/**
 * Moves the rack's devices to the proposed Us, one position at a time through the placement
 * rules: each move whose Us are free goes first; when every remaining move waits on another
 * (a swap), one of them is taken out of the rack and put back once its Us are free.
 */
async function applyLayout(rack, current, proposed) {
  const layout = current.map((p) => ({ ...p }));
  const target = new Map(proposed.map((p) => [p.device_id, p.start_u]));
  let pending = layout.filter((p) => target.has(p.device_id) && target.get(p.device_id) !== p.start_u);
  const removed = [];
  for (let round = 0; pending.length && round < layout.length * 4 + 4; round++) {
    let progressed = false;
    for (const p of [...pending]) {
      const to = target.get(p.device_id);
      const taken = occupancy(layout.filter((q) => !removed.includes(q)), p.device_id);
      if (occupied(to, profile(p.device).heightU).some((u) => taken.has(u))) continue;
      if (removed.includes(p)) {
        const created = await post(`/racks/${rack.id}/positions`, { device_id: p.device_id, start_u: to, locked: p.locked });
        removed.splice(removed.indexOf(p), 1);
        p.id = created.id;
      } else {
        await put(`/racks/${rack.id}/positions/${p.id}`, { start_u: to });
      }
      p.start_u = to;
      pending = pending.filter((q) => q !== p);
      progressed = true;
    }
    if (!progressed && pending.length) {
      const stuck = pending.find((p) => !removed.includes(p));
      if (!stuck) break;
      await del(`/racks/${rack.id}/positions/${stuck.id}`);
      removed.push(stuck);
    }
  }
  if (pending.length) throw new ApiError(409, `${pending.length} device(s) could not be moved to the proposed Us.`);
}
