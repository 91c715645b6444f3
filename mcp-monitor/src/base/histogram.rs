//! Fixed-bucket latency histograms made of atomics.
//!
//! A histogram is a native (sparse exponential) histogram ([`crate::base::native`]), a
//! sum in nanoseconds, and per classic bucket bound one *split* counter. The classic
//! bucket counts are derived, exactly, from those: every bound lies in one native bucket,
//! and its split counter counts the samples of that native bucket at or below the bound,
//! so the samples up to the bound are the native buckets below plus the split. Recording
//! is the native bucket's index, two relaxed atomic adds (the sum and the native bucket)
//! and, for the few samples that land in a native bucket holding a bound, a third: no
//! lock (but the first time an octave is used), no allocation, no clock read.
//!
//! A histogram can be striped: each thread then adds to its own cache-line-aligned
//! copy of the counters and a snapshot sums the copies, so threads recording into one
//! series at the same time do not bounce a cache line between cores on every call. The
//! macros' call sites use this: they are few (bounded by the program's source) and hot.
//! HTTP label sets, which can number in the tens of thousands, keep a single copy.
//!
//! A sample recorded while a trace context is current ([`crate::base::trace`]) is also kept
//! as its bucket's exemplar (the latest one per bucket), for the OpenMetrics
//! exposition. Without a trace context that costs one thread-local read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::base::native::{key_of_ns, Native, NativeCells, NativeSet, DEFAULT_SCHEMA, MAX_SCHEMA};
use crate::base::trace::TraceContext;

/// Alignment of each stripe, in counters: two cache lines, so that the adjacent-line
/// prefetcher does not make neighbouring stripes share either.
const STRIPE_ALIGN_WORDS: usize = 16;

/// Stripes of a striped histogram: the available parallelism rounded up to a power of
/// two, at most 16.
static STRIPES: LazyLock<usize> = LazyLock::new(|| {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .next_power_of_two()
        .min(16)
});

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's number, handed out in order; its stripe is this modulo the count.
    static THREAD: usize = NEXT_THREAD.fetch_add(1, Relaxed);
}

/// Upper bounds of a histogram's buckets, in ascending order (the `+Inf` bucket is implied).
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    // Shared: every histogram of a family holds the same bounds.
    bounds_ns: Arc<[u64]>,
    bounds_s: Arc<[f64]>,
    native_schema: u8,
    /// Where each bound lies among the native buckets at `native_schema`.
    splits: Arc<SplitMap>,
}

/// The native buckets that hold a classic bound, at one schema.
#[derive(Debug, PartialEq)]
struct SplitMap {
    /// Per octave, bit `w % 64` set if its bucket `w` may hold a bound.
    masks: [u64; 65],
    /// Per bound, its native bucket: octave and bucket within it.
    at: Box<[(usize, usize)]>,
    /// Per bound, its native bucket's key.
    keys: Box<[i16]>,
}

impl SplitMap {
    fn new(schema: u8, bounds_ns: &[u64]) -> Self {
        let mut masks = [0u64; 65];
        let (mut at, mut keys) = (Vec::new(), Vec::new());
        for &b in bounds_ns {
            let (key, place) = key_of_ns(schema, b);
            // Bounds are at least 1 ns, never in the zero bucket.
            let (o, w) = place.unwrap_or((0, 0));
            masks[o] |= 1 << (w % 64);
            at.push((o, w));
            keys.push(key);
        }
        Self {
            masks,
            at: at.into(),
            keys: keys.into(),
        }
    }
}

/// The smallest bucket bound, in seconds: one nanosecond.
const MIN_BOUND_S: f64 = 1e-9;
/// The largest bucket bound, in seconds: `u64::MAX` nanoseconds, rounded down.
const MAX_BOUND_S: f64 = 18_446_744_073.0;

/// Why [`Buckets::from_seconds`] refused a list of bounds.
///
/// ```
/// use mcp_monitor::{Buckets, BucketsError};
///
/// assert_eq!(Buckets::from_seconds(&[]), Err(BucketsError::Empty));
/// assert_eq!(
///     Buckets::from_seconds(&[0.5, 0.1]),
///     Err(BucketsError::NotIncreasing { bound: 0.1, previous: 0.5 }),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BucketsError {
    /// The list has no bound.
    #[error("a bucket list needs at least one bound")]
    Empty,
    /// A bound is zero, negative, infinite or not a number.
    #[error("bucket bound {bound} is not a positive number of seconds")]
    NotPositive {
        /// The bound.
        bound: f64,
    },
    /// A bound lies outside 1 ns ..= `u64::MAX` ns (584 years), the range a histogram
    /// counts in nanoseconds.
    #[error(
        "bucket bound {bound} is out of range: bounds are from 1 ns (1e-9) to {MAX_BOUND_S} s"
    )]
    OutOfRange {
        /// The bound.
        bound: f64,
    },
    /// A bound is not greater than the one before it.
    #[error("bucket bounds must increase strictly, but {bound} follows {previous}")]
    NotIncreasing {
        /// The bound.
        bound: f64,
        /// The bound before it.
        previous: f64,
    },
    /// A bound is greater than the one before it, but not by a whole nanosecond.
    #[error(
        "bucket bound {bound} is not distinct from the one before it (or from 0) to the nanosecond"
    )]
    NotDistinct {
        /// The bound.
        bound: f64,
    },
}

impl Buckets {
    /// Builds buckets from upper bounds in seconds.
    ///
    /// ```
    /// let buckets = mcp_monitor::Buckets::from_seconds(&[0.005, 0.05, 0.5, 5.0])?;
    /// assert_eq!(buckets.bounds(), [0.005, 0.05, 0.5, 5.0]);
    /// # Ok::<(), mcp_monitor::BucketsError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`BucketsError`] if the list is empty, has a bound that is not a positive
    /// finite number or lies outside 1 ns ..= 584 years (the range a histogram counts
    /// in nanoseconds), or is not strictly increasing to the nanosecond.
    pub fn from_seconds(bounds: &[f64]) -> Result<Self, BucketsError> {
        if bounds.is_empty() {
            return Err(BucketsError::Empty);
        }
        let mut bounds_ns = Vec::with_capacity(bounds.len());
        for (i, &bound) in bounds.iter().enumerate() {
            if !(bound.is_finite() && bound > 0.0) {
                return Err(BucketsError::NotPositive { bound });
            }
            // Durations are counted in whole nanoseconds in a u64 (up to 584 years).
            if !(MIN_BOUND_S..=MAX_BOUND_S).contains(&bound) {
                return Err(BucketsError::OutOfRange { bound });
            }
            if i > 0 && bound <= bounds[i - 1] {
                return Err(BucketsError::NotIncreasing {
                    bound,
                    previous: bounds[i - 1],
                });
            }
            let ns = Duration::from_secs_f64(bound).as_nanos() as u64;
            if ns == 0 || bounds_ns.last() == Some(&ns) {
                return Err(BucketsError::NotDistinct { bound });
            }
            bounds_ns.push(ns);
        }
        Ok(Self {
            splits: Arc::new(SplitMap::new(DEFAULT_SCHEMA, &bounds_ns)),
            bounds_ns: bounds_ns.into(),
            bounds_s: bounds.into(),
            native_schema: DEFAULT_SCHEMA,
        })
    }

    /// The default buckets for HTTP request latency: 1 ms to 10 s.
    pub fn http_default() -> Self {
        Self::from_seconds(&[
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ])
        .expect("static buckets are valid")
    }

    /// The default buckets for database operations: 100 µs to 5 s.
    pub fn db_default() -> Self {
        Self::from_seconds(&[
            0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
        ])
        .expect("static buckets are valid")
    }

    /// The default buckets for workflow steps and runs: 1 ms to 2 min.
    pub fn workflow_default() -> Self {
        Self::from_seconds(&[
            0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
        ])
        .expect("static buckets are valid")
    }

    /// The upper bounds in seconds.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds_s
    }

    /// The same buckets, with the native histogram beside them at `schema` (0 to 8,
    /// higher values are taken as 8): `2^schema` buckets per power of two, so a
    /// quantile read from it is within `2^(2^-(schema+1)) - 1` of the exact one (4.4%
    /// at the default schema 3, 2.2% at 4). See `MCP_NATIVE_HISTOGRAM_SCHEMA`.
    ///
    /// ```
    /// let b = mcp_monitor::Buckets::http_default().with_native_schema(4);
    /// assert_eq!(b.native_schema(), 4);
    /// ```
    #[must_use]
    pub fn with_native_schema(mut self, schema: u8) -> Self {
        self.native_schema = schema.min(MAX_SCHEMA);
        self.splits = Arc::new(SplitMap::new(self.native_schema, &self.bounds_ns));
        self
    }

    /// The schema of the native histogram kept beside these buckets (default 3).
    pub fn native_schema(&self) -> u8 {
        self.native_schema
    }

    #[inline]
    fn index(&self, ns: u64) -> usize {
        // Prometheus buckets are `le`: a sample equal to a bound belongs to that bucket.
        // Counting the bounds below the sample has no data-dependent branch or chain of
        // dependent loads, unlike a binary search; the list is a dozen entries.
        self.bounds_ns.iter().map(|&b| usize::from(b < ns)).sum()
    }
}

/// A histogram of durations whose every part is an atomic counter.
///
/// Its samples can be split into a few categories (a series' outcomes): one native
/// histogram per category, so that a sample counts both for its bucket and for its
/// category with a single atomic add. The histogram is the sum over categories.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    buckets: Buckets,
    /// Per stripe: the sum in nanoseconds, then the split counter of each bound.
    /// Stripe `s` starts at `first + s * stride`.
    cells: Box<[AtomicU64]>,
    first: usize,
    stride: usize,
    /// Stripe count minus one (the count is a power of two; 0 when not striped).
    mask: usize,
    categories: usize,
    /// The latest traced sample of each bucket.
    exemplars: Exemplars,
    /// The native histogram of each stripe and category (stripe `s`, category `c` at
    /// `s * categories + c`).
    natives: Box<[NativeCells]>,
}

/// One traced sample: the trace it belongs to, its value, when it was recorded and its
/// category (a series' outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exemplar {
    pub(crate) trace: TraceContext,
    pub(crate) ns: u64,
    pub(crate) unix_ms: u64,
    pub(crate) category: usize,
}

/// The latest traced sample of each bucket (`+Inf` last), allocated with the first
/// one: nothing for a histogram that never sees a trace context, one slot per bucket
/// after that. A slot being written by another thread is skipped, never waited for.
#[derive(Debug, Default)]
struct Exemplars {
    slots: OnceLock<Box<[Mutex<Option<Exemplar>>]>>,
}

impl AtomicHistogram {
    /// A histogram with one copy of its counters, shared by all threads.
    pub(crate) fn new(buckets: Buckets) -> Self {
        Self::build(buckets, 1, 1)
    }

    /// A striped histogram whose samples fall in `categories` categories, see
    /// [`Self::record_ns_in`].
    pub(crate) fn striped(buckets: Buckets, categories: usize) -> Self {
        Self::build(buckets, categories, *STRIPES)
    }

    fn build(buckets: Buckets, categories: usize, stripes: usize) -> Self {
        let words = 1 + buckets.bounds_ns.len();
        let (stride, pad) = if stripes == 1 {
            (words, 0)
        } else {
            (
                words.next_multiple_of(STRIPE_ALIGN_WORDS),
                STRIPE_ALIGN_WORDS - 1,
            )
        };
        let cells: Box<[AtomicU64]> = (0..stride * stripes + pad)
            .map(|_| AtomicU64::new(0))
            .collect();
        // Start the first stripe on a `STRIPE_ALIGN_WORDS` boundary.
        let addr = cells.as_ptr().addr();
        let align = STRIPE_ALIGN_WORDS * size_of::<AtomicU64>();
        let first = if pad == 0 {
            0
        } else {
            (addr.next_multiple_of(align) - addr) / size_of::<AtomicU64>()
        };
        let natives = (0..stripes * categories)
            .map(|_| NativeCells::new(buckets.native_schema))
            .collect();
        Self {
            buckets,
            cells,
            first,
            stride,
            mask: stripes - 1,
            categories,
            exemplars: Exemplars::default(),
            natives,
        }
    }

    /// Counters per category: the finite buckets and `+Inf`.
    #[inline]
    fn row(&self) -> usize {
        self.buckets.bounds_ns.len() + 1
    }

    /// The total of `word` over all stripes.
    fn total(&self, word: usize) -> u64 {
        (0..=self.mask)
            .map(|s| self.cells[self.first + s * self.stride + word].load(Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Records one duration given in nanoseconds.
    #[inline]
    pub(crate) fn record_ns(&self, ns: u64) {
        self.record_ns_in(ns, 0);
    }

    /// Records one duration, given in nanoseconds, in category `category`.
    #[inline(always)]
    pub(crate) fn record_ns_in(&self, ns: u64, category: usize) {
        debug_assert!(category < self.categories);
        let stripe = if self.mask == 0 {
            0
        } else {
            THREAD.with(|t| *t) & self.mask
        };
        let base = self.first + stripe * self.stride;
        self.cells[base].fetch_add(ns, Relaxed);
        let native = &self.natives[stripe * self.categories + category];
        if let Some((o, w)) = native.record_ns(ns) {
            if self.buckets.splits.masks[o] >> (w % 64) & 1 != 0 {
                self.record_split(base, ns, (o, w));
            }
        }
        if let Some(trace) = crate::base::trace::current() {
            self.record_exemplar(trace, ns, category);
        }
    }

    /// Counts a sample that landed in a native bucket holding a bound in the split
    /// counter of each such bound it does not exceed.
    #[inline(never)]
    fn record_split(&self, base: usize, ns: u64, place: (usize, usize)) {
        let b = &self.buckets;
        for (j, (&at, &bound)) in b.splits.at.iter().zip(b.bounds_ns.iter()).enumerate() {
            if at == place && ns <= bound {
                self.cells[base + 1 + j].fetch_add(1, Relaxed);
            }
        }
    }

    /// Keeps the sample as its bucket's exemplar.
    #[cold]
    fn record_exemplar(&self, trace: TraceContext, ns: u64, category: usize) {
        let row = self.row();
        let slots = self
            .exemplars
            .slots
            .get_or_init(|| (0..row).map(|_| Mutex::new(None)).collect());
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if let Ok(mut slot) = slots[self.buckets.index(ns)].try_lock() {
            *slot = Some(Exemplar {
                trace,
                ns,
                unix_ms,
                category,
            });
        }
    }

    /// The exemplar of each bucket (`+Inf` last); `None` if there never was one.
    pub(crate) fn exemplars(&self) -> Option<Vec<Option<Exemplar>>> {
        let slots = self.exemplars.slots.get()?;
        Some(
            slots
                .iter()
                .map(|s| *s.lock().unwrap_or_else(PoisonError::into_inner))
                .collect(),
        )
    }

    /// The number of samples in category `category`.
    pub(crate) fn category_count(&self, category: usize) -> u64 {
        debug_assert!(category < self.categories);
        (0..=self.mask)
            .map(|s| self.natives[s * self.categories + category].count())
            .fold(0, u64::wrapping_add)
    }

    /// Copies the current values.
    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let native = self.native();
        let mut counts = vec![0; self.row()];
        self.classic_into(&native, &mut counts);
        HistogramSnapshot {
            counts,
            sum_ns: self.total(0),
            native,
        }
    }

    /// The classic bucket counts (`+Inf` last) into `counts`, from the native
    /// histogram `native` (read just before) and the split counters: the samples up to
    /// a bound are those of the native buckets below its own plus its split counter.
    /// Made non-decreasing, as counters read one after the other may be a sample apart.
    fn classic_into(&self, native: &Native, counts: &mut [u64]) {
        let keys = &self.buckets.splits.keys;
        let buckets = native.buckets();
        let (mut i, mut below, mut previous) = (0, 0u64, 0u64);
        for (j, (&key, slot)) in keys.iter().zip(counts.iter_mut()).enumerate() {
            while let Some(&(k, c)) = buckets.get(i).filter(|(k, _)| *k < key) {
                below = below.wrapping_add(c);
                i += 1;
                debug_assert!(k < key);
            }
            let upto = below.wrapping_add(self.total(1 + j)).max(previous);
            *slot = upto - previous;
            previous = upto;
        }
        if let Some(inf) = counts.last_mut() {
            *inf = native.count().saturating_sub(previous);
        }
    }

    /// The native histogram: the sum over stripes and categories.
    pub(crate) fn native(&self) -> Native {
        let mut n = self.natives[0].read();
        for s in &self.natives[1..] {
            n.merge(&s.read());
        }
        n
    }

    /// Appends the native histogram to `set`.
    pub(crate) fn native_into(&self, set: &mut NativeSet) {
        if let [one] = &*self.natives {
            set.push_cells(Some(one));
        } else {
            set.push(&self.native());
        }
    }

    /// Writes the current bucket counts (summed over categories, `+Inf` last) into
    /// `counts`, which has one slot per bucket, and returns the sum in nanoseconds.
    pub(crate) fn read_into(&self, counts: &mut [u64]) -> u64 {
        debug_assert_eq!(counts.len(), self.row());
        let native = self.native();
        self.classic_into(&native, counts);
        self.total(0)
    }

    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

/// A striped histogram as a macro call site keeps, for the recording benchmark (it
/// times this against a copy of the recording the crate had before native
/// histograms). Not part of the API.
#[doc(hidden)]
#[derive(Debug)]
pub struct BenchHistogram(AtomicHistogram);

impl BenchHistogram {
    /// A striped histogram with `buckets` and three categories, as
    /// `#[monitor_db_operation]` makes.
    pub fn new(buckets: Buckets) -> Self {
        Self(AtomicHistogram::striped(buckets, 3))
    }

    /// Records one duration in nanoseconds in category 0, as a successful call does.
    #[inline]
    pub fn record_ns(&self, ns: u64) {
        self.0.record_ns_in(ns, 0);
    }

    /// The samples recorded.
    pub fn count(&self) -> u64 {
        self.0.snapshot().count()
    }
}

/// The recording this crate had before native histograms, kept for the recording
/// benchmark's baseline (same run, same stripes): per stripe the sum and one counter
/// per category and classic bucket, found by counting the bounds below the sample,
/// then the trace context check. Not part of the API.
#[doc(hidden)]
#[derive(Debug)]
pub struct BenchClassicHistogram {
    bounds_ns: Arc<[u64]>,
    cells: Box<[AtomicU64]>,
    first: usize,
    stride: usize,
    mask: usize,
    categories: usize,
}

impl BenchClassicHistogram {
    /// A striped classic-only histogram with `buckets` and three categories.
    pub fn new(buckets: &Buckets) -> Self {
        let (categories, stripes) = (3, *STRIPES);
        let words = 1 + categories * (buckets.bounds_ns.len() + 1);
        let stride = words.next_multiple_of(STRIPE_ALIGN_WORDS);
        let cells: Box<[AtomicU64]> = (0..stride * stripes + STRIPE_ALIGN_WORDS - 1)
            .map(|_| AtomicU64::new(0))
            .collect();
        let addr = cells.as_ptr().addr();
        let align = STRIPE_ALIGN_WORDS * size_of::<AtomicU64>();
        Self {
            bounds_ns: Arc::clone(&buckets.bounds_ns),
            first: (addr.next_multiple_of(align) - addr) / size_of::<AtomicU64>(),
            cells,
            stride,
            mask: stripes - 1,
            categories,
        }
    }

    /// Records one duration in nanoseconds in category 0, as the crate did.
    #[inline]
    pub fn record_ns(&self, ns: u64) {
        let category = 0;
        debug_assert!(category < self.categories);
        let stripe = THREAD.with(|t| *t) & self.mask;
        let base = self.first + stripe * self.stride;
        let index: usize = self.bounds_ns.iter().map(|&b| usize::from(b < ns)).sum();
        let bucket = 1 + category * (self.bounds_ns.len() + 1) + index;
        self.cells[base].fetch_add(ns, Relaxed);
        self.cells[base + bucket].fetch_add(1, Relaxed);
        if let Some(trace) = crate::base::trace::current() {
            std::hint::black_box(trace);
        }
    }

    /// The samples recorded.
    pub fn count(&self) -> u64 {
        let row = self.bounds_ns.len() + 1;
        (0..=self.mask)
            .flat_map(|s| {
                let base = self.first + s * self.stride + 1;
                base..base + self.categories * row
            })
            .map(|i| self.cells[i].load(Relaxed))
            .sum()
    }
}

/// The values of a histogram at one moment: per-bucket counts (the last is `+Inf`;
/// empty where only the native histogram was kept), the sum of all samples in
/// nanoseconds and the native histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HistogramSnapshot {
    pub(crate) counts: Vec<u64>,
    pub(crate) sum_ns: u64,
    pub(crate) native: Native,
}

impl HistogramSnapshot {
    /// Number of samples (every sample is in both histograms).
    pub(crate) fn count(&self) -> u64 {
        if self.native.buckets().is_empty() {
            self.counts.iter().sum()
        } else {
            self.native.count()
        }
    }

    /// The `q` quantile in seconds, from the native histogram (see
    /// [`Native::quantile`]: within 4.4% of the exact quantile at schema 3); `None`
    /// without samples.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        self.native.quantile(q)
    }

    /// What was recorded since `earlier` (a snapshot of the same histogram).
    pub(crate) fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        if earlier.counts.len() != self.counts.len() {
            return self.clone();
        }
        HistogramSnapshot {
            native: self.native.since(&earlier.native),
            counts: self
                .counts
                .iter()
                .zip(&earlier.counts)
                .map(|(a, b)| a.saturating_sub(*b))
                .collect(),
            sum_ns: self.sum_ns.saturating_sub(earlier.sum_ns),
        }
    }

    /// Mean sample in seconds, or `None` without samples.
    pub(crate) fn mean_seconds(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_ns as f64 / 1e9 / n as f64)
    }

    /// The `q` quantile in seconds from the classic buckets, interpolated linearly
    /// inside its bucket as PromQL's `histogram_quantile` does; `None` without samples.
    /// A quantile that falls in the `+Inf` bucket is reported as the highest finite
    /// bound. What the read API showed before native histograms (the accuracy tests
    /// compare).
    #[cfg(test)]
    pub(crate) fn classic_quantile_seconds(&self, buckets: &Buckets, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            let upto = below + c;
            if (upto as f64) >= rank && c > 0 {
                let Some(&upper) = buckets.bounds_s.get(i) else {
                    return buckets.bounds_s.last().copied();
                };
                let lower = if i == 0 { 0.0 } else { buckets.bounds_s[i - 1] };
                let frac = (rank - below as f64) / c as f64;
                return Some(lower + (upper - lower) * frac.clamp(0.0, 1.0));
            }
            below = upto;
        }
        buckets.bounds_s.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_bounds_are_errors_not_panics() {
        for bounds in [
            &[1e20][..],
            &[2e19],
            &[1e300],
            &[0.1, f64::MAX],
            &[1e-12],
            &[1e-9, 1.1e-9],
            &[f64::NAN],
            &[f64::INFINITY],
            &[-1.0],
            &[0.0],
        ] {
            let e = Buckets::from_seconds(bounds).unwrap_err();
            assert!(!e.to_string().is_empty(), "{bounds:?}");
            assert!(
                matches!(
                    e,
                    BucketsError::NotPositive { .. }
                        | BucketsError::OutOfRange { .. }
                        | BucketsError::NotDistinct { .. }
                ),
                "{bounds:?}: {e:?}"
            );
        }
        let b = Buckets::from_seconds(&[1e-9, 2e-9, MAX_BOUND_S]).unwrap();
        assert_eq!(*b.bounds_ns, [1, 2, 18_446_744_073_000_000_000]);
    }

    #[test]
    fn le_semantics_and_inf_bucket() {
        let h = AtomicHistogram::new(Buckets::from_seconds(&[0.001, 0.01]).unwrap());
        h.record_ns(1_000_000); // exactly 1 ms: first bucket
        h.record_ns(1_000_001);
        h.record_ns(20_000_000); // +Inf
        let s = h.snapshot();
        assert_eq!(s.counts, vec![1, 1, 1]);
        assert_eq!(s.sum_ns, 22_000_001);
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn threads_and_categories_add_up() {
        let h = AtomicHistogram::striped(Buckets::from_seconds(&[0.001]).unwrap(), 3);
        if *STRIPES > 1 {
            let first = h.cells[h.first..].as_ptr().addr();
            assert_eq!(first % (STRIPE_ALIGN_WORDS * 8), 0);
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        h.record_ns_in(10, 2);
                    }
                });
            }
        });
        h.record_ns(2_000_000);
        h.record_ns_in(2_000_000, 1);
        let snap = h.snapshot();
        assert_eq!(snap.counts, vec![4000, 2]);
        assert_eq!(snap.sum_ns, 40_000 + 4_000_000);
        assert_eq!([0, 1, 2].map(|c| h.category_count(c)), [1, 1, 4000]);
    }

    #[test]
    fn classic_counts_derived_from_native_are_exact() {
        let sets = [
            Buckets::http_default(),
            Buckets::db_default(),
            Buckets::workflow_default(),
            // Bounds on native bucket edges (powers of two), and two in one bucket.
            Buckets::from_seconds(&[0.25, 0.5, 1.0, 1.01, 1.02, 2.0]).unwrap(),
        ];
        for schema in [0u8, 2, 3, 4, 8] {
            for b in &sets {
                let b = b.clone().with_native_schema(schema);
                let h = AtomicHistogram::striped(b.clone(), 3);
                let mut expected = vec![0u64; b.bounds_ns.len() + 1];
                let mut x = 0x9E37_79B9_7F4A_7C15u64;
                let mut samples: Vec<u64> = b
                    .bounds_ns
                    .iter()
                    .flat_map(|&n| [n - 1, n, n + 1])
                    .chain([0, 1, u64::MAX])
                    .collect();
                for _ in 0..5000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Log-uniform over 1 µs .. 1000 s.
                    samples.push((1e3 * 10f64.powf((x % 9000) as f64 / 1000.0)) as u64);
                }
                for (i, &ns) in samples.iter().enumerate() {
                    h.record_ns_in(ns, i % 3);
                    expected[b.index(ns)] += 1;
                }
                let s = h.snapshot();
                assert_eq!(s.counts, expected, "schema {schema}, {:?}", b.bounds());
                assert_eq!(s.native.count(), samples.len() as u64);
            }
        }
    }

    #[test]
    fn bucket_index_is_the_first_bound_not_below() {
        let b = Buckets::db_default();
        for &bound in b.bounds_ns.iter() {
            for ns in [0, 1, bound - 1, bound, bound + 1, u64::MAX] {
                assert_eq!(
                    b.index(ns),
                    b.bounds_ns.partition_point(|&x| x < ns),
                    "{ns}"
                );
            }
        }
    }

    #[test]
    fn bad_buckets_are_rejected() {
        assert!(Buckets::from_seconds(&[]).is_err());
        assert!(Buckets::from_seconds(&[0.1, 0.1]).is_err());
        assert!(Buckets::from_seconds(&[-1.0]).is_err());
        assert!(Buckets::from_seconds(&[f64::NAN]).is_err());
        assert_eq!(Buckets::from_seconds(&[]), Err(BucketsError::Empty));
        assert_eq!(
            Buckets::from_seconds(&[0.1, 0.1]),
            Err(BucketsError::NotIncreasing {
                bound: 0.1,
                previous: 0.1
            })
        );
        assert_eq!(
            Buckets::from_seconds(&[-1.0]),
            Err(BucketsError::NotPositive { bound: -1.0 })
        );
        assert_eq!(
            Buckets::from_seconds(&[1e20]),
            Err(BucketsError::OutOfRange { bound: 1e20 })
        );
        assert_eq!(
            Buckets::from_seconds(&[1e-9, 1.1e-9]),
            Err(BucketsError::NotDistinct { bound: 1.1e-9 })
        );
        assert_eq!(
            BucketsError::NotIncreasing {
                bound: 1.0,
                previous: 2.0
            }
            .to_string(),
            "bucket bounds must increase strictly, but 1 follows 2"
        );
    }

    #[test]
    fn quantile_interpolates_like_promql() {
        let b = Buckets::from_seconds(&[0.1, 0.2, 0.4]).unwrap();
        let s = HistogramSnapshot {
            counts: vec![0, 10, 0, 0],
            sum_ns: 1_500_000_000,
            ..Default::default()
        };
        // All ten samples in (0.1, 0.2]: p50 is the middle of the bucket.
        let p50 = s.classic_quantile_seconds(&b, 0.5).unwrap();
        assert!((p50 - 0.15).abs() < 1e-9, "{p50}");
        let p95 = s.classic_quantile_seconds(&b, 0.95).unwrap();
        assert!((p95 - 0.195).abs() < 1e-9, "{p95}");
        assert_eq!(s.mean_seconds(), Some(0.15));
        assert_eq!(
            HistogramSnapshot::default().classic_quantile_seconds(&b, 0.5),
            None
        );
    }

    #[test]
    fn since_subtracts() {
        let a = HistogramSnapshot {
            counts: vec![1, 2],
            sum_ns: 10,
            ..Default::default()
        };
        let b = HistogramSnapshot {
            counts: vec![3, 2],
            sum_ns: 30,
            ..Default::default()
        };
        assert_eq!(
            b.since(&a),
            HistogramSnapshot {
                counts: vec![2, 0],
                sum_ns: 20,
                ..Default::default()
            }
        );
    }
}
