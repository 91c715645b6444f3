//! The process-wide store of the series that the instrumentation macros record into.
//!
//! Every macro call site holds a `&'static` reference to its series, taken from here the
//! first time it runs; after that the site never comes back. Series are created once
//! per distinct label set (two call sites with the same literals share one series, so
//! counts stay exact) and live for the rest of the process: call sites are finite, so
//! this is bounded by the program's source, never by its input. A reset of the summary
//! store takes baselines elsewhere and never touches these atomics, which is what keeps
//! the Prometheus series monotonic and later recordings correct.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use crate::base::gauge::Gauge;
use crate::base::histogram::{AtomicHistogram, Buckets, HistogramSnapshot};
use crate::base::names::OpKind;
use crate::calls::outcome::Status;

/// Counts by outcome and a latency histogram for one label set.
#[derive(Debug)]
pub(crate) struct OpSeries {
    pub(crate) kind: OpKind,
    pub(crate) labels: [&'static str; 2],
    /// The latency histogram, whose categories are the [`Status`]es.
    pub(crate) histogram: AtomicHistogram,
}

impl OpSeries {
    fn new(kind: OpKind, labels: [&'static str; 2], buckets: Buckets) -> Self {
        Self {
            kind,
            labels,
            histogram: AtomicHistogram::striped(buckets, Status::ALL.len()),
        }
    }

    /// Records one finished call.
    #[inline]
    pub(crate) fn record(&self, status: Status, ns: u64) {
        self.histogram.record_ns_in(ns, status as usize);
    }

    /// Copies the current values.
    pub(crate) fn snapshot(&self) -> OpSnapshot {
        OpSnapshot {
            statuses: [0, 1, 2].map(|i| self.histogram.category_count(i)),
            histogram: self.histogram.snapshot(),
        }
    }
}

/// The values of an [`OpSeries`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OpSnapshot {
    /// Calls by [`Status`] (success, failure, cancelled).
    pub(crate) statuses: [u64; 3],
    pub(crate) histogram: HistogramSnapshot,
}

impl OpSnapshot {
    /// What was recorded since `earlier`.
    pub(crate) fn since(&self, earlier: &OpSnapshot) -> OpSnapshot {
        OpSnapshot {
            statuses: [0, 1, 2].map(|i| self.statuses[i].saturating_sub(earlier.statuses[i])),
            histogram: self.histogram.since(&earlier.histogram),
        }
    }

    /// All finished calls.
    pub(crate) fn total(&self) -> u64 {
        self.statuses.iter().sum()
    }

    /// Calls that failed (returned `Err` or panicked).
    pub(crate) fn failures(&self) -> u64 {
        self.statuses[Status::Failure as usize]
    }
}

/// The number of executions of one workflow in progress.
#[derive(Debug)]
pub(crate) struct ActiveGauge {
    pub(crate) workflow: &'static str,
    /// How many are in progress.
    pub(crate) value: Gauge,
}

/// Histogram buckets for each kind of operation, fixed when a series is created.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpBuckets {
    pub(crate) db: Buckets,
    pub(crate) workflow: Buckets,
}

impl Default for OpBuckets {
    fn default() -> Self {
        Self {
            db: Buckets::db_default(),
            workflow: Buckets::workflow_default(),
        }
    }
}

type SeriesMap = HashMap<(OpKind, [&'static str; 2]), &'static OpSeries>;

/// The global store; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    ops: RwLock<SeriesMap>,
    active: RwLock<HashMap<&'static str, &'static ActiveGauge>>,
    buckets: RwLock<OpBuckets>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

/// The process-wide registry.
pub(crate) fn registry() -> &'static Registry {
    &REGISTRY
}

impl Registry {
    /// The series for `kind` and `labels`, created on first use.
    pub(crate) fn op_series(&self, kind: OpKind, labels: [&'static str; 2]) -> &'static OpSeries {
        if let Some(s) = self
            .ops
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(kind, labels))
        {
            return s;
        }
        let buckets = {
            let b = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
            match kind {
                OpKind::Db => b.db.clone(),
                OpKind::Step | OpKind::Run => b.workflow.clone(),
            }
        };
        let mut map = self.ops.write().unwrap_or_else(PoisonError::into_inner);
        map.entry((kind, labels))
            .or_insert_with(|| Box::leak(Box::new(OpSeries::new(kind, labels, buckets))))
    }

    /// The active-executions gauge of `workflow`, created on first use.
    pub(crate) fn active(&self, workflow: &'static str) -> &'static ActiveGauge {
        if let Some(g) = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(workflow)
        {
            return g;
        }
        let mut map = self.active.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(workflow).or_insert_with(|| {
            Box::leak(Box::new(ActiveGauge {
                workflow,
                value: Gauge::default(),
            }))
        })
    }

    /// Sets the buckets used by series created from now on.
    ///
    /// Returns how many series already exist (they keep the buckets they were made with).
    pub(crate) fn set_buckets(&self, buckets: OpBuckets) -> usize {
        *self.buckets.write().unwrap_or_else(PoisonError::into_inner) = buckets;
        self.ops
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// All operation series of `kind`, sorted by labels.
    pub(crate) fn ops(&self, kind: OpKind) -> Vec<&'static OpSeries> {
        let mut v: Vec<_> = self
            .ops
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .copied()
            .filter(|s| s.kind == kind)
            .collect();
        v.sort_by_key(|s| s.labels);
        v
    }

    /// All active gauges, sorted by workflow.
    pub(crate) fn active_gauges(&self) -> Vec<&'static ActiveGauge> {
        let mut v: Vec<_> = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .copied()
            .collect();
        v.sort_by_key(|g| g.workflow);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_labels_share_one_series() {
        let r = Registry::default();
        let a = r.op_series(OpKind::Db, ["select", "t_share"]);
        let b = r.op_series(OpKind::Db, ["select", "t_share"]);
        assert!(std::ptr::eq(a, b));
        let c = r.op_series(OpKind::Step, ["select", "t_share"]);
        assert!(!std::ptr::eq(a, c));
        assert_eq!(r.ops(OpKind::Db).len(), 1);
    }

    #[test]
    fn buckets_apply_to_new_series() {
        let r = Registry::default();
        let before = r.op_series(OpKind::Db, ["a", "b"]);
        let custom = Buckets::from_seconds(&[1.0]).unwrap();
        let existing = r.set_buckets(OpBuckets {
            db: custom.clone(),
            workflow: Buckets::workflow_default(),
        });
        assert_eq!(existing, 1);
        let after = r.op_series(OpKind::Db, ["c", "d"]);
        assert_eq!(after.histogram.buckets(), &custom);
        assert_eq!(before.histogram.buckets(), &Buckets::db_default());
    }

    #[test]
    fn snapshot_delta() {
        let r = Registry::default();
        let s = r.op_series(OpKind::Run, ["wf", ""]);
        let t0 = s.snapshot();
        s.record(Status::Success, 5);
        s.record(Status::Failure, 7);
        let d = s.snapshot().since(&t0);
        assert_eq!(d.total(), 2);
        assert_eq!(d.failures(), 1);
        assert_eq!(d.histogram.sum_ns, 12);
    }
}
