// Pieces several sections share: figures (kpi), meters, the alert table, and the
// statistics tables of routes, operations, steps and runs.
import { breakable, el } from "./dom.js";
import { DASH, dur, num, pct, show, when } from "./format.js";

export function kpi(label, value, attrs) {
  return el("div", Object.assign({ class: "kpi" }, attrs || {}), el("div", { class: "label", text: label }), el("div", { class: "value", text: value }));
}

/** A value against its alert threshold (`below`: the alert is under it). */
export function meter(label, value, kind, threshold, below, extra) {
  const fmt = (v) => show(kind, v);
  const over = value != null && threshold != null && (below ? value < threshold : value > threshold);
  const full = Math.max(1, threshold != null ? threshold * 1.25 : 1, value || 0);
  const bar = el("div", { class: "bar", "aria-hidden": "true", hidden: threshold == null });
  const fill = el("div", { class: over ? "fill over" : "fill" });
  fill.style.width = `${Math.min(100, ((value || 0) / full) * 100)}%`;
  bar.append(fill);
  if (threshold != null) {
    const m = el("div", { class: "mark" });
    m.style.left = `${Math.min(100, (threshold / full) * 100)}%`;
    bar.append(m);
  }
  const foot = threshold != null
    ? `alert ${below ? "below" : "above"} ${fmt(threshold)}${over ? ": crossed" : ""}`
    : extra || "";
  return el("div", { class: "meter", "data-meter": label, "data-key": "meter " + label },
    el("div", { class: "head" }, el("span", { text: label }), el("strong", { class: over ? "over-text" : null, text: fmt(value) })),
    bar,
    el("div", { class: "foot", text: foot + (threshold != null && extra ? ` \u00b7 ${extra}` : "") }));
}

export function alertTable(alerts, withResolved) {
  const head = ["Severity", "Alert", "Value", "Threshold", "Components", withResolved ? "Fired" : "Since"];
  if (withResolved) head.push("Resolved");
  const body = el("tbody");
  for (const a of alerts) {
    const tr = el("tr", { "data-type": a.type },
      el("td", {}, el("span", { class: "sev " + a.severity, text: a.severity })),
      el("td", {}, breakable(a.type)),
      el("td", { class: "num", text: a.current_value }),
      el("td", { class: "num", text: a.threshold }),
      el("td", { text: a.components.join(", ") }),
      el("td", { text: when(a.timestamp) }));
    if (withResolved) tr.append(el("td", { text: a.resolved_at ? when(a.resolved_at) : "still firing" }));
    body.append(tr);
  }
  return el("div", { class: "scroll" },
    el("table", { class: "alerts" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))), body));
}

export const empty = (text) => el("p", { class: "empty", text });

// ---- the statistics tables ----------------------------------------------------------
export const COLS = [
  { key: "count", label: "Count", fmt: num },
  { key: "failures", label: "Errors", fmt: num },
  { key: "error_rate", label: "Error rate", fmt: pct },
  { key: "mean_seconds", label: "Mean", fmt: dur },
  { key: "p95_seconds", label: "p95", fmt: dur },
];

export function families(summary) {
  return [
    { id: "routes", title: "HTTP routes", labels: ["method", "path", "status"], heads: ["Method", "Route", "Status"], rows: summary.http.series },
    { id: "grpc", title: "gRPC methods", labels: ["service", "method"], heads: ["Service", "Method"], rows: (summary.grpc && summary.grpc.methods) || [] },
    { id: "db", title: "Database operations", labels: ["operation", "table"], heads: ["Operation", "Table"], rows: summary.db },
    { id: "steps", title: "Workflow steps", labels: ["workflow", "step"], heads: ["Workflow", "Step"], rows: summary.workflow_steps },
    { id: "runs", title: "Workflow runs", labels: ["workflow"], heads: ["Workflow"], rows: summary.workflow_runs },
  ];
}

export function sorted(rows, sc, key, dir) {
  const v = (r) => (r[sc][key] == null ? -1 : r[sc][key]);
  return rows.slice().sort((a, b) => (v(b) - v(a)) * (dir === "asc" ? -1 : 1) || b[sc].failures - a[sc].failures || b[sc].count - a[sc].count);
}

/** A family's rows in scope `sc`; `sort` ({key, dir}) makes its headers sort buttons. */
export function statTable(f, rows, sc, sort) {
  const tr = el("tr", {}, ...f.heads.map((h) => el("th", { scope: "col", text: h })));
  for (const c of COLS) {
    const th = el("th", { scope: "col", class: "num" });
    if (sort) {
      th.setAttribute("aria-sort", sort.key === c.key ? (sort.dir === "asc" ? "ascending" : "descending") : "none");
      th.append(el("button", { type: "button", text: c.label, "data-sort": c.key, "data-family": f.id }));
    } else th.textContent = c.label;
    tr.append(th);
  }
  const body = el("tbody");
  for (const r of rows) {
    const row = el("tr", { "data-key": f.labels.map((l) => r[l]).join(" ") }, ...f.labels.map((l) => el("td", {}, breakable(r[l]))));
    for (const c of COLS) {
      const v = r[sc][c.key];
      const bad = (c.key === "failures" || c.key === "error_rate") && v > 0;
      row.append(el("td", { class: bad ? "num bad" : "num", "data-col": c.key, "data-value": v == null ? "" : String(v), text: c.fmt(v) }));
    }
    body.append(row);
  }
  return el("div", { class: "scroll", "data-key": `scroll ${f.id}` },
    el("table", { id: sort ? "table-" + f.id : null, "data-scope": sc },
      el("caption", { class: "sr", text: `${f.title}, ${sc === "window" ? "over the window" : "since reset"}` }), el("thead", {}, tr), body));
}

export { DASH };
