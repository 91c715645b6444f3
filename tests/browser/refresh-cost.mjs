// The cost of one refresh of /metrics/ui on the server: the one document the page reads
// every 5 s (`page`: /api/v1/metrics/page, four documents of one reading), or the four
// reads it made before (`four`: summary, report, dashboard, history, sent together),
// over keep-alive connections to a running service. Prints wall time per refresh, the
// service's CPU time per refresh (from /proc/<pid>/stat) and the bytes read.
//
//   node refresh-cost.mjs http://127.0.0.1:8080 <pid of the service> [refreshes] [page|four]
const [base, pid, n = "2000", mode = "page"] = process.argv.slice(2);
if (!base || !pid) {
  console.error("usage: node refresh-cost.mjs BASE_URL SERVICE_PID [REFRESHES]");
  process.exit(2);
}
const { readFileSync } = await import("node:fs");
const ticks = () => {
  // utime + stime, fields 14 and 15, in clock ticks (100 per second on Linux).
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
};
const paths = mode === "four"
  ? ["/metrics/summary", "/api/v1/metrics/report", "/api/v1/metrics/dashboard", "/api/v1/metrics/history"]
  : ["/api/v1/metrics/page"];
async function refresh() {
  const bodies = await Promise.all(paths.map(async (p) => {
    const res = await fetch(base + p);
    if (!res.ok) throw new Error(`${p}: ${res.status}`);
    return (await res.arrayBuffer()).byteLength;
  }));
  return bodies.reduce((a, b) => a + b, 0);
}
for (let i = 0; i < 50; i++) await refresh(); // warm up connections and caches
const refreshes = Number(n);
const cpu0 = ticks();
const t0 = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < refreshes; i++) bytes += await refresh();
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = ((ticks() - cpu0) / 100) * 1000;
console.log(`${mode}: ${refreshes} refreshes: ${(wall / refreshes).toFixed(3)} ms wall each, ` +
  `${(cpu / refreshes).toFixed(3)} ms of service CPU each, ${Math.round(bytes / refreshes)} bytes each`);
