//! Totals over the series of a reading: all requests, all operations of a family, all
//! caches, since an origin (the reset or the start of the window).

use crate::base::format::hit_ratio;
use crate::base::histogram::HistogramSnapshot;
use crate::base::names::OpKind;
use crate::calls::registry::OpSnapshot;
use crate::reading::Reading;
use crate::summary::snapshot::Origin;

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

    /// The p95 comes from the native histogram (within 4.4% at schema 3).
    pub(crate) fn from_hist(h: &HistogramSnapshot, count: u64, failures: u64) -> Self {
        Self {
            count,
            failures,
            mean_seconds: h.mean_seconds(),
            p95_seconds: h.quantile(0.95),
        }
    }

    pub(crate) fn of_op(s: &OpSnapshot) -> Self {
        Self::from_hist(&s.histogram, s.total(), s.failures())
    }
}

/// Adds `h` into `into`: sums and native histograms always, classic counts when both
/// have the same buckets.
pub(crate) fn merge(into: &mut HistogramSnapshot, h: &HistogramSnapshot) {
    if into.counts.is_empty() && into.native.buckets().is_empty() {
        into.counts = vec![0; h.counts.len()];
    }
    if into.counts.len() == h.counts.len() {
        for (a, b) in into.counts.iter_mut().zip(&h.counts) {
            *a += b;
        }
    } else {
        into.counts.clear();
    }
    into.native.merge(&h.native);
    into.sum_ns += h.sum_ns;
}

impl Reading {
    /// All HTTP requests since `origin`; failures are 5xx responses.
    pub(crate) fn http_agg(&self, origin: &Origin) -> Agg {
        let mut h = HistogramSnapshot::default();
        let mut failures = 0;
        for s in self.http_series() {
            let d = self.http_since(s.index, origin);
            if s.status >= 500 {
                failures += d.count();
            }
            merge(&mut h, &d);
        }
        Agg::from_hist(&h, h.count(), failures)
    }

    /// All operations of `kind` since `origin`, merged.
    pub(crate) fn ops_agg(&self, kind: OpKind, origin: &Origin) -> Agg {
        let mut total = OpSnapshot::default();
        for part in self.ops(kind) {
            let s = self.op_since(part, origin);
            for i in 0..3 {
                total.statuses[i] += s.statuses[i];
            }
            // Native histograms of any schemas merge (at the lower one), so a series
            // made before the configuration changed still counts in the percentile.
            merge(&mut total.histogram, &s.histogram);
        }
        let mean =
            (total.total() > 0).then(|| total.histogram.sum_ns as f64 / 1e9 / total.total() as f64);
        let mut agg = Agg::of_op(&total);
        agg.mean_seconds = mean;
        agg
    }

    /// Workflow figures from runs when the application marks runs, from steps otherwise.
    pub(crate) fn workflow_agg(&self, origin: &Origin) -> Agg {
        let runs = self.ops_agg(OpKind::Run, origin);
        if runs.count > 0 {
            runs
        } else {
            self.ops_agg(OpKind::Step, origin)
        }
    }

    /// Hit ratio over all caches since `origin`; `None` without lookups.
    pub(crate) fn cache_hit_ratio(&self, origin: &Origin) -> Option<f64> {
        let (hits, misses) = self.caches.iter().fold((0, 0), |(h, m), (_, k)| {
            let v = self.cache_since(*k, origin);
            (h + v[0], m + v[1])
        });
        hit_ratio(hits, misses)
    }

    /// Connections in use over pool sizes, all pools; `None` without pools.
    pub(crate) fn pool_utilization(&self) -> Option<f64> {
        let (in_use, max) = self.pools.iter().fold((0u64, 0u64), |(u, x), p| {
            (u + u64::from(p.in_use), x + u64::from(p.max_size))
        });
        (max > 0).then(|| in_use as f64 / max as f64)
    }

    /// Active executions over all workflows.
    pub(crate) fn active_total(&self) -> i64 {
        self.active.iter().map(|(_, n)| n).sum()
    }
}
