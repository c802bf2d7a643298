// The rack elevation: an SVG of the rack's front and rear, one row per U (U1 at the bottom),
// each device a block at its real height (fractional heights drawn to scale, 0U devices on the
// side rail), coloured by type, with its logo and a lock mark. The thermal overlay adds heat per
// U, zone bands, hot spots and airflow conflicts. Blocks in the front view can be dragged, or
// moved with the arrow keys, when the caller passes `onMove`.

import { s } from './dom.js';
import { profile, logoFor, occupied } from './model.js';

const LABEL = 30;   // U-number gutter
const GAP = 56;     // between the front and rear views
const RAIL = 18;    // the 0U side rail and the heat column
const TOP = 26;     // room for the view titles

/**
 * Draws a rack.
 * @param {object} o
 * @param {object} o.rack the Rack
 * @param {object[]} o.positions RackPositions with devices embedded
 * @param {object} [o.thermal] a ThermalAnalysis to overlay
 * @param {boolean} [o.compact] smaller, for the optimizer's side-by-side view
 * @param {string} [o.idPrefix] prefix for the SVG's element ids
 * @param {number} [o.selectedDeviceId]
 * @param {(u:number)=>void} [o.onSlot] an empty U was clicked
 * @param {(position:object, startU:number)=>void} [o.onMove] a block was dragged or moved by key
 * @param {(position:object)=>void} [o.onSelect]
 * @param {(position:object)=>void} [o.onToggleLock]
 */
export function drawElevation(o) {
  const { rack, positions } = o;
  const total = rack.total_height_u;
  const uh = o.compact ? 11 : 20;
  const w = o.compact ? 128 : 200;
  const frontX = LABEL;
  const rearX = LABEL + w + RAIL + GAP;
  const width = rearX + w + RAIL + LABEL + 6;
  const height = TOP + total * uh + 12;
  const bottomOf = (u) => TOP + (total - u + 1) * uh;

  const svg = s('svg', {
    class: `elevation${o.compact ? ' compact' : ''}${o.thermal ? ' with-thermal' : ''}`,
    viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img',
    'aria-label': `${rack.name}: ${total}U rack elevation, front and rear, ${positions.length} devices`,
    dataset: { rackId: rack.id, totalU: total, unitPx: uh },
  });

  const overlay = o.thermal ? thermalOverlay({ o, frontX, rearX, w, uh, bottomOf, total }) : null;
  for (const [x, title, side] of [[frontX, 'Front', 'front'], [rearX, 'Rear', 'rear']]) {
    const view = s('g', { class: `view view-${side}`, dataset: { view: side } });
    view.append(s('text', { class: 'view-title', x: x + w / 2, y: 16, 'text-anchor': 'middle' }, title));
    view.append(s('rect', { class: 'rack-frame', x: x - 4, y: TOP - 4, width: w + 8, height: total * uh + 8, rx: 3 }));
    view.append(s('rect', { class: 'zero-u-rail', x: x + w + 4, y: TOP, width: RAIL - 6, height: total * uh }));
    const occupiedUs = new Set();
    for (const p of positions) for (const u of occupied(p.start_u, profile(p.device).heightU)) occupiedUs.add(u);
    for (let u = 1; u <= total; u++) {
      const y = bottomOf(u) - uh;
      const empty = !occupiedUs.has(u);
      const slot = s('rect', {
        class: `slot${empty ? ' empty' : ''}`, x, y, width: w, height: uh,
        dataset: { u, view: side },
      });
      if (empty && o.onSlot && side === 'front') {
        slot.classList.add('clickable');
        slot.addEventListener('click', () => o.onSlot(u));
        slot.append(s('title', {}, `U${u} is free: click to choose it`));
      }
      view.append(slot);
      const labelX = side === 'front' ? x - 8 : x + w + RAIL + 4;
      if (!o.compact || u % 2 === 1 || total <= 24) {
        view.append(s('text', {
          class: 'u-label', x: labelX, y: y + uh / 2 + 4,
          'text-anchor': side === 'front' ? 'end' : 'start', dataset: { u },
        }, String(u)));
      }
    }
    if (overlay && side === 'rear') view.append(overlay.under);
    for (const p of positions) view.append(block(p, { side, x, w, uh, bottomOf, o }));
    svg.append(view);
  }
  if (overlay) svg.append(overlay.over);
  return svg;
}

function block(p, { side, x, w, uh, bottomOf, o }) {
  const info = profile(p.device);
  const h = info.heightU ?? 0;
  const zeroU = h <= 0;
  const bottom = bottomOf(p.start_u);
  const bh = zeroU ? uh : h * uh;
  const bx = zeroU ? x + w + 4 : x;
  const bw = zeroU ? RAIL - 6 : w;
  const by = bottom - bh;
  const hot = o.thermal?.hot_spots?.find((spot) => spot.device_id === p.device_id);
  const classes = ['device-block', `type-${info.type}`, side];
  if (zeroU) classes.push('zero-u');
  if (p.locked) classes.push('locked');
  if (hot) classes.push(`hot-${hot.severity}`);
  if (o.selectedDeviceId === p.device_id) classes.push('selected');
  const front = side === 'front';
  const label = `${info.name}${info.name !== info.title ? ` (${info.title})` : ''}, ${zeroU ? '0U' : `${h}U`} at U${p.start_u}${p.locked ? ', locked' : ''}`;
  const g = s('g', {
    class: classes.join(' '),
    dataset: {
      deviceId: p.device_id, positionId: p.id ?? '', startU: p.start_u, heightU: h, view: side,
      y: by, h: bh,
    },
    ...(front && o.onMove ? {
      tabindex: 0, role: 'button',
      'aria-label': `${label}. Arrow keys move it, L locks or unlocks.`,
    } : { 'aria-hidden': front ? null : 'true' }),
  });
  g.append(s('title', {}, label));
  g.append(s('rect', { class: 'block-body', x: bx + 1, y: by + 0.5, width: bw - 2, height: Math.max(bh - 1, 2), rx: 2 }));
  if (!zeroU) {
    const logo = logoFor(p.device);
    let textX = bx + 8;
    const tall = bh >= 14;
    if (logo && tall && !o.compact) {
      const size = Math.min(bh - 4, 16);
      g.append(s('image', {
        class: 'brand-logo', href: logo, x: bx + 5, y: by + (bh - size) / 2, width: size, height: size,
        preserveAspectRatio: 'xMidYMid meet',
      }));
      textX += size + 3;
    }
    if (bh >= 8) {
      const small = o.compact || !tall;
      const max = Math.floor((bw - (textX - bx) - 34) / (small ? 5.2 : 6.6));
      const text = info.name.length > max ? `${info.name.slice(0, Math.max(max - 1, 1))}…` : info.name;
      g.append(s('text', {
        class: `block-label${small && !o.compact ? ' small' : ''}`, x: textX, y: by + Math.min(bh, uh) / 2 + (small ? 3 : 4),
      }, text));
    }
    if (!o.compact) {
      const inward = (info.airflow === 'front_to_back') === front;
      const air = info.airflow === 'side_to_side' || info.airflow === 'passive' ? '' : inward ? 'in' : 'out';
      const midY = by + Math.min(bh, uh) / 2;
      if (air && bh >= 10) {
        g.append(s('text', { class: `block-mark air-${air}`, x: bx + bw - 6, y: midY + 4, 'text-anchor': 'end' }, air));
      }
      if (p.locked) g.append(padlock(bx + bw - 36, midY));
    }
  } else if (p.locked) {
    g.append(padlock(bx + bw / 2, by - 6));
  }
  if (front && o.onMove) attachInteraction(g, p, uh, o);
  return g;
}

/** A small padlock centred on (cx, cy): drawn, so it needs no emoji font. */
export function padlock(cx, cy) {
  return s('g', { class: 'padlock', transform: `translate(${cx - 4} ${cy - 5})` },
    s('path', { class: 'padlock-shackle', d: 'M2 4.5 V3 a2 2 0 0 1 4 0 V4.5' }),
    s('rect', { class: 'padlock-body', x: 0, y: 4.5, width: 8, height: 6, rx: 1 }));
}

/** Drag (pointer) and keys (arrows move by one U, L toggles the lock, Enter selects). */
function attachInteraction(g, p, uh, o) {
  let drag = null;
  g.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    drag = { startY: event.clientY, id: event.pointerId, scale: scaleOf(g), moved: false };
    g.setPointerCapture(event.pointerId);
  });
  g.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const dy = (event.clientY - drag.startY) * drag.scale;
    if (Math.abs(dy) > 3) drag.moved = true;
    const snapped = Math.round(dy / uh) * uh;
    g.setAttribute('transform', `translate(0 ${snapped})`);
    g.classList.toggle('dragging', drag.moved);
  });
  const finish = (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const dy = (event.clientY - drag.startY) * drag.scale;
    const moved = drag.moved;
    drag = null;
    g.removeAttribute('transform');
    g.classList.remove('dragging');
    const deltaU = -Math.round(dy / uh);
    if (moved && deltaU !== 0) o.onMove(p, p.start_u + deltaU);
    else if (!moved && o.onSelect) o.onSelect(p);
  };
  g.addEventListener('pointerup', finish);
  g.addEventListener('pointercancel', (event) => {
    drag = null;
    g.removeAttribute('transform');
    g.classList.remove('dragging');
    void event;
  });
  g.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
      event.preventDefault();
      o.onMove(p, p.start_u + (event.key === 'ArrowUp' ? 1 : -1));
    } else if ((event.key === 'l' || event.key === 'L') && o.onToggleLock) {
      event.preventDefault();
      o.onToggleLock(p);
    } else if ((event.key === 'Enter' || event.key === ' ') && o.onSelect) {
      event.preventDefault();
      o.onSelect(p);
    }
  });
}

/** SVG units per CSS pixel (the drawing may be scaled down to fit a narrow screen). */
function scaleOf(el) {
  const svg = el.ownerSVGElement;
  const box = svg.getBoundingClientRect();
  return box.height > 0 ? Number(svg.getAttribute('height')) / box.height : 1;
}

/** Heat per U beside the front view, zone bands and totals beside the rear, conflict links. */
function thermalOverlay({ o, frontX, rearX, w, uh, bottomOf, total }) {
  const t = o.thermal;
  const g = s('g', { class: 'thermal-overlay', 'aria-label': 'Thermal overlay' });
  const under = s('g', { class: 'thermal-zones' });
  const perU = new Array(total + 1).fill(0);
  for (const p of o.positions) {
    const info = profile(p.device);
    const h = info.heightU ?? 0;
    const span = h >= 1 ? occupied(p.start_u, h) : [p.start_u];
    const share = span.length ? info.heatBtu / span.length : 0;
    for (const u of span) if (u >= 1 && u <= total) perU[u] += share;
  }
  const max = Math.max(...perU, 1);
  const heatX = frontX + w + 4;
  for (let u = 1; u <= total; u++) {
    if (perU[u] <= 0) continue;
    const level = Math.min(6, Math.max(1, Math.ceil((perU[u] / max) * 6)));
    g.append(s('rect', {
      class: `heat-u heat-${level}`, x: heatX, y: bottomOf(u) - uh + 1, width: RAIL - 6, height: uh - 2,
      dataset: { u, btu: Math.round(perU[u]) },
    }, s('title', {}, `U${u}: ${Math.round(perU[u])} BTU/hr`)));
  }
  // The API's zones: bottom ≤ t, middle ≤ 2t, top above, with t = total / 3.
  const third = total / 3;
  const bounds = [
    ['bottom', 1, Math.floor(third), t.heat_distribution.bottom_zone_btu],
    ['middle', Math.floor(third) + 1, Math.floor(2 * third), t.heat_distribution.middle_zone_btu],
    ['top', Math.floor(2 * third) + 1, total, t.heat_distribution.top_zone_btu],
  ];
  const hottest = Math.max(...bounds.map((b) => b[3]), 1);
  for (const [zone, from, to, btu] of bounds) {
    if (to < from) continue;
    const yTop = bottomOf(to) - uh;
    const yBottom = bottomOf(from);
    const level = btu > 0 ? Math.min(6, Math.max(1, Math.ceil((btu / hottest) * 6))) : 0;
    under.append(s('rect', {
      class: `zone-band zone-${zone} heat-${level}`, x: rearX, y: yTop, width: w, height: yBottom - yTop,
      dataset: { zone, btu },
    }, s('title', {}, `${zone} zone: ${Math.round(btu)} BTU/hr`)));
    g.append(s('line', { class: 'zone-line', x1: frontX - 4, x2: rearX + w + RAIL, y1: yTop, y2: yTop }));
    under.append(s('text', { class: 'zone-label', x: rearX + w / 2, y: yTop + 12, 'text-anchor': 'middle' },
      `${zone}: ${Math.round(btu).toLocaleString('en-US')} BTU/hr`));
  }
  for (const conflict of t.airflow_conflicts || []) {
    const a = o.positions.find((p) => p.device_id === conflict.device1.id);
    const b = o.positions.find((p) => p.device_id === conflict.device2.id);
    if (!a || !b) continue;
    const ya = bottomOf(a.start_u) - uh / 2;
    const yb = bottomOf(b.start_u) - uh / 2;
    const x = frontX + w + RAIL + 10;
    g.append(s('g', { class: 'conflict', dataset: { device1: conflict.device1.id, device2: conflict.device2.id } },
      s('title', {}, conflict.message),
      s('line', { class: 'conflict-link', x1: x, x2: x, y1: ya, y2: yb }),
      s('line', { class: 'conflict-link', x1: x - 4, x2: x, y1: ya, y2: ya }),
      s('line', { class: 'conflict-link', x1: x - 4, x2: x, y1: yb, y2: yb }),
      s('text', { class: 'conflict-mark', x: x + 4, y: (ya + yb) / 2 + 4 }, '⚠')));
  }
  return { under, over: g };
}
