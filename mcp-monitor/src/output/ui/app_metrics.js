// The application's own `metrics` series (counters, gauges, histograms), one row a
// label set; a name past MCP_METRIC_MAX_SERIES says how much went to its overflow.
import { el, frame, update } from "./dom.js";
import { DASH, num, show } from "./format.js";

let section;

export default {
  mount() {
    section = frame("app-metrics", "Application metrics", el("div", { id: "app-table" }));
    section.hidden = true;
    return section;
  },
  update({ summary }) {
    const fams = summary.metrics || [];
    section.hidden = fams.length === 0;
    if (!fams.length) return;
    const sets = fams.reduce((n, f) => n + f.series.length, 0);
    section.sub.textContent = `${fams.length} name${fams.length === 1 ? "" : "s"}, ${num(sets)} label set${sets === 1 ? "" : "s"}, since start`;
    const val = (v) => show("value", v);
    const labels = (l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(", ") || DASH;
    const value = (s, kind) => kind === "histogram"
      ? `${num(s.count)} obs. \u00b7 mean ${val(s.mean)} \u00b7 p95 ${s.p95 == null ? (s.count ? "above the last bucket" : DASH) : val(s.p95)}`
      : val(s.value);
    const body = el("tbody");
    for (const f of fams) {
      for (const s of f.series) {
        body.append(el("tr", { "data-key": `${f.name} ${labels(s.labels)}` },
          el("td", { text: f.name, title: f.help || "" }),
          el("td", { text: f.kind }),
          el("td", { text: labels(s.labels) }),
          el("td", { class: "num", text: value(s, f.kind) })));
      }
      if (f.overflowed > 0) {
        body.append(el("tr", { "data-key": `${f.name} overflow` }, el("td", { text: f.name }), el("td", { class: "bad", text: "overflow" }),
          el("td", { text: `more than ${num(f.label_sets)} label sets` }),
          el("td", { class: "num", text: `${num(f.overflowed)} observations in the overflow series` })));
      }
    }
    const table = el("table", { class: "stats", "data-table": "metrics" },
      el("thead", {}, el("tr", {}, ...["Metric", "Kind", "Labels", "Value"].map((h) => el("th", { scope: "col", text: h })))), body);
    update(document.getElementById("app-table"), [el("div", { class: "scroll" }, table)]);
  },
};
