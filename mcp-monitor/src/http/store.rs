//! The HTTP series of one monitor: a latency histogram per `(method, path, status)`.
//!
//! `mcp_http_requests_total` is each histogram's count, so a request costs one bucket
//! and one sum increment. Label sets are bounded three ways: `path` is a route template
//! (or `unmatched`), methods outside the standard set share `OTHER`, and past
//! `max_series` label sets every new one is counted under `path="overflow"` (with
//! `mcp_http_series_overflow_total` saying how many requests went there).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use http::Method;

use crate::base::exposition::label_pairs;
use crate::base::gauge::Gauge;
use crate::base::histogram::{AtomicHistogram, Buckets};
use crate::base::long_poll::LongPolls;

/// `path` of requests that matched no route.
pub const UNMATCHED_PATH: &str = "unmatched";
/// `path` of label sets created after the cap was reached.
pub const OVERFLOW_PATH: &str = "overflow";

/// The `method` label: the standard methods, everything else `OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum MethodLabel {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

impl MethodLabel {
    pub(crate) fn of(m: &Method) -> Self {
        match *m {
            Method::GET => Self::Get,
            Method::HEAD => Self::Head,
            Method::POST => Self::Post,
            Method::PUT => Self::Put,
            Method::DELETE => Self::Delete,
            Method::CONNECT => Self::Connect,
            Method::OPTIONS => Self::Options,
            Method::TRACE => Self::Trace,
            Method::PATCH => Self::Patch,
            _ => Self::Other,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
            Self::Patch => "PATCH",
            Self::Other => "OTHER",
        }
    }
}

/// One label set's histogram.
#[derive(Debug)]
pub(crate) struct HttpSeries {
    /// Its number in the store, in order of creation: where the summary keeps its
    /// values.
    pub(crate) index: usize,
    pub(crate) method: MethodLabel,
    pub(crate) path: Arc<str>,
    pub(crate) status: u16,
    /// `method="…",path="…",status="…"`, escaped once for the text format.
    pub(crate) labels: Box<str>,
    pub(crate) histogram: AtomicHistogram,
}

/// The path map hashes with FxHash (`rustc-hash`). Its keys are route templates,
/// chosen by the application and bounded by the cap, never by clients, so the keyed
/// SipHash of `std` buys no protection here; on the request path FxHash is a few
/// instructions where SipHash is about two hundred.
type PathMap = HashMap<Arc<str>, Vec<Arc<HttpSeries>>, rustc_hash::FxBuildHasher>;

/// The series by path (for recording) and in order of creation (for reading).
#[derive(Debug, Default)]
struct Index {
    by_path: PathMap,
    all: Vec<Arc<HttpSeries>>,
}

/// All HTTP series of a monitor; see the module docs.
#[derive(Debug)]
pub(crate) struct HttpStore {
    index: RwLock<Index>,
    /// Every series sorted by path, method and status, sorted again when series were
    /// added since (the length differs).
    sorted: Mutex<Arc<[Arc<HttpSeries>]>>,
    len: AtomicUsize,
    max_series: usize,
    buckets: Buckets,
    overflowed: AtomicU64,
    /// Requests in flight.
    pub(crate) in_flight: Gauge,
    /// Whether the layers of this store see requests (for the scrape's diagnostic).
    pub(crate) watch: crate::http::watch::LayerWatch,
    /// Refused token checks of the monitor's endpoints.
    pub(crate) auth_failures: AuthFailures,
    /// The monitor's long polls, where the layers count theirs (`kind="http"`).
    pub(crate) long_polls: Arc<LongPolls>,
}

impl HttpStore {
    pub(crate) fn new(buckets: Buckets, max_series: usize) -> Self {
        Self {
            index: RwLock::default(),
            sorted: Mutex::new(Arc::new([])),
            len: AtomicUsize::new(0),
            max_series,
            buckets,
            overflowed: AtomicU64::new(0),
            in_flight: Gauge::default(),
            watch: crate::http::watch::LayerWatch::default(),
            auth_failures: AuthFailures::default(),
            long_polls: Arc::default(),
        }
    }

    /// Counts the long polls of the layers' requests in `long_polls` (by default, a
    /// store that counts none).
    pub(crate) fn with_long_polls(mut self, long_polls: Arc<LongPolls>) -> Self {
        self.long_polls = long_polls;
        self
    }

    /// Records one finished request.
    #[inline]
    pub(crate) fn record(&self, method: MethodLabel, path: &str, status: u16, ns: u64) {
        {
            // Two relaxed adds under the read lock: cheaper than cloning the series'
            // `Arc` out of it (two more atomic read-modify-writes).
            let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = index
                .by_path
                .get(path)
                .and_then(|v| v.iter().find(|s| s.method == method && s.status == status))
            {
                s.histogram.record_ns(ns);
                return;
            }
        }
        self.record_new(method, path, status, ns);
    }

    #[cold]
    fn record_new(&self, method: MethodLabel, path: &str, status: u16, ns: u64) {
        match self.series_for(method, path, status) {
            Some(series) => series.histogram.record_ns(ns),
            None => self.record_overflow(method, status, ns),
        }
    }

    /// Records a request whose label set the cap refused (see [`Self::series_for`])
    /// under `path="overflow"`, and counts it in `mcp_http_series_overflow_total`.
    pub(crate) fn record_overflow(&self, method: MethodLabel, status: u16, ns: u64) {
        self.overflowed.fetch_add(1, Relaxed);
        self.series_for(method, OVERFLOW_PATH, status)
            .expect("overflow label sets are never refused")
            .histogram
            .record_ns(ns);
    }

    /// The series of exactly this label set, created if it is new and the cap allows;
    /// `None` for a new label set past the cap (record it with
    /// [`Self::record_overflow`]). Series are never removed, so the result stays valid.
    /// Past the cap this takes only the read lock.
    pub(crate) fn series_for(
        &self,
        method: MethodLabel,
        path: &str,
        status: u16,
    ) -> Option<Arc<HttpSeries>> {
        let find = |index: &Index| {
            index
                .by_path
                .get(path)
                .and_then(|v| v.iter().find(|s| s.method == method && s.status == status))
                .cloned()
        };
        {
            let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = find(&index) {
                return Some(s);
            }
            // Exact: only a writer adds label sets, and `len` never goes down.
            if self.len.load(Relaxed) >= self.max_series && path != OVERFLOW_PATH {
                return None;
            }
        }
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = find(&index) {
            return Some(s);
        }
        if self.len.load(Relaxed) >= self.max_series && path != OVERFLOW_PATH {
            return None;
        }
        // The series of one path share its key's allocation.
        let key: Arc<str> = match index.by_path.get_key_value(path) {
            Some((k, _)) => k.clone(),
            None => Arc::from(path),
        };
        let series = Arc::new(HttpSeries {
            index: index.all.len(),
            method,
            labels: label_pairs(&[
                ("method", method.as_str()),
                ("path", path),
                ("status", itoa::Buffer::new().format(status)),
            ])
            .into_boxed_str(),
            path: key.clone(),
            status,
            histogram: AtomicHistogram::new(self.buckets.clone()),
        });
        index.by_path.entry(key).or_default().push(series.clone());
        index.all.push(series.clone());
        self.len.fetch_add(1, Relaxed);
        Some(series)
    }

    /// Every series, sorted by path, method and status. Sorted again only when series
    /// were added since the last call.
    pub(crate) fn series(&self) -> Arc<[Arc<HttpSeries>]> {
        let mut sorted = self.sorted.lock().unwrap_or_else(PoisonError::into_inner);
        let len = self.len.load(Relaxed);
        if sorted.len() != len {
            let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
            let mut v = index.all.clone();
            v.sort_by(|a, b| (&a.path, a.method, a.status).cmp(&(&b.path, b.method, b.status)));
            *sorted = v.into();
        }
        sorted.clone()
    }

    /// Requests counted under `path="overflow"` because the cap was reached.
    pub(crate) fn overflowed(&self) -> u64 {
        self.overflowed.load(Relaxed)
    }

    /// Number of label sets.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_other() {
        assert_eq!(MethodLabel::of(&Method::GET).as_str(), "GET");
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(MethodLabel::of(&custom).as_str(), "OTHER");
    }

    #[test]
    fn the_cap_holds_and_overflow_is_counted() {
        let store = HttpStore::new(Buckets::http_default(), 3);
        for i in 0..1000 {
            store.record(MethodLabel::Get, &format!("/p{i}"), 200, 1);
        }
        // Three real label sets, then one overflow set.
        assert_eq!(store.len(), 4);
        assert_eq!(store.overflowed(), 997);
        let total: u64 = store
            .series()
            .iter()
            .map(|s| s.histogram.snapshot().count())
            .sum();
        assert_eq!(total, 1000);
        // Known label sets keep recording under their own path.
        store.record(MethodLabel::Get, "/p0", 200, 1);
        let p0 = store
            .series()
            .iter()
            .find(|s| &*s.path == "/p0")
            .cloned()
            .unwrap();
        assert_eq!(p0.histogram.snapshot().count(), 2);
    }
}

/// `mcp_http_auth_failures_total{path, reason}`: refused token checks, by route
/// template of the monitor's router and reason (one of
/// [`AUTH_FAILURE_REASONS`](crate::base::names::AUTH_FAILURE_REASONS)). Bounded by the
/// router's routes times four; off the hot path (a refusal takes a lock).
#[derive(Debug, Default)]
pub(crate) struct AuthFailures(Mutex<std::collections::BTreeMap<(String, &'static str), u64>>);

impl AuthFailures {
    /// Counts one refusal of a request to the route `path` for `reason`.
    pub(crate) fn add(&self, path: &str, reason: &'static str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match counts.get_mut(&(path.to_owned(), reason)) {
            Some(n) => *n += 1,
            None => {
                counts.insert((path.to_owned(), reason), 1);
            }
        }
    }

    /// Every (path, reason, count), sorted by path and reason.
    pub(crate) fn counts(&self) -> Vec<(String, &'static str, u64)> {
        let counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .map(|((p, r), n)| (p.clone(), *r, *n))
            .collect()
    }
}
