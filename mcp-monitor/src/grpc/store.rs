//! The gRPC series of one monitor: a latency histogram per `(service, method, code)`
//! and an in-flight gauge per `(service, method)`.
//!
//! `mcp_grpc_requests_total` is each histogram's count. Label sets are bounded by the
//! methods the layers were told the server serves (each with at most the 17 codes);
//! every other path shares the one method `unknown`/`unknown`.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use crate::base::exposition::label_pairs;
use crate::base::gauge::Gauge;
use crate::base::histogram::{AtomicHistogram, Buckets};
use crate::base::long_poll::LongPolls;
use crate::grpc::code::Code;

/// The `service` and `method` of calls to a method the server was not declared to serve.
pub const UNKNOWN_METHOD: &str = "unknown";

/// One label set's histogram.
#[derive(Debug)]
pub(crate) struct GrpcSeries {
    pub(crate) service: Arc<str>,
    pub(crate) method: Arc<str>,
    pub(crate) code: Code,
    /// `service="…",method="…",code="…"`, escaped once for the text format.
    pub(crate) labels: Box<str>,
    pub(crate) histogram: AtomicHistogram,
}

/// One method: its in-flight gauge and its series, one per code, made when first used.
#[derive(Debug)]
pub(crate) struct GrpcMethod {
    pub(crate) service: Arc<str>,
    pub(crate) method: Arc<str>,
    /// `service="…",method="…"`, escaped once.
    pub(crate) labels: Box<str>,
    /// Calls of this method in flight.
    pub(crate) in_flight: Gauge,
    codes: [OnceLock<Arc<GrpcSeries>>; Code::COUNT],
}

/// All gRPC series of a monitor; see the module docs.
#[derive(Debug)]
pub(crate) struct GrpcStore {
    buckets: Buckets,
    /// Every method, in order of declaration (the first is `unknown`).
    methods: Mutex<Vec<Arc<GrpcMethod>>>,
    /// Every series, sorted by service, method and code; replaced when one is added.
    series: RwLock<Arc<[Arc<GrpcSeries>]>>,
    /// Where the layers count their calls' long polls (kind `grpc`): the monitor's.
    pub(crate) long_polls: Arc<LongPolls>,
}

impl GrpcStore {
    pub(crate) fn new(buckets: Buckets) -> Self {
        let store = Self {
            buckets,
            methods: Mutex::default(),
            series: RwLock::new(Arc::new([])),
            long_polls: Arc::default(),
        };
        store.method(UNKNOWN_METHOD, UNKNOWN_METHOD);
        store
    }

    /// Counts the long polls of the layers' calls in `long_polls` (by default, a store
    /// of its own).
    pub(crate) fn with_long_polls(mut self, long_polls: Arc<LongPolls>) -> Self {
        self.long_polls = long_polls;
        self
    }

    /// The method `service`/`method`, created the first time it is declared. Layers
    /// built with the same method share it.
    pub(crate) fn method(&self, service: &str, method: &str) -> Arc<GrpcMethod> {
        let mut methods = self.methods.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = methods
            .iter()
            .find(|m| &*m.service == service && &*m.method == method)
        {
            return m.clone();
        }
        let m = Arc::new(GrpcMethod {
            service: Arc::from(service),
            method: Arc::from(method),
            labels: label_pairs(&[("service", service), ("method", method)]).into_boxed_str(),
            in_flight: Gauge::default(),
            codes: std::array::from_fn(|_| OnceLock::new()),
        });
        methods.push(m.clone());
        m
    }

    /// The `unknown` method.
    pub(crate) fn unknown(&self) -> Arc<GrpcMethod> {
        self.method(UNKNOWN_METHOD, UNKNOWN_METHOD)
    }

    /// Records one finished call of `method` with `code`.
    #[inline]
    pub(crate) fn record(&self, method: &GrpcMethod, code: Code, ns: u64) {
        method.codes[code.number()]
            .get_or_init(|| self.new_series(method, code))
            .histogram
            .record_ns(ns);
    }

    #[cold]
    fn new_series(&self, method: &GrpcMethod, code: Code) -> Arc<GrpcSeries> {
        let series = Arc::new(GrpcSeries {
            service: method.service.clone(),
            method: method.method.clone(),
            code,
            labels: label_pairs(&[
                ("service", &method.service),
                ("method", &method.method),
                ("code", code.as_str()),
            ])
            .into_boxed_str(),
            histogram: AtomicHistogram::new(self.buckets.clone()),
        });
        let mut all = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let mut v = all.to_vec();
        v.push(series.clone());
        v.sort_by(|a, b| (&a.service, &a.method, a.code).cmp(&(&b.service, &b.method, b.code)));
        *all = v.into();
        series
    }

    /// Every series, sorted by service, method and code.
    pub(crate) fn series(&self) -> Arc<[Arc<GrpcSeries>]> {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every method with its calls in flight, sorted by service and method.
    pub(crate) fn in_flight(&self) -> Vec<(Arc<GrpcMethod>, i64)> {
        let methods = self.methods.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = methods
            .iter()
            .map(|m| (m.clone(), m.in_flight.get()))
            .collect();
        v.sort_by(|(a, _), (b, _)| (&a.service, &a.method).cmp(&(&b.service, &b.method)));
        v
    }

    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_made_once_per_code_and_sorted() {
        let store = GrpcStore::new(Buckets::http_default());
        let users = store.method("demo.Users", "Get");
        assert!(Arc::ptr_eq(&users, &store.method("demo.Users", "Get")));
        store.record(&users, Code::from_number(5), 1_000);
        store.record(&users, Code::from_number(0), 1_000);
        store.record(&users, Code::from_number(0), 2_000);
        store.record(&store.unknown(), Code::UNIMPLEMENTED, 1);
        let series = store.series();
        let seen: Vec<_> = series
            .iter()
            .map(|s| {
                (
                    &*s.service,
                    &*s.method,
                    s.code.as_str(),
                    s.histogram.snapshot().count(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("demo.Users", "Get", "OK", 2),
                ("demo.Users", "Get", "NOT_FOUND", 1),
                ("unknown", "unknown", "UNIMPLEMENTED", 1),
            ]
        );
        assert_eq!(
            &*series[0].labels,
            r#"service="demo.Users",method="Get",code="OK""#
        );
    }
}
