//! What the objectives' tracker takes from a reading: each objective's cumulative bad
//! and total events, from the start of the process (the counters `/metrics` shows).

use crate::base::histogram::HistogramSnapshot;
use crate::base::names::OpKind;
use crate::reading::Reading;
use crate::slo::burn::Counts;
use crate::slo::objective::same_bound;
use crate::slo::{Indicator, Objective};
use crate::summary::snapshot::Origin;

impl Reading {
    /// The events of `o`'s target so far, and how many were bad: a 5xx response or a
    /// `failure` for availability; a duration above the threshold for latency (counted
    /// from the bucket whose bound is the threshold; a series made before the buckets
    /// were configured uses its first bound at or above it).
    pub(crate) fn slo_counts(&self, o: &Objective) -> Counts {
        let mut c = Counts::default();
        let slow = |h: &HistogramSnapshot, bounds: &[f64], threshold: f64| {
            let within = bounds
                .iter()
                .position(|b| same_bound(*b, threshold) || *b > threshold)
                .map_or(h.count(), |i| h.counts[..=i].iter().sum());
            h.count().saturating_sub(within)
        };
        let threshold = match o.indicator {
            Indicator::Latency { threshold } => Some(threshold.as_secs_f64()),
            Indicator::Availability => None,
        };
        let Some((kind, want)) = o.target.op_labels() else {
            for s in self.http_series() {
                if !o.target.matches_http(s.method.as_str(), &s.path) {
                    continue;
                }
                let h = self.http_since(s.index, &Origin::Zero);
                let n = h.count();
                c.total += n;
                c.bad += match threshold {
                    None if s.status >= 500 => n,
                    None => 0,
                    Some(t) => slow(&h, self.http.buckets.bounds(), t),
                };
            }
            return c;
        };
        let kind = match kind {
            "db" => OpKind::Db,
            "step" => OpKind::Step,
            _ => OpKind::Run,
        };
        for p in self.ops(kind) {
            let matches = want
                .iter()
                .zip(p.series.labels)
                .all(|(w, l)| w.is_none_or(|w| w == l));
            if !matches {
                continue;
            }
            let s = self.op_since(p, &Origin::Zero);
            match threshold {
                None => {
                    c.total += s.total();
                    c.bad += s.failures();
                }
                Some(t) => {
                    c.total += s.histogram.count();
                    c.bad += slow(&s.histogram, p.series.histogram.buckets().bounds(), t);
                }
            }
        }
        c
    }
}
