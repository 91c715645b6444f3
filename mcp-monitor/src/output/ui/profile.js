// CPU profile (admin token; the `profiling` feature). The flame graph is fetched with
// the bearer header and shown as an image from a data: URL: an SVG shown as an image
// runs no script, and the page's CSP allows it.
import { el, frame } from "./dom.js";
import { NB } from "./format.js";
import { failure, store, url } from "./access.js";

let section, seconds, start, status, figure;
let recording = false;

async function record(ev) {
  ev.preventDefault();
  if (recording) return;
  const s = seconds.value;
  recording = true;
  start.disabled = true;
  status.textContent = `Recording for ${s}${NB}s\u2026`;
  try {
    const res = await fetch(url(`/debug/pprof/flamegraph?seconds=${encodeURIComponent(s)}`), {
      headers: { Authorization: "Bearer " + store.get("admin") }, cache: "no-store", credentials: "omit",
    });
    if (!res.ok) throw new Error(await failure(res));
    const bytes = new TextEncoder().encode(await res.text());
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const img = el("img", { alt: `CPU flame graph over ${s} seconds: the wider a frame, the more CPU time it and its callees took`, "data-flamegraph": "1" });
    img.src = "data:image/svg+xml;base64," + btoa(bin);
    figure.replaceChildren(img, el("figcaption", { text: `Recorded ${new Date().toLocaleTimeString()} over ${res.headers.get("x-profile-seconds") || s}${NB}s. /debug/pprof/profile gives the same as pprof protobuf.` }));
    status.textContent = "Done.";
  } catch (e) {
    status.textContent = `Profile failed: ${e.message}`;
  } finally {
    recording = false;
    start.disabled = false;
  }
}

export default {
  // Built once: the form keeps its choice and the last flame graph across refreshes.
  mount() {
    seconds = el("select", { id: "profile-seconds" },
      ...[5, 10, 30, 60].map((n) => el("option", { value: String(n), selected: n === 10, text: `${n} s` })));
    start = el("button", { type: "submit", id: "profile-start", text: "Profile" });
    status = el("span", { id: "profile-status", role: "status" });
    figure = el("figure", { id: "flamegraph" });
    const form = el("form", { id: "profile-form", class: "profile-form" },
      el("label", { for: "profile-seconds", text: "Record for" }), seconds, start, status);
    form.addEventListener("submit", record);
    section = frame("profile", "CPU profile", form, figure);
    section.hidden = true;
    return section;
  },
  update({ history }) {
    section.hidden = !(history.profiling && store.get("admin"));
    for (const o of seconds.options) o.disabled = Number(o.value) > history.profile_max_seconds;
  },
};
