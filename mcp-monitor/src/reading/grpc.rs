//! The gRPC part of a reading: calls by service, method and code, the methods' calls
//! in flight, and the totals the documents and the alert engine take from them.

use std::sync::Arc;

use crate::base::histogram::{Buckets, Exemplar};
use crate::grpc::store::{GrpcMethod, GrpcSeries, GrpcStore};
use crate::reading::Reading;
use crate::summary::snapshot::{key, Origin};

/// The gRPC series of a reading beside what the snapshot holds: the buckets, each
/// method's calls in flight, and (for OpenMetrics) each series' exemplars.
#[derive(Debug, Clone)]
pub(crate) struct GrpcPart {
    pub(crate) buckets: Buckets,
    /// Each method and its calls in flight, sorted by service and method.
    pub(crate) in_flight: Vec<(Arc<GrpcMethod>, i64)>,
    /// Per series (in the snapshot's order), its exemplars; empty unless asked for.
    pub(crate) exemplars: Vec<Option<Vec<Option<Exemplar>>>>,
}

impl GrpcPart {
    pub(crate) fn read(store: &GrpcStore, series: &[Arc<GrpcSeries>], exemplars: bool) -> Self {
        Self {
            buckets: store.buckets().clone(),
            in_flight: store.in_flight(),
            exemplars: if exemplars {
                series.iter().map(|s| s.histogram.exemplars()).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// The calls of one gRPC method over some span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GrpcMethodTotals {
    pub(crate) service: Arc<str>,
    pub(crate) method: Arc<str>,
    pub(crate) calls: u64,
    /// Calls that ended with one of the server's failures (`UNKNOWN`, `INTERNAL`, ...).
    pub(crate) server_errors: u64,
    /// `(code name, calls)` of every code seen, in code order.
    pub(crate) codes: Vec<(&'static str, u64)>,
    pub(crate) sum_ns: u64,
}

impl GrpcMethodTotals {
    /// Mean duration in seconds, if there were calls.
    pub(crate) fn mean_seconds(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.sum_ns as f64 / 1e9 / self.calls as f64)
    }

    /// Server errors over calls, if there were calls.
    pub(crate) fn error_rate(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.server_errors as f64 / self.calls as f64)
    }
}

impl Reading {
    /// The gRPC series read, sorted by service, method and code.
    pub(crate) fn grpc_series(&self) -> impl Iterator<Item = &Arc<GrpcSeries>> {
        self.current.grpc.series.iter().map(|(s, _)| s)
    }

    /// A gRPC series' `[count, sum_ns]` since `origin`.
    pub(crate) fn grpc_since(&self, series: &GrpcSeries, origin: &Origin) -> [u64; 2] {
        let k = key(series);
        let now = self
            .current
            .grpc
            .totals
            .get(&k)
            .copied()
            .unwrap_or_default();
        let then = origin.grpc(k);
        [
            now[0].saturating_sub(then[0]),
            now[1].saturating_sub(then[1]),
        ]
    }

    /// Every method with calls since `origin`, sorted by service and method.
    pub(crate) fn grpc_methods(&self, origin: &Origin) -> Vec<GrpcMethodTotals> {
        let mut out: Vec<GrpcMethodTotals> = Vec::new();
        for s in self.grpc_series() {
            let [n, sum] = self.grpc_since(s, origin);
            if n == 0 {
                continue;
            }
            let same = out
                .last()
                .is_some_and(|m| m.service == s.service && m.method == s.method);
            if !same {
                out.push(GrpcMethodTotals {
                    service: s.service.clone(),
                    method: s.method.clone(),
                    calls: 0,
                    server_errors: 0,
                    codes: Vec::new(),
                    sum_ns: 0,
                });
            }
            let m = out.last_mut().expect("pushed above");
            m.calls += n;
            m.sum_ns += sum;
            if s.code.is_server_error() {
                m.server_errors += n;
            }
            m.codes.push((s.code.as_str(), n));
        }
        out
    }

    /// All gRPC calls since `origin` and the server's failures among them.
    pub(crate) fn grpc_totals(&self, origin: &Origin) -> (u64, u64) {
        self.grpc_series().fold((0, 0), |(n, e), s| {
            let [c, _] = self.grpc_since(s, origin);
            (n + c, e + if s.code.is_server_error() { c } else { 0 })
        })
    }

    /// Calls of the gRPC method `service`/`method` that ended with the status `code`
    /// (its name: `"OK"`, `"NOT_FOUND"`, ...). Methods the layer was not told about
    /// are counted under `unknown`/`unknown`
    /// ([`UNKNOWN_METHOD`](crate::grpc::UNKNOWN_METHOD)).
    pub fn grpc_calls(&self, service: &str, method: &str, code: &str) -> u64 {
        self.grpc_series()
            .find(|s| &*s.service == service && &*s.method == method && s.code.as_str() == code)
            .map_or(0, |s| self.grpc_since(s, &self.origin)[0])
    }

    /// Calls of the gRPC method `service`/`method` being served.
    pub fn grpc_in_flight(&self, service: &str, method: &str) -> i64 {
        self.grpc
            .in_flight
            .iter()
            .find(|(m, _)| &*m.service == service && &*m.method == method)
            .map_or(0, |(_, n)| *n)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use crate::alerts::levels::AlertType;
    use crate::grpc::code::Code;
    use crate::Monitor;

    /// A monitor with `n` calls of `demo.S/M` ending with `code`, one of them traced.
    fn with_calls(code: u32, n: usize) -> Monitor {
        let monitor = Monitor::builder().build().unwrap();
        let store = monitor.grpc_store();
        let method = store.method("demo.S", "M");
        let trace = crate::base::trace::TraceContext::from_traceparent(
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        crate::base::trace::in_context(trace, || {
            store.record(&method, Code::from_number(code), 3_000_000);
        });
        for _ in 1..n {
            store.record(&method, Code::from_number(code), 40_000_000);
        }
        monitor
    }

    #[test]
    fn server_errors_are_the_grpc_component_of_high_error_rate() {
        let failing = with_calls(13, 25).read();
        let grpc: Vec<_> = failing
            .observations(20)
            .into_iter()
            .filter(|o| o.component == "grpc")
            .collect();
        assert_eq!(grpc.len(), 1);
        assert_eq!(grpc[0].kind, AlertType::HighErrorRate);
        assert_eq!(grpc[0].value, 1.0);
        // NOT_FOUND is the client's answer, not the server's failure.
        let fine = with_calls(5, 25).read();
        let o = fine.observations(20);
        let grpc = o.iter().find(|o| o.component == "grpc").unwrap();
        assert_eq!(grpc.value, 0.0);
        assert_eq!(fine.grpc_calls("demo.S", "M", "NOT_FOUND"), 25);
    }

    #[test]
    fn every_format_shows_the_calls_with_exemplars_and_native_buckets() {
        let monitor = with_calls(0, 3);
        let reading = monitor.read_with(true, |s, at| s.window_start(at));
        let text = monitor.render_openmetrics();
        let series = r#"mcp_grpc_requests_total{service="demo.S",method="M",code="OK"} 3"#;
        let line = text.lines().find(|l| l.starts_with(series)).expect(&text);
        assert!(
            line.contains("trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""),
            "{line}"
        );
        assert!(text.contains(r#"mcp_grpc_requests_in_flight{service="demo.S",method="M"} 0"#));
        let bytes = crate::output::protobuf::encode(&reading, monitor.settings());
        let mut buf = &bytes[..];
        let mut found = None;
        while !buf.is_empty() {
            let f =
                crate::output::protobuf::messages::MetricFamily::decode_length_delimited(&mut buf)
                    .unwrap();
            if f.name == crate::base::names::GRPC_REQUEST_DURATION {
                found = Some(f);
            }
        }
        let family = found.expect("the gRPC histogram");
        let h = family.metric[0].histogram.as_ref().unwrap();
        assert_eq!(h.sample_count, 3);
        // Native buckets (3 ms and 40 ms) beside the classic ones.
        let native: i64 = h
            .positive_delta
            .iter()
            .scan(0, |c, d| {
                *c += d;
                Some(*c)
            })
            .sum();
        assert_eq!(native, 3);
    }

    #[test]
    fn grpc_objectives_count_server_errors_and_slow_calls() {
        let monitor = with_calls(14, 4);
        let reading = monitor.read();
        let o: crate::slo::Objective = "g = grpc demo.S * availability 99%".parse().unwrap();
        let c = reading.slo_counts(&o);
        assert_eq!((c.bad, c.total), (4, 4));
        // 3 ms is within 25 ms, the three 40 ms calls are not.
        let o: crate::slo::Objective = "g = grpc * latency 99% within 25ms".parse().unwrap();
        let c = reading.slo_counts(&o);
        assert_eq!((c.bad, c.total), (3, 4));
        let o: crate::slo::Objective = "g = grpc other.S M availability 99%".parse().unwrap();
        assert_eq!(reading.slo_counts(&o).total, 0);
    }
}
