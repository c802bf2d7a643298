// Small DOM helpers. Every element is built with createElement and textContent, never from
// HTML strings, so names typed by users (rack names, device names) cannot inject markup, and
// no `style` attribute is ever written (the Content-Security-Policy allows no inline styles).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Sets attributes, properties and listeners on `el`; `on*` functions become listeners. */
function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: `h('button', {type: 'button', onclick}, 'Save')`. */
export function h(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** An SVG element, as `h`. */
export function s(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Reads a form's named fields into an object: numbers for type=number, skipping blanks. */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') { out[el.name] = el.checked; continue; }
    const text = el.value.trim();
    if (text === '') continue;
    out[el.name] = el.type === 'number' ? Number(text) : text;
  }
  return out;
}

/** A labelled form field. `options` makes a select. */
export function field(label, attrs, options) {
  const id = `f-${attrs.name}-${Math.random().toString(36).slice(2, 8)}`;
  const control = options
    ? h('select', { id, ...attrs }, options.map(([value, text]) =>
        h('option', { value, selected: String(attrs.value ?? '') === String(value) }, text)))
    : h('input', { id, ...attrs });
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

export function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
