// Drives the /metrics/ui page in headless Chromium (Debian's package, no download)
// against two demo services that tests/e2e/browser.rs started on loopback ports:
//   MCP_UI_OPEN   an open instance whose memory alert is forced by its settings
//                 (MCP_MEMORY_THRESHOLD=1%, MCP_ALERT_FOR=0s);
//   MCP_UI_LOCKED an instance with MCP_METRICS_TOKEN and MCP_ADMIN_TOKEN set, given here
//                 as MCP_UI_METRICS_TOKEN and MCP_UI_ADMIN_TOKEN.
// Screenshots go to MCP_UI_SCREENSHOTS. Run with `node --test`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const OPEN = need("MCP_UI_OPEN");
const LOCKED = need("MCP_UI_LOCKED");
const READ_TOKEN = need("MCP_UI_METRICS_TOKEN");
const ADMIN_TOKEN = need("MCP_UI_ADMIN_TOKEN");
const SHOTS = need("MCP_UI_SCREENSHOTS");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Generous: the machines that run this are often busy compiling.
const WAIT = 60_000;

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through \`cargo test --test e2e browser::\``);
  return v;
}

let browser;
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 120_000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Traffic for the tables and charts: creates, hits, misses, 404s and workflow runs.
  for (const base of [OPEN, LOCKED]) await traffic(base);
});
after(async () => { await browser?.close(); });

async function traffic(base) {
  const post = (path, body) => fetch(base + path, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  for (let i = 0; i < 12; i++) {
    const res = await post("/users", { name: `User ${i}`, email: `u${i}-${Date.now()}@example.com` });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    assert.equal((await fetch(`${base}/users/${id}`)).status, 200);
    assert.equal((await fetch(`${base}/users/${id}`)).status, 200);
    assert.equal((await fetch(`${base}/users/999999`)).status, 404);
  }
  assert.equal((await post("/workflows/data_processing", { records: [1, "two", { three: 3 }] })).status, 200);
  assert.equal((await post("/workflows/data_processing", { records: [] })).status, 422);
}

async function json(base, path, token) {
  const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

// A page that records console errors, page errors and every request it makes.
async function open(base, width, height = 900) {
  const context = await browser.newContext({ viewport: { width, height } });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(base + "/metrics/ui");
  return { context, page, problems, requests };
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Waits until the page has drawn a reading whose history has at least `points` points.
async function drawn(page, points = 2) {
  await page.waitForSelector("#live:not([hidden])", { timeout: WAIT });
  await page.waitForFunction((n) => {
    const svg = document.querySelector("#chart-rate svg");
    return svg && Number(svg.dataset.points) >= n;
  }, points, { timeout: WAIT });
}

// Every visible text against its effective background: WCAG AA asks 4.5:1, or 3:1 for
// large text (24 px, or 18.66 px bold). Returns the offenders.
function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (e) => {
      for (; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const e = n.parentElement;
      if (!n.textContent.trim() || !e || e.closest("svg") || !e.checkVisibility()) continue;
      const st = getComputedStyle(e);
      const fg = rgb(st.color).slice(0, 3), bg = background(e);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) out.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)} < ${need}`);
    }
    // Chart text is SVG: check its fills against the chart's background the same way.
    for (const t of document.querySelectorAll("svg text")) {
      const fg = rgb(getComputedStyle(t).fill).slice(0, 3);
      const [a, b] = [lum(fg), lum(background(t))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) out.push(`chart text ${t.textContent}: ${ratio.toFixed(2)}`);
    }
    return out;
  });
}

function sameOrigin(requests, base) {
  const origin = new URL(base).origin;
  const off = requests.filter((u) => !u.startsWith(origin + "/"));
  assert.deepEqual(off, [], "requests off-host");
}

test("the page loads with no console error and no request off-host, wide and at 375 px", async () => {
  for (const [width, name] of [[1280, "live-wide"], [375, "live-375px"]]) {
    const { context, page, problems, requests } = await open(OPEN, width);
    await drawn(page);
    await page.waitForSelector('#alerts-active tr[data-type="HIGH_MEMORY_USAGE"]', { timeout: WAIT });
    await shot(page, name);
    assert.deepEqual(problems, []);
    assert.deepEqual(await lowContrast(page), [], "text below WCAG AA contrast");
    sameOrigin(requests, OPEN);
    // The page itself never scrolls sideways; wide tables scroll inside their box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page wider than the viewport by ${overflow}px at ${width}px`);
    await context.close();
  }
});

test("the demo's objectives show their budget left and burn rates", async () => {
  const { context, page, problems } = await open(OPEN, 1280);
  await drawn(page);
  const report = await json(OPEN, "/api/v1/metrics/report");
  const names = report.objectives.map((o) => o.slo);
  assert.deepEqual(names, ["api", "user-lookup", "database"], "the demo's objectives in the report");
  for (const o of report.objectives) {
    const row = await page.waitForSelector(`#objectives tr[data-slo="${o.slo}"]`, { timeout: WAIT });
    const cells = await row.$$eval("td", (tds) => tds.map((td) => td.textContent));
    // Promise, budget, events, the seven windows, alerts.
    assert.equal(cells.length, 3 + o.windows.length + 1, `${o.slo}: ${cells}`);
    assert.match(cells[1], /%$/, `${o.slo}: budget ${cells[1]}`);
  }
  const heads = await page.$$eval("#objectives thead th", (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(heads.slice(4, 11), ["Burn 5m", "Burn 30m", "Burn 1h", "Burn 2h", "Burn 6h", "Burn 1d", "Burn 3d"]);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the charts draw the history the server keeps, with threshold lines and text alternatives", async () => {
  const { context, page, problems } = await open(OPEN, 1280);
  await drawn(page, 3);
  const history = await page.evaluate(() => window.mcpMonitor.data.history);
  const server = await json(OPEN, "/api/v1/metrics/history");
  assert.ok(server.points.length >= 3, "the server keeps the window's points");
  assert.ok(server.points.length <= 12, "bounded like the summary ring");
  assert.ok(server.points.some((p) => p.requests > 0), "the traffic shows in the history");
  for (const id of ["chart-rate", "chart-errors", "chart-p95", "chart-cpu", "chart-memory", "chart-load"]) {
    const c = await page.$eval(`#${id} svg`, (svg) => ({
      points: Number(svg.dataset.points),
      label: svg.getAttribute("aria-label"),
      title: svg.querySelector("title")?.textContent,
      line: svg.querySelector("path.line")?.getAttribute("d") || "",
      threshold: !!svg.querySelector("line.threshold") || svg.querySelector(".tlabel")?.dataset.offScale === "true",
    }));
    assert.ok(c.points >= 1, `${id}: no point drawn`);
    assert.equal((c.line.match(/[ML]/g) || []).length, c.points, `${id}: one vertex per point`);
    assert.ok(c.label && c.label === c.title && /latest/.test(c.label), `${id}: text alternative ${c.label}`);
    assert.equal(c.threshold, id !== "chart-rate", `${id}: threshold line`);
  }
  // The rate chart draws every point of the reading the page took.
  const rate = await page.$eval("#chart-rate svg", (svg) => Number(svg.dataset.points));
  assert.equal(rate, history.points.length);
  // Thresholds come from the settings (MCP_MEMORY_THRESHOLD=1%).
  assert.equal(history.thresholds.memory, 0.01);
  const memLabel = await page.$eval("#chart-memory svg .tlabel", (t) => t.textContent);
  assert.equal(memLabel, "alert 1.0%");
  assert.deepEqual(problems, []);
  await context.close();
});

test("the numbers shown match the JSON endpoints, with units", async () => {
  const { context, page, problems } = await open(OPEN, 1280);
  await drawn(page);
  await page.check('input[name="scope"][value="total"]');
  // Nothing else calls this instance now, so since-reset figures hold still.
  await page.evaluate(() => window.mcpMonitor.refresh());
  const summary = await json(OPEN, "/metrics/summary");
  const report = await json(OPEN, "/api/v1/metrics/report");
  const families = [
    ["routes", summary.http.series, (s) => `${s.method} ${s.path} ${s.status}`],
    ["db", summary.db, (s) => `${s.operation} ${s.table}`],
    ["steps", summary.workflow_steps, (s) => `${s.workflow} ${s.step}`],
    ["runs", summary.workflow_runs, (s) => s.workflow],
  ];
  const units = /^(–|0 s|\d+(\.\d+)? (µs|ms|s|min))$/;
  for (const [id, series, key] of families) {
    assert.ok(series.length > 0, `${id}: the demo recorded nothing`);
    const rows = await page.$$eval(`#table-${id} tbody tr`, (trs) => trs.map((tr) => ({
      key: tr.dataset.key,
      cells: Object.fromEntries([...tr.querySelectorAll("td[data-col]")].map((td) => [td.dataset.col, { text: td.textContent.replace(/\u00a0/g, " "), value: td.dataset.value }])),
    })));
    assert.equal(rows.length, series.length, `${id}: one row per series`);
    for (const s of series) {
      const row = rows.find((r) => r.key === key(s));
      assert.ok(row, `${id}: no row for ${key(s)}`);
      assert.equal(row.cells.count.text, s.total.count.toLocaleString("en-US"), `${id} ${row.key} count`);
      assert.equal(row.cells.failures.text, s.total.failures.toLocaleString("en-US"), `${id} ${row.key} errors`);
      for (const col of ["error_rate", "mean_seconds", "p95_seconds"]) {
        const v = s.total[col];
        assert.equal(row.cells[col].value, v == null ? "" : String(v), `${id} ${row.key} ${col}`);
      }
      for (const col of ["mean_seconds", "p95_seconds"]) assert.match(row.cells[col].text, units, `${id} ${row.key} ${col}`);
      assert.match(row.cells.error_rate.text, /^(–|\d+(\.\d)?%)$/);
    }
    // Sorted slowest first by default; the errors header sorts the most failing first.
    const p95s = rows.map((r) => Number(r.cells.p95_seconds.value || -1));
    assert.deepEqual(p95s, [...p95s].sort((a, b) => b - a), `${id}: slowest first`);
  }
  await page.click('#table-routes th button[data-sort="failures"]');
  const errs = await page.$$eval('#table-routes td[data-col="failures"]', (tds) => tds.map((td) => Number(td.dataset.value)));
  assert.deepEqual(errs, [...errs].sort((a, b) => b - a));
  const kpi = (name) => page.$eval(`[data-kpi="${name}"] .value`, (e) => e.textContent);
  assert.equal(await kpi("requests-total"), summary.http.total.count.toLocaleString("en-US"));
  assert.equal(await kpi("workflows-active"), String(report.workflows.active));
  const pool = report.database.pools[0];
  const poolText = await page.$eval(`[data-meter="Pool ${pool.pool}"] .foot`, (e) => e.textContent);
  assert.ok(poolText.includes(`${pool.max_size} max`), poolText);
  assert.deepEqual(problems, []);
  await context.close();
});

test("an alert forced through the settings appears, and the report lists it", async () => {
  const { context, page, problems } = await open(OPEN, 1280);
  await drawn(page);
  const row = await page.waitForSelector('#alerts-active tr[data-type="HIGH_MEMORY_USAGE"]', { timeout: WAIT });
  const cells = await row.$$eval("td", (tds) => tds.map((t) => t.textContent));
  assert.match(cells[0], /^(warning|critical)$/);
  assert.equal(cells[1], "HIGH_MEMORY_USAGE");
  assert.match(cells[2], /^\d+(\.\d)?%$/);
  assert.equal(cells[3], "1.0%");
  assert.equal(cells[4], "system");
  const report = await json(OPEN, "/api/v1/metrics/report");
  assert.ok(report.alerts.active.some((a) => a.type === "HIGH_MEMORY_USAGE"));
  assert.match(await page.$eval('[data-meter="Memory"] .foot', (e) => e.textContent), /crossed/);

  await page.click("#show-report");
  await page.waitForSelector("#report:not([hidden])");
  assert.ok(await page.isHidden("#live"));
  const fired = await page.$$eval('[data-report="alerts"] tr[data-type]', (trs) => trs.map((t) => t.dataset.type));
  assert.ok(fired.includes("HIGH_MEMORY_USAGE"), fired.join());
  const peaks = await page.$$eval('[data-report="peaks"] tbody tr', (trs) => trs.map((t) => t.textContent));
  assert.ok(peaks.some((t) => t.startsWith("Memory") && /%/.test(t)), peaks.join("|"));
  for (const sc of ["window", "total"]) {
    const slow = await page.$$(`[data-report="${sc}"] table`);
    assert.ok(slow.length >= 4, `report ${sc}: the slowest of each kind`);
  }
  await shot(page, "report-wide");
  assert.deepEqual(await lowContrast(page), [], "report: text below WCAG AA contrast");
  await page.emulateMedia({ media: "print" });
  await shot(page, "report-print");
  await page.emulateMedia({ media: "screen" });
  await page.setViewportSize({ width: 375, height: 900 });
  await shot(page, "report-375px");
  assert.deepEqual(problems, []);
  await context.close();
});

test("refreshing stops while the tab is hidden and resumes when it is shown", async () => {
  const { context, page, requests } = await open(OPEN, 1280);
  await drawn(page, 1);
  const hide = (state) => page.evaluate((s) => {
    Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
  await hide("hidden");
  const before = requests.length;
  // Meanwhile, steady traffic (from here, not from the page) fills the history.
  const until = Date.now() + 6500; // longer than one refresh period (5 s)
  while (Date.now() < until) {
    await Promise.all([fetch(`${OPEN}/users/1`), fetch(`${OPEN}/users`), fetch(`${OPEN}/users/424242`)]);
    await new Promise((r) => setTimeout(r, 40));
  }
  assert.equal(requests.length, before, "no request while hidden");
  await hide("visible");
  const shown = Date.now();
  // No timer runs while hidden, so only the visibility change can have asked.
  while (requests.length < before + 1 && Date.now() - shown < 10_000) await page.waitForTimeout(50);
  assert.ok(requests.length >= before + 1, "refreshed at once when shown, not at the next period");
  // One document per refresh, from one reading.
  assert.ok(requests.slice(before).every((u) => u.endsWith("/api/v1/metrics/page")), requests.slice(before).join());
  // By now the history spans most of the window: the first screen, for docs/ui.png.
  await drawn(page, 8);
  await page.screenshot({ path: join(SHOTS, "readme.png") });
  await context.close();
});

test("a refresh updates the page in place: keyboard focus on a sort button and the scroll position are kept", async () => {
  const { context, page, problems } = await open(OPEN, 1280, 600);
  await drawn(page);
  await page.waitForSelector("#table-routes th button[data-sort]");
  // Focus a sort button from the keyboard and sort by it; scroll the page down.
  await page.focus('#table-routes th button[data-sort="count"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector('#table-routes th[aria-sort="descending"] button[data-sort="count"]');
  await page.evaluate(() => {
    // Properties, not attributes: an update in place sets the attributes it is given.
    document.activeElement.marked = true;
    document.querySelector("#table-routes tbody").marked = true;
    window.scrollTo(0, 400);
  });
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 0, "the page is long enough to scroll");
  // New traffic, so that the figures change, then two refreshes (one timed, one asked).
  await traffic(OPEN);
  const seq = await page.evaluate(() => window.mcpMonitor.shown);
  await page.waitForFunction((s) => window.mcpMonitor.shown > s, seq, { timeout: WAIT });
  await page.evaluate(() => window.mcpMonitor.refresh());
  const after = await page.evaluate(() => ({
    focused: document.activeElement?.marked === true && document.activeElement.dataset.sort,
    body: document.querySelector("#table-routes tbody")?.marked === true,
    y: window.scrollY,
    sort: document.querySelector('#table-routes th[aria-sort="descending"] button')?.dataset.sort,
  }));
  assert.equal(after.focused, "count", "the sort button kept the keyboard focus");
  assert.ok(after.body, "the table body was updated, not replaced");
  assert.equal(after.y, y, "the scroll position is kept");
  assert.equal(after.sort, "count", "the chosen sort is kept");
  // The refreshed rows are the new figures, still in the chosen order.
  const counts = await page.$$eval('#table-routes td[data-col="count"]', (tds) => tds.map((td) => Number(td.dataset.value)));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
  assert.deepEqual(problems, []);
  await context.close();
});

test("an answer older than the one on screen never replaces it", async () => {
  const { context, page, problems } = await open(OPEN, 1280);
  await drawn(page, 1);
  // Hold the next page document until a later refresh has been drawn.
  let release;
  const held = new Promise((r) => { release = r; });
  let arrived;
  const holding = new Promise((r) => { arrived = r; });
  let first = true;
  await page.route("**/api/v1/metrics/page", async (route) => {
    if (!first) return route.continue();
    first = false;
    const response = await route.fetch(); // read now: the older reading
    arrived();
    await held;
    await route.fulfill({ response });
  });
  const slow = page.evaluate(() => window.mcpMonitor.refresh());
  await holding;
  const fast = await page.evaluate(() => window.mcpMonitor.refresh());
  const shownFast = await page.evaluate(() => window.mcpMonitor.data.seq);
  assert.ok(shownFast >= fast, "the later refresh is on screen");
  release();
  const stale = await slow;
  assert.ok(stale < fast, "the held refresh was started first");
  const now = await page.evaluate(() => window.mcpMonitor.data.seq);
  assert.notEqual(now, stale, "the older answer was dropped");
  assert.ok(now >= shownFast);
  await page.unroute("**/api/v1/metrics/page");
  assert.deepEqual(problems, []);
  await context.close();
});

test("the dark scheme follows the system and passes WCAG AA", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(OPEN + "/metrics/ui");
  await drawn(page);
  await page.waitForSelector('#alerts-active tr[data-type="HIGH_MEMORY_USAGE"]', { timeout: WAIT });
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const [r, g, b] = bg.match(/[\d.]+/g).map(Number);
  assert.ok(r + g + b < 3 * 64, `a dark background under prefers-color-scheme: dark, not ${bg}`);
  await shot(page, "live-dark");
  assert.deepEqual(await lowContrast(page), [], "dark: text below WCAG AA contrast");
  await page.click("#show-report");
  await page.waitForSelector("#report:not([hidden])");
  assert.deepEqual(await lowContrast(page), [], "dark report: text below WCAG AA contrast");
  // And the light scheme when the system asks for it.
  await page.emulateMedia({ colorScheme: "light" });
  const light = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(light, "rgb(255, 255, 255)");
  assert.deepEqual(problems, []);
  await context.close();
});

test("with a metrics token the page asks for it, keeps it for the tab only, and resets only as admin", async () => {
  const { context, page, problems, requests } = await open(LOCKED, 1280);
  await page.waitForSelector("#auth:not([hidden])", { timeout: WAIT });
  assert.match(await page.textContent("#auth-msg"), /needs a token/);
  assert.ok(await page.isHidden("#live"));
  assert.equal(await page.textContent("#tables"), "", "no data without the token");
  await shot(page, "token-prompt");
  assert.deepEqual(await lowContrast(page), [], "token prompt: text below WCAG AA contrast");

  await page.fill("#token", "not-the-token");
  await page.click('#auth-form button[type="submit"]');
  await page.waitForFunction(() => /refused/.test(document.getElementById("auth-msg").textContent));
  assert.match(await page.textContent("#auth-msg"), /401/); // RFC 6750: a wrong token is 401 invalid_token
  assert.ok(await page.isHidden("#live"));
  await shot(page, "token-refused");

  await page.fill("#token", READ_TOKEN);
  await page.click('#auth-form button[type="submit"]');
  await drawn(page, 1);
  assert.ok(await page.isHidden("#auth"));
  assert.ok(await page.isHidden("#reset"), "no reset button for the read token");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("mcp-monitor.token")), READ_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.ok(!page.url().includes(READ_TOKEN));
  assert.ok(requests.every((u) => !u.includes(READ_TOKEN) && !u.includes(ADMIN_TOKEN)), "a token in a URL");
  const before = await page.$eval('[data-kpi="requests-total"] .value', (e) => e.textContent);
  assert.notEqual(before, "0");

  // Another tab of the same browser does not have it.
  const other = await context.newPage();
  await other.goto(LOCKED + "/metrics/ui");
  await other.waitForSelector("#auth:not([hidden])", { timeout: WAIT });
  assert.ok(await other.isHidden("#live"));
  await other.close();

  // A wrong admin token is refused; the right one shows the reset button.
  await page.click("#signin");
  await page.fill("#admin-token", "not-the-admin-token");
  await page.click('#auth-form button[type="submit"]');
  await page.waitForFunction(() => /admin token was refused/.test(document.getElementById("auth-msg").textContent));
  assert.ok(await page.isHidden("#reset"));
  await page.fill("#admin-token", ADMIN_TOKEN);
  await page.click('#auth-form button[type="submit"]');
  await page.waitForSelector("#reset:not([hidden])", { timeout: WAIT });
  await shot(page, "admin");

  // It asks first: declining leaves the figures alone.
  page.once("dialog", (d) => d.dismiss());
  await page.click("#reset");
  await page.evaluate(() => window.mcpMonitor.refresh());
  assert.equal(await page.$eval('[data-kpi="requests-total"] .value', (e) => e.textContent), before);
  let asked = "";
  page.once("dialog", (d) => { asked = d.message(); d.accept(); });
  await page.click("#reset");
  await page.waitForFunction(() => document.querySelector('[data-kpi="requests-total"] .value')?.textContent === "0", null, { timeout: WAIT });
  assert.match(asked, /Reset/);
  const summary = await json(LOCKED, "/metrics/summary", READ_TOKEN);
  assert.equal(summary.http.total.count, 0);
  assert.ok(requests.every((u) => !u.includes(READ_TOKEN) && !u.includes(ADMIN_TOKEN)), "a token in a URL");
  sameOrigin(requests, LOCKED);
  assert.deepEqual(problems.filter((p) => !/401|403/.test(p)), [], "only the refusals the test asked for");
  await context.close();
});

test("as admin, Profile records a CPU profile and shows its flame graph; the runtime, the long polls and the application's metrics have their sections", async () => {
  const { context, page, problems, requests } = await open(LOCKED, 1280);
  await page.waitForSelector("#auth:not([hidden])", { timeout: WAIT });
  await page.fill("#token", READ_TOKEN);
  await page.fill("#admin-token", ADMIN_TOKEN);
  await page.click('#auth-form button[type="submit"]');
  await drawn(page, 1);
  await page.waitForSelector("#profile:not([hidden])", { timeout: WAIT });
  // The demo runs on Tokio and records its own counter through the `metrics` facade.
  assert.ok(await page.isVisible("#runtime"));
  assert.match(await page.textContent("#runtime-sub"), /Tokio, multi-thread/);
  await page.waitForSelector("#app-table td:text-is('demo_users_created_total')", { timeout: WAIT });

  await page.selectOption("#profile-seconds", "5");
  // A worker kept busy on the demo's hot function meanwhile.
  const busy = (async () => {
    const end = Date.now() + 5000;
    while (Date.now() < end) assert.equal((await fetch(LOCKED + "/reports/digest?ms=50")).status, 200);
  })();
  await page.click("#profile-start");
  await page.waitForFunction(() => /Recording/.test(document.getElementById("profile-status").textContent));
  await page.waitForFunction(() => /Done|failed/.test(document.getElementById("profile-status").textContent), null, { timeout: WAIT });
  assert.equal(await page.textContent("#profile-status"), "Done.");
  await page.waitForFunction(() => {
    const img = document.querySelector("#flamegraph img[data-flamegraph]");
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: WAIT });
  await busy;
  // Each digest held its worker for 50 ms, over MCP_LONG_POLL_THRESHOLD: the Long polls
  // table names the route.
  await page.waitForFunction(() => [...document.querySelectorAll("#long-polls-table tr[data-kind='http'] td")]
    .some((td) => td.textContent === "GET /reports/digest"), null, { timeout: WAIT });
  assert.match(await page.textContent("#long-polls-sub"), /longer than 10\u00a0ms/);
  await shot(page, "profile");
  assert.ok(requests.every((u) => !u.includes(READ_TOKEN) && !u.includes(ADMIN_TOKEN)), "a token in a URL");
  assert.deepEqual(problems.filter((p) => !/401/.test(p)), [], "only the refusals before the tokens were given");
  await context.close();
});
