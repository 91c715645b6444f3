// The monitored calls with a poll that held its thread longer than
// MCP_LONG_POLL_THRESHOLD (mcp_long_polls_total): a blocked executor, most often first.
import { breakable, el, frame, update } from "./dom.js";
import { dur, num } from "./format.js";

let section;

export default {
  mount() {
    section = frame("long-polls", "Long polls", el("div", { id: "long-polls-table" }));
    return section;
  },
  update({ summary }) {
    const lp = summary.long_polls || { threshold_seconds: null, sites: [] };
    section.sub.textContent = `polls holding their thread longer than ${dur(lp.threshold_seconds)}, since start`;
    const target = document.getElementById("long-polls-table");
    if (!lp.sites.length) {
      update(target, [el("p", { class: "empty", text: "None: no monitored call has blocked its thread." })]);
      return;
    }
    const rows = [...lp.sites].sort((a, b) => b.count - a.count || b.longest_seconds - a.longest_seconds);
    const body = el("tbody");
    for (const p of rows) {
      body.append(el("tr", { "data-kind": p.kind, "data-key": `${p.kind} ${p.name}` },
        el("td", { text: p.kind }),
        el("td", {}, breakable(p.name)),
        el("td", { class: "num", text: num(p.count) }),
        el("td", { class: "num bad", text: dur(p.longest_seconds) })));
    }
    const table = el("table", { class: "stats", "data-table": "long-polls" },
      el("thead", {}, el("tr", {}, ...["Kind", "Call", "Long polls", "Longest"].map((h) => el("th", { scope: "col", text: h })))), body);
    update(target, [el("div", { class: "scroll" }, table)]);
  },
};
