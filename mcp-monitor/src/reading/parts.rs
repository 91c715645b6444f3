//! What a reading is made of, and how one is taken.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::engine::{Alert, AlertStatus};
use crate::alerts::notify::NotifierCounts;
use crate::base::histogram::{Buckets, Exemplar};
use crate::base::long_poll::LongPoll;
use crate::base::names::OpKind;
use crate::calls::registry::{registry, OpSeries};
use crate::facade::store::MetricFamily;
use crate::http::store::HttpStore;
use crate::reading::Reading;
use crate::sources::caches::CacheSet;
use crate::sources::pools::PoolSample;
use crate::sources::resources::ResourceSample;
use crate::sources::runtime::RuntimeReading;
use crate::summary::history::{Peaks, Point};
use crate::summary::snapshot::{Origin, Snapshot};

/// The HTTP series of a reading, sorted by path, method and status.
#[derive(Debug, Clone)]
pub(crate) struct HttpPart {
    pub(crate) buckets: Buckets,
    /// Per series (in the order of [`Reading::http_series`]), its exemplars; empty
    /// unless asked for.
    pub(crate) exemplars: Vec<Option<Vec<Option<Exemplar>>>>,
    pub(crate) in_flight: i64,
    pub(crate) overflowed: u64,
    pub(crate) label_sets: usize,
    /// Refused token checks: (route, reason, count).
    pub(crate) auth_failures: Vec<(String, &'static str, u64)>,
}

/// One macro series of a reading.
#[derive(Debug, Clone)]
pub(crate) struct OpPart {
    pub(crate) series: &'static OpSeries,
    /// Its exemplars, if asked for and there are any.
    pub(crate) exemplars: Option<Vec<Option<Exemplar>>>,
}

/// The alert engine's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertsPart {
    /// Pending and firing rules.
    pub(crate) statuses: Vec<AlertStatus>,
    /// Firing alerts.
    pub(crate) active: Vec<Alert>,
    /// Alerts fired since reset, oldest first.
    pub(crate) history: Vec<Alert>,
    /// The notifier's counters, when it runs.
    pub(crate) notifier: Option<NotifierCounts>,
}

/// What the monitor hands over to take a reading.
#[derive(Debug)]
pub(crate) struct Sources<'a> {
    pub(crate) started: Instant,
    pub(crate) current: Snapshot,
    pub(crate) reset: Origin,
    pub(crate) window: Origin,
    pub(crate) http: &'a HttpStore,
    pub(crate) grpc: &'a crate::grpc::store::GrpcStore,
    pub(crate) caches: &'a CacheSet,
    /// Whether to read the exemplars (for OpenMetrics).
    pub(crate) exemplars: bool,
    pub(crate) resources: ResourceSample,
    pub(crate) pools: Vec<PoolSample>,
    /// The Tokio runtime watched, if any.
    pub(crate) runtime: Option<RuntimeReading>,
    /// The application's own `metrics` series.
    pub(crate) metrics: Vec<MetricFamily>,
    /// The long polls of the macro sites, then of the layers.
    pub(crate) long_polls: Vec<LongPoll>,
    pub(crate) alerts: AlertsPart,
    pub(crate) history: (Vec<Point>, Peaks),
    pub(crate) tick_interval: Duration,
    pub(crate) slos: Vec<crate::slo::burn::SloStatus>,
    /// The OTLP exports `[sent, failed, dropped]`, when the push runs.
    pub(crate) otlp: Option<[u64; 3]>,
}

/// Takes a reading from `s`.
pub(crate) fn read(s: Sources<'_>) -> Reading {
    let reg = registry();
    let ops = |kind| -> Vec<OpPart> {
        reg.ops(kind)
            .into_iter()
            .map(|series| OpPart {
                series,
                exemplars: if s.exemplars {
                    series.histogram.exemplars()
                } else {
                    None
                },
            })
            .collect()
    };
    let exemplars = if s.exemplars {
        s.current
            .http_series
            .iter()
            .map(|h| h.histogram.exemplars())
            .collect()
    } else {
        Vec::new()
    };
    Reading {
        unix_ms: chrono::Utc::now().timestamp_millis(),
        uptime: s.current.at.saturating_duration_since(s.started),
        http: HttpPart {
            buckets: s.http.buckets().clone(),
            exemplars,
            in_flight: s.http.in_flight.get(),
            overflowed: s.http.overflowed(),
            label_sets: s.http.len(),
            auth_failures: s.http.auth_failures.counts(),
        },
        grpc: crate::reading::GrpcPart::read(
            s.grpc,
            &s.current
                .grpc
                .series
                .iter()
                .map(|(g, _)| g.clone())
                .collect::<Vec<_>>(),
            s.exemplars,
        ),
        db: ops(OpKind::Db),
        steps: ops(OpKind::Step),
        runs: ops(OpKind::Run),
        active: reg
            .active_gauges()
            .iter()
            .map(|g| (g.workflow, g.value.get()))
            .collect(),
        caches: s
            .caches
            .all()
            .iter()
            .map(|c| (Arc::from(c.name()), crate::summary::snapshot::key(&**c)))
            .collect(),
        current: Arc::new(s.current),
        origin: Origin::Zero,
        reset: s.reset,
        window: s.window,
        resources: s.resources,
        pools: s.pools,
        runtime: s.runtime,
        metrics: s.metrics,
        long_polls: s.long_polls,
        alerts: s.alerts,
        history: s.history,
        tick_interval: s.tick_interval,
        slos: s.slos,
        otlp: s.otlp,
    }
}
