// Workflows: active runs, completion, run (or step) time, failures.
import { el, frame, update } from "./dom.js";
import { DASH, dur, num, pct } from "./format.js";
import { kpi } from "./widgets.js";

function aggregate(rows) {
  let count = 0, sum = 0;
  for (const r of rows) { count += r.total.count; sum += (r.total.mean_seconds || 0) * r.total.count; }
  return count ? { count, mean: sum / count } : null;
}

export default {
  mount() {
    return frame("wf", "Workflows", el("div", { class: "kpis", id: "workflows" }));
  },
  update({ report, dashboard, summary }) {
    const runs = aggregate(summary.workflow_runs);
    update(document.getElementById("workflows"), [
      kpi("Active now", num(report.workflows.active), { "data-kpi": "workflows-active" }),
      kpi("Completion rate", dashboard.workflows.completion_rate === "n/a" ? DASH : dashboard.workflows.completion_rate, { "data-kpi": "completion-rate" }),
      kpi(runs ? "Mean run time" : "Mean step time", dur(runs ? runs.mean : report.workflows.steps.mean_seconds), { "data-kpi": "execution-mean" }),
      kpi("Runs since reset", num(report.workflows.runs.count)),
      kpi("Failed runs", num(report.workflows.runs.failures)),
      kpi("Step error rate", pct(report.workflows.steps.error_rate)),
    ]);
  },
};
