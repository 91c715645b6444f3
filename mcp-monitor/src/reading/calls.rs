//! What a reading tells of one label set: [`Calls`] of a monitored function, the
//! [`Requests`] of one route, and the [`Stats`] the JSON documents show for them.

use std::time::Duration;

use serde::Serialize;

use crate::base::histogram::HistogramSnapshot;
use crate::calls::outcome::Status;
use crate::calls::registry::OpSnapshot;
use crate::reading::aggregate::{merge, Agg};

/// Counts and latency of a group of calls, as the JSON documents show them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// Calls (requests, operations).
    pub count: u64,
    /// Failed calls: 5xx responses, `Err` returns or panics.
    pub failures: u64,
    /// `failures / count`, `null` without calls.
    pub error_rate: Option<f64>,
    /// Mean latency in seconds, `null` without calls.
    pub mean_seconds: Option<f64>,
    /// 95th percentile latency in seconds, `null` without calls: from the native
    /// histogram, within 4.4% of the exact 95th percentile of the same calls (at the
    /// default schema 3; see [`Calls::quantile`]).
    pub p95_seconds: Option<f64>,
}

impl From<Agg> for Stats {
    fn from(a: Agg) -> Self {
        Self {
            count: a.count,
            failures: a.failures,
            error_rate: a.error_rate(),
            mean_seconds: a.mean_seconds,
            p95_seconds: a.p95_seconds,
        }
    }
}

fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// The calls of one monitored function (one label set), from [`Reading::db`],
/// [`Reading::step`] or [`Reading::run`]. A label set never called reads as zero.
///
/// [`Reading::db`]: crate::reading::Reading::db
/// [`Reading::step`]: crate::reading::Reading::step
/// [`Reading::run`]: crate::reading::Reading::run
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calls {
    values: OpSnapshot,
}

impl Calls {
    pub(crate) fn new(values: &OpSnapshot) -> Self {
        Self {
            values: values.clone(),
        }
    }

    /// Calls that ended with `status`.
    pub fn count(&self, status: Status) -> u64 {
        self.values.statuses[status as usize]
    }

    /// All finished calls.
    pub fn total(&self) -> u64 {
        self.values.total()
    }

    /// The time all the calls took together.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.values.histogram.sum_ns)
    }

    /// The mean duration of a call; `None` without calls.
    pub fn mean(&self) -> Option<Duration> {
        self.values.histogram.mean_seconds().map(seconds)
    }

    /// The 95th percentile; `None` without calls. See [`quantile`](Self::quantile).
    pub fn p95(&self) -> Option<Duration> {
        self.quantile(0.95)
    }

    /// The `q` quantile (0 to 1); `None` without calls.
    ///
    /// It is read from the native histogram: the geometric middle of the bucket that
    /// holds the call of rank `ceil(q × count)`, so it is within 4.4% of that call's
    /// exact duration at the default schema 3 (`2^(2^-(schema+1)) - 1` in general:
    /// 2.2% at schema 4), whatever the distribution. Calls measured as 0 ns read as 0.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        self.values.histogram.quantile(q).map(seconds)
    }

    /// Count, failures, error rate, mean and p95, as in `/metrics/summary`.
    pub fn stats(&self) -> Stats {
        Agg::of_op(&self.values).into()
    }
}

/// The requests of one route and method, by status code, from
/// [`Reading::route`](crate::reading::Reading::route).
#[derive(Debug, Clone, PartialEq)]
pub struct Requests {
    by_status: Vec<(u16, HistogramSnapshot)>,
}

impl Requests {
    pub(crate) fn new(by_status: Vec<(u16, HistogramSnapshot)>) -> Self {
        Self { by_status }
    }

    fn merged(&self, keep: impl Fn(u16) -> bool) -> HistogramSnapshot {
        let mut h = HistogramSnapshot::default();
        for (_, s) in self.by_status.iter().filter(|(c, _)| keep(*c)) {
            merge(&mut h, s);
        }
        h
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.merged(|_| true).count()
    }

    /// Requests answered with `status` (`499` for a client that went away, `500` for a
    /// handler that panicked).
    pub fn count(&self, status: u16) -> u64 {
        self.merged(|c| c == status).count()
    }

    /// Requests answered with a 5xx status: what the error rate counts.
    pub fn server_errors(&self) -> u64 {
        self.merged(|c| c >= 500).count()
    }

    /// The status codes answered, each with its number of requests, in order.
    pub fn statuses(&self) -> Vec<(u16, u64)> {
        let mut v: Vec<_> = self
            .by_status
            .iter()
            .map(|(c, h)| (*c, h.count()))
            .collect();
        v.sort_unstable();
        v
    }

    /// The time all the requests took together (until the response head).
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.merged(|_| true).sum_ns)
    }

    /// The mean duration of a request; `None` without requests.
    pub fn mean(&self) -> Option<Duration> {
        self.merged(|_| true).mean_seconds().map(seconds)
    }

    /// The 95th percentile; `None` without requests. See [`quantile`](Self::quantile).
    pub fn p95(&self) -> Option<Duration> {
        self.quantile(0.95)
    }

    /// The `q` quantile (0 to 1); `None` without requests. Like
    /// [`Calls::quantile`]: within 4.4% of the exact quantile at the default schema 3.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        self.merged(|_| true).quantile(q).map(seconds)
    }

    /// Count, failures (5xx), error rate, mean and p95, as in `/metrics/summary`.
    pub fn stats(&self) -> Stats {
        let h = self.merged(|_| true);
        Agg::from_hist(&h, h.count(), self.server_errors()).into()
    }
}
