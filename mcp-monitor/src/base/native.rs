//! Native (sparse exponential) histograms, as Prometheus defines them.
//!
//! At schema `s`, bucket `k` holds the durations in `(2^((k-1)/2^s), 2^(k/2^s)]`
//! seconds: each power of two (an *octave*) is cut into `2^s` buckets whose bounds grow
//! by the factor `2^(2^-s)`. The default schema, 3, has 8 buckets per octave (factor
//! 1.0905): the geometric middle of the bucket that holds a quantile is within
//! `2^(1/16) - 1` = 4.4% of the exact value, whatever the distribution, which is what
//! the read API promises ("within 5%"). Schema 4 halves that error and doubles the
//! buckets; `MCP_NATIVE_HISTOGRAM_SCHEMA` chooses (0 to 8).
//!
//! **Zero bucket.** Durations are counted in whole nanoseconds, so the smallest duration
//! there is besides 0 is 1 ns. The zero bucket holds the samples of at most
//! [`ZERO_THRESHOLD`] = 2^-30 s (0.93 ns), that is exactly the calls measured as 0 ns:
//! every measurable duration keeps its relative precision.
//!
//! **Storage.** A duration of 1 ns to `u64::MAX` ns falls in one of 65 octaves
//! (2^-30 s to 2^35 s). A histogram keeps one byte per octave (which chunk of counters
//! holds it, 0 for none) and gives an octave a chunk of `2^s` counters (one cache line
//! at schema 3) the first time a sample falls in it, so a label set whose latencies
//! stay within a few octaves costs a few chunks. The first chunks (two at schema 3)
//! live inside the histogram itself, the next ones in up to seven segments of 1, 2, 4,
//! ... 64 chunks, allocated on demand. Memory is bounded by the 65 octaves (at schema
//! 3, 4.5 KB for a label set whose latencies cover all of them; six decades cost 2.5
//! KB, see `tests::memory_of_a_label_set_over_six_decades`).
//!
//! **Recording** is one table load and compare, one byte load and one relaxed atomic
//! add, with no floating point: up to schema 3 the bucket comes from a table built
//! once per schema ([`STEPS`]) from the `f64` seconds as Prometheus' clients compute
//! it, indexed by the duration's leading bit and the four bits after it, so both
//! agree on every duration. A sample in the first octave used finds its counter
//! inline, without following a pointer. The lock is taken only the first time an
//! octave is seen. Above schema 3 the bucket is computed from the `f64` bits.
//!
//! **Resolution.** What is copied out of the counters ([`Native`]) keeps at most
//! [`MAX_BUCKETS`] buckets per label set: beyond that it halves its resolution (schema
//! minus one, neighbouring buckets merged) until it fits, as Prometheus' clients do with
//! `NativeHistogramMaxBucketNumber`. This bounds the summary ring and the exposition.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};

/// The default schema: 8 buckets per power of two.
pub(crate) const DEFAULT_SCHEMA: u8 = 3;
/// The highest schema (256 buckets per power of two), as in Prometheus.
pub(crate) const MAX_SCHEMA: u8 = 8;
/// Samples at most this many seconds (2^-30, below one nanosecond) count in the zero
/// bucket.
pub(crate) const ZERO_THRESHOLD: f64 = 1.0 / (1u64 << 30) as f64;
/// The most buckets a copied-out histogram keeps before halving its resolution.
pub(crate) const MAX_BUCKETS: usize = 160;
/// The bucket key of the zero bucket in a [`Native`] (sorted first).
pub(crate) const ZERO_KEY: i16 = i16::MIN;

/// The lowest octave: `(2^-30, 2^-29]` s holds 1 ns.
const MIN_OCTAVE: i32 = -30;
/// Octaves from 2^-30 s to 2^35 s: every duration of 1 ns to `u64::MAX` ns.
const OCTAVES: usize = 65;
/// Chunk segments: segment `g` holds `2^g` chunks, 127 in all (at least [`OCTAVES`]).
const SEGMENTS: usize = 7;

/// Per schema `s` (`n = 2^s`), the mantissa bits of the bucket bounds `2^(i/n)` inside
/// an octave at index `i` in `1..n`, then `u64::MAX` at index `n` (the octave's end,
/// above every mantissa); index 0 is unused. A value whose mantissa is above `j` of
/// them lies in bucket `j` (from 0) of its octave.
static THRESHOLDS: LazyLock<[Box<[u64]>; MAX_SCHEMA as usize + 1]> = LazyLock::new(|| {
    std::array::from_fn(|s| {
        let n = 1u32 << s;
        (0..=n)
            .map(|i| match i {
                0 => 0,
                i if i == n => u64::MAX,
                i => (f64::from(i) / f64::from(n)).exp2().to_bits() & MANTISSA,
            })
            .collect()
    })
});

const MANTISSA: u64 = (1 << 52) - 1;

/// The highest schema with an integer bucket table ([`STEPS`]): its buckets are wide
/// enough (at least 9%) that a sixteenth of a power of two of nanoseconds never holds
/// two bucket bounds.
const TABLE_MAX_SCHEMA: u8 = 3;

/// One entry of a bucket table: the samples of its range up to `bound` nanoseconds
/// are in bucket `index` (octave × 2^schema + bucket in it), those above in the next.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    bound: u64,
    index: u32,
}

/// Per schema up to [`TABLE_MAX_SCHEMA`], the bucket of every duration in whole
/// nanoseconds without floating point: entry `ns` for 1 to 63 ns, then for each power
/// of two `2^j` (`j` ≥ 6) sixteen entries, one per sixteenth of `[2^j, 2^(j+1))`
/// (the four bits after the leading one). Built from [`locate`] (the `f64` seconds
/// as Prometheus' clients compute the bucket), so both agree on every duration; a
/// range spans at most one bucket bound, which `bound` places to the nanosecond. 992
/// entries, 16 KB per schema.
static STEPS: [OnceLock<Box<[Step]>>; TABLE_MAX_SCHEMA as usize + 1] =
    [const { OnceLock::new() }; TABLE_MAX_SCHEMA as usize + 1];

/// The bucket table of `schema`, built the first time it is asked for; `None` above
/// [`TABLE_MAX_SCHEMA`].
fn steps_of(schema: u8) -> Option<&'static [Step]> {
    let cell = STEPS.get(usize::from(schema))?;
    Some(cell.get_or_init(|| steps(schema)))
}

/// The bucket index (octave × 2^schema + bucket in it) of `ns` (not 0) at the schema
/// of `steps`.
#[inline(always)]
fn lookup(steps: &[Step], ns: u64) -> usize {
    let i = if ns < 64 {
        ns as usize
    } else {
        let j = ns.ilog2();
        64 + ((j as usize - 6) << 4) + ((ns >> (j - 4)) & 15) as usize
    };
    let step = steps[i];
    step.index as usize + usize::from(ns > step.bound)
}

/// Builds the bucket table of `schema` (see [`STEPS`]).
fn steps(schema: u8) -> Box<[Step]> {
    let thresholds = &THRESHOLDS[schema as usize];
    let index = |ns: u64| {
        let (o, w) = locate(schema, thresholds, ns).unwrap_or((0, 0));
        ((o << schema) + w) as u32
    };
    let mut out: Vec<Step> = (0..64u64)
        .map(|ns| Step {
            bound: u64::MAX,
            index: index(ns.max(1)),
        })
        .collect();
    for j in 6..64u32 {
        for t in 0..16u64 {
            let first = (1u64 << j) + (t << (j - 4));
            let last = first + ((1u64 << (j - 4)) - 1);
            let (low, high) = (index(first), index(last));
            let bound = if low == high {
                u64::MAX
            } else {
                assert_eq!(high, low + 1, "a range holds two bucket bounds");
                // The last duration in bucket `low`: about its upper bound, 2^(key/n)
                // seconds, then moved to the exact nanosecond (`index` never
                // decreases, and the estimate is within a few nanoseconds).
                let key = f64::from(low) + f64::from(MIN_OCTAVE << schema) + 1.0;
                let seconds = (key / f64::from(1u32 << schema)).exp2();
                let mut ns = ((seconds * 1e9) as u64).clamp(first, last - 1);
                while ns > first && index(ns) != low {
                    ns -= 1;
                }
                while ns < last && index(ns + 1) == low {
                    ns += 1;
                }
                ns
            };
            out.push(Step { bound, index: low });
        }
    }
    out.into()
}

/// Serialises the allocation of chunks (rare: at most once per octave per histogram).
static GROW: Mutex<()> = Mutex::new(());

/// Eight counters on their own cache line.
#[repr(align(64))]
#[derive(Debug, Default)]
struct Line([AtomicU64; 8]);

/// Counters kept inside a [`NativeCells`] itself: the chunks of the first octaves used
/// (two at schema 3, none above schema 4).
const INLINE_COUNTERS: usize = 16;

/// The counters of one native histogram; see the module docs. Aligned to two cache
/// lines, so that the inline counters of two stripes never share one (nor a pair the
/// adjacent-line prefetcher fetches together).
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct NativeCells {
    schema: u8,
    /// Chunks held inline: `INLINE_COUNTERS >> schema`.
    inline_slots: u8,
    thresholds: &'static [u64],
    /// The integer bucket table of the schema (schemas up to [`TABLE_MAX_SCHEMA`]).
    steps: Option<&'static [Step]>,
    /// Per octave, 1 + the number of its chunk, or 0.
    slot_of: [AtomicU8; OCTAVES],
    /// Chunks handed out.
    used: AtomicU8,
    /// Bit `o` set: octave `o` has a chunk (so that a copy visits only those).
    octaves: [AtomicU64; 2],
    zero: AtomicU64,
    /// The first chunks, inline: a sample in one of the first octaves used (most of a
    /// label set's samples) finds its counter without following a pointer.
    inline: [Line; INLINE_COUNTERS / 8],
    /// The chunks after the inline ones.
    segments: [OnceLock<Box<[Line]>>; SEGMENTS],
}

impl NativeCells {
    /// Empty counters at `schema` (at most [`MAX_SCHEMA`]).
    pub(crate) fn new(schema: u8) -> Self {
        let schema = schema.min(MAX_SCHEMA);
        Self {
            schema,
            inline_slots: (INLINE_COUNTERS >> schema) as u8,
            thresholds: &THRESHOLDS[schema as usize],
            steps: steps_of(schema),
            slot_of: std::array::from_fn(|_| AtomicU8::new(0)),
            used: AtomicU8::new(0),
            octaves: [AtomicU64::new(0), AtomicU64::new(0)],
            zero: AtomicU64::new(0),
            inline: Default::default(),
            segments: Default::default(),
        }
    }

    /// The octave (from 0) and bucket within it of `ns` nanoseconds; `None` for 0.
    #[inline(always)]
    fn locate(&self, ns: u64) -> Option<(usize, usize)> {
        if ns == 0 {
            return None;
        }
        match self.steps {
            Some(steps) => {
                let i = lookup(steps, ns);
                Some((i >> self.schema, i & ((1 << self.schema) - 1)))
            }
            None => self.locate_float(ns),
        }
    }

    /// [`locate`] for the schemas without a table, out of the recording's line.
    #[inline(never)]
    fn locate_float(&self, ns: u64) -> Option<(usize, usize)> {
        locate(self.schema, self.thresholds, ns)
    }

    /// The counter of bucket `within` of chunk `slot`, which exists.
    #[inline(always)]
    fn counter(&self, slot: usize, within: usize) -> &AtomicU64 {
        let inline = usize::from(self.inline_slots);
        if slot < inline {
            let i = (slot << self.schema) + within;
            return &self.inline[i / 8].0[i % 8];
        }
        let slot = slot - inline;
        let segment = (slot + 1).ilog2() as usize;
        let first = (1usize << segment) - 1;
        let i = ((slot - first) << self.schema) + within;
        let lines = self.segments[segment]
            .get()
            .expect("a chunk's segment exists before its slot is published");
        &lines[i / 8].0[i % 8]
    }

    /// Records one duration given in nanoseconds; returns its octave and bucket in it
    /// (`None`: the zero bucket).
    #[inline(always)]
    pub(crate) fn record_ns(&self, ns: u64) -> Option<(usize, usize)> {
        let Some((octave, within)) = self.locate(ns) else {
            self.zero.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let slot = self.slot_of[octave].load(Ordering::Acquire);
        if slot == 1 && self.inline_slots > 0 {
            // The first octave used: the chunk at the start of the inline lines.
            self.inline[within / 8].0[within % 8].fetch_add(1, Ordering::Relaxed);
            return Some((octave, within));
        }
        let slot = if slot == 0 {
            self.add_chunk(octave)
        } else {
            usize::from(slot - 1)
        };
        self.counter(slot, within).fetch_add(1, Ordering::Relaxed);
        Some((octave, within))
    }

    /// The samples counted.
    pub(crate) fn count(&self) -> u64 {
        let mut n = 0u64;
        self.read_into(|_, c| n = n.wrapping_add(c));
        n
    }

    /// Gives `octave` a chunk (the first sample in it) and returns its number.
    #[cold]
    fn add_chunk(&self, octave: usize) -> usize {
        let _lock = GROW.lock().unwrap_or_else(PoisonError::into_inner);
        let existing = self.slot_of[octave].load(Ordering::Acquire);
        if existing != 0 {
            return usize::from(existing - 1);
        }
        let slot = self.used.load(Ordering::Relaxed);
        if slot >= self.inline_slots {
            let segment = (usize::from(slot - self.inline_slots) + 1).ilog2() as usize;
            self.segments[segment].get_or_init(|| {
                let counters = (1usize << segment) << self.schema;
                (0..counters.div_ceil(8)).map(|_| Line::default()).collect()
            });
        }
        self.used.store(slot + 1, Ordering::Relaxed);
        self.slot_of[octave].store(slot + 1, Ordering::Release);
        self.octaves[octave / 64].fetch_or(1 << (octave % 64), Ordering::Release);
        usize::from(slot)
    }

    /// Copies the current counts.
    pub(crate) fn read(&self) -> Native {
        let mut buckets = Vec::new();
        self.read_into(|k, c| buckets.push((k, c)));
        Native {
            schema: self.schema as i8,
            buckets,
        }
    }

    /// Calls `push` with each non-empty bucket's key and count, in key order (the zero
    /// bucket first, as [`ZERO_KEY`]).
    pub(crate) fn read_into(&self, mut push: impl FnMut(i16, u64)) {
        let zero = self.zero.load(Ordering::Relaxed);
        if zero > 0 {
            push(ZERO_KEY, zero);
        }
        let per = 1i32 << self.schema;
        for (word, bits) in self.octaves.iter().enumerate() {
            let mut bits = bits.load(Ordering::Acquire);
            while bits != 0 {
                let o = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.read_octave(o, per, &mut push);
            }
        }
    }

    /// Calls `push` with the non-empty buckets of octave `o`, which has a chunk.
    fn read_octave(&self, o: usize, per: i32, push: &mut impl FnMut(i16, u64)) {
        let slot = self.slot_of[o].load(Ordering::Acquire);
        if slot != 0 {
            let first_key = (o as i32 + MIN_OCTAVE) * per + 1;
            for within in 0..per as usize {
                let c = self
                    .counter(usize::from(slot - 1), within)
                    .load(Ordering::Relaxed);
                if c > 0 {
                    push((first_key + within as i32) as i16, c);
                }
            }
        }
    }

    /// Heap bytes held by the chunks (for the memory figures).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.segments
            .iter()
            .filter_map(OnceLock::get)
            .map(|l| l.len() * size_of::<Line>())
            .sum()
    }
}

/// The key (as in [`Native`]) of the bucket of `ns` nanoseconds at `schema`, with its
/// octave and bucket within it (`None` for 0: the zero bucket).
pub(crate) fn key_of_ns(schema: u8, ns: u64) -> (i16, Option<(usize, usize)>) {
    let schema = schema.min(MAX_SCHEMA);
    match locate(schema, &THRESHOLDS[schema as usize], ns) {
        None => (ZERO_KEY, None),
        Some((o, w)) => (
            ((o as i32 + MIN_OCTAVE) * (1 << schema) + w as i32 + 1) as i16,
            Some((o, w)),
        ),
    }
}

/// The octave (from 0) and bucket within it of `ns` nanoseconds at `schema`, whose
/// [`THRESHOLDS`] are `thresholds`; `None` for 0. Non-decreasing in `ns`.
#[inline]
fn locate(schema: u8, thresholds: &[u64], ns: u64) -> Option<(usize, usize)> {
    if ns == 0 {
        return None;
    }
    let bits = (ns as f64 * 1e-9).to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mantissa = bits & MANTISSA;
    let n = 1usize << schema;
    let (octave, within) = if mantissa == 0 {
        // An exact power of two is the upper bound of the last bucket below it.
        (exp - 1, n - 1)
    } else if schema <= 3 {
        // The bounds 2^(i/n) lie below the linear ones 1 + i/n, and (for n <= 8)
        // above 1 + (i-1)/n: the bucket is the linear one or the next.
        let linear = (((mantissa << schema) - 1) >> 52) as usize;
        let next = thresholds.get(linear + 1).copied().unwrap_or(u64::MAX);
        (exp, linear + usize::from(next < mantissa))
    } else {
        (
            exp,
            thresholds[1..n]
                .iter()
                .map(|&t| usize::from(t < mantissa))
                .sum(),
        )
    };
    let o = (octave - MIN_OCTAVE).clamp(0, OCTAVES as i32 - 1) as usize;
    Some((o, within))
}

/// A native histogram copied out: its schema and its non-empty buckets by key, sorted
/// (the zero bucket first as [`ZERO_KEY`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Native {
    pub(crate) schema: i8,
    pub(crate) buckets: Vec<(i16, u64)>,
}

/// Bucket `key`'s index at a schema `by` steps lower.
fn downscale_key(key: i16, by: u32) -> i16 {
    if key == ZERO_KEY || by == 0 {
        return key;
    }
    // ceil(key / 2^by), with an arithmetic shift for negative keys.
    ((i32::from(key) + (1 << by) - 1) >> by) as i16
}

impl Native {
    /// Samples counted.
    pub(crate) fn count(&self) -> u64 {
        self.buckets
            .iter()
            .map(|(_, c)| *c)
            .fold(0, u64::wrapping_add)
    }

    /// The schema.
    pub(crate) fn schema(&self) -> i8 {
        self.schema
    }

    /// The non-empty buckets (key, count), the zero bucket first as [`ZERO_KEY`].
    pub(crate) fn buckets(&self) -> &[(i16, u64)] {
        &self.buckets
    }

    /// The same counts at schema `to` (not above the current one).
    pub(crate) fn downscaled(&self, to: i8) -> Native {
        if to >= self.schema {
            return self.clone();
        }
        let by = (self.schema - to) as u32;
        let mut buckets: Vec<(i16, u64)> = Vec::with_capacity(self.buckets.len());
        for &(k, c) in &self.buckets {
            let k = downscale_key(k, by);
            match buckets.last_mut() {
                Some((last, n)) if *last == k => *n += c,
                _ => buckets.push((k, c)),
            }
        }
        Native {
            schema: to,
            buckets,
        }
    }

    /// Halves the resolution until at most `max` buckets are left (down to schema -4).
    pub(crate) fn reduce(&mut self, max: usize) {
        while self.buckets.len() > max && self.schema > -4 {
            *self = self.downscaled(self.schema - 1);
        }
    }

    /// Both at the lower of the two schemas.
    fn aligned<'a>(
        a: &'a Native,
        b: &'a Native,
    ) -> (std::borrow::Cow<'a, Native>, std::borrow::Cow<'a, Native>) {
        use std::borrow::Cow;
        let s = a.schema.min(b.schema);
        let f = |n: &'a Native| {
            if n.schema == s || n.buckets.is_empty() {
                Cow::Borrowed(n)
            } else {
                Cow::Owned(n.downscaled(s))
            }
        };
        (f(a), f(b))
    }

    /// What was recorded since `earlier` (a copy of the same counters).
    pub(crate) fn since(&self, earlier: &Native) -> Native {
        if earlier.buckets.is_empty() {
            return self.clone();
        }
        let (now, then) = Self::aligned(self, earlier);
        let mut out = Vec::with_capacity(now.buckets.len());
        let mut t = then.buckets.iter().peekable();
        for &(k, c) in &now.buckets {
            while t.next_if(|(tk, _)| *tk < k).is_some() {}
            let before = t.next_if(|(tk, _)| *tk == k).map_or(0, |(_, c)| *c);
            let d = c.saturating_sub(before);
            if d > 0 {
                out.push((k, d));
            }
        }
        Native {
            schema: now.schema.min(then.schema),
            buckets: out,
        }
    }

    /// Adds `other`'s counts.
    pub(crate) fn merge(&mut self, other: &Native) {
        if other.buckets.is_empty() {
            return;
        }
        if self.buckets.is_empty() {
            *self = other.clone();
            return;
        }
        let (a, b) = Self::aligned(self, other);
        let mut out = Vec::with_capacity(a.buckets.len().max(b.buckets.len()));
        let (mut i, mut j) = (a.buckets.iter().peekable(), b.buckets.iter().peekable());
        loop {
            match (i.peek(), j.peek()) {
                (Some(&&(ka, ca)), Some(&&(kb, cb))) => {
                    if ka == kb {
                        out.push((ka, ca + cb));
                        i.next();
                        j.next();
                    } else if ka < kb {
                        out.push((ka, ca));
                        i.next();
                    } else {
                        out.push((kb, cb));
                        j.next();
                    }
                }
                (Some(&&x), None) => {
                    out.push(x);
                    i.next();
                }
                (None, Some(&&x)) => {
                    out.push(x);
                    j.next();
                }
                (None, None) => break,
            }
        }
        let schema = a.schema.min(b.schema);
        *self = Native {
            schema,
            buckets: out,
        };
    }

    /// The bounds `(lower, upper]` of bucket `key` in seconds.
    pub(crate) fn bounds(&self, key: i16) -> (f64, f64) {
        if key == ZERO_KEY {
            return (0.0, ZERO_THRESHOLD);
        }
        let per = f64::from(self.schema).exp2();
        (
            ((f64::from(key) - 1.0) / per).exp2(),
            (f64::from(key) / per).exp2(),
        )
    }

    /// The `q` quantile (0 to 1) in seconds: the geometric middle of the bucket holding
    /// the sample of rank `ceil(q n)` (the nearest-rank definition), so within
    /// `2^(2^-(schema+1)) - 1` (4.4% at schema 3) of the exact quantile; 0 if that
    /// sample is in the zero bucket. `None` without samples.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = nearest_rank(q, n);
        let mut seen = 0;
        for &(k, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                if k == ZERO_KEY {
                    return Some(0.0);
                }
                let (lo, hi) = self.bounds(k);
                return Some((lo * hi).sqrt());
            }
        }
        self.buckets
            .last()
            .map(|&(k, _)| (self.bounds(k).0 * self.bounds(k).1).sqrt())
    }
}

/// The rank (1 to `n`) of the `q` quantile of `n` samples: `ceil(q n)`, at least 1.
pub(crate) fn nearest_rank(q: f64, n: u64) -> u64 {
    // The small tolerance keeps 0.95 × 1200 at 1140 despite binary rounding.
    ((q.clamp(0.0, 1.0) * n as f64 - 1e-9).ceil() as u64).clamp(1, n)
}

/// The native histograms of many label sets in a few flat arrays: label set `i` has
/// schema `schemas[i]` and the buckets `keys[start[i]..start[i + 1]]` (with their
/// `counts`).
#[derive(Debug, Clone, Default)]
pub(crate) struct NativeSet {
    schemas: Vec<i8>,
    start: Vec<u32>,
    keys: Vec<i16>,
    counts: Vec<u64>,
}

impl NativeSet {
    /// An empty set with room for `len` label sets.
    pub(crate) fn with_capacity(len: usize) -> Self {
        let mut start = Vec::with_capacity(len + 1);
        start.push(0);
        Self {
            schemas: Vec::with_capacity(len),
            start,
            keys: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// Appends the next label set's counters (or an empty histogram for `None`).
    pub(crate) fn push_cells(&mut self, cells: Option<&NativeCells>) {
        match cells {
            Some(c) => {
                self.schemas.push(c.schema as i8);
                c.read_into(|k, n| {
                    self.keys.push(k);
                    self.counts.push(n);
                });
            }
            None => self.schemas.push(DEFAULT_SCHEMA as i8),
        }
        self.start.push(self.keys.len() as u32);
    }

    /// Appends a copied-out histogram.
    pub(crate) fn push(&mut self, n: &Native) {
        self.schemas.push(n.schema);
        for &(k, c) in &n.buckets {
            self.keys.push(k);
            self.counts.push(c);
        }
        self.start.push(self.keys.len() as u32);
    }

    /// Number of label sets.
    pub(crate) fn len(&self) -> usize {
        self.schemas.len()
    }

    /// Whether some label set has more than `max` buckets.
    pub(crate) fn any_above(&self, max: usize) -> bool {
        self.start.windows(2).any(|w| (w[1] - w[0]) as usize > max)
    }

    /// Label set `i`'s histogram; `None` past the end.
    pub(crate) fn get(&self, i: usize) -> Option<Native> {
        let schema = *self.schemas.get(i)?;
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        Some(Native {
            schema,
            buckets: self.keys[a..b]
                .iter()
                .copied()
                .zip(self.counts[a..b].iter().copied())
                .collect(),
        })
    }

    /// Label set `i`'s histogram into `out` (its buffer reused); `false` past the end.
    pub(crate) fn get_into(&self, i: usize, out: &mut Native) -> bool {
        let Some(&schema) = self.schemas.get(i) else {
            return false;
        };
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        out.schema = schema;
        out.buckets.clear();
        out.buckets.extend(
            self.keys[a..b]
                .iter()
                .copied()
                .zip(self.counts[a..b].iter().copied()),
        );
        true
    }

    /// The same set, each histogram reduced to at most `max` buckets.
    pub(crate) fn reduced(&self, max: usize) -> NativeSet {
        let mut out = NativeSet::with_capacity(self.len());
        for i in 0..self.len() {
            let mut n = self.get(i).unwrap_or_default();
            n.reduce(max);
            out.push(&n);
        }
        out
    }

    /// Heap bytes held by the set (for the memory figures).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.schemas.capacity()
            + self.start.capacity() * size_of::<u32>()
            + self.keys.capacity() * size_of::<i16>()
            + self.counts.capacity() * size_of::<u64>()
    }

    /// Releases unused capacity (the set is kept for a while).
    pub(crate) fn shrink(&mut self) {
        self.schemas.shrink_to_fit();
        self.start.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.counts.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(schema: u8, seconds: f64) -> i16 {
        // Prometheus' definition: the smallest k with seconds <= 2^(k / 2^schema).
        let per = f64::from(1u32 << schema);
        let mut k = (seconds.log2() * per).ceil() as i32;
        // Guard against rounding of log2.
        while ((k - 1) as f64 / per).exp2() >= seconds {
            k -= 1;
        }
        while (k as f64 / per).exp2() < seconds {
            k += 1;
        }
        k as i16
    }

    #[test]
    fn bucket_keys_follow_prometheus() {
        for schema in [0u8, 1, 2, 3, 4, 5, 8] {
            // Densely over a few octaves, then sparsely over the whole range.
            for x in (999_000u64..4_100_000).step_by(997) {
                let one = NativeCells::new(schema);
                let _ = one.record_ns(x);
                assert_eq!(
                    one.read().buckets[0].0,
                    key_of(schema, x as f64 * 1e-9),
                    "schema {schema}, {x} ns"
                );
            }
            let cells = NativeCells::new(schema);
            let mut ns = 1u64;
            while ns < u64::MAX / 4 {
                for x in [ns, ns + 1, ns * 3 / 2] {
                    let one = NativeCells::new(schema);
                    let _ = one.record_ns(x);
                    let n = one.read();
                    assert_eq!(n.buckets.len(), 1);
                    assert_eq!(n.buckets[0].0, key_of(schema, x as f64 * 1e-9), "{x}");
                    let (lo, hi) = n.bounds(n.buckets[0].0);
                    let s = x as f64 * 1e-9;
                    assert!(lo < s && s <= hi * (1.0 + 1e-12), "{lo} {s} {hi}");
                    let _ = cells.record_ns(x);
                }
                ns = ns * 2 + ns / 3 + 1;
            }
            let all = cells.read();
            assert!(all.buckets.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn the_integer_table_agrees_with_the_float_bucket() {
        for schema in 0..=TABLE_MAX_SCHEMA {
            let steps = steps_of(schema).unwrap();
            let thresholds = &THRESHOLDS[schema as usize];
            let float = |ns: u64| {
                let (o, w) = locate(schema, thresholds, ns).unwrap_or_default();
                (o << schema) + w
            };
            // Every bound the table holds, to the nanosecond, and every range's ends.
            let mut xs: Vec<u64> = (1..4096).collect();
            for st in steps.iter().filter(|st| st.bound != u64::MAX) {
                xs.extend([st.bound - 1, st.bound, st.bound + 1]);
            }
            for j in 6..64 {
                for t in 0..16u64 {
                    let first = (1u64 << j) + (t << (j - 4));
                    xs.extend([first - 1, first, first + 1]);
                }
            }
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..200_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                xs.push(x >> (x % 64));
            }
            xs.push(u64::MAX);
            for ns in xs.into_iter().filter(|&ns| ns > 0) {
                assert_eq!(lookup(steps, ns), float(ns), "schema {schema}, {ns} ns");
            }
        }
    }

    #[test]
    fn exact_powers_of_two_are_upper_bounds() {
        // 2^-20 s is not a whole number of ns; 1.048576 ms = 2^20 ns is 2^20 × 1e-9 s.
        let cells = NativeCells::new(3);
        cells.record_ns(1 << 30); // 1.073741824 s: inside an octave
        cells.record_ns(0);
        let n = cells.read();
        assert_eq!(n.buckets[0], (ZERO_KEY, 1));
        assert_eq!(n.count(), 2);
        let s = Native {
            schema: 3,
            buckets: vec![(8, 1)],
        };
        assert_eq!(s.bounds(8), (2f64.powf(7.0 / 8.0), 2.0));
    }

    #[test]
    fn since_merge_and_downscale() {
        let a = NativeCells::new(3);
        for ns in [1_000, 2_000, 3_000_000, 3_000_000] {
            let _ = a.record_ns(ns);
        }
        let then = a.read();
        let _ = a.record_ns(3_000_000);
        let _ = a.record_ns(40_000_000);
        let d = a.read().since(&then);
        assert_eq!(d.count(), 2);
        let mut m = then.clone();
        m.merge(&d);
        assert_eq!(m, a.read());
        let low = m.downscaled(0);
        assert_eq!(low.count(), m.count());
        let mut r = m.clone();
        r.reduce(2);
        assert!(r.buckets.len() <= 2 && r.count() == m.count(), "{r:?}");
        // A merge of two schemas is at the lower one, counts kept.
        let mut x = low.clone();
        x.merge(&m);
        assert_eq!((x.schema, x.count()), (0, 2 * m.count()));
    }

    #[test]
    fn quantile_is_within_the_bound() {
        let c = NativeCells::new(3);
        let mut xs: Vec<u64> = (1..=1000u64).map(|i| i * i * 997).collect();
        for &x in &xs {
            let _ = c.record_ns(x);
        }
        xs.sort_unstable();
        let n = c.read();
        for q in [0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let exact = xs[nearest_rank(q, 1000) as usize - 1] as f64 * 1e-9;
            let got = n.quantile(q).unwrap();
            assert!((got / exact - 1.0).abs() <= 2f64.powf(1.0 / 16.0) - 1.0 + 1e-12);
        }
        assert_eq!(Native::default().quantile(0.5), None);
    }

    #[test]
    fn chunks_are_allocated_per_octave() {
        let c = NativeCells::new(3);
        assert_eq!(c.heap_bytes(), 0);
        // The first two octaves are inline.
        let _ = c.record_ns(3_000_000);
        let _ = c.record_ns(3_100_000);
        let _ = c.record_ns(30_000_000);
        assert_eq!(c.heap_bytes(), 0);
        let _ = c.record_ns(300_000_000);
        assert_eq!(c.heap_bytes(), 64);
        let _ = c.record_ns(3_000);
        assert_eq!(c.heap_bytes(), 64 + 128);
        // Every octave: 65 chunks in segments of 1..64 chunks.
        for k in 0..64 {
            let _ = c.record_ns(1 << k);
        }
        let _ = c.record_ns(u64::MAX);
        assert_eq!(c.used.load(Ordering::Relaxed) as usize, OCTAVES);
        assert_eq!(c.read().count(), 5 + 64 + 1);
        // The most a histogram holds: two chunks inline, 63 in segments of 1 to 32.
        assert_eq!(c.heap_bytes(), 63 * 64);
        // Every schema: the inline chunks, then the segments, each counter once.
        for schema in 0..=MAX_SCHEMA {
            let c = NativeCells::new(schema);
            for k in 0..64 {
                let _ = c.record_ns(1 << k);
                let _ = c.record_ns((1 << k) + (1 << k) / 3);
            }
            let n = c.read();
            assert_eq!(n.count(), 128, "schema {schema}");
            assert!(n.buckets.iter().all(|&(_, c)| c <= 2), "schema {schema}");
        }
    }

    #[test]
    fn six_decades_cost_twenty_chunks() {
        // Latencies from 1 µs to 1 s: 20 octaves, 160 buckets at schema 3.
        let c = NativeCells::new(3);
        for i in 0..=6000 {
            let _ = c.record_ns((1e3 * 10f64.powf(f64::from(i) / 1000.0)) as u64);
        }
        let n = c.read();
        assert_eq!(c.used.load(Ordering::Relaxed), 20);
        assert!(n.buckets.len() <= MAX_BUCKETS, "{}", n.buckets.len());
        // Two chunks inline, 18 in segments of 1, 2, 4, 8 and 16 chunks of 64 bytes.
        assert_eq!(c.heap_bytes(), 31 * 64);
        assert!(
            size_of::<NativeCells>() <= 512,
            "{}",
            size_of::<NativeCells>()
        );
    }

    /// The worst case the docs state: one HTTP label set whose latencies span six
    /// decades (1 µs to 1 s), its counters as the store keeps them and its copy in
    /// each of the summary ring's 12 frames and in its baseline, built as
    /// `summary::snapshot::Frame::new` builds them (reduced to [`MAX_BUCKETS`],
    /// shrunk), each frame with the label set's 8-byte sum, the baseline with its 13
    /// classic counts too. Run with `--nocapture` for the figures.
    #[test]
    fn memory_of_a_label_set_over_six_decades() {
        let c = NativeCells::new(DEFAULT_SCHEMA);
        for i in 0..=6000 {
            let _ = c.record_ns((1e3 * 10f64.powf(f64::from(i) / 1000.0)) as u64);
        }
        let counters = size_of::<NativeCells>() + c.heap_bytes();
        let copy = || {
            let mut set = NativeSet::with_capacity(1);
            set.push_cells(Some(&c));
            if set.any_above(MAX_BUCKETS) {
                set = set.reduced(MAX_BUCKETS);
            }
            set.shrink();
            // Less the leading 0 of `start`, which the set has once for all label sets.
            set.heap_bytes() - size_of::<u32>()
        };
        let frame = copy() + size_of::<u64>();
        let baseline = frame + 13 * size_of::<u64>();
        let total = counters + 12 * frame + baseline;
        eprintln!(
            "six decades: {} buckets; counters {counters} B, a frame {frame} B, \
             the baseline {baseline} B; in all {total} B",
            c.read().buckets.len()
        );
        assert_eq!(c.read().buckets.len(), MAX_BUCKETS);
        assert!(total < 24 * 1024, "{total}");
    }

    #[test]
    fn sets_round_trip() {
        let c = NativeCells::new(3);
        let _ = c.record_ns(5);
        let mut set = NativeSet::with_capacity(2);
        set.push_cells(Some(&c));
        set.push_cells(None);
        assert_eq!(set.get(0), Some(c.read()));
        assert_eq!(set.get(1).map(|n| n.count()), Some(0));
        assert_eq!(set.get(2), None);
        assert!(!set.any_above(1));
    }
}
