// Building elements, and updating the page in place: `update(parent, nodes)` makes the
// children of `parent` look like `nodes` (built detached by `el`) while keeping every
// element that is still there, so keyboard focus, scroll positions and open state
// survive a refresh. Children with a `data-key` are matched by it (sorted rows move),
// the others by position and tag.

export const SVG = "http://www.w3.org/2000/svg"; // an XML namespace name, never fetched
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

export function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

// Text that may wrap after `_` and `/` on a narrow screen (`<wbr>` adds no text).
export function breakable(text) {
  const f = document.createDocumentFragment();
  for (const part of String(text).split(/(?<=.[_/])/)) {
    if (f.childNodes.length) f.append(document.createElement("wbr"));
    f.append(part);
  }
  return f;
}

const keyOf = (n) => (n.nodeType === 1 ? n.getAttribute("data-key") : null);
const same = (a, b) => a.nodeType === b.nodeType && a.nodeName === b.nodeName && a.namespaceURI === b.namespaceURI;

// Inline styles are set through the CSSOM (the CSP refuses style attributes).
function syncStyle(from, to) {
  const want = new Set(to.style);
  for (const p of [...from.style]) if (!want.has(p)) from.style.removeProperty(p);
  for (const p of want) {
    const v = to.style.getPropertyValue(p);
    if (from.style.getPropertyValue(p) !== v) from.style.setProperty(p, v);
  }
}

function morph(from, to) {
  if (from.nodeType !== 1) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  for (const a of [...from.attributes]) if (a.name !== "style" && !to.hasAttribute(a.name)) from.removeAttribute(a.name);
  for (const a of to.attributes) if (a.name !== "style" && from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
  syncStyle(from, to);
  update(from, [...to.childNodes]);
}

/** Makes the children of `parent` match `nodes`, reusing what it can. */
export function update(parent, nodes) {
  const flat = [];
  for (const n of nodes) {
    if (n == null) continue;
    if (n.nodeType === 11) flat.push(...n.childNodes);
    else flat.push(typeof n === "string" ? document.createTextNode(n) : n);
  }
  const keyed = new Map();
  for (const c of parent.childNodes) {
    const k = keyOf(c);
    if (k != null && !keyed.has(k)) keyed.set(k, c);
  }
  let cur = parent.firstChild;
  for (const n of flat) {
    const k = keyOf(n);
    let match = null;
    if (k != null) {
      match = keyed.get(k) || null;
      keyed.delete(k);
    } else if (cur && keyOf(cur) == null) {
      match = cur;
    }
    if (match && same(match, n)) {
      if (match === cur) cur = cur.nextSibling;
      else parent.insertBefore(match, cur);
      morph(match, n);
    } else {
      parent.insertBefore(n, cur);
    }
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}

/**
 * A section's frame: `<section id=ID><h2>TITLE <span class=sub></span></h2>...parts`.
 * Returns the section; its subtitle is `section.sub`.
 */
export function frame(id, title, ...parts) {
  const sub = el("span", { class: "sub", id: `${id}-sub` });
  const s = el("section", { id, "aria-labelledby": `${id}-title` }, el("h2", { id: `${id}-title` }, title + " ", sub), ...parts);
  s.sub = sub;
  return s;
}
