// Each objective of MCP_SLOS: its error budget left over its period, and its burn
// rate (error ratio over budget; 1 spends the budget in exactly the period) over the
// windows of the burn-rate alerts, as of the last evaluation.
import { breakable, el, frame, update } from "./dom.js";
import { DASH, num, pct, show, span } from "./format.js";
import { empty } from "./widgets.js";

let section;

function burn(w) {
  if (w.burn_rate == null) return el("td", { class: "num", text: DASH, title: `${w.window}: no event` });
  return el("td", {
    class: "num" + (w.burn_rate > 1 ? " over" : ""),
    text: show("times", w.burn_rate),
    title: `${w.window}: ${num(w.bad)} bad of ${num(w.events)}`,
  });
}

export default {
  mount() {
    section = frame("slo", "Objectives", el("div", { id: "objectives" }));
    return section;
  },
  update({ report }) {
    const objectives = report.objectives || [];
    const box = document.getElementById("objectives");
    section.sub.textContent = objectives.length ? "error budget left over each period, and burn rates" : "";
    if (!objectives.length) {
      update(box, [empty("No objective is declared (MCP_SLOS).")]);
      return;
    }
    const windows = objectives[0].windows.map((w) => w.window);
    const same = objectives.every((o) => o.windows.map((w) => w.window).join() === windows.join());
    const head = ["Objective", "Promise", "Budget left", "Events (bad)", ...(same ? windows.map((w) => `Burn ${w}`) : ["Burn rates"]), "Alerts"];
    const body = el("tbody");
    for (const o of objectives) {
      const tr = el("tr", { "data-slo": o.slo, "data-key": o.slo },
        el("th", { scope: "row", text: o.slo }),
        el("td", {}, breakable(o.declaration.split(" = ").slice(1).join(" = ") + ` (over ${span(o.period_seconds)}, seen ${span(o.covered_seconds)})`)),
        el("td", { class: "num" + (o.error_budget_remaining < 0 ? " over" : ""), "data-budget": String(o.error_budget_remaining), text: pct(o.error_budget_remaining) }),
        el("td", { class: "num", text: `${num(o.events)} (${num(o.bad)})` }));
      if (same) {
        for (const w of o.windows) tr.append(burn(w));
      } else {
        tr.append(el("td", { text: o.windows.map((w) => `${w.window} ${show("times", w.burn_rate)}`).join(", ") }));
      }
      tr.append(el("td", {}, ...(o.burning.length
        ? o.burning.map((a) => el("span", { class: "sev " + (a === "SLO_BURN_RATE_FAST" ? "critical" : "warning"), text: a }))
        : [el("span", { class: "empty", text: "none" })])));
      body.append(tr);
    }
    const t = el("table", { class: "objectives" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))), body);
    update(box, [el("div", { class: "scroll" }, t)]);
  },
};
