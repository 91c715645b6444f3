// A line chart of one series over the window, with the alert threshold when it fits.
// Returns the figure's children (caption and SVG), for `update`.
import { el, svg } from "./dom.js";
import { bare, clock, show } from "./format.js";

/**
 * `kind`: the unit kind of the values (see format.js); `axisBare`: the title names the
 * unit, so the axis writes numbers alone; `floor`: the lowest top of the scale.
 */
export function chart({ title, points, get, kind, threshold = null, floor = 0, axisBare = false }) {
  const fmt = (v) => show(kind, v);
  const axis = (v) => (axisBare ? bare(kind, v) : fmt(v));
  const W = 320, H = 130, L = 44, R = 8, T = 8, B = 18;
  const pts = points || [];
  const vals = pts.map(get);
  const present = vals.filter((v) => v != null && isFinite(v));
  const latest = present.length ? present[present.length - 1] : null;
  const max = present.length ? Math.max(...present) : null;
  let top = Math.max((max || 0) * 1.15, floor);
  let thresholdShown = false;
  if (threshold != null && threshold <= Math.max(top, floor) * 3) {
    top = Math.max(top, threshold * 1.1);
    thresholdShown = true;
  }
  if (kind === "ratio" && top > 1 && (max == null || max <= 1)) top = 1; // a share stops at 100%
  if (!(top > 0)) top = 1;
  const t0 = pts.length ? pts[0].t : Date.now(), t1 = pts.length ? pts[pts.length - 1].t : t0;
  const x = (t) => (t1 > t0 ? L + ((t - t0) / (t1 - t0)) * (W - L - R) : L + (W - L - R) / 2);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const desc = present.length
    ? `${title} over the window, ${pts.length} points from ${clock(t0)} to ${clock(t1)}: latest ${fmt(latest)}, highest ${fmt(max)}, lowest ${fmt(Math.min(...present))}` +
      (threshold != null ? `; alert threshold ${fmt(threshold)}.` : ".")
    : `${title}: no point yet (one is added every summary tick).`;
  const s = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": desc, "data-points": String(present.length) });
  s.append(svg("title", {}, desc));
  for (const f of [0, 0.5, 1]) {
    const yy = y(top * f);
    s.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: yy, y2: yy }));
    s.append(svg("text", { class: "axis", x: L - 4, y: yy + 3, "text-anchor": "end" }, axis(top * f)));
  }
  if (pts.length) {
    s.append(svg("text", { class: "axis", x: L, y: H - 4 }, clock(t0)));
    s.append(svg("text", { class: "axis", x: W - R, y: H - 4, "text-anchor": "end" }, clock(t1)));
  }
  if (threshold != null) {
    // A threshold far above the data is named, not drawn, so that the data keeps a
    // readable scale.
    const yy = thresholdShown ? y(threshold) : T;
    if (thresholdShown) s.append(svg("line", { class: "threshold", x1: L, x2: W - R, y1: yy, y2: yy }));
    s.append(svg("text", { class: "tlabel", x: W - R - 2, y: thresholdShown ? yy - 3 : yy + 12, "text-anchor": "end", "data-off-scale": String(!thresholdShown) },
      thresholdShown ? "alert " + fmt(threshold) : `\u2191 alert at ${fmt(threshold)}, above the scale`));
  }
  const coords = [];
  pts.forEach((p, i) => { const v = vals[i]; if (v != null && isFinite(v)) coords.push([x(p.t), y(v)]); });
  if (coords.length) {
    const d = coords.map(([a, b], i) => `${i ? "L" : "M"}${a.toFixed(1)},${b.toFixed(1)}`).join("");
    if (coords.length > 1) {
      s.append(svg("path", { class: "area", d: `${d}L${coords[coords.length - 1][0].toFixed(1)},${y(0)}L${coords[0][0].toFixed(1)},${y(0)}Z` }));
    }
    s.append(svg("path", { class: "line", d }));
    const [lx, ly] = coords[coords.length - 1];
    s.append(svg("circle", { class: "dot", cx: lx, cy: ly, r: 3 }));
  }
  const cap = el("figcaption", {}, el("span", { text: title }), el("span", { class: "now", text: latest == null ? "no data" : `latest ${fmt(latest)}` }));
  return [cap, s];
}
