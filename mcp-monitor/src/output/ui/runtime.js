// The Tokio runtime: absent (null) when the monitor watches none, never shown as zero.
import { el, frame, update } from "./dom.js";
import { chart } from "./chart.js";
import { num } from "./format.js";
import { meter } from "./widgets.js";

let section;

export default {
  mount() {
    section = frame("runtime", "Runtime", el("div", { class: "meters", id: "runtime-meters" }),
      el("div", { class: "charts" }, el("figure", { id: "chart-busy" }), el("figure", { id: "chart-queue" })));
    return section;
  },
  update({ report, history }) {
    const rt = report.runtime;
    section.hidden = rt == null;
    if (rt == null) return;
    section.sub.textContent = `Tokio, ${rt.flavor.replace("_", "-")}, ${rt.workers} worker${rt.workers === 1 ? "" : "s"}`;
    update(document.getElementById("runtime-meters"), [
      meter("Busy (window)", rt.window.busy_ratio, "ratio", null, false, `${num(rt.alive_tasks)} tasks alive`),
      meter("Global queue", rt.global_queue_depth, "count", null, false, `deepest over the window ${num(rt.window.max_global_queue_depth)}`),
    ]);
    const points = history.runtime || [];
    update(document.getElementById("chart-busy"), chart({ title: "Workers busy", points, get: (p) => p.busy_ratio, kind: "ratio", floor: 0.01 }));
    update(document.getElementById("chart-queue"), chart({ title: "Global queue depth", points, get: (p) => p.global_queue_depth, kind: "count", floor: 1 }));
  },
};
