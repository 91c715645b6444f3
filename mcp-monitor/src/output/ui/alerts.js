// Two sections: the alerts firing now, and those that fired since the reset.
import { el, frame, update } from "./dom.js";
import { alertTable, empty } from "./widgets.js";

let activeFrame, historyFrame;

export const active = {
  mount() {
    activeFrame = frame("alerts", "Active alerts", el("div", { id: "alerts-active" }));
    return activeFrame;
  },
  update({ report }) {
    const list = report.alerts.active;
    activeFrame.sub.textContent = `(${list.length})`;
    update(document.getElementById("alerts-active"), [list.length ? alertTable(list, false) : empty("No alert is firing.")]);
  },
};

export const history = {
  mount() {
    historyFrame = frame("history", "Alert history", el("div", { id: "alerts-history" }));
    return historyFrame;
  },
  update({ dashboard }) {
    const hist = dashboard.alerts.history;
    historyFrame.sub.textContent = `(${hist.length} since reset)`;
    const recent = hist.slice().reverse();
    update(document.getElementById("alerts-history"), [recent.length ? alertTable(recent, true) : empty("No alert has fired since the reset.")]);
  },
};
