//! The Prometheus text and OpenMetrics expositions, as a function of a [`Reading`] and
//! the settings.
//!
//! Every line is written once, straight into the output, by the
//! [`Encoder`] of the format asked for: each series' label pairs were escaped when it
//! was created, so a sample line is a few copies and one integer. Counters are
//! rendered for every status (zero included) so that `rate()` and `increase()` see a
//! series from its first scrape. In OpenMetrics, each bucket's and counter's exemplar
//! is written on its line.

use crate::alerts::levels::Levels;
use crate::alerts::levels::{AlertType, Severity};
use crate::alerts::notify::NotifierCounts;
use crate::base::exposition::{label_pairs, le_pairs, Encoder, Kind, Sink};
use crate::base::histogram::Exemplar;
use crate::base::names;
use crate::base::names::{op_names, OpKind, ACTIVE_WORKFLOWS, ALERT_MIN_SAMPLES, ALERT_THRESHOLD};
use crate::base::names::{HTTP_IN_FLIGHT, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION};
use crate::calls::outcome::Status;
use crate::reading::Reading;
use crate::reading::{MetricFamily, MetricKind, MetricValue};
use crate::settings::Settings;
use crate::sources::runtime::RuntimeSample;

pub(crate) use crate::base::exposition::Format;

/// The exposition of `r` in `format`: our series, then the application's facade
/// series; allocated once (see [`size_hint`]).
pub(crate) fn exposition(r: &Reading, s: &Settings, format: Format) -> String {
    let mut out = String::with_capacity(size_hint(r, format));
    let mut enc = Encoder::new(&mut out, format);
    render(r, s, &mut enc);
    enc.finish();
    out
}

/// About the length of the text of `r`, so that the output is allocated once: the
/// HTTP lines (one per bucket, plus the counter, sum and count) and 16 KiB for the rest;
/// in OpenMetrics, room for the exemplars of the series that have them.
fn size_hint(r: &Reading, format: Format) -> usize {
    let lines = r.http.buckets.bounds().len() + 4;
    let per_line = HTTP_REQUEST_DURATION.len() + "_bucket{,le=\"\"} \n".len() + 16;
    let http: usize = r
        .http_series()
        .iter()
        .map(|s| (s.labels.len() + per_line) * lines)
        .sum();
    // An exemplar (` # {trace_id="..",span_id=".."} 0.25 1733097600.123`) is about
    // 100 bytes, on each bucket and counter line of a series that has them.
    let exemplars: usize = match format {
        Format::Text => 0,
        Format::OpenMetrics => r
            .http
            .exemplars
            .iter()
            .flatten()
            .map(|e| (e.len() + 1) * 100)
            .sum(),
    };
    http + exemplars + 16 * 1024
}

/// The latest exemplar among `exemplars` whose category `keep` accepts.
fn latest(
    exemplars: Option<&[Option<Exemplar>]>,
    keep: impl Fn(usize) -> bool,
) -> Option<Exemplar> {
    exemplars?
        .iter()
        .flatten()
        .filter(|e| keep(e.category))
        .max_by_key(|e| e.unix_ms)
        .copied()
}

/// The exemplar of bucket `i` of `exemplars`.
fn bucket_exemplar<'a>(
    exemplars: Option<&'a [Option<Exemplar>]>,
) -> impl Fn(usize) -> Option<&'a Exemplar> {
    move |i| exemplars.and_then(|e| e.get(i)).and_then(Option::as_ref)
}

/// Writes every series of `r`: the macro families, HTTP, caches, pools, resources,
/// alerts, the thresholds of `s` and the notifier's counters.
pub(crate) fn render(r: &Reading, s: &Settings, out: &mut impl Sink) {
    out.family(names::BUILD_INFO, Kind::Gauge, names::BUILD_INFO_HELP);
    let version = label_pairs(&[("version", env!("CARGO_PKG_VERSION"))]);
    out.sample(names::BUILD_INFO, &version, 1u64);
    out.family(names::UPTIME, Kind::Gauge, names::UPTIME_HELP);
    out.sample(names::UPTIME, "", r.uptime.as_secs_f64());
    let exemplars = out.exemplars();
    render_ops(r, exemplars, out);
    render_http(r, exemplars, out);
    render_grpc(r, exemplars, out);
    render_sources(r, out);
    render_long_polls(r, out);
    render_alerts(r, out);
    render_thresholds(s, out);
    render_slos(r, out);
    if let Some(n) = &r.alerts.notifier {
        render_notifier(n, out);
    }
    if let Some(counts) = &r.otlp {
        render_otlp(counts, out);
    }
    render_app_metrics(&r.metrics, out);
}

/// `mcp_otlp_exports_total{outcome}`: sent, failed and dropped OTLP exports.
fn render_otlp(counts: &[u64; 3], out: &mut impl Sink) {
    out.family(
        names::OTLP_EXPORTS_TOTAL,
        Kind::Counter,
        names::OTLP_EXPORTS_TOTAL_HELP,
    );
    for (outcome, n) in ["sent", "failed", "dropped"].into_iter().zip(counts) {
        let labels = label_pairs(&[("outcome", outcome)]);
        out.sample(names::OTLP_EXPORTS_TOTAL, &labels, *n);
    }
}

/// A metric or label name with every character the text format does not allow
/// replaced by `_` (and a leading digit prefixed with `_`); `colons` allows `:`, as
/// metric names do and label names do not.
fn sanitized(name: &str, colons: bool) -> std::borrow::Cow<'_, str> {
    let ok = |i: usize, c: char| {
        c.is_ascii_alphabetic() || c == '_' || (colons && c == ':') || (i > 0 && c.is_ascii_digit())
    };
    if !name.is_empty() && name.chars().enumerate().all(|(i, c)| ok(i, c)) {
        return name.into();
    }
    let mut out = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        if i == 0 && c.is_ascii_digit() {
            out.push('_');
            out.push(c);
        } else {
            out.push(if ok(i, c) { c } else { '_' });
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out.into()
}

/// The application's own `metrics` series, and `mcp_metric_overflow_total`.
fn render_app_metrics(metrics: &[MetricFamily], out: &mut impl Sink) {
    let om = out.exemplars();
    for f in metrics {
        let name = sanitized(&f.name, true);
        let kind = match f.kind {
            MetricKind::Counter => Kind::Counter,
            MetricKind::Gauge => Kind::Gauge,
            MetricKind::Histogram => Kind::Histogram,
        };
        // OpenMetrics names a counter's samples `<family>_total`; text keeps the name
        // as recorded.
        let name = if kind == Kind::Counter && om && !name.ends_with("_total") {
            format!("{name}_total").into()
        } else {
            name
        };
        out.family(&name, kind, f.help.as_deref().unwrap_or(&name));
        for s in &f.series {
            let pairs: Vec<(std::borrow::Cow<'_, str>, &str)> = s
                .labels
                .iter()
                .map(|(k, v)| (sanitized(k, false), v.as_str()))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, *v)).collect();
            let labels = label_pairs(&pairs);
            match &s.value {
                MetricValue::Counter(v) => out.sample(&name, &labels, *v),
                MetricValue::Gauge(v) => out.sample(&name, &labels, *v),
                MetricValue::Histogram(h) => {
                    let le = le_pairs(&h.bounds);
                    out.histogram(&name, &labels, &le, &h.counts, h.sum, |_| None);
                }
            }
        }
    }
    if metrics.is_empty() {
        return;
    }
    out.family(
        names::METRIC_OVERFLOW_TOTAL,
        Kind::Counter,
        names::METRIC_OVERFLOW_TOTAL_HELP,
    );
    for f in metrics {
        let labels = label_pairs(&[("metric", &f.name)]);
        out.sample(names::METRIC_OVERFLOW_TOTAL, &labels, f.overflowed);
    }
}

/// The macro families and the active-workflow gauges.
fn render_ops(r: &Reading, exemplars: bool, out: &mut impl Sink) {
    for kind in [OpKind::Db, OpKind::Step, OpKind::Run] {
        let parts = r.ops(kind);
        if parts.is_empty() {
            continue;
        }
        let names = op_names(kind);
        let rows: Vec<_> = parts
            .iter()
            .map(|p| {
                let labels: Vec<_> = names
                    .label_keys
                    .iter()
                    .copied()
                    .zip(p.series.labels)
                    .collect();
                (
                    p,
                    label_pairs(&labels),
                    r.op_since(p, &crate::summary::snapshot::Origin::Zero),
                )
            })
            .collect();
        out.family(names.total, Kind::Counter, names.total_help);
        let status_pairs = Status::ALL.map(|s| label_pairs(&[("status", s.as_str())]));
        for (p, labels, values) in &rows {
            for (status, extra) in Status::ALL.into_iter().zip(&status_pairs) {
                let e = latest(p.exemplars.as_deref().filter(|_| exemplars), |c| {
                    c == status as usize
                });
                out.sample_with(
                    names.total,
                    "",
                    labels,
                    extra,
                    values.statuses[status as usize],
                    e.as_ref().map(|e| (e, 1.0)),
                );
            }
        }
        out.family(names.duration, Kind::Histogram, names.duration_help);
        for (p, labels, values) in &rows {
            let le = le_pairs(p.series.histogram.buckets().bounds());
            out.native(|n| {
                n.clone_from(&values.histogram.native);
                true
            });
            out.histogram(
                names.duration,
                labels,
                &le,
                &values.histogram.counts,
                values.histogram.sum_ns as f64 / 1e9,
                bucket_exemplar(p.exemplars.as_deref().filter(|_| exemplars)),
            );
        }
    }
    if !r.active.is_empty() {
        out.family(ACTIVE_WORKFLOWS, Kind::Gauge, names::ACTIVE_WORKFLOWS_HELP);
        for (workflow, n) in &r.active {
            out.sample(
                ACTIVE_WORKFLOWS,
                &label_pairs(&[("workflow", workflow)]),
                *n,
            );
        }
    }
}

/// The HTTP families: the counter and the histogram of every label set, the in-flight
/// gauge and the overflow counter.
fn render_http(r: &Reading, with_exemplars: bool, out: &mut impl Sink) {
    let http = &r.http;
    let counts = &r.current.http;
    let exemplars = |pos: usize| {
        http.exemplars
            .get(pos)
            .and_then(Option::as_deref)
            .filter(|_| with_exemplars)
    };
    let series = r.http_series();
    if !series.is_empty() {
        out.family(
            HTTP_REQUESTS_TOTAL,
            Kind::Counter,
            names::HTTP_REQUESTS_TOTAL_HELP,
        );
        for (pos, s) in series.iter().enumerate() {
            let n = counts.counts(s.index).map_or(0, |c| c.iter().sum::<u64>());
            let e = latest(exemplars(pos), |_| true);
            out.sample_with(
                HTTP_REQUESTS_TOTAL,
                "",
                &s.labels,
                "",
                n,
                e.as_ref().map(|e| (e, 1.0)),
            );
        }
        out.family(
            HTTP_REQUEST_DURATION,
            Kind::Histogram,
            names::HTTP_REQUEST_DURATION_HELP,
        );
        let le = le_pairs(http.buckets.bounds());
        for (pos, s) in series.iter().enumerate() {
            let Some(c) = counts.counts(s.index) else {
                continue;
            };
            out.native(|n| counts.native.get_into(s.index, n));
            out.histogram(
                HTTP_REQUEST_DURATION,
                &s.labels,
                &le,
                c,
                counts.sums[s.index] as f64 / 1e9,
                bucket_exemplar(exemplars(pos)),
            );
        }
    }
    out.family(HTTP_IN_FLIGHT, Kind::Gauge, names::HTTP_IN_FLIGHT_HELP);
    out.sample(HTTP_IN_FLIGHT, "", http.in_flight);
    out.family(
        names::HTTP_SERIES_OVERFLOW_TOTAL,
        Kind::Counter,
        names::HTTP_SERIES_OVERFLOW_TOTAL_HELP,
    );
    out.sample(names::HTTP_SERIES_OVERFLOW_TOTAL, "", http.overflowed);
    render_auth_failures(http, out);
}

/// The gRPC families, once a call was recorded or a method declared: the counter and
/// the histogram of every `(service, method, code)`, the in-flight gauge per method.
fn render_grpc(r: &Reading, with_exemplars: bool, out: &mut impl Sink) {
    let grpc = &r.grpc;
    let series = &r.current.grpc.series;
    let exemplars = |pos: usize| {
        grpc.exemplars
            .get(pos)
            .and_then(Option::as_deref)
            .filter(|_| with_exemplars)
    };
    if !series.is_empty() {
        out.family(
            names::GRPC_REQUESTS_TOTAL,
            Kind::Counter,
            names::GRPC_REQUESTS_TOTAL_HELP,
        );
        for (pos, (s, h)) in series.iter().enumerate() {
            let e = latest(exemplars(pos), |_| true);
            out.sample_with(
                names::GRPC_REQUESTS_TOTAL,
                "",
                &s.labels,
                "",
                h.count(),
                e.as_ref().map(|e| (e, 1.0)),
            );
        }
        out.family(
            names::GRPC_REQUEST_DURATION,
            Kind::Histogram,
            names::GRPC_REQUEST_DURATION_HELP,
        );
        let le = le_pairs(grpc.buckets.bounds());
        for (pos, (s, h)) in series.iter().enumerate() {
            out.native(|n| {
                n.clone_from(&h.native);
                true
            });
            out.histogram(
                names::GRPC_REQUEST_DURATION,
                &s.labels,
                &le,
                &h.counts,
                h.sum_ns as f64 / 1e9,
                bucket_exemplar(exemplars(pos)),
            );
        }
    }
    // `unknown` is always there: only methods declared by a layer make more.
    if grpc.in_flight.len() > 1 || !series.is_empty() {
        out.family(
            names::GRPC_IN_FLIGHT,
            Kind::Gauge,
            names::GRPC_IN_FLIGHT_HELP,
        );
        for (m, n) in &grpc.in_flight {
            out.sample(names::GRPC_IN_FLIGHT, &m.labels, *n);
        }
    }
}

/// `mcp_http_auth_failures_total{path,reason}`: the family always, its series once a
/// check was refused.
fn render_auth_failures(http: &crate::reading::HttpPart, out: &mut impl Sink) {
    out.family(
        names::HTTP_AUTH_FAILURES_TOTAL,
        Kind::Counter,
        names::HTTP_AUTH_FAILURES_TOTAL_HELP,
    );
    for (path, reason, n) in &http.auth_failures {
        let labels = label_pairs(&[("path", path), ("reason", reason)]);
        out.sample(names::HTTP_AUTH_FAILURES_TOTAL, &labels, *n);
    }
}

/// Caches, pools and resources.
fn render_sources(r: &Reading, out: &mut impl Sink) {
    if !r.caches.is_empty() {
        for (i, (name, help)) in [
            (names::CACHE_HITS_TOTAL, names::CACHE_HITS_TOTAL_HELP),
            (names::CACHE_MISSES_TOTAL, names::CACHE_MISSES_TOTAL_HELP),
        ]
        .into_iter()
        .enumerate()
        {
            out.family(name, Kind::Counter, help);
            for (cache, key) in &r.caches {
                let v = r.cache_since(*key, &crate::summary::snapshot::Origin::Zero);
                out.sample(name, &label_pairs(&[("cache", cache)]), v[i]);
            }
        }
    }
    if !r.pools.is_empty() {
        out.family(
            names::DB_POOL_CONNECTIONS,
            Kind::Gauge,
            names::DB_POOL_CONNECTIONS_HELP,
        );
        for p in &r.pools {
            for (state, v) in [("in_use", p.in_use), ("idle", p.idle), ("max", p.max_size)] {
                let labels = label_pairs(&[("pool", &p.name), ("state", state)]);
                out.sample(names::DB_POOL_CONNECTIONS, &labels, u64::from(v));
            }
        }
        out.family(
            names::DB_POOL_UTILIZATION,
            Kind::Gauge,
            names::DB_POOL_UTILIZATION_HELP,
        );
        for p in &r.pools {
            if let Some(u) = p.utilization() {
                let labels = label_pairs(&[("pool", &p.name)]);
                out.sample(names::DB_POOL_UTILIZATION, &labels, u);
            }
        }
    }
    let res = &r.resources;
    let gauges: [(&str, &str, Option<f64>); 5] = [
        (
            names::SYSTEM_CPU_USAGE,
            names::SYSTEM_CPU_USAGE_HELP,
            res.cpu,
        ),
        (
            names::SYSTEM_MEMORY_USAGE,
            names::SYSTEM_MEMORY_USAGE_HELP,
            res.memory,
        ),
        (
            names::SYSTEM_LOAD1_PER_CORE,
            names::SYSTEM_LOAD1_PER_CORE_HELP,
            res.load_per_core,
        ),
        (
            names::PROCESS_RESIDENT_MEMORY,
            names::PROCESS_RESIDENT_MEMORY_HELP,
            res.process_resident_bytes.map(|b| b as f64),
        ),
        (
            names::PROCESS_CPU_USAGE,
            names::PROCESS_CPU_USAGE_HELP,
            res.process_cpu,
        ),
    ];
    for (name, help, v) in gauges {
        if let Some(v) = v {
            out.family(name, Kind::Gauge, help);
            out.sample(name, "", v);
        }
    }
    if let Some(rt) = &r.runtime {
        render_runtime(&rt.now, out);
    }
}

/// The `mcp_runtime_*` families of the Tokio runtime watched.
fn render_runtime(rt: &RuntimeSample, out: &mut impl Sink) {
    for (name, help, v) in [
        (
            names::RUNTIME_WORKERS,
            names::RUNTIME_WORKERS_HELP,
            rt.workers,
        ),
        (
            names::RUNTIME_ALIVE_TASKS,
            names::RUNTIME_ALIVE_TASKS_HELP,
            rt.alive_tasks,
        ),
        (
            names::RUNTIME_GLOBAL_QUEUE_DEPTH,
            names::RUNTIME_GLOBAL_QUEUE_DEPTH_HELP,
            rt.global_queue_depth,
        ),
    ] {
        out.family(name, Kind::Gauge, help);
        out.sample(name, "", v as u64);
    }
    let busy = names::RUNTIME_BUSY_SECONDS_TOTAL;
    out.family(busy, Kind::Counter, names::RUNTIME_BUSY_SECONDS_TOTAL_HELP);
    out.sample(busy, "", rt.busy.as_secs_f64());
    let parks = names::RUNTIME_PARKS_TOTAL;
    out.family(parks, Kind::Counter, names::RUNTIME_PARKS_TOTAL_HELP);
    out.sample(parks, "", rt.parks);
}

/// `mcp_long_polls_total{kind,name}`: the family always (the watcher is on), its series
/// once a call had a long poll.
fn render_long_polls(r: &Reading, out: &mut impl Sink) {
    let name = names::LONG_POLLS_TOTAL;
    out.family(name, Kind::Counter, names::LONG_POLLS_TOTAL_HELP);
    for p in r.long_polls() {
        let labels = label_pairs(&[("kind", p.kind), ("name", &p.name)]);
        out.sample(name, &labels, p.count);
    }
}

/// `mcp_alerts`: the engine's pending and firing rules.
fn render_alerts(r: &Reading, out: &mut impl Sink) {
    if r.alerts.statuses.is_empty() {
        return;
    }
    out.family(names::ALERTS, Kind::Gauge, names::ALERTS_HELP);
    for a in &r.alerts.statuses {
        let labels = label_pairs(&[
            ("alertname", a.kind.as_str()),
            ("severity", a.severity.as_str()),
            ("alertstate", if a.firing { "firing" } else { "pending" }),
            ("component", &a.component),
        ]);
        out.sample(names::ALERTS, &labels, 1u64);
    }
}

/// `mcp_alert_notifications_*` and `mcp_alert_events_dropped_total`.
fn render_notifier<S: Sink>(n: &NotifierCounts, out: &mut S) {
    let per = |out: &mut S,
               name: &str,
               kind: Kind,
               help: &str,
               f: &dyn Fn(&crate::alerts::notify::TargetCounts) -> u64| {
        out.family(name, kind, help);
        for t in &n.targets {
            out.sample(name, &label_pairs(&[("alertmanager", &t.name)]), f(t));
        }
    };
    per(
        out,
        names::ALERT_NOTIFICATIONS_SENT_TOTAL,
        Kind::Counter,
        names::ALERT_NOTIFICATIONS_SENT_TOTAL_HELP,
        &|t| t.sent,
    );
    per(
        out,
        names::ALERT_NOTIFICATIONS_ERRORS_TOTAL,
        Kind::Counter,
        names::ALERT_NOTIFICATIONS_ERRORS_TOTAL_HELP,
        &|t| t.failed,
    );
    per(
        out,
        names::ALERT_NOTIFICATIONS_DROPPED_TOTAL,
        Kind::Counter,
        names::ALERT_NOTIFICATIONS_DROPPED_TOTAL_HELP,
        &|t| t.dropped,
    );
    out.family(
        names::ALERT_EVENTS_DROPPED_TOTAL,
        Kind::Counter,
        names::ALERT_EVENTS_DROPPED_TOTAL_HELP,
    );
    out.sample(names::ALERT_EVENTS_DROPPED_TOTAL, "", n.dropped_events);
    per(
        out,
        names::ALERT_NOTIFICATIONS_QUEUE_LENGTH,
        Kind::Gauge,
        names::ALERT_NOTIFICATIONS_QUEUE_LENGTH_HELP,
        &|t| t.queued,
    );
}

/// `mcp_alert_threshold{alertname,severity}` (every threshold in force, a critical
/// level only where it can be reached) and `mcp_alert_min_samples`: what the rules of
/// [`prometheus_rules`](crate::prometheus_rules) compare each instance with, so that one rules file serves a
/// fleet whose instances run with different settings.
pub(crate) fn render_thresholds(s: &Settings, out: &mut impl Sink) {
    out.family(ALERT_THRESHOLD, Kind::Gauge, names::ALERT_THRESHOLD_HELP);
    for kind in AlertType::ALL {
        let levels = Levels::of(kind, s);
        for severity in [Severity::Warning, Severity::Critical] {
            if let Some(t) = levels.level(severity) {
                let labels = label_pairs(&[
                    ("alertname", kind.as_str()),
                    ("severity", severity.as_str()),
                ]);
                out.sample(ALERT_THRESHOLD, &labels, t);
            }
        }
    }
    out.family(
        ALERT_MIN_SAMPLES,
        Kind::Gauge,
        names::ALERT_MIN_SAMPLES_HELP,
    );
    out.sample(ALERT_MIN_SAMPLES, "", s.alert_min_samples);
}

/// `mcp_slo_objective{slo}` and `mcp_slo_error_budget_remaining{slo}` of every
/// objective, as of the last evaluation.
fn render_slos(r: &Reading, out: &mut impl Sink) {
    if r.slos.is_empty() {
        return;
    }
    for (name, help, value) in [
        (
            names::SLO_OBJECTIVE,
            names::SLO_OBJECTIVE_HELP,
            (|s: &crate::slo::burn::SloStatus| s.objective) as fn(&_) -> f64,
        ),
        (
            names::SLO_ERROR_BUDGET_REMAINING,
            names::SLO_ERROR_BUDGET_REMAINING_HELP,
            |s| s.error_budget_remaining,
        ),
    ] {
        out.family(name, Kind::Gauge, help);
        for s in &r.slos {
            out.sample(name, &label_pairs(&[("slo", &s.slo)]), value(s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_caches_whose_names_differ_by_a_backslash_are_two_series() {
        let m = crate::Monitor::builder().build().unwrap();
        m.cache("a\"").hit();
        m.cache("a\\\"").hit();
        let text = m.render();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("mcp_cache_hits_total{"))
            .collect();
        for expected in [
            r#"mcp_cache_hits_total{cache="a\""} 1"#,
            r#"mcp_cache_hits_total{cache="a\\\""} 1"#,
        ] {
            assert!(
                lines.contains(&expected),
                "{expected} missing from {lines:?}"
            );
        }
        assert_eq!(lines.len(), 2, "{text}");
    }

    #[test]
    fn the_threshold_gauges_are_the_settings() {
        let mut out = String::new();
        let s = Settings {
            cpu_threshold: 0.5,
            ..Settings::default()
        };
        render_thresholds(&s, &mut Encoder::new(&mut out, Format::Text));
        let has = |l: &str| out.lines().any(|x| x == l);
        assert!(
            has("mcp_alert_threshold{alertname=\"HIGH_CPU_USAGE\",severity=\"warning\"} 0.5"),
            "{out}"
        );
        assert!(
            has("mcp_alert_threshold{alertname=\"HIGH_CPU_USAGE\",severity=\"critical\"} 0.6"),
            "{out}"
        );
        assert!(
            has("mcp_alert_threshold{alertname=\"HIGH_REQUEST_LATENCY\",severity=\"warning\"} 1"),
            "{out}"
        );
        // 90% × 1.2 is above 100%: no critical pool level.
        assert!(has("mcp_alert_threshold{alertname=\"HIGH_DB_POOL_UTILIZATION\",severity=\"warning\"} 0.9"), "{out}");
        assert!(!out.contains("alertname=\"HIGH_DB_POOL_UTILIZATION\",severity=\"critical\""));
        assert!(has("mcp_alert_min_samples 20"), "{out}");
    }
}
