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
        if let crate::slo::Target::Grpc { service, method } = &o.target {
            let any = |want: &Option<String>, v: &str| want.as_deref().is_none_or(|w| w == v);
            for (s, h) in &self.current.grpc.series {
                if !any(service, &s.service) || !any(method, &s.method) {
                    continue;
                }
                let n = h.count();
                c.total += n;
                c.bad += match threshold {
                    None if s.code.is_server_error() => n,
                    None => 0,
                    Some(t) => slow(h, self.grpc.buckets.bounds(), t),
                };
            }
            return c;
        }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::{body::Body, http::Request, http::StatusCode, routing::get, Router};
    use tower::ServiceExt as _;

    use crate::alerts::levels::{AlertType, Severity};
    use crate::slo::burn::Counts;
    use crate::Monitor;

    async fn call(app: &Router, uri: &str) {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        drop(res);
    }

    #[tokio::test]
    async fn a_failing_route_burns_its_budget_and_fires_both_alerts_in_process() {
        let monitor = Monitor::builder()
            .with_objective(
                "api = http GET /fail availability 99% over 1d"
                    .parse()
                    .unwrap(),
            )
            .with_objective("fast = http * latency 99% within 1s".parse().unwrap())
            .configure(|s| {
                s.alert_for = Duration::ZERO;
                s.alert_min_samples = 5;
                // Only the objectives can alert.
                s.error_rate_threshold = 1.0;
                s.memory_threshold = 1.0;
                s.cpu_threshold = 1.0;
                s.system_load_threshold = 1e9;
            })
            .build()
            .unwrap();
        let app = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .layer(monitor.layer());
        for _ in 0..10 {
            call(&app, "/fail").await;
            call(&app, "/ok").await;
        }
        let r = monitor.read();
        let [api, fast] = [0, 1].map(|i| r.slo_counts(&monitor.settings().slos[i]));
        assert_eq!(api, Counts { bad: 10, total: 10 });
        // Nothing here takes a second: every request is within the threshold.
        assert_eq!(fast, Counts { bad: 0, total: 20 });

        monitor.evaluate_alerts();
        let mut active: Vec<_> = monitor
            .active_alerts()
            .into_iter()
            .map(|a| (a.kind, a.severity, a.slo().map(str::to_owned), a.components))
            .collect();
        active.sort_by_key(|a| a.0);
        assert_eq!(
            active,
            [
                (
                    AlertType::SloBurnRateFast,
                    Severity::Critical,
                    Some("api".to_owned()),
                    vec!["slo:api".to_owned()]
                ),
                (
                    AlertType::SloBurnRateSlow,
                    Severity::Warning,
                    Some("api".to_owned()),
                    vec!["slo:api".to_owned()]
                ),
            ]
        );
        let text = monitor.render();
        assert!(
            text.contains("mcp_slo_objective{slo=\"api\"} 0.99\n"),
            "{text}"
        );
        // All bad against a 1% budget: 1 - 1 / 0.01 = -99.
        assert!(
            text.contains("mcp_slo_error_budget_remaining{slo=\"api\"} -99\n"),
            "{text}"
        );
        assert!(text.contains("mcp_slo_error_budget_remaining{slo=\"fast\"} 1\n"));
        let report = crate::output::json::report_document(&monitor.read(), monitor.settings());
        let o = &report["objectives"][0];
        assert_eq!(
            o["burning"],
            serde_json::json!(["SLO_BURN_RATE_FAST", "SLO_BURN_RATE_SLOW"])
        );
        assert_eq!(o["windows"][0]["window"], "10s");
        assert_eq!(o["windows"][0]["burn_rate"], 100.0);

        // A reset resolves the alerts; the rings keep counting, as /metrics does, so the
        // next evaluation fires them again.
        monitor.reset();
        assert!(monitor.active_alerts().is_empty());
        monitor.evaluate_alerts();
        assert_eq!(monitor.active_alerts().len(), 2);
    }
}
