// Units: every figure the page shows is written by `show(kind, value)`. A kind gives
// the number and its unit apart, so that a chart axis whose title names the unit can
// write the number alone (`bare`), and nothing is ever stripped from a string.

export const NB = "\u00a0";
export const DASH = "\u2013";

// Units written right after the number (45%, 1.2×); the others after a no-break space.
const ATTACHED = new Set(["%", "\u00d7"]);

function sig(v) {
  return v < 10 ? v.toFixed(1).replace(/\.0$/, "") : String(Math.round(v));
}

// Each kind: a finite number -> [number text, unit].
const KINDS = {
  duration(s) {
    if (s === 0) return ["0", "s"];
    if (Math.abs(s) < 1e-3) return [sig(s * 1e6), "\u00b5s"];
    if (Math.abs(s) < 1) {
      const ms = s * 1e3;
      return [ms < 9.95 ? ms.toFixed(1) : String(Math.round(ms)), "ms"];
    }
    if (s < 120) return [s < 10 ? s.toFixed(2) : s.toFixed(1), "s"];
    return [(s / 60).toFixed(1), "min"];
  },
  ratio(r) {
    const p = Math.round(r * 1000) / 10;
    return [p > 0 && p < 10 ? p.toFixed(1) : String(Math.round(p)), "%"];
  },
  rate(v) {
    return [v === 0 ? "0" : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : String(Math.round(v)), "req/s"];
  },
  bytes(b) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return [i === 0 ? String(b) : b.toFixed(1), u[i]];
  },
  count(n) {
    return [Number(n).toLocaleString("en-US"), ""];
  },
  load(v) {
    return [v.toFixed(2), ""];
  },
  times(v) {
    return [v.toFixed(v < 10 ? 2 : 1), "\u00d7"];
  },
  // An application metric's value: integers grouped, others to four significant digits.
  value(v) {
    return [Number.isInteger(v) ? Number(v).toLocaleString("en-US") : String(Number(v.toPrecision(4))), ""];
  },
};

const finite = (v) => v != null && v !== "" && isFinite(v);

/** `value` in `kind`, with its unit; a dash when there is no value. */
export function show(kind, value) {
  if (!finite(value)) return DASH;
  const [text, unit] = KINDS[kind](Number(value));
  if (!unit) return text;
  return text + (ATTACHED.has(unit) ? "" : NB) + unit;
}

/** The number alone, for an axis whose title names the unit. */
export function bare(kind, value) {
  return finite(value) ? KINDS[kind](Number(value))[0] : DASH;
}

export const dur = (v) => show("duration", v);
export const pct = (v) => show("ratio", v);
export const rate = (v) => show("rate", v);
export const bytes = (v) => show("bytes", v);
export const num = (v) => show("count", v);
export const load = (v) => show("load", v);

/** A length of time in whole units people say: 3d 4h, 2h 5m, 4m 10s, 12s. */
export function span(s) {
  if (s == null) return DASH;
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** A time of day from a Unix time in milliseconds. */
export const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** An RFC 3339 timestamp, local, with how long ago. */
export function when(ts) {
  if (!ts) return DASH;
  const t = Date.parse(ts);
  return isNaN(t) ? ts : `${new Date(t).toLocaleString()} (${span((Date.now() - t) / 1000)} ago)`;
}
