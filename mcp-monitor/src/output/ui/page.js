// mcp-monitor page: reads one document of this origin per refresh (the summary,
// report, dashboard and history of one reading) and updates the page in place. No
// library, no request to any other host, no build step: ES modules served by the
// monitor beside this one.
import { $, el } from "./dom.js";
import { NB, bare, bytes, dur, load, num, pct, rate, show, span } from "./format.js";
import { HttpError, getJson, openAuth, store, wire } from "./access.js";
import { active as activeAlerts, history as alertHistory } from "./alerts.js";
import objectives from "./objectives.js";
import traffic from "./traffic.js";
import resources from "./resources.js";
import runtime from "./runtime.js";
import longPolls from "./long_polls.js";
import appMetrics from "./app_metrics.js";
import workflows from "./workflows.js";
import profile from "./profile.js";
import tables from "./tables.js";
import { render as renderReport } from "./report.js";

// The live view's sections, in order. A section is a module whose `mount()` returns
// its element (built once) and whose `update(doc)` brings it to a page document;
// adding one is writing that module and naming it here.
const SECTIONS = [activeAlerts, objectives, traffic, resources, runtime, longPolls, appMetrics, workflows, profile, tables, alertHistory];

let data = null; // the page document on screen, with `at` and `seq`
let view = "live";
let timer = null;
let refreshMs = 5000;
// Refreshes started, and the number of the one on screen: an answer older than the
// one shown is dropped, so a slow answer never replaces a newer one.
let started = 0;
let shown = 0;

function mount() {
  $("live").replaceChildren(...SECTIONS.map((s) => s.mount()));
}

function status(text, bad) {
  $("status").replaceChildren(bad ? el("span", { class: "error", text }) : text);
}

function clearData() {
  data = null;
  $("live").hidden = true;
  $("report").hidden = true;
  $("report").textContent = "";
  mount();
  $("instance").textContent = "";
  $("meta").textContent = "";
  $("reset").hidden = true;
}

async function refresh() {
  const mine = ++started;
  clearTimeout(timer);
  timer = null;
  try {
    const doc = await getJson("/api/v1/metrics/page", store.get("token"));
    if (mine < shown) return mine;
    shown = mine;
    data = Object.assign(doc, { at: Date.now(), seq: mine });
    $("auth").hidden = !$("auth").dataset.open;
    refreshMs = Math.max(1000, (data.history.refresh_seconds || 5) * 1000);
    render();
    status(`Updated ${new Date(data.at).toLocaleTimeString()}; every ${refreshMs / 1000}${NB}s while this tab is visible.`);
  } catch (e) {
    if (mine < shown) return mine;
    shown = mine;
    if (e instanceof HttpError && (e.status === 401 || e.status === 403)) {
      clearData();
      const had = store.get("token");
      openAuth(e.status === 401 && !had
        ? "This instance needs a token to show its metrics."
        : `The token was refused (${e.status}: ${e.message}). Check MCP_METRICS_TOKEN.`);
      status("No data: a valid token is needed.", true);
      return mine; // no polling until a token is given
    }
    status(`Refresh failed: ${e.message}. Showing the last reading; retrying.`, true);
  }
  schedule();
  return mine;
}

function schedule() {
  clearTimeout(timer);
  timer = document.visibilityState === "visible" ? setTimeout(refresh, refreshMs) : null;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    // Catch up at once, unless the token form is waiting for the person.
    if (data || $("auth").hidden) refresh();
  } else {
    clearTimeout(timer);
    timer = null;
  }
});

function setView(v) {
  view = v;
  $("show-live").setAttribute("aria-pressed", String(v === "live"));
  $("show-report").setAttribute("aria-pressed", String(v === "report"));
  $("print").hidden = v !== "report";
  if (data) { $("live").hidden = v !== "live"; $("report").hidden = v !== "report"; }
}

function render() {
  const { report, history } = data;
  $("instance").textContent = history.instance;
  $("meta").textContent = `v${history.version} \u00b7 up ${span(history.uptime_seconds)} \u00b7 reset ${span(report.since_reset_seconds)} ago \u00b7 window ${span(history.window_seconds)}`;
  $("reset").hidden = !(history.reset_enabled && store.get("admin"));
  $("admin-token").hidden = $("admin-label").hidden = !history.reset_enabled;
  for (const s of SECTIONS) s.update(data);
  renderReport($("report"), data);
  setView(view);
}

$("show-live").addEventListener("click", () => setView("live"));
$("show-report").addEventListener("click", () => setView("report"));
$("print").addEventListener("click", () => window.print());
wire({
  refresh,
  status,
  hasData: () => data != null,
  instance: () => (data ? data.history.instance : "this instance"),
});
mount();

// Exposed for the browser tests and for people poking at the console.
window.mcpMonitor = {
  format: { dur, pct, rate, bytes, num, load, show, bare },
  refresh,
  get data() { return data; },
  get shown() { return shown; },
};

refresh();
