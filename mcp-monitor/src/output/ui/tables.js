// Routes, gRPC methods, operations, steps and runs: one sortable table each, over the window or
// since reset. The sort buttons are found by one listener on the container, so a
// refresh that updates the rows keeps the button that has the keyboard focus.
import { el, frame, update } from "./dom.js";
import { empty, families, sorted, statTable } from "./widgets.js";

const sorts = {}; // family id -> {key, dir}
let scope = "window";
let last = null;
const sortOf = (id) => sorts[id] || { key: "p95_seconds", dir: "desc" };

function draw() {
  if (!last) return;
  const out = [];
  for (const f of families(last.summary)) {
    const s = sortOf(f.id);
    const rows = sorted(f.rows, scope, s.key, s.dir);
    out.push(el("h3", { text: `${f.title} (${f.rows.length})`, "data-key": "title " + f.id }));
    out.push(rows.length ? statTable(f, rows, scope, s) : el("p", { class: "empty", text: "None recorded yet.", "data-key": "empty " + f.id }));
  }
  update(document.getElementById("tables"), out);
}

export default {
  mount() {
    const radios = ["window", "total"].map((v) => {
      const input = el("input", { type: "radio", name: "scope", value: v, checked: v === scope });
      input.addEventListener("change", () => { scope = v; draw(); });
      return el("label", {}, input, v === "window" ? " over the window" : " since reset");
    });
    const tables = el("div", { id: "tables" });
    tables.addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-sort]");
      if (!b) return;
      const s = sortOf(b.dataset.family);
      sorts[b.dataset.family] = { key: b.dataset.sort, dir: s.key === b.dataset.sort && s.dir === "desc" ? "asc" : "desc" };
      draw();
    });
    last = null;
    return frame("stats", "Routes, gRPC methods, operations, steps and runs",
      el("fieldset", { class: "scope" }, el("legend", { text: "Figures" }), ...radios), tables);
  },
  update(doc) {
    last = doc;
    draw();
  },
};
