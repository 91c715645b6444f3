//! Fixed-bucket latency histograms made of atomics.
//!
//! A histogram is a slice of per-bucket counters (not cumulative; the exposition
//! accumulates) plus a sum in nanoseconds. Recording is one bucket search over a
//! handful of bounds and two relaxed atomic adds: no lock, no allocation, no clock read.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of a histogram's buckets, in ascending order (the `+Inf` bucket is implied).
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    bounds_ns: Vec<u64>,
    bounds_s: Vec<f64>,
}

impl Buckets {
    /// Builds buckets from upper bounds in seconds.
    ///
    /// # Errors
    ///
    /// Returns a message if the list is empty, has a bound that is not a positive
    /// finite number, or is not strictly increasing.
    pub fn from_seconds(bounds: &[f64]) -> Result<Self, String> {
        if bounds.is_empty() {
            return Err("a bucket list needs at least one bound".into());
        }
        let mut bounds_ns = Vec::with_capacity(bounds.len());
        for (i, &b) in bounds.iter().enumerate() {
            if !(b.is_finite() && b > 0.0) {
                return Err(format!(
                    "bucket bound {b} is not a positive number of seconds"
                ));
            }
            if i > 0 && b <= bounds[i - 1] {
                return Err(format!(
                    "bucket bounds must increase strictly, but {b} follows {}",
                    bounds[i - 1]
                ));
            }
            bounds_ns.push(Duration::from_secs_f64(b).as_nanos().min(u64::MAX.into()) as u64);
        }
        Ok(Self {
            bounds_ns,
            bounds_s: bounds.to_vec(),
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

    #[inline]
    fn index(&self, ns: u64) -> usize {
        // Prometheus buckets are `le`: a sample equal to a bound belongs to that bucket.
        self.bounds_ns.partition_point(|&b| b < ns)
    }
}

/// A histogram of durations whose every part is an atomic counter.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    buckets: Buckets,
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

impl AtomicHistogram {
    pub(crate) fn new(buckets: Buckets) -> Self {
        let counts = (0..=buckets.bounds_ns.len())
            .map(|_| AtomicU64::new(0))
            .collect();
        Self {
            buckets,
            counts,
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Records one duration given in nanoseconds.
    #[inline]
    pub(crate) fn record_ns(&self, ns: u64) {
        let i = self.buckets.index(ns);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// Copies the current values.
    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self.counts.iter().map(|c| c.load(Relaxed)).collect(),
            sum_ns: self.sum_ns.load(Relaxed),
        }
    }

    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

/// The values of a histogram at one moment: per-bucket counts (the last is `+Inf`)
/// and the sum of all samples in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HistogramSnapshot {
    pub(crate) counts: Vec<u64>,
    pub(crate) sum_ns: u64,
}

impl HistogramSnapshot {
    /// Number of samples.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// What was recorded since `earlier` (a snapshot of the same histogram).
    pub(crate) fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        if earlier.counts.len() != self.counts.len() {
            return self.clone();
        }
        HistogramSnapshot {
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

    /// The `q` quantile in seconds, interpolated linearly inside its bucket as
    /// PromQL's `histogram_quantile` does; `None` without samples. A quantile that
    /// falls in the `+Inf` bucket is reported as the highest finite bound.
    pub(crate) fn quantile_seconds(&self, buckets: &Buckets, q: f64) -> Option<f64> {
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
    fn bad_buckets_are_rejected() {
        assert!(Buckets::from_seconds(&[]).is_err());
        assert!(Buckets::from_seconds(&[0.1, 0.1]).is_err());
        assert!(Buckets::from_seconds(&[-1.0]).is_err());
        assert!(Buckets::from_seconds(&[f64::NAN]).is_err());
    }

    #[test]
    fn quantile_interpolates_like_promql() {
        let b = Buckets::from_seconds(&[0.1, 0.2, 0.4]).unwrap();
        let s = HistogramSnapshot {
            counts: vec![0, 10, 0, 0],
            sum_ns: 1_500_000_000,
        };
        // All ten samples in (0.1, 0.2]: p50 is the middle of the bucket.
        let p50 = s.quantile_seconds(&b, 0.5).unwrap();
        assert!((p50 - 0.15).abs() < 1e-9, "{p50}");
        let p95 = s.quantile_seconds(&b, 0.95).unwrap();
        assert!((p95 - 0.195).abs() < 1e-9, "{p95}");
        assert_eq!(s.mean_seconds(), Some(0.15));
        assert_eq!(HistogramSnapshot::default().quantile_seconds(&b, 0.5), None);
    }

    #[test]
    fn since_subtracts() {
        let a = HistogramSnapshot {
            counts: vec![1, 2],
            sum_ns: 10,
        };
        let b = HistogramSnapshot {
            counts: vec![3, 2],
            sum_ns: 30,
        };
        assert_eq!(
            b.since(&a),
            HistogramSnapshot {
                counts: vec![2, 0],
                sum_ns: 20
            }
        );
    }
}
