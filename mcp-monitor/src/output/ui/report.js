// The printable report: both periods, the slowest and most failing of each kind, the
// peaks since reset, the objectives and the alerts that fired.
import { el, update } from "./dom.js";
import { DASH, bytes, dur, load, num, pct, rate, span } from "./format.js";
import { alertTable, empty, families, sorted, statTable } from "./widgets.js";

export function render(container, { summary, report, dashboard, history, at }) {
  const out = [
    el("h2", { text: `Performance report: ${history.instance}` }),
    el("p", { text: `Generated ${new Date(at).toLocaleString()} by mcp-monitor v${history.version}. Up ${span(history.uptime_seconds)}; last reset ${span(report.since_reset_seconds)} ago; window ${span(summary.window_seconds)}.` }),
  ];
  for (const [sc, label] of [["window", `Over the window (${span(summary.window_seconds)})`], ["total", `Since reset (${span(summary.since_reset_seconds)})`]]) {
    const sec = el("section", { "data-report": sc, "data-key": "report " + sc }, el("h2", { text: label }));
    const w = summary.http[sc];
    sec.append(el("p", { text: `${num(w.count)} requests, ${num(w.failures)} 5xx (${pct(w.error_rate)}), mean ${dur(w.mean_seconds)}, p95 ${dur(w.p95_seconds)}.` }));
    const cols = el("div", { class: "cols" });
    for (const f of families(summary)) {
      const slow = sorted(f.rows.filter((r) => r[sc].count > 0), sc, "p95_seconds", "desc").slice(0, 5);
      const failing = sorted(f.rows.filter((r) => r[sc].failures > 0), sc, "failures", "desc").slice(0, 5);
      cols.append(el("div", {},
        el("h3", { text: `${f.title}: slowest (p95)` }),
        slow.length ? statTable(f, slow, sc, null) : empty("None recorded."),
        el("h3", { text: `${f.title}: most failing` }),
        failing.length ? statTable(f, failing, sc, null) : empty("No failure.")));
    }
    sec.append(cols);
    out.push(sec);
  }
  const pk = history.peaks, th = history.thresholds;
  const peak = (label, p, fmt, threshold, below) => el("tr", {},
    el("th", { scope: "row", text: label }),
    el("td", { class: "num", text: p ? fmt(p.value) : DASH }),
    el("td", { text: p ? new Date(p.t).toLocaleString() : DASH }),
    el("td", { class: "num", text: threshold == null ? DASH : `${below ? "below" : "above"} ${fmt(threshold)}` }));
  out.push(el("section", { "data-report": "peaks", "data-key": "report peaks" },
    el("h2", { text: "Peaks since reset" }),
    el("p", { class: "note", text: `Highest values seen at the summary ticks (every ${span(history.interval_seconds)}); the cache hit ratio at its lowest.` }),
    el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, ...["Figure", "Peak", "When", "Alert"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {},
        peak("Request rate", pk.request_rate, rate, null),
        peak("Error rate (5xx)", pk.error_rate, pct, th.error_rate),
        peak("p95 latency", pk.p95_seconds, dur, th.request_latency_seconds),
        peak("CPU", pk.cpu, pct, th.cpu),
        peak("Memory", pk.memory, pct, th.memory),
        peak("Load per core", pk.load_per_core, load, th.system_load),
        peak("Process memory", pk.process_resident_bytes, bytes, null),
        peak("Pool utilisation", pk.pool_utilization, pct, th.db_pool),
        peak("Cache hit ratio (lowest)", pk.cache_hit_ratio_low, pct, th.cache_hit_ratio, true))))));
  const objectives = report.objectives || [];
  if (objectives.length) {
    out.push(el("section", { "data-report": "objectives", "data-key": "report objectives" },
      el("h2", { text: "Objectives" }),
      el("ul", {}, ...objectives.map((o) => el("li", {
        text: `${o.declaration}: ${pct(o.error_budget_remaining)} of the error budget left (${num(o.bad)} bad of ${num(o.events)} events over ${span(o.covered_seconds)})` +
          (o.burning.length ? `; ${o.burning.join(", ")}` : ""),
      })))));
  }
  const fired = dashboard.alerts.history;
  out.push(el("section", { "data-report": "alerts", "data-key": "report alerts" },
    el("h2", { text: `Alerts that fired since reset (${fired.length})` }),
    fired.length ? alertTable(fired, true) : empty("None.")));
  update(container, out);
}
