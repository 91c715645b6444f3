// mcp-monitor page: reads the monitor's JSON endpoints on this origin and draws them.
// No library, no request to any other host. The token stays in sessionStorage.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg"; // an XML namespace name, never fetched
  const $ = (id) => document.getElementById(id);

  // The routes sit next to this page: /metrics/ui or /api/v1/metrics/ui, under any prefix.
  const here = location.pathname.replace(/\/+$/, "");
  const prefix = here.endsWith("/api/v1/metrics/ui")
    ? here.slice(0, -"/api/v1/metrics/ui".length)
    : here.replace(/\/metrics\/ui$/, "");
  const url = (p) => prefix + p;

  const store = {
    get: (k) => sessionStorage.getItem("mcp-monitor." + k) || "",
    set: (k, v) => (v ? sessionStorage.setItem("mcp-monitor." + k, v) : sessionStorage.removeItem("mcp-monitor." + k)),
  };

  // ---- units -------------------------------------------------------------------
  const NB = "\u00a0";
  const dash = "\u2013";
  function sig(v) {
    return v < 10 ? v.toFixed(1).replace(/\.0$/, "") : String(Math.round(v));
  }
  function dur(s) {
    if (s == null || !isFinite(s)) return dash;
    if (s === 0) return "0" + NB + "s";
    if (s < 1e-3) return sig(s * 1e6) + NB + "\u00b5s";
    if (s < 1) {
      const ms = s * 1e3;
      return (ms < 9.95 ? ms.toFixed(1) : String(Math.round(ms))) + NB + "ms";
    }
    if (s < 120) return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + NB + "s";
    return (s / 60).toFixed(1) + NB + "min";
  }
  function pct(r) {
    if (r == null || !isFinite(r)) return dash;
    const p = Math.round(r * 1000) / 10;
    return (p > 0 && p < 10 ? p.toFixed(1) : String(Math.round(p))) + "%";
  }
  function rate(v) {
    if (v == null || !isFinite(v)) return dash;
    const t = v === 0 ? "0" : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : String(Math.round(v));
    return t + NB + "req/s";
  }
  function bytes(b) {
    if (b == null) return dash;
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (i === 0 ? String(b) : b.toFixed(1)) + NB + u[i];
  }
  const num = (n) => (n == null ? dash : Number(n).toLocaleString("en-US"));
  const load = (v) => (v == null ? dash : v.toFixed(2));
  function span(s) {
    if (s == null) return dash;
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s % 60}s`;
    return `${s}s`;
  }
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  function when(ts) {
    if (!ts) return dash;
    const t = Date.parse(ts);
    return isNaN(t) ? ts : `${new Date(t).toLocaleString()} (${span((Date.now() - t) / 1000)} ago)`;
  }

  // ---- DOM helpers ----------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  // Text that may wrap after `_` and `/` on a narrow screen (`<wbr>` adds no text).
  function breakable(text) {
    const f = document.createDocumentFragment();
    for (const part of String(text).split(/(?<=.[_/])/)) {
      if (f.childNodes.length) f.append(document.createElement("wbr"));
      f.append(part);
    }
    return f;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- state ----------------------------------------------------------------------
  let data = null; // the last complete reading
  let view = "live";
  let scope = "window";
  const sorts = {}; // table id -> {key, dir}
  let timer = null;
  let refreshMs = 5000;

  // ---- fetching ---------------------------------------------------------------------
  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function getJson(path, token) {
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
  async function readAll() {
    const t = store.get("token");
    const [summary, report, dashboard, history] = await Promise.all([
      getJson("/metrics/summary", t),
      getJson("/api/v1/metrics/report", t),
      getJson("/api/v1/metrics/dashboard", t),
      getJson("/api/v1/metrics/history", t),
    ]);
    return { summary, report, dashboard, history, at: Date.now() };
  }

  async function refresh() {
    clearTimeout(timer);
    timer = null;
    try {
      data = await readAll();
      $("auth").hidden = !$("auth").dataset.open;
      refreshMs = Math.max(1000, (data.history.refresh_seconds || 5) * 1000);
      render();
      status(`Updated ${new Date(data.at).toLocaleTimeString()}; every ${refreshMs / 1000}${NB}s while this tab is visible.`);
    } catch (e) {
      if (e instanceof HttpError && (e.status === 401 || e.status === 403)) {
        clearData();
        const had = store.get("token");
        openAuth(e.status === 401 && !had
          ? "This instance needs a token to show its metrics."
          : `The token was refused (${e.status}: ${e.message}). Check MCP_METRICS_TOKEN.`);
        status("No data: a valid token is needed.", true);
        return; // no polling until a token is given
      }
      status(`Refresh failed: ${e.message}. Showing the last reading; retrying.`, true);
    }
    schedule();
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
  function status(text, bad) {
    const s = $("status");
    s.textContent = "";
    s.append(bad ? el("span", { class: "error", text }) : text);
  }
  function clearData() {
    data = null;
    $("live").hidden = true;
    $("report").hidden = true;
    $("report").textContent = "";
    for (const id of ["alerts-active", "objectives", "kpis", "meters", "workflows", "tables", "alerts-history",
      "chart-rate", "chart-errors", "chart-p95", "chart-cpu", "chart-memory", "chart-load", "chart-busy", "chart-queue", "runtime-meters"]) $(id).textContent = "";
    $("instance").textContent = "";
    $("meta").textContent = "";
    $("reset").hidden = true;
  }

  // ---- access -----------------------------------------------------------------------
  function openAuth(message) {
    $("auth").hidden = false;
    $("auth").dataset.open = "1";
    $("auth-msg").textContent = message || "";
    $("token").value = "";
    $("admin-token").value = "";
    $("token").focus();
  }
  function closeAuth() {
    $("auth").hidden = true;
    delete $("auth").dataset.open;
  }
  $("signin").addEventListener("click", () => openAuth(""));
  $("auth-close").addEventListener("click", () => { closeAuth(); if (!data) refresh(); });
  $("forget").addEventListener("click", () => {
    store.set("token", "");
    store.set("admin", "");
    $("reset").hidden = true;
    openAuth("Tokens forgotten.");
    refresh();
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
    refresh();
  });
  $("reset").addEventListener("click", async () => {
    const who = data ? data.history.instance : "this instance";
    if (!confirm(`Reset the in-memory summary, alerts and history of ${who}?\nThe Prometheus counters on /metrics are not touched.`)) return;
    try {
      const res = await fetch(url("/api/v1/metrics/reset"), {
        method: "POST", headers: { Authorization: "Bearer " + store.get("admin") }, credentials: "omit",
      });
      if (!res.ok) throw new Error(`${res.status} ${(await res.json().catch(() => ({}))).error || res.statusText}`);
      status("Reset done.");
    } catch (e) {
      status(`Reset failed: ${e.message}`, true);
    }
    refresh();
  });

  // ---- CPU profile (admin token; the `profiling` feature) -------------------------------
  // The flame graph is fetched with the bearer header and shown as an image from a
  // data: URL: an SVG shown as an image runs no script, and the page's CSP allows it.
  let profiling = false;
  $("profile-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (profiling) return;
    const seconds = $("profile-seconds").value;
    profiling = true;
    $("profile-start").disabled = true;
    $("profile-status").textContent = `Recording for ${seconds}${NB}s\u2026`;
    try {
      const res = await fetch(url(`/debug/pprof/flamegraph?seconds=${encodeURIComponent(seconds)}`), {
        headers: { Authorization: "Bearer " + store.get("admin") }, cache: "no-store", credentials: "omit",
      });
      if (!res.ok) throw new Error(`${res.status} ${(await res.json().catch(() => ({}))).error || res.statusText}`);
      const svgText = await res.text();
      const bytes = new TextEncoder().encode(svgText);
      let bin = "";
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const img = el("img", { alt: `CPU flame graph over ${seconds} seconds: the wider a frame, the more CPU time it and its callees took`, "data-flamegraph": "1" });
      img.src = "data:image/svg+xml;base64," + btoa(bin);
      $("flamegraph").replaceChildren(img, el("figcaption", { text: `Recorded ${new Date().toLocaleTimeString()} over ${res.headers.get("x-profile-seconds") || seconds}${NB}s. /debug/pprof/profile gives the same as pprof protobuf.` }));
      $("profile-status").textContent = "Done.";
    } catch (e) {
      $("profile-status").textContent = `Profile failed: ${e.message}`;
    } finally {
      profiling = false;
      $("profile-start").disabled = false;
    }
  });

  // ---- views ------------------------------------------------------------------------
  function setView(v) {
    view = v;
    $("show-live").setAttribute("aria-pressed", String(v === "live"));
    $("show-report").setAttribute("aria-pressed", String(v === "report"));
    $("print").hidden = v !== "report";
    if (data) { $("live").hidden = v !== "live"; $("report").hidden = v !== "report"; }
  }
  $("show-live").addEventListener("click", () => setView("live"));
  $("show-report").addEventListener("click", () => setView("report"));
  $("print").addEventListener("click", () => window.print());
  for (const r of document.querySelectorAll('input[name="scope"]')) {
    r.addEventListener("change", () => { scope = r.value; if (data) renderTables(); });
  }

  // ---- rendering ----------------------------------------------------------------------
  function render() {
    const { summary, report, dashboard, history } = data;
    $("instance").textContent = history.instance;
    $("meta").textContent = `v${history.version} \u00b7 up ${span(history.uptime_seconds)} \u00b7 reset ${span(report.since_reset_seconds)} ago \u00b7 window ${span(history.window_seconds)}`;
    $("reset").hidden = !(history.reset_enabled && store.get("admin"));
    $("profile").hidden = !(history.profiling && store.get("admin"));
    for (const o of $("profile-seconds").options) o.disabled = Number(o.value) > history.profile_max_seconds;
    $("admin-token").hidden = $("admin-label").hidden = !history.reset_enabled;
    renderAlerts(report.alerts.active, dashboard.alerts.history);
    renderObjectives(report.objectives || []);
    renderTraffic(summary, history);
    renderResources(report, summary, history);
    renderRuntime(report, history);
    renderAppMetrics(summary);
    renderWorkflows(report, dashboard, summary);
    renderTables();
    renderReport();
    setView(view);
  }

  function alertTable(alerts, withResolved) {
    const head = ["Severity", "Alert", "Value", "Threshold", "Components", withResolved ? "Fired" : "Since"];
    if (withResolved) head.push("Resolved");
    const t = el("table", { class: "alerts" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const a of alerts) {
      const tr = el("tr", { "data-type": a.type },
        el("td", {}, el("span", { class: "sev " + a.severity, text: a.severity })),
        el("td", {}, breakable(a.type)),
        el("td", { class: "num", text: a.current_value }),
        el("td", { class: "num", text: a.threshold }),
        el("td", { text: a.components.join(", ") }),
        el("td", { text: when(a.timestamp) }));
      if (withResolved) tr.append(el("td", { text: a.resolved_at ? when(a.resolved_at) : "still firing" }));
      body.append(tr);
    }
    t.append(body);
    return el("div", { class: "scroll" }, t);
  }
  function renderAlerts(active, hist) {
    $("alert-count").textContent = `(${active.length})`;
    $("alerts-active").replaceChildren(active.length ? alertTable(active, false) : el("p", { class: "empty", text: "No alert is firing." }));
    const recent = hist.slice().reverse();
    $("history-count").textContent = `(${hist.length} since reset)`;
    $("alerts-history").replaceChildren(recent.length ? alertTable(recent, true) : el("p", { class: "empty", text: "No alert has fired since the reset." }));
  }

  // Each objective of MCP_SLOS: its error budget left over its period, and its burn
  // rate (error ratio over budget; 1 spends the budget in exactly the period) over the
  // windows of the burn-rate alerts, as of the last evaluation.
  function burn(w) {
    if (w.burn_rate == null) return el("td", { class: "num", text: dash, title: `${w.window}: no event` });
    return el("td", {
      class: "num" + (w.burn_rate > 1 ? " over" : ""),
      text: w.burn_rate.toFixed(w.burn_rate < 10 ? 2 : 1) + "\u00d7",
      title: `${w.window}: ${num(w.bad)} bad of ${num(w.events)}`,
    });
  }
  function renderObjectives(objectives) {
    $("slo-sub").textContent = objectives.length ? "error budget left over each period, and burn rates" : "";
    if (!objectives.length) {
      $("objectives").replaceChildren(el("p", { class: "empty", text: "No objective is declared (MCP_SLOS)." }));
      return;
    }
    const windows = objectives[0].windows.map((w) => w.window);
    const same = objectives.every((o) => o.windows.map((w) => w.window).join() === windows.join());
    const head = ["Objective", "Promise", "Budget left", "Events (bad)", ...(same ? windows.map((w) => `Burn ${w}`) : ["Burn rates"]), "Alerts"];
    const t = el("table", { class: "objectives" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const o of objectives) {
      const tr = el("tr", { "data-slo": o.slo },
        el("th", { scope: "row", text: o.slo }),
        el("td", {}, breakable(o.declaration.split(" = ").slice(1).join(" = ") + ` (over ${span(o.period_seconds)}, seen ${span(o.covered_seconds)})`)),
        el("td", { class: "num" + (o.error_budget_remaining < 0 ? " over" : ""), "data-budget": String(o.error_budget_remaining), text: pct(o.error_budget_remaining) }),
        el("td", { class: "num", text: `${num(o.events)} (${num(o.bad)})` }));
      if (same) {
        for (const w of o.windows) tr.append(burn(w));
      } else {
        tr.append(el("td", { text: o.windows.map((w) => `${w.window} ${w.burn_rate == null ? dash : w.burn_rate.toFixed(2) + "\u00d7"}`).join(", ") }));
      }
      tr.append(el("td", {}, ...(o.burning.length
        ? o.burning.map((a) => el("span", { class: "sev " + (a === "SLO_BURN_RATE_FAST" ? "critical" : "warning"), text: a }))
        : [el("span", { class: "empty", text: "none" })])));
      body.append(tr);
    }
    t.append(body);
    $("objectives").replaceChildren(el("div", { class: "scroll" }, t));
  }

  function kpi(label, value, attrs) {
    return el("div", Object.assign({ class: "kpi" }, attrs || {}), el("div", { class: "label", text: label }), el("div", { class: "value", text: value }));
  }

  // Refused token checks since start, by reason (the tooltip gives each route).
  function authKpi(failures) {
    const total = failures.reduce((n, f) => n + f.count, 0);
    const by = {};
    for (const f of failures) by[f.reason] = (by[f.reason] || 0) + f.count;
    const k = kpi("Refused token checks", num(total), { "data-kpi": "auth-failures" });
    const reasons = Object.keys(by).map((r) => `${r.replace(/_/g, " ")} ${num(by[r])}`).join(", ");
    if (reasons) k.append(el("div", { class: "label", text: reasons }));
    k.title = failures.map((f) => `${f.path}: ${f.reason} × ${f.count}`).join("\n") || "none since start";
    return k;
  }

  function renderTraffic(summary, history) {
    const w = summary.http.window, t = summary.http.total;
    const th = history.thresholds;
    $("traffic-sub").textContent = `over the last ${span(summary.window_seconds)}`;
    $("kpis").replaceChildren(
      kpi("Requests (window)", num(w.count), { "data-kpi": "requests-window" }),
      kpi("Rate (window)", rate(summary.window_seconds > 0 ? w.count / summary.window_seconds : null)),
      kpi("5xx rate (window)", pct(w.error_rate), { "data-kpi": "error-rate-window" }),
      kpi("p95 (window)", dur(w.p95_seconds), { "data-kpi": "p95-window", title: "within 4.4% of the exact 95th percentile (native histogram, default schema 3)" }),
      kpi("Requests since reset", num(t.count), { "data-kpi": "requests-total" }),
      kpi("In flight", num(summary.http.in_flight)),
      authKpi(history.auth_failures || []),
    );
    const pts = history.points;
    chart($("chart-rate"), "Request rate (req/s)", pts, (p) => p.request_rate, rate, null);
    chart($("chart-errors"), "Error rate (5xx)", pts, (p) => p.error_rate, pct, th.error_rate, 0.02);
    chart($("chart-p95"), "p95 latency", pts, (p) => p.p95_seconds, dur, th.request_latency_seconds, 0.001);
  }

  // A line chart of one series over the window, with the alert threshold when it fits.
  function chart(fig, title, pts, get, fmt, threshold, floor) {
    const W = 320, H = 130, L = 44, R = 8, T = 8, B = 18;
    const vals = pts.map(get);
    const present = vals.filter((v) => v != null && isFinite(v));
    const latest = present.length ? present[present.length - 1] : null;
    const max = present.length ? Math.max(...present) : null;
    let top = Math.max((max || 0) * 1.15, floor || 0);
    let thresholdShown = false;
    if (threshold != null && threshold <= Math.max(top, floor || 0) * 3) {
      top = Math.max(top, threshold * 1.1);
      thresholdShown = true;
    }
    if (fmt === pct && top > 1 && (max == null || max <= 1)) top = 1; // a share stops at 100%
    if (!(top > 0)) top = 1;
    const t0 = pts.length ? pts[0].t : Date.now(), t1 = pts.length ? pts[pts.length - 1].t : t0;
    const x = (t) => (t1 > t0 ? L + ((t - t0) / (t1 - t0)) * (W - L - R) : L + (W - L - R) / 2);
    const y = (v) => T + (1 - v / top) * (H - T - B);
    const desc = present.length
      ? `${title} over the window, ${pts.length} points from ${clock(t0)} to ${clock(t1)}: latest ${fmt(latest)}, highest ${fmt(max)}, lowest ${fmt(Math.min(...present))}` +
        (threshold != null ? `; alert threshold ${fmt(threshold)}.` : ".")
      : `${title}: no point yet (one is added every summary tick).`;
    const s = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": desc, "data-points": String(present.length) });
    s.append(svg("title", {}, desc));
    for (const f of [0, 0.5, 1]) {
      const yy = y(top * f);
      s.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: yy, y2: yy }));
      s.append(svg("text", { class: "axis", x: L - 4, y: yy + 3, "text-anchor": "end" }, fmt(top * f).replace("\u00a0req/s", "")));
    }
    if (pts.length) {
      s.append(svg("text", { class: "axis", x: L, y: H - 4 }, clock(t0)));
      s.append(svg("text", { class: "axis", x: W - R, y: H - 4, "text-anchor": "end" }, clock(t1)));
    }
    if (threshold != null) {
      // A threshold far above the data is named, not drawn, so that the data keeps a
      // readable scale.
      const yy = thresholdShown ? y(threshold) : T;
      if (thresholdShown) s.append(svg("line", { class: "threshold", x1: L, x2: W - R, y1: yy, y2: yy }));
      s.append(svg("text", { class: "tlabel", x: W - R - 2, y: thresholdShown ? yy - 3 : yy + 12, "text-anchor": "end", "data-off-scale": String(!thresholdShown) },
        thresholdShown ? "alert " + fmt(threshold) : `\u2191 alert at ${fmt(threshold)}, above the scale`));
    }
    const coords = [];
    pts.forEach((p, i) => { const v = vals[i]; if (v != null && isFinite(v)) coords.push([x(p.t), y(v)]); });
    if (coords.length) {
      const d = coords.map(([a, b], i) => `${i ? "L" : "M"}${a.toFixed(1)},${b.toFixed(1)}`).join("");
      if (coords.length > 1) {
        s.append(svg("path", { class: "area", d: `${d}L${coords[coords.length - 1][0].toFixed(1)},${y(0)}L${coords[0][0].toFixed(1)},${y(0)}Z` }));
      }
      s.append(svg("path", { class: "line", d }));
      const [lx, ly] = coords[coords.length - 1];
      s.append(svg("circle", { class: "dot", cx: lx, cy: ly, r: 3 }));
    }
    const cap = el("figcaption", {}, el("span", { text: title }), el("span", { class: "now", text: latest == null ? "no data" : `latest ${fmt(latest)}` }));
    fig.replaceChildren(cap, s);
  }

  function meter(label, value, fmt, threshold, below, extra) {
    const over = value != null && threshold != null && (below ? value < threshold : value > threshold);
    const full = Math.max(1, threshold != null ? threshold * 1.25 : 1, value || 0);
    const bar = el("div", { class: "bar", "aria-hidden": "true", hidden: threshold == null });
    const fill = el("div", { class: over ? "fill over" : "fill" });
    fill.style.width = `${Math.min(100, ((value || 0) / full) * 100)}%`;
    bar.append(fill);
    if (threshold != null) {
      const m = el("div", { class: "mark" });
      m.style.left = `${Math.min(100, (threshold / full) * 100)}%`;
      bar.append(m);
    }
    const foot = threshold != null
      ? `alert ${below ? "below" : "above"} ${fmt(threshold)}${over ? ": crossed" : ""}`
      : extra || "";
    return el("div", { class: "meter", "data-meter": label },
      el("div", { class: "head" }, el("span", { text: label }), el("strong", { class: over ? "over-text" : null, text: fmt(value) })),
      bar,
      el("div", { class: "foot", text: foot + (threshold != null && extra ? ` \u00b7 ${extra}` : "") }));
  }

  function renderResources(report, summary, history) {
    const r = report.resources, th = history.thresholds;
    const items = [
      meter("CPU", r.cpu, pct, th.cpu, false),
      meter("Memory", r.memory, pct, th.memory, false),
      meter("Load per core", r.load_per_core, load, th.system_load, false),
      meter("Process memory", r.process_resident_bytes, bytes, null, false, `process CPU ${pct(r.process_cpu)} of one core`),
    ];
    for (const c of summary.caches) {
      const ratio = c.window_hit_ratio != null ? c.window_hit_ratio : c.hit_ratio;
      items.push(meter(`Cache ${c.cache} hit ratio`, ratio, pct, th.cache_hit_ratio, true, `${num(c.hits)} hits, ${num(c.misses)} misses since reset`));
    }
    for (const p of report.database.pools) {
      items.push(meter(`Pool ${p.pool}`, p.utilization, pct, th.db_pool, false, `${p.in_use} in use, ${p.idle} idle, ${p.max_size} max`));
    }
    $("meters").replaceChildren(...items);
    const pts = history.points;
    chart($("chart-cpu"), "CPU", pts, (p) => p.cpu, pct, th.cpu, 0.01);
    chart($("chart-memory"), "Memory", pts, (p) => p.memory, pct, th.memory, 0.01);
    chart($("chart-load"), "Load per core", pts, (p) => p.load_per_core, load, th.system_load, 0.01);
  }

  // The Tokio runtime: absent (null) when the monitor watches none, never shown as zero.
  function renderRuntime(report, history) {
    const rt = report.runtime;
    $("runtime").hidden = rt == null;
    if (rt == null) return;
    $("runtime-sub").textContent = `Tokio, ${rt.flavor.replace("_", "-")}, ${rt.workers} worker${rt.workers === 1 ? "" : "s"}`;
    $("runtime-meters").replaceChildren(
      meter("Busy (window)", rt.window.busy_ratio, pct, null, false, `${num(rt.alive_tasks)} tasks alive`),
      meter("Global queue", rt.global_queue_depth, num, null, false, `deepest over the window ${num(rt.window.max_global_queue_depth)}`),
    );
    const pts = history.runtime || [];
    chart($("chart-busy"), "Workers busy", pts, (p) => p.busy_ratio, pct, null, 0.01);
    chart($("chart-queue"), "Global queue depth", pts, (p) => p.global_queue_depth, num, null, 1);
  }

  // The application's own `metrics` series (counters, gauges, histograms), one row a
  // label set; a name past MCP_METRIC_MAX_SERIES says how much went to its overflow.
  function renderAppMetrics(summary) {
    const fams = summary.metrics || [];
    $("app-metrics").hidden = fams.length === 0;
    if (!fams.length) return;
    const sets = fams.reduce((n, f) => n + f.series.length, 0);
    $("app-sub").textContent = `${fams.length} name${fams.length === 1 ? "" : "s"}, ${num(sets)} label set${sets === 1 ? "" : "s"}, since start`;
    const val = (v) => (v == null ? dash : Number.isInteger(v) ? num(v) : String(Number(v.toPrecision(4))));
    const labels = (l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(", ") || dash;
    const value = (s, kind) => kind === "histogram"
      ? `${num(s.count)} obs. \u00b7 mean ${val(s.mean)} \u00b7 p95 ${s.p95 == null ? (s.count ? "above the last bucket" : dash) : val(s.p95)}`
      : val(s.value);
    const table = el("table", { class: "stats", "data-table": "metrics" },
      el("thead", {}, el("tr", {}, ...["Metric", "Kind", "Labels", "Value"].map((h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const f of fams) {
      for (const s of f.series) {
        body.append(el("tr", {},
          el("td", { text: f.name, title: f.help || "" }),
          el("td", { text: f.kind }),
          el("td", { text: labels(s.labels) }),
          el("td", { class: "num", text: value(s, f.kind) })));
      }
      if (f.overflowed > 0) {
        body.append(el("tr", {}, el("td", { text: f.name }), el("td", { class: "bad", text: "overflow" }),
          el("td", { text: `more than ${num(f.label_sets)} label sets` }),
          el("td", { class: "num", text: `${num(f.overflowed)} observations in the overflow series` })));
      }
    }
    table.append(body);
    $("app-table").replaceChildren(table);
  }

  function renderWorkflows(report, dashboard, summary) {
    const runs = aggregate(summary.workflow_runs);
    $("workflows").replaceChildren(
      kpi("Active now", num(report.workflows.active), { "data-kpi": "workflows-active" }),
      kpi("Completion rate", dashboard.workflows.completion_rate === "n/a" ? dash : dashboard.workflows.completion_rate, { "data-kpi": "completion-rate" }),
      kpi(runs ? "Mean run time" : "Mean step time", dur(runs ? runs.mean : report.workflows.steps.mean_seconds), { "data-kpi": "execution-mean" }),
      kpi("Runs since reset", num(report.workflows.runs.count)),
      kpi("Failed runs", num(report.workflows.runs.failures)),
      kpi("Step error rate", pct(report.workflows.steps.error_rate)),
    );
  }
  function aggregate(rows) {
    let count = 0, sum = 0;
    for (const r of rows) { count += r.total.count; sum += (r.total.mean_seconds || 0) * r.total.count; }
    return count ? { count, mean: sum / count } : null;
  }

  // ---- tables ----------------------------------------------------------------------
  const COLS = [
    { key: "count", label: "Count", fmt: num },
    { key: "failures", label: "Errors", fmt: num },
    { key: "error_rate", label: "Error rate", fmt: pct },
    { key: "mean_seconds", label: "Mean", fmt: dur },
    { key: "p95_seconds", label: "p95", fmt: dur },
  ];
  function families(summary) {
    return [
      { id: "routes", title: "HTTP routes", labels: ["method", "path", "status"], heads: ["Method", "Route", "Status"], rows: summary.http.series },
      { id: "grpc", title: "gRPC methods", labels: ["service", "method"], heads: ["Service", "Method"], rows: (summary.grpc && summary.grpc.methods) || [] },
      { id: "db", title: "Database operations", labels: ["operation", "table"], heads: ["Operation", "Table"], rows: summary.db },
      { id: "steps", title: "Workflow steps", labels: ["workflow", "step"], heads: ["Workflow", "Step"], rows: summary.workflow_steps },
      { id: "runs", title: "Workflow runs", labels: ["workflow"], heads: ["Workflow"], rows: summary.workflow_runs },
    ];
  }
  function sorted(rows, sc, key, dir) {
    const v = (r) => (r[sc][key] == null ? -1 : r[sc][key]);
    return rows.slice().sort((a, b) => (v(b) - v(a)) * (dir === "asc" ? -1 : 1) || b[sc].failures - a[sc].failures || b[sc].count - a[sc].count);
  }
  function statTable(f, rows, sc, sortable) {
    const s = sorts[f.id] || (sorts[f.id] = { key: "p95_seconds", dir: "desc" });
    const tr = el("tr", {}, ...f.heads.map((h) => el("th", { scope: "col", text: h })));
    for (const c of COLS) {
      const th = el("th", { scope: "col", class: "num" });
      if (sortable) {
        th.setAttribute("aria-sort", s.key === c.key ? (s.dir === "asc" ? "ascending" : "descending") : "none");
        const b = el("button", { type: "button", text: c.label, "data-sort": c.key });
        b.addEventListener("click", () => {
          sorts[f.id] = { key: c.key, dir: s.key === c.key && s.dir === "desc" ? "asc" : "desc" };
          renderTables();
        });
        th.append(b);
      } else th.textContent = c.label;
      tr.append(th);
    }
    const body = el("tbody");
    for (const r of rows) {
      const row = el("tr", { "data-key": f.labels.map((l) => r[l]).join(" ") }, ...f.labels.map((l) => el("td", {}, breakable(r[l]))));
      for (const c of COLS) {
        const v = r[sc][c.key];
        const bad = (c.key === "failures" && v > 0) || (c.key === "error_rate" && v > 0);
        row.append(el("td", { class: bad ? "num bad" : "num", "data-col": c.key, "data-value": v == null ? "" : String(v), text: c.fmt(v) }));
      }
      body.append(row);
    }
    return el("div", { class: "scroll" }, el("table", { id: sortable ? "table-" + f.id : null, "data-scope": sc }, el("caption", { class: "sr", text: `${f.title}, ${sc === "window" ? "over the window" : "since reset"}` }), el("thead", {}, tr), body));
  }
  function renderTables() {
    const out = [];
    for (const f of families(data.summary)) {
      const s = sorts[f.id] || { key: "p95_seconds", dir: "desc" };
      const rows = sorted(f.rows, scope, s.key, s.dir);
      out.push(el("h3", { text: `${f.title} (${f.rows.length})` }));
      out.push(rows.length ? statTable(f, rows, scope, true) : el("p", { class: "empty", text: "None recorded yet." }));
    }
    $("tables").replaceChildren(...out);
  }

  // ---- the report -----------------------------------------------------------------------
  function renderReport() {
    const { summary, report, dashboard, history } = data;
    const out = [
      el("h2", { text: `Performance report: ${history.instance}` }),
      el("p", { text: `Generated ${new Date(data.at).toLocaleString()} by mcp-monitor v${history.version}. Up ${span(history.uptime_seconds)}; last reset ${span(report.since_reset_seconds)} ago; window ${span(summary.window_seconds)}.` }),
    ];
    for (const [sc, label] of [["window", `Over the window (${span(summary.window_seconds)})`], ["total", `Since reset (${span(summary.since_reset_seconds)})`]]) {
      const sec = el("section", { "data-report": sc }, el("h2", { text: label }));
      const w = summary.http[sc];
      sec.append(el("p", { text: `${num(w.count)} requests, ${num(w.failures)} 5xx (${pct(w.error_rate)}), mean ${dur(w.mean_seconds)}, p95 ${dur(w.p95_seconds)}.` }));
      const cols = el("div", { class: "cols" });
      for (const f of families(summary)) {
        const slow = sorted(f.rows.filter((r) => r[sc].count > 0), sc, "p95_seconds", "desc").slice(0, 5);
        const failing = sorted(f.rows.filter((r) => r[sc].failures > 0), sc, "failures", "desc").slice(0, 5);
        cols.append(el("div", {},
          el("h3", { text: `${f.title}: slowest (p95)` }),
          slow.length ? statTable(f, slow, sc, false) : el("p", { class: "empty", text: "None recorded." }),
          el("h3", { text: `${f.title}: most failing` }),
          failing.length ? statTable(f, failing, sc, false) : el("p", { class: "empty", text: "No failure." })));
      }
      sec.append(cols);
      out.push(sec);
    }
    const pk = history.peaks, th = history.thresholds;
    const peak = (label, p, fmt, threshold, below) => el("tr", {},
      el("th", { scope: "row", text: label }),
      el("td", { class: "num", text: p ? fmt(p.value) : dash }),
      el("td", { text: p ? new Date(p.t).toLocaleString() : dash }),
      el("td", { class: "num", text: threshold == null ? dash : `${below ? "below" : "above"} ${fmt(threshold)}` }));
    out.push(el("section", { "data-report": "peaks" },
      el("h2", { text: "Peaks since reset" }),
      el("p", { class: "note", text: `Highest values seen at the summary ticks (every ${span(history.interval_seconds)}); the cache hit ratio at its lowest.` }),
      el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, ...["Figure", "Peak", "When", "Alert"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {},
          peak("Request rate", pk.request_rate, rate, null),
          peak("Error rate (5xx)", pk.error_rate, pct, th.error_rate),
          peak("p95 latency", pk.p95_seconds, dur, th.request_latency_seconds),
          peak("CPU", pk.cpu, pct, th.cpu),
          peak("Memory", pk.memory, pct, th.memory),
          peak("Load per core", pk.load_per_core, load, th.system_load),
          peak("Process memory", pk.process_resident_bytes, bytes, null),
          peak("Pool utilisation", pk.pool_utilization, pct, th.db_pool),
          peak("Cache hit ratio (lowest)", pk.cache_hit_ratio_low, pct, th.cache_hit_ratio, true))))));
    const objectives = report.objectives || [];
    if (objectives.length) {
      out.push(el("section", { "data-report": "objectives" },
        el("h2", { text: "Objectives" }),
        el("ul", {}, ...objectives.map((o) => el("li", {
          text: `${o.declaration}: ${pct(o.error_budget_remaining)} of the error budget left (${num(o.bad)} bad of ${num(o.events)} events over ${span(o.covered_seconds)})` +
            (o.burning.length ? `; ${o.burning.join(", ")}` : ""),
        })))));
    }
    const fired = dashboard.alerts.history;
    out.push(el("section", { "data-report": "alerts" },
      el("h2", { text: `Alerts that fired since reset (${fired.length})` }),
      fired.length ? alertTable(fired, true) : el("p", { class: "empty", text: "None." })));
    $("report").replaceChildren(...out);
  }

  // Exposed for the browser tests and for people poking at the console.
  window.mcpMonitor = { format: { dur, pct, rate, bytes, num, load }, refresh, get data() { return data; } };

  refresh();
})();
