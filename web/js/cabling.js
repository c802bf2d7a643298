// Connections between the rack's devices (lengths estimated by the API when left blank), their
// validation, and the rack's cable bill of materials with a CSV download.

import { get, post, del } from './api.js';
import { h, replace, field, formValues, fmt } from './dom.js';
import { profile } from './model.js';

const CABLES = ['Cat5e', 'Cat6', 'Cat6a', 'Cat7', 'Fiber-SM', 'Fiber-MM', 'Power', 'Console'].map((c) => [c, c]);
const ROUTES = [['direct', 'direct'], ['cable_tray', 'cable tray'], ['conduit', 'conduit']];

export function cablingPanel(ctx) {
  const { state } = ctx;
  const rack = state.layout.rack;
  const listBox = h('div', { id: 'connections' }, h('p', { class: 'hint' }, 'Loading connections…'));
  const bomBox = h('div', { id: 'bom' }, h('p', { class: 'hint' }, 'Loading the bill of materials…'));
  const checks = new Map();

  const loadConnections = async () => {
    const connections = await get(`/connections?rack_id=${rack.id}&limit=1000`);
    renderConnections(ctx, listBox, connections, checks, reload);
  };
  const loadBom = async () => { renderBom(bomBox, rack, await get(`/racks/${rack.id}/bom`)); };
  const reload = async () => { await loadConnections(); await loadBom(); };

  const validate = h('button', {
    type: 'button', id: 'validate-cables',
    onclick: () => ctx.attempt(async () => {
      const report = await post(`/connections/validate-bulk?rack_id=${rack.id}`);
      checks.clear();
      for (const result of report.results) checks.set(result.connection_id, result);
      await loadConnections();
      const sum = report.summary;
      ctx.say(`Checked ${sum.total_connections} connection(s): ${sum.valid} valid, ${sum.invalid} invalid, ${sum.with_issues} with issues.`,
        sum.invalid ? 'error' : 'ok');
    }),
  }, 'Validate cables');

  reload().catch((err) => replace(listBox, h('p', { class: 'msg error' }, err.message)));
  return h('div', { class: 'cabling-panel' },
    h('section', { 'aria-labelledby': 'h-conn' },
      h('div', { class: 'section-head' }, h('h3', { id: 'h-conn' }, 'Connections'), validate),
      listBox,
      connectionForm(ctx, reload)),
    h('section', { 'aria-labelledby': 'h-bom' }, h('h3', { id: 'h-bom' }, 'Bill of materials'), bomBox));
}

function deviceName(device, id) { return device ? profile(device).name : `Device ${id}`; }

function renderConnections(ctx, box, connections, checks, reload) {
  if (!connections.length) { replace(box, h('p', { class: 'hint' }, 'No connections yet.')); return; }
  replace(box, h('div', { class: 'table-scroll' }, h('table', { class: 'connections-table', id: 'connections-table' },
    h('thead', {}, h('tr', {}, ['From', 'To', 'Cable', 'Length', 'Check', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, connections.map((c) => {
      const check = checks.get(c.id);
      const checkText = !check ? '–'
        : check.issues.length ? check.issues.map((i) => `${i.severity}: ${i.message}`).join('; ') : 'ok';
      return h('tr', { dataset: { connectionId: c.id } },
        h('td', {}, deviceName(c.from_device, c.from_device_id), c.from_port ? h('span', { class: 'sub' }, c.from_port) : ''),
        h('td', {}, deviceName(c.to_device, c.to_device_id), c.to_port ? h('span', { class: 'sub' }, c.to_port) : ''),
        h('td', {}, c.cable_type, h('span', { class: 'sub' }, c.routing_path.replace('_', ' '))),
        h('td', { class: 'num length' }, c.cable_length_m === null || c.cable_length_m === undefined ? '?' : `${fmt(c.cable_length_m, 2)} m`),
        h('td', { class: `check ${check ? (check.valid ? 'valid' : 'invalid') : ''}` }, checkText),
        h('td', {}, h('button', {
          type: 'button', class: 'subtle icon', title: 'Delete this connection',
          'aria-label': `Delete the connection ${deviceName(c.from_device, c.from_device_id)} to ${deviceName(c.to_device, c.to_device_id)}`,
          onclick: () => ctx.attempt(async () => { await del(`/connections/${c.id}`); await reload(); }, 'Connection deleted.'),
        }, '✕')));
    })))));
}

function connectionForm(ctx, reload) {
  const devices = ctx.state.layout.positions.map((p) => [p.device_id, `${profile(p.device).name} (U${p.start_u})`]);
  if (devices.length < 2) return h('p', { class: 'hint' }, 'Place two devices to connect them.');
  const form = h('form', { class: 'grid-form', id: 'connection-form' },
    field('From', { name: 'from_device_id', value: devices[0][0] }, devices),
    field('Port', { name: 'from_port', placeholder: 'e.g. eth0' }),
    field('To', { name: 'to_device_id', value: devices[1][0] }, devices),
    field('Port', { name: 'to_port', placeholder: 'e.g. port 1' }),
    field('Cable', { name: 'cable_type', value: 'Cat6' }, CABLES),
    field('Routing', { name: 'routing_path', value: 'direct' }, ROUTES),
    field('Length (m)', { name: 'cable_length_m', type: 'number', min: 0, step: 0.1, placeholder: 'auto' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'connection-submit' }, 'Add connection')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form);
    values.from_device_id = Number(values.from_device_id);
    values.to_device_id = Number(values.to_device_id);
    ctx.attempt(async () => {
      const created = await post('/connections', values);
      await reload();
      void created;
    }, 'Connection added.');
  });
  return h('details', { class: 'connection-details', open: true }, h('summary', {}, 'Add a connection'), form);
}

function renderBom(box, rack, bom) {
  const csv = bomCsv(bom);
  const download = h('button', {
    type: 'button', id: 'bom-download', disabled: !bom.cables.length,
    onclick: () => {
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const a = h('a', { href: url, download: `${slug(rack.name)}-bom.csv`, class: 'hidden-link' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  }, 'Download CSV');
  if (!bom.cables.length) {
    replace(box, h('p', { class: 'hint' }, 'No cables yet: add connections above.'), download);
    return;
  }
  replace(box,
    h('div', { class: 'table-scroll' }, h('table', { class: 'bom-table', id: 'bom-table' },
      h('thead', {}, h('tr', {}, ['From', 'To', 'Cable', 'Length', 'Qty'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, bom.cables.map((c) => h('tr', {},
        h('td', {}, c.from_device), h('td', {}, c.to_device), h('td', {}, c.cable_type),
        h('td', { class: 'num' }, c.length_m === undefined || c.length_m === null ? '?' : `${fmt(c.length_m, 2)} m`),
        h('td', { class: 'num' }, c.quantity)))))),
    h('table', { class: 'bom-summary', id: 'bom-summary' },
      h('caption', {}, `To buy: ${bom.total_cables} cable${bom.total_cables === 1 ? '' : 's'}${bom.total_cost === null ? '' : `, ${fmt(bom.total_cost, 2)}`}`),
      h('tbody', {}, Object.entries(bom.cable_summary).map(([kind, count]) =>
        h('tr', {}, h('th', { scope: 'row' }, kind), h('td', { class: 'num' }, count))))),
    download);
}

function slug(text) { return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'rack'; }

/** RFC 4180 CSV: quoted where needed, CRLF line ends. */
export function bomCsv(bom) {
  const cell = (v) => {
    const text = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = [['connection_id', 'from_device', 'to_device', 'cable_type', 'length_m', 'quantity']];
  for (const c of bom.cables) rows.push([c.connection_id, c.from_device, c.to_device, c.cable_type, c.length_m, c.quantity]);
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
