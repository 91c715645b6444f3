//! The summary store: what the JSON endpoints and the alert engine read.
//!
//! It holds no counters of its own. It keeps snapshots of the same atomics that
//! `/metrics` renders: a baseline taken at the last reset, and a ring of snapshots
//! taken every `window / 10` by the upkeep task. "Since reset" is the current value
//! minus the baseline; "over the window" is the current value minus the newest
//! snapshot at least a window old. A reset replaces the baseline and clears the ring,
//! so the Prometheus series stay monotonic and later recordings are never lost. The
//! ring holds at most 12 snapshots whatever the traffic, so memory is bounded by the
//! number of series, which is bounded in turn.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::base::histogram::{Buckets, HistogramSnapshot};
use crate::base::names::OpKind;
use crate::calls::registry::{registry, OpSeries, OpSnapshot};
use crate::http::store::{HttpSeries, HttpStore};
use crate::sources::caches::CacheRegistry;

/// Snapshots kept per window.
const TICKS_PER_WINDOW: u32 = 10;

/// The values of every series at one moment.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) at: Instant,
    ops: HashMap<usize, OpSnapshot>,
    http: HashMap<usize, HistogramSnapshot>,
    caches: HashMap<usize, [u64; 2]>,
}

fn key<T>(r: &T) -> usize {
    std::ptr::from_ref(r) as usize
}

impl Snapshot {
    pub(crate) fn take(http: &HttpStore, caches: &CacheRegistry, at: Instant) -> Self {
        let reg = registry();
        let ops = [OpKind::Db, OpKind::Step, OpKind::Run]
            .into_iter()
            .flat_map(|k| reg.ops(k))
            .map(|s| (key(s), s.snapshot()))
            .collect();
        let http = http
            .series()
            .iter()
            .map(|s| (key(&**s), s.histogram.snapshot()))
            .collect();
        let caches = caches
            .all()
            .iter()
            .map(|c| (key(&**c), c.counts()))
            .collect();
        Self {
            at,
            ops,
            http,
            caches,
        }
    }
}

/// Baseline and ring; see the module docs.
#[derive(Debug)]
pub(crate) struct SummaryStore {
    window: Duration,
    baseline: Snapshot,
    ring: VecDeque<Snapshot>,
}

impl SummaryStore {
    pub(crate) fn new(window: Duration, now: Snapshot) -> Self {
        Self {
            window,
            ring: VecDeque::from([now.clone()]),
            baseline: now,
        }
    }

    /// How often [`tick`](Self::tick) should run.
    pub(crate) fn tick_interval(&self) -> Duration {
        (self.window / TICKS_PER_WINDOW).max(Duration::from_millis(10))
    }

    /// Adds a snapshot and forgets those no longer needed to cover the window.
    pub(crate) fn tick(&mut self, now: Snapshot) {
        let cutoff = now.at.checked_sub(self.window);
        self.ring.push_back(now);
        if let Some(cutoff) = cutoff {
            while self.ring.len() > 1 && self.ring[1].at <= cutoff {
                self.ring.pop_front();
            }
        }
        while self.ring.len() > TICKS_PER_WINDOW as usize + 2 {
            self.ring.pop_front();
        }
    }

    /// Starts counting afresh from `now`.
    pub(crate) fn reset(&mut self, now: Snapshot) {
        self.ring.clear();
        self.ring.push_back(now.clone());
        self.baseline = now;
    }

    /// When the store was last reset.
    pub(crate) fn reset_at(&self) -> Instant {
        self.baseline.at
    }

    /// The snapshot the window starts from, at `now`.
    fn window_base(&self, now: Instant) -> &Snapshot {
        let cutoff = now.checked_sub(self.window);
        cutoff
            .and_then(|c| self.ring.iter().rev().find(|s| s.at <= c))
            .or_else(|| self.ring.front())
            .unwrap_or(&self.baseline)
    }

    /// Everything the endpoints and alerts need, computed from `current`.
    pub(crate) fn view(
        &self,
        current: &Snapshot,
        http: &HttpStore,
        caches: &CacheRegistry,
    ) -> View {
        let base = self.window_base(current.at);
        Self::between(current, &self.baseline, base, http, caches)
    }

    /// What happened since the last [`tick`](Self::tick) (or reset), as a `View` whose
    /// `total` and `window` both start there: one point of the page's history.
    pub(crate) fn since_last_tick(
        &self,
        current: &Snapshot,
        http: &HttpStore,
        caches: &CacheRegistry,
    ) -> View {
        let last = self.ring.back().unwrap_or(&self.baseline);
        Self::between(current, last, last, http, caches)
    }

    /// `current` minus `since` (the `total` values) and minus `base` (the `window` values).
    fn between(
        current: &Snapshot,
        since: &Snapshot,
        base: &Snapshot,
        http: &HttpStore,
        caches: &CacheRegistry,
    ) -> View {
        let reg = registry();
        let op_rows = |kind| {
            reg.ops(kind)
                .into_iter()
                .map(|s| OpRow::new(s, current, since, base))
                .collect::<Vec<_>>()
        };
        let http_rows = http
            .series()
            .into_iter()
            .map(|s| HttpRow::new(s, current, since, base))
            .collect();
        let cache_rows = caches
            .all()
            .into_iter()
            .map(|c| {
                let k = key(&*c);
                let now = current.caches.get(&k).copied().unwrap_or_default();
                let sub = |b: &Snapshot| {
                    let then = b.caches.get(&k).copied().unwrap_or_default();
                    [
                        now[0].saturating_sub(then[0]),
                        now[1].saturating_sub(then[1]),
                    ]
                };
                CacheRow {
                    name: c.name().to_owned(),
                    total: sub(since),
                    window: sub(base),
                }
            })
            .collect();
        View {
            window: current.at.saturating_duration_since(base.at),
            since_reset: current.at.saturating_duration_since(since.at),
            http_buckets: http.buckets().clone(),
            http: http_rows,
            db: op_rows(OpKind::Db),
            steps: op_rows(OpKind::Step),
            runs: op_rows(OpKind::Run),
            caches: cache_rows,
        }
    }
}

/// One operation series, since reset and over the window.
#[derive(Debug, Clone)]
pub(crate) struct OpRow {
    pub(crate) labels: [&'static str; 2],
    pub(crate) buckets: Buckets,
    pub(crate) total: OpSnapshot,
    pub(crate) window: OpSnapshot,
}

impl OpRow {
    fn new(s: &'static OpSeries, current: &Snapshot, baseline: &Snapshot, base: &Snapshot) -> Self {
        let k = key(s);
        let now = current.ops.get(&k).cloned().unwrap_or_default();
        let since = |b: &Snapshot| b.ops.get(&k).map_or_else(|| now.clone(), |t| now.since(t));
        Self {
            labels: s.labels,
            buckets: s.histogram.buckets().clone(),
            total: since(baseline),
            window: since(base),
        }
    }
}

/// One HTTP series, since reset and over the window.
#[derive(Debug, Clone)]
pub(crate) struct HttpRow {
    pub(crate) series: Arc<HttpSeries>,
    pub(crate) total: HistogramSnapshot,
    pub(crate) window: HistogramSnapshot,
}

impl HttpRow {
    fn new(s: Arc<HttpSeries>, current: &Snapshot, baseline: &Snapshot, base: &Snapshot) -> Self {
        let k = key(&*s);
        let now = current.http.get(&k).cloned().unwrap_or_default();
        let since = |b: &Snapshot| b.http.get(&k).map_or_else(|| now.clone(), |t| now.since(t));
        Self {
            total: since(baseline),
            window: since(base),
            series: s,
        }
    }

    /// Whether the status is a server error (what the error rate counts).
    pub(crate) fn is_error(&self) -> bool {
        self.series.status >= 500
    }
}

/// One cache's `[hits, misses]`, since reset and over the window.
#[derive(Debug, Clone)]
pub(crate) struct CacheRow {
    pub(crate) name: String,
    pub(crate) total: [u64; 2],
    pub(crate) window: [u64; 2],
}

/// The summary at one moment.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// The span the window values actually cover (shorter than the configured window
    /// just after start or a reset).
    pub(crate) window: Duration,
    pub(crate) since_reset: Duration,
    pub(crate) http_buckets: Buckets,
    pub(crate) http: Vec<HttpRow>,
    pub(crate) db: Vec<OpRow>,
    pub(crate) steps: Vec<OpRow>,
    pub(crate) runs: Vec<OpRow>,
    pub(crate) caches: Vec<CacheRow>,
}

/// Counts and latency of a group of requests or operations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Agg {
    pub(crate) count: u64,
    pub(crate) failures: u64,
    pub(crate) mean_seconds: Option<f64>,
    pub(crate) p95_seconds: Option<f64>,
}

impl Agg {
    pub(crate) fn error_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.failures as f64 / self.count as f64)
    }

    fn from_hist(h: &HistogramSnapshot, buckets: &Buckets, count: u64, failures: u64) -> Self {
        Self {
            count,
            failures,
            mean_seconds: h.mean_seconds(),
            p95_seconds: h.quantile_seconds(buckets, 0.95),
        }
    }

    pub(crate) fn of_op(s: &OpSnapshot, buckets: &Buckets) -> Self {
        Self::from_hist(&s.histogram, buckets, s.total(), s.failures())
    }
}

fn merge(into: &mut HistogramSnapshot, h: &HistogramSnapshot) {
    if into.counts.is_empty() {
        into.counts = vec![0; h.counts.len()];
    }
    if into.counts.len() == h.counts.len() {
        for (a, b) in into.counts.iter_mut().zip(&h.counts) {
            *a += b;
        }
    }
    into.sum_ns += h.sum_ns;
}

impl View {
    /// All HTTP requests, since reset (`window = false`) or over the window.
    pub(crate) fn http_agg(&self, window: bool) -> Agg {
        let mut h = HistogramSnapshot::default();
        let mut failures = 0;
        for row in &self.http {
            let s = if window { &row.window } else { &row.total };
            merge(&mut h, s);
            if row.is_error() {
                failures += s.count();
            }
        }
        Agg::from_hist(&h, &self.http_buckets, h.count(), failures)
    }

    /// All rows of an operation family, merged.
    pub(crate) fn ops_agg(rows: &[OpRow], window: bool) -> Agg {
        let mut total = OpSnapshot::default();
        let mut buckets = None;
        for row in rows {
            let s = if window { &row.window } else { &row.total };
            for i in 0..3 {
                total.statuses[i] += s.statuses[i];
            }
            // Histograms of one family share buckets unless the configuration changed
            // after some series were created; those are left out of the percentile.
            match &buckets {
                None => {
                    buckets = Some(row.buckets.clone());
                    merge(&mut total.histogram, &s.histogram);
                }
                Some(b) if *b == row.buckets => merge(&mut total.histogram, &s.histogram),
                Some(_) => total.histogram.sum_ns += s.histogram.sum_ns,
            }
        }
        let mean =
            (total.total() > 0).then(|| total.histogram.sum_ns as f64 / 1e9 / total.total() as f64);
        let mut agg = buckets.map_or_else(Agg::default, |b| Agg::of_op(&total, &b));
        agg.mean_seconds = mean;
        agg
    }

    /// Hit ratio over all caches, since reset or over the window; `None` without lookups.
    pub(crate) fn cache_hit_ratio(&self, window: bool) -> Option<f64> {
        let (hits, misses) = self.caches.iter().fold((0, 0), |(h, m), c| {
            let v = if window { c.window } else { c.total };
            (h + v[0], m + v[1])
        });
        (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
    }
}
