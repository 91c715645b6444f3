// Access: the routes beside the page, the tokens (kept in this tab's sessionStorage,
// sent as a bearer header, never in a URL), the token form and the reset button.
import { $ } from "./dom.js";

// The routes sit next to this page: /metrics/ui or /api/v1/metrics/ui, under any prefix.
const here = location.pathname.replace(/\/+$/, "");
const prefix = here.endsWith("/api/v1/metrics/ui")
  ? here.slice(0, -"/api/v1/metrics/ui".length)
  : here.replace(/\/metrics\/ui$/, "");
export const url = (p) => prefix + p;

export const store = {
  get: (k) => sessionStorage.getItem("mcp-monitor." + k) || "",
  set: (k, v) => (v ? sessionStorage.setItem("mcp-monitor." + k, v) : sessionStorage.removeItem("mcp-monitor." + k)),
};

export class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function getJson(path, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(url(path), { headers, cache: "no-store", credentials: "omit" });
  if (!res.ok) {
    let msg = res.statusText;
    try { msg = (await res.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new HttpError(res.status, msg);
  }
  return res.json();
}

/** The message of a refused answer: `403 not allowed`. */
export async function failure(res) {
  return `${res.status} ${(await res.json().catch(() => ({}))).error || res.statusText}`;
}

export function openAuth(message) {
  $("auth").hidden = false;
  $("auth").dataset.open = "1";
  $("auth-msg").textContent = message || "";
  $("token").value = "";
  $("admin-token").value = "";
  $("token").focus();
}

export function closeAuth() {
  $("auth").hidden = true;
  delete $("auth").dataset.open;
}

/**
 * Wires the token form and the reset button. `page`: `refresh()`, `status(text, bad)`,
 * `hasData()`, `instance()`.
 */
export function wire(page) {
  $("signin").addEventListener("click", () => openAuth(""));
  $("auth-close").addEventListener("click", () => { closeAuth(); if (!page.hasData()) page.refresh(); });
  $("forget").addEventListener("click", () => {
    store.set("token", "");
    store.set("admin", "");
    $("reset").hidden = true;
    openAuth("Tokens forgotten.");
    page.refresh();
  });
  $("auth-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = $("token").value.trim();
    const admin = $("admin-token").value.trim();
    if (admin) {
      try {
        const h = await getJson("/api/v1/metrics/history", admin);
        if (!h.admin) throw new HttpError(403, "not the admin token");
        store.set("admin", admin);
      } catch (e) {
        $("auth-msg").textContent = `The admin token was refused (${e.status || ""} ${e.message}).`;
        return;
      }
    }
    if (token) {
      try {
        await getJson("/metrics/summary", token);
      } catch (e) {
        $("auth-msg").textContent = `The token was refused (${e.status || ""}: ${e.message}). Check MCP_METRICS_TOKEN.`;
        $("token").focus();
        return;
      }
      store.set("token", token);
    } else if (admin && !store.get("token")) {
      // The admin token may be the only one (no MCP_METRICS_TOKEN, or the same value).
      try { await getJson("/metrics/summary", admin); store.set("token", admin); } catch (_) { /* reads need the metrics token */ }
    }
    closeAuth();
    page.refresh();
  });
  $("reset").addEventListener("click", async () => {
    if (!confirm(`Reset the in-memory summary, alerts and history of ${page.instance()}?\nThe Prometheus counters on /metrics are not touched.`)) return;
    try {
      const res = await fetch(url("/api/v1/metrics/reset"), {
        method: "POST", headers: { Authorization: "Bearer " + store.get("admin") }, credentials: "omit",
      });
      if (!res.ok) throw new Error(await failure(res));
      page.status("Reset done.");
    } catch (e) {
      page.status(`Reset failed: ${e.message}`, true);
    }
    page.refresh();
  });
}
