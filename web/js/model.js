// What the page needs to know about a device, read from the API's Device (its specification or
// catalog model embedded): name, brand, height, heat, airflow, type and logo.

/** Device types, their colours (CSS classes `type-<slug>`) and the words that recognise them. */
export const TYPES = [
  ['switch', 'Switch', /switch|usw|catalyst|nexus|\bsg\d|\bcss\d|\bcrs\d|\bnetgear gs/i],
  ['router', 'Router / firewall', /router|firewall|gateway|udm|\buxg|pfsense|opnsense|fortigate|\bedgerouter/i],
  ['server', 'Server', /server|poweredge|proliant|\br\d{3}\b|\bdl\d{3}|supermicro|thinksystem|nuc/i],
  ['storage', 'Storage', /nas|storage|synology|qnap|truenas|\bds\d|\brs\d|disk|jbod/i],
  ['power', 'Power (UPS, PDU)', /ups|pdu|power|smart-ups|eaton|apc|battery/i],
  ['patch', 'Patch panel', /patch|keystone|panel/i],
  ['shelf', 'Shelf / blank', /shelf|blank|tray|drawer|cable manag/i],
  ['other', 'Other', null],
];

const KNOWN = new Set(TYPES.map(([slug]) => slug));

/** The type slug of a device: its catalog device type when it has one, else guessed from words. */
export function deviceType(device) {
  const catalogType = device?.catalog_model?.device_type;
  if (catalogType?.slug) {
    const slug = catalogType.slug.toLowerCase();
    if (KNOWN.has(slug)) return slug;
    const guess = guessType(`${catalogType.name} ${slug}`);
    if (guess !== 'other') return guess;
  }
  const spec = device?.specification || device?.catalog_model || {};
  const brand = spec.brand?.name ?? spec.brand ?? '';
  return guessType(`${spec.model ?? spec.name ?? ''} ${spec.variant ?? ''} ${spec.mounting_type ?? ''} ${brand}`);
}

export function guessType(text) {
  for (const [slug, , pattern] of TYPES) if (pattern && pattern.test(text)) return slug;
  return 'other';
}

export function typeName(slug) { return TYPES.find(([s]) => s === slug)?.[1] ?? 'Other'; }

/** Physical and thermal facts of a device, whichever reference it has. */
export function profile(device) {
  const spec = device?.specification;
  const model = device?.catalog_model;
  const source = spec || model || {};
  const brand = spec ? spec.brand : (model?.brand?.name ?? '');
  const modelName = spec ? spec.model : (model?.name ?? '');
  const variant = source.variant ? ` ${source.variant}` : '';
  const power = Number(source.power_watts) || 0;
  const heat = Number(source.heat_output_btu) > 0 ? Number(source.heat_output_btu) : power * 3.412;
  return {
    brand,
    model: `${modelName}${variant}`,
    title: `${brand} ${modelName}${variant}`.trim() || `Device ${device?.id}`,
    name: device?.custom_name || `${brand} ${modelName}${variant}`.trim() || `Device ${device?.id}`,
    heightU: source.height_u === null || source.height_u === undefined ? null : Number(source.height_u),
    powerW: power,
    heatBtu: heat,
    weightKg: Number(source.weight_kg) || 0,
    airflow: source.airflow_pattern || 'front_to_back',
    width: source.width_type || null,
    logo: model?.brand?.logo_url || null,
    type: deviceType(device),
  };
}

/** The Us a device blocks at `startU`, as the API counts them: int(start)…int(start+h)-1. */
export function occupied(startU, heightU) {
  const end = Math.trunc(startU + Math.max(heightU || 0, 0));
  const out = [];
  for (let u = startU; u < end; u++) out.push(u);
  return out;
}

/** U → position for the positions of a layout (blocked Us only). */
export function occupancy(positions, ignoreDeviceId) {
  const map = new Map();
  for (const p of positions) {
    if (p.device_id === ignoreDeviceId) continue;
    for (const u of occupied(p.start_u, profile(p.device).heightU)) map.set(u, p);
  }
  return map;
}

/** The lowest start U where a device of `heightU` fits, or null. */
export function lowestFreeU(rack, positions, heightU, ignoreDeviceId) {
  const taken = occupancy(positions, ignoreDeviceId);
  for (let start = 1; start <= rack.total_height_u; start++) {
    if (start + (heightU || 0) - 1 > rack.total_height_u) break;
    if (occupied(start, heightU).every((u) => !taken.has(u))) return start;
  }
  return null;
}

/** Brand logos by lower-cased brand name, for specifications (which name the brand as text). */
export const brandLogos = new Map();

export function logoFor(device) {
  const own = profile(device).logo;
  if (own) return own;
  const brand = (device?.specification?.brand || '').trim().toLowerCase();
  return brandLogos.get(brand) || null;
}

export const AIRFLOW = {
  front_to_back: 'front → back',
  back_to_front: 'back → front',
  side_to_side: 'side → side',
  passive: 'passive',
};
