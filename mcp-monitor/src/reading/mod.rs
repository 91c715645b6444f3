//! A [`Reading`]: every value the monitor holds, taken at one moment.
//!
//! Take one with [`Monitor::read`](crate::Monitor::read). The Prometheus text, the JSON
//! documents and the alert engine's observations are each computed from one reading;
//! application code and tests read it through [`Reading::db`], [`Reading::step`],
//! [`Reading::run`] and [`Reading::route`], and subtract an earlier reading with
//! [`Reading::since`] to see only the calls made in between:
//!
//! ```
//! use mcp_monitor::{monitor_db_operation, Monitor, Status};
//!
//! #[monitor_db_operation("insert", "readme_users")]
//! async fn insert_user(name: &str) -> Result<u64, std::io::Error> {
//!     Ok(name.len() as u64)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let monitor = Monitor::builder().build().unwrap();
//! let before = monitor.read();
//! insert_user("ada").await.unwrap();
//! let calls = monitor.read().since(&before).db("insert", "readme_users");
//! assert_eq!(calls.count(Status::Success), 1);
//! assert_eq!(calls.total(), 1);
//! assert!(calls.mean().is_some());
//! # }
//! ```

mod aggregate;
mod calls;
mod grpc;
mod objectives;
mod observe;
mod parts;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use crate::base::long_poll::LongPoll;
pub use crate::facade::store::{
    HistogramValue, MetricFamily, MetricKind, MetricSeries, MetricValue, OVERFLOW_VALUE,
};
pub use crate::sources::runtime::{RuntimePoint, RuntimeReading, RuntimeSample};
pub use calls::{Calls, Requests, Stats};

pub(crate) use aggregate::Agg;
pub(crate) use grpc::{GrpcMethodTotals, GrpcPart};
pub(crate) use parts::{AlertsPart, HttpPart, OpPart, Sources};

use crate::base::histogram::HistogramSnapshot;
use crate::base::names::OpKind;
use crate::calls::registry::OpSnapshot;
use crate::http::store::HttpSeries;
use crate::sources::pools::PoolSample;
use crate::sources::resources::ResourceSample;
use crate::summary::history::{Peaks, Point};
use crate::summary::snapshot::{key, Origin, Snapshot};

/// Every value of the monitor at one moment: see the [module docs](self).
///
/// Counters read through [`db`](Self::db), [`step`](Self::step), [`run`](Self::run) and
/// [`route`](Self::route) count from the start of the process (as `/metrics` does), or
/// from an earlier reading after [`since`](Self::since). Macro series are process-wide:
/// two monitors, or two tests in one binary, see the same calls, so a test asserts on
/// the difference around its own calls, with label values of its own.
#[derive(Debug, Clone)]
pub struct Reading {
    pub(crate) unix_ms: i64,
    pub(crate) uptime: Duration,
    pub(crate) current: Arc<Snapshot>,
    /// Where the public counters start.
    pub(crate) origin: Origin,
    /// Where "since reset" starts.
    pub(crate) reset: Origin,
    /// Where "over the window" starts.
    pub(crate) window: Origin,
    pub(crate) http: HttpPart,
    pub(crate) grpc: GrpcPart,
    pub(crate) db: Vec<OpPart>,
    pub(crate) steps: Vec<OpPart>,
    pub(crate) runs: Vec<OpPart>,
    pub(crate) active: Vec<(&'static str, i64)>,
    pub(crate) caches: Vec<(Arc<str>, usize)>,
    pub(crate) resources: ResourceSample,
    pub(crate) pools: Vec<PoolSample>,
    pub(crate) runtime: Option<RuntimeReading>,
    pub(crate) metrics: Vec<MetricFamily>,
    pub(crate) long_polls: Vec<LongPoll>,
    pub(crate) alerts: AlertsPart,
    pub(crate) history: (Vec<Point>, Peaks),
    pub(crate) tick_interval: Duration,
    /// Every objective's budget and burn rates at the last evaluation.
    pub(crate) slos: Vec<crate::slo::burn::SloStatus>,
    /// The OTLP exports `[sent, failed, dropped]`, when the push runs.
    pub(crate) otlp: Option<[u64; 3]>,
}

impl Reading {
    /// Reads everything `sources` gives.
    pub(crate) fn take(sources: Sources<'_>) -> Self {
        parts::read(sources)
    }

    /// The moment the values were read.
    pub(crate) fn at(&self) -> Instant {
        self.current.at
    }

    /// How long "since reset" covers.
    pub(crate) fn since_reset(&self) -> Duration {
        self.span(&self.reset)
    }

    /// How long "over the window" actually covers (less than the configured window
    /// just after start or a reset).
    pub(crate) fn window_span(&self) -> Duration {
        self.span(&self.window)
    }

    fn span(&self, origin: &Origin) -> Duration {
        origin
            .at()
            .map_or(self.uptime, |t| self.at().saturating_duration_since(t))
    }

    /// The HTTP series read, sorted by path, method and status.
    pub(crate) fn http_series(&self) -> &[Arc<HttpSeries>] {
        &self.current.http_series
    }

    /// The operation series of one family.
    pub(crate) fn ops(&self, kind: OpKind) -> &[OpPart] {
        match kind {
            OpKind::Db => &self.db,
            OpKind::Step => &self.steps,
            OpKind::Run => &self.runs,
        }
    }

    /// An operation series' values since `origin`.
    pub(crate) fn op_since(&self, part: &OpPart, origin: &Origin) -> OpSnapshot {
        let k = key(part.series);
        let now = self.current.ops.get(&k).cloned().unwrap_or_default();
        origin
            .op(k)
            .map_or_else(|| now.clone(), |then| now.since(then))
    }

    /// The difference between this reading and an `earlier` one: the counters read
    /// through [`db`](Self::db), [`step`](Self::step), [`run`](Self::run) and
    /// [`route`](Self::route) count only what happened in between. Gauges (in-flight
    /// requests, active workflows) are this reading's.
    #[must_use]
    pub fn since(&self, earlier: &Reading) -> Reading {
        Reading {
            origin: Origin::Snapshot(earlier.current.clone()),
            ..self.clone()
        }
    }

    /// Calls of `#[monitor_db_operation(operation, table)]`.
    pub fn db(&self, operation: &str, table: &str) -> Calls {
        self.calls(OpKind::Db, [operation, table])
    }

    /// Calls of `#[monitor_workflow_step(workflow, step)]`.
    pub fn step(&self, workflow: &str, step: &str) -> Calls {
        self.calls(OpKind::Step, [workflow, step])
    }

    /// Runs of `#[monitor_workflow(workflow)]`.
    pub fn run(&self, workflow: &str) -> Calls {
        self.calls(OpKind::Run, [workflow, ""])
    }

    fn calls(&self, kind: OpKind, labels: [&str; 2]) -> Calls {
        self.ops(kind)
            .iter()
            .find(|p| p.series.labels == labels)
            .map_or_else(Calls::default, |p| {
                Calls::new(&self.op_since(p, &self.origin))
            })
    }

    /// Requests to the route template `path` (as axum matched it, such as
    /// `/users/{id}`) with the method `method` (`"GET"`; methods outside the standard
    /// set are `"OTHER"`), by status code.
    pub fn route(&self, method: &str, path: &str) -> Requests {
        let by_status = self
            .http_series()
            .iter()
            .filter(|s| s.method.as_str() == method && &*s.path == path)
            .map(|s| (s.status, self.http_since(s.index, &self.origin)))
            .collect();
        Requests::new(by_status)
    }

    /// HTTP requests being served.
    pub fn in_flight(&self) -> i64 {
        self.http.in_flight
    }

    /// Executions of `workflow` in progress.
    pub fn active_workflows(&self, workflow: &str) -> i64 {
        self.active
            .iter()
            .find(|(w, _)| *w == workflow)
            .map_or(0, |(_, n)| *n)
    }

    /// The cache `name`'s `(hits, misses)`.
    pub fn cache(&self, name: &str) -> (u64, u64) {
        self.caches
            .iter()
            .find(|(n, _)| &**n == name)
            .map_or((0, 0), |(_, k)| {
                let [h, m] = self.cache_since(*k, &self.origin);
                (h, m)
            })
    }

    /// How long the monitor had been running.
    pub fn uptime(&self) -> Duration {
        self.uptime
    }

    /// The Tokio runtime the monitor watches (see
    /// [`Monitor::watch_runtime`](crate::Monitor::watch_runtime)), now and over the
    /// window; `None` when there is none to watch (absent, not zero).
    pub fn runtime(&self) -> Option<&RuntimeReading> {
        self.runtime.as_ref()
    }

    /// The monitored calls with a poll that held its thread longer than
    /// `MCP_LONG_POLL_THRESHOLD` (a blocked executor), by kind (`db`, `step`, `run`,
    /// then `http`, `grpc`) and name, each with its count and longest poll: the
    /// values of `mcp_long_polls_total`. They count from the start of the process (the
    /// macro sites, which are process-wide) or of the monitor (requests), whatever
    /// [`since`](Self::since) and a reset say.
    ///
    /// ```
    /// # fn main() -> Result<(), mcp_monitor::Error> {
    /// let monitor = mcp_monitor::Monitor::builder().build()?;
    /// for poll in monitor.read().long_polls() {
    ///     println!("{} {}: {} long polls, the longest {:?}", poll.kind, poll.name, poll.count, poll.longest);
    /// }
    /// assert!(monitor.read().long_poll("http", "GET /users/{id}").is_none());
    /// # Ok(()) }
    /// ```
    pub fn long_polls(&self) -> &[LongPoll] {
        &self.long_polls
    }

    /// The long polls of the call `kind` `name` (`"http"`, `"GET /users/{id}"`), if it
    /// had any.
    pub fn long_poll(&self, kind: &str, name: &str) -> Option<&LongPoll> {
        self.long_polls
            .iter()
            .find(|p| p.kind == kind && p.name == name)
    }

    /// The application's own series, recorded through the `metrics` facade
    /// (`metrics::counter!` and friends) while the monitor is the global recorder:
    /// every name, sorted, with its label sets. Values count from the start of the
    /// process.
    pub fn metrics(&self) -> &[MetricFamily] {
        &self.metrics
    }

    /// The application metric `name` with exactly the labels `labels` (in any order).
    fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<&MetricValue> {
        self.metrics
            .iter()
            .find(|f| f.name == name)?
            .series
            .iter()
            .find(|s| s.has_labels(labels))
            .map(|s| &s.value)
    }

    /// The application counter `name{labels}`, if recorded.
    ///
    /// ```
    /// let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    /// metrics::with_local_recorder(&monitor.recorder(), || {
    ///     metrics::counter!("logins_total", "method" => "sso").increment(2);
    /// });
    /// assert_eq!(monitor.read().counter("logins_total", &[("method", "sso")]), Some(2));
    /// ```
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        match self.metric(name, labels)? {
            MetricValue::Counter(v) => Some(*v),
            _ => None,
        }
    }

    /// The application gauge `name{labels}`, if recorded.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.metric(name, labels)? {
            MetricValue::Gauge(v) => Some(*v),
            _ => None,
        }
    }

    /// The application histogram `name{labels}`, if recorded.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<&HistogramValue> {
        match self.metric(name, labels)? {
            MetricValue::Histogram(h) => Some(h),
            _ => None,
        }
    }

    /// A cache's `[hits, misses]` since `origin`.
    pub(crate) fn cache_since(&self, key: usize, origin: &Origin) -> [u64; 2] {
        let now = self.current.caches.get(&key).copied().unwrap_or_default();
        let then = origin.cache(key);
        [
            now[0].saturating_sub(then[0]),
            now[1].saturating_sub(then[1]),
        ]
    }

    /// HTTP series `index`'s values since `origin` (zero for a series this reading
    /// does not have).
    /// The classic bucket counts are left empty when the origin is a frame of the
    /// ring (which keeps only the native histogram, what quantiles are read from).
    pub(crate) fn http_since(&self, index: usize, origin: &Origin) -> HistogramSnapshot {
        let http = &self.current.http;
        let (Some(now), Some(&now_sum), Some(native)) = (
            http.counts(index),
            http.sums.get(index),
            http.native.get(index),
        ) else {
            return HistogramSnapshot {
                counts: vec![0; http.width],
                ..HistogramSnapshot::default()
            };
        };
        let then = origin.http(index, http.width);
        let counts = if then.counts.len() == now.len() {
            now.iter()
                .zip(&then.counts)
                .map(|(n, t)| n.saturating_sub(*t))
                .collect()
        } else {
            Vec::new()
        };
        HistogramSnapshot {
            counts,
            sum_ns: now_sum.saturating_sub(then.sum_ns),
            native: native.since(&then.native),
        }
    }
}
