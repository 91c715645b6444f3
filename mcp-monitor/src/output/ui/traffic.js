// Requests over the window and since reset, refused token checks, and three charts.
import { el, frame, update } from "./dom.js";
import { chart } from "./chart.js";
import { dur, num, pct, rate, span } from "./format.js";
import { kpi } from "./widgets.js";

let section;

// Refused token checks since start, by reason (the tooltip gives each route).
function authKpi(failures) {
  const total = failures.reduce((n, f) => n + f.count, 0);
  const by = {};
  for (const f of failures) by[f.reason] = (by[f.reason] || 0) + f.count;
  const k = kpi("Refused token checks", num(total), { "data-kpi": "auth-failures" });
  const reasons = Object.keys(by).map((r) => `${r.replace(/_/g, " ")} ${num(by[r])}`).join(", ");
  if (reasons) k.append(el("div", { class: "label", text: reasons }));
  k.title = failures.map((f) => `${f.path}: ${f.reason} \u00d7 ${f.count}`).join("\n") || "none since start";
  return k;
}

export default {
  mount() {
    section = frame("traffic", "Requests", el("div", { class: "kpis", id: "kpis" }),
      el("div", { class: "charts" }, el("figure", { id: "chart-rate" }), el("figure", { id: "chart-errors" }), el("figure", { id: "chart-p95" })));
    return section;
  },
  update({ summary, history }) {
    const w = summary.http.window, t = summary.http.total;
    const th = history.thresholds;
    section.sub.textContent = `over the last ${span(summary.window_seconds)}`;
    update(document.getElementById("kpis"), [
      kpi("Requests (window)", num(w.count), { "data-kpi": "requests-window" }),
      kpi("Rate (window)", rate(summary.window_seconds > 0 ? w.count / summary.window_seconds : null)),
      kpi("5xx rate (window)", pct(w.error_rate), { "data-kpi": "error-rate-window" }),
      kpi("p95 (window)", dur(w.p95_seconds), { "data-kpi": "p95-window", title: "within 4.4% of the exact 95th percentile (native histogram, default schema 3)" }),
      kpi("Requests since reset", num(t.count), { "data-kpi": "requests-total" }),
      kpi("In flight", num(summary.http.in_flight)),
      authKpi(history.auth_failures || []),
    ]);
    const points = history.points;
    update(document.getElementById("chart-rate"), chart({ title: "Request rate (req/s)", points, get: (p) => p.request_rate, kind: "rate", axisBare: true }));
    update(document.getElementById("chart-errors"), chart({ title: "Error rate (5xx)", points, get: (p) => p.error_rate, kind: "ratio", threshold: th.error_rate, floor: 0.02 }));
    update(document.getElementById("chart-p95"), chart({ title: "p95 latency", points, get: (p) => p.p95_seconds, kind: "duration", threshold: th.request_latency_seconds, floor: 0.001 }));
  },
};
