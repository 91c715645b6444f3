// CPU, memory, load, the process, caches and pools, against their alert levels.
import { el, frame, update } from "./dom.js";
import { chart } from "./chart.js";
import { num, pct } from "./format.js";
import { meter } from "./widgets.js";

export default {
  mount() {
    return frame("resources", "Resources", el("div", { class: "meters", id: "meters" }),
      el("div", { class: "charts" }, el("figure", { id: "chart-cpu" }), el("figure", { id: "chart-memory" }), el("figure", { id: "chart-load" })));
  },
  update({ report, summary, history }) {
    const r = report.resources, th = history.thresholds;
    const items = [
      meter("CPU", r.cpu, "ratio", th.cpu, false),
      meter("Memory", r.memory, "ratio", th.memory, false),
      meter("Load per core", r.load_per_core, "load", th.system_load, false),
      meter("Process memory", r.process_resident_bytes, "bytes", null, false, `process CPU ${pct(r.process_cpu)} of one core`),
    ];
    for (const c of summary.caches) {
      const ratio = c.window_hit_ratio != null ? c.window_hit_ratio : c.hit_ratio;
      items.push(meter(`Cache ${c.cache} hit ratio`, ratio, "ratio", th.cache_hit_ratio, true, `${num(c.hits)} hits, ${num(c.misses)} misses since reset`));
    }
    for (const p of report.database.pools) {
      items.push(meter(`Pool ${p.pool}`, p.utilization, "ratio", th.db_pool, false, `${p.in_use} in use, ${p.idle} idle, ${p.max_size} max`));
    }
    update(document.getElementById("meters"), items);
    const points = history.points;
    update(document.getElementById("chart-cpu"), chart({ title: "CPU", points, get: (p) => p.cpu, kind: "ratio", threshold: th.cpu, floor: 0.01 }));
    update(document.getElementById("chart-memory"), chart({ title: "Memory", points, get: (p) => p.memory, kind: "ratio", threshold: th.memory, floor: 0.01 }));
    update(document.getElementById("chart-load"), chart({ title: "Load per core", points, get: (p) => p.load_per_core, kind: "load", threshold: th.system_load, floor: 0.01 }));
  },
};
