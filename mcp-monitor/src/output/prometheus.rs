//! The Prometheus text exposition, as a function of a [`Reading`] and the settings.
//!
//! Every line is written straight into the output (see [`crate::base::exposition`]):
//! each series' label pairs were escaped when it was created, so a sample line is a
//! few copies and one integer. Counters are rendered for every status (zero
//! included) so that `rate()` and `increase()` see a series from its first scrape.
//! With [`Format::OpenMetrics`], each bucket's exemplar follows its line, to be
//! converted to OpenMetrics by [`crate::output::openmetrics::from_text`].

use crate::alerts::levels::Levels;
use crate::alerts::levels::{AlertType, Severity};
use crate::alerts::notify::NotifierCounts;
use crate::base::exposition::{family, histogram, label_pairs, le_pairs, sample, sample_with};
use crate::base::histogram::Exemplar;
use crate::base::names;
use crate::base::names::{op_names, OpKind, ACTIVE_WORKFLOWS, ALERT_MIN_SAMPLES, ALERT_THRESHOLD};
use crate::base::names::{HTTP_IN_FLIGHT, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION};
use crate::calls::outcome::Status;
use crate::monitor::Monitor;
use crate::output::openmetrics::append_exemplar;
use crate::reading::Reading;
use crate::reading::{HistogramValue, MetricFamily, MetricValue};
use crate::settings::Settings;
use crate::sources::runtime::RuntimeSample;

/// The exposition format being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text 0.0.4.
    Text,
    /// Prometheus text with exemplars appended, to be converted to OpenMetrics.
    OpenMetrics,
}

impl Monitor {
    /// The Prometheus text exposition (0.0.4) of every series, the application's own
    /// `metrics` facade series included.
    pub fn render(&self) -> String {
        let reading = self.read();
        let mut out = String::with_capacity(size_hint(&reading));
        render(&reading, self.settings(), Format::Text, &mut out);
        out
    }

    /// The OpenMetrics 1.0 text exposition of every series (the application's facade
    /// metrics included), with exemplars: on each bucket of the HTTP, db-operation,
    /// workflow-step and workflow-run histograms, the latest sample recorded in a
    /// trace (see [`trace`](crate::trace)), and on their counters the latest one of
    /// that label set. `GET /metrics` answers with it when the scraper asks for
    /// `application/openmetrics-text`, as Prometheus does.
    pub fn render_openmetrics(&self) -> String {
        let reading = self.read_with(true, |s, at| s.window_start(at));
        let mut text = String::with_capacity(size_hint(&reading));
        render(&reading, self.settings(), Format::OpenMetrics, &mut text);
        let mut out = String::with_capacity(text.len() + 1024);
        crate::output::openmetrics::from_text(&text, &mut out);
        out
    }
}

/// About the length of the text of `r`, so that the output is allocated once: the
/// HTTP lines (one per bucket, plus the counter, sum and count) and 16 KiB for the rest.
fn size_hint(r: &Reading) -> usize {
    let lines = r.http.buckets.bounds().len() + 4;
    let per_line = HTTP_REQUEST_DURATION.len() + "_bucket{,le=\"\"} \n".len() + 16;
    let http: usize = r
        .http_series()
        .iter()
        .map(|s| (s.labels.len() + per_line) * lines)
        .sum();
    http + 16 * 1024
}

/// Appends `ex` as the exemplar of the sample line `out` ends with.
fn write_exemplar(out: &mut String, ex: &Exemplar, value: f64) {
    append_exemplar(
        out,
        &ex.trace.trace_id(),
        &ex.trace.span_id(),
        value,
        ex.unix_ms,
    );
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

/// The exemplar of bucket `i`, written after its line.
fn bucket_exemplar(exemplars: Option<&[Option<Exemplar>]>) -> impl FnMut(&mut String, usize) + '_ {
    move |out, i| {
        if let Some(Some(ex)) = exemplars.and_then(|e| e.get(i)) {
            write_exemplar(out, ex, ex.ns as f64 / 1e9);
        }
    }
}

/// Writes every series of `r`: the macro families, HTTP, caches, pools, resources,
/// alerts, the thresholds of `s` and the notifier's counters.
pub(crate) fn render(r: &Reading, s: &Settings, format: Format, out: &mut String) {
    family(out, names::BUILD_INFO, "gauge", names::BUILD_INFO_HELP);
    let version = label_pairs(&[("version", env!("CARGO_PKG_VERSION"))]);
    sample(out, names::BUILD_INFO, &version, 1u64);
    family(out, names::UPTIME, "gauge", names::UPTIME_HELP);
    sample(out, names::UPTIME, "", r.uptime.as_secs_f64());
    let exemplars = format == Format::OpenMetrics;
    render_ops(r, exemplars, out);
    render_http(r, exemplars, out);
    render_sources(r, out);
    render_alerts(r, out);
    render_thresholds(s, out);
    render_slos(r, out);
    if let Some(n) = &r.alerts.notifier {
        render_notifier(n, out);
    }
    render_app_metrics(&r.metrics, out);
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
fn render_app_metrics(metrics: &[MetricFamily], out: &mut String) {
    for f in metrics {
        let name = sanitized(&f.name, true);
        family(
            out,
            &name,
            f.kind.as_str(),
            f.help.as_deref().unwrap_or(&name),
        );
        for s in &f.series {
            let pairs: Vec<(std::borrow::Cow<'_, str>, &str)> = s
                .labels
                .iter()
                .map(|(k, v)| (sanitized(k, false), v.as_str()))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, *v)).collect();
            let labels = label_pairs(&pairs);
            match &s.value {
                MetricValue::Counter(v) => sample(out, &name, &labels, *v),
                MetricValue::Gauge(v) => sample(out, &name, &labels, *v),
                MetricValue::Histogram(h) => write_app_histogram(out, &name, &labels, h),
            }
        }
    }
    if metrics.is_empty() {
        return;
    }
    family(
        out,
        names::METRIC_OVERFLOW_TOTAL,
        "counter",
        names::METRIC_OVERFLOW_TOTAL_HELP,
    );
    for f in metrics {
        let labels = label_pairs(&[("metric", &f.name)]);
        sample(out, names::METRIC_OVERFLOW_TOTAL, &labels, f.overflowed);
    }
}

/// A histogram of the application's: cumulative buckets, sum and count.
fn write_app_histogram(out: &mut String, name: &str, labels: &str, h: &HistogramValue) {
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0u64;
    for (i, c) in h.counts.iter().enumerate() {
        cumulative += c;
        let le = h.bounds.get(i).map_or_else(
            || "+Inf".to_owned(),
            |b| crate::base::format::format_float(*b),
        );
        let pairs = if labels.is_empty() {
            format!("le=\"{le}\"")
        } else {
            format!("{labels},le=\"{le}\"")
        };
        sample(out, &bucket, &pairs, cumulative);
    }
    sample(out, &format!("{name}_sum"), labels, h.sum);
    sample(out, &format!("{name}_count"), labels, cumulative);
}

/// The macro families and the active-workflow gauges.
fn render_ops(r: &Reading, exemplars: bool, out: &mut String) {
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
        family(out, names.total, "counter", names.total_help);
        let status_pairs = Status::ALL.map(|s| label_pairs(&[("status", s.as_str())]));
        for (p, labels, values) in &rows {
            for (status, extra) in Status::ALL.into_iter().zip(&status_pairs) {
                sample_with(
                    out,
                    names.total,
                    "",
                    labels,
                    extra,
                    values.statuses[status as usize],
                );
                if let Some(e) = latest(p.exemplars.as_deref().filter(|_| exemplars), |c| {
                    c == status as usize
                }) {
                    write_exemplar(out, &e, 1.0);
                }
            }
        }
        family(out, names.duration, "histogram", names.duration_help);
        for (p, labels, values) in &rows {
            let le = le_pairs(p.series.histogram.buckets().bounds());
            histogram(
                out,
                names.duration,
                labels,
                &le,
                &values.histogram.counts,
                values.histogram.sum_ns,
                bucket_exemplar(p.exemplars.as_deref().filter(|_| exemplars)),
            );
        }
    }
    if !r.active.is_empty() {
        family(out, ACTIVE_WORKFLOWS, "gauge", names::ACTIVE_WORKFLOWS_HELP);
        for (workflow, n) in &r.active {
            sample(
                out,
                ACTIVE_WORKFLOWS,
                &label_pairs(&[("workflow", workflow)]),
                *n,
            );
        }
    }
}

/// The HTTP families: the counter and the histogram of every label set, the in-flight
/// gauge and the overflow counter.
fn render_http(r: &Reading, with_exemplars: bool, out: &mut String) {
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
        family(
            out,
            HTTP_REQUESTS_TOTAL,
            "counter",
            names::HTTP_REQUESTS_TOTAL_HELP,
        );
        for (pos, s) in series.iter().enumerate() {
            let n = counts.counts(s.index).map_or(0, |c| c.iter().sum::<u64>());
            sample(out, HTTP_REQUESTS_TOTAL, &s.labels, n);
            if let Some(e) = latest(exemplars(pos), |_| true) {
                write_exemplar(out, &e, 1.0);
            }
        }
        family(
            out,
            HTTP_REQUEST_DURATION,
            "histogram",
            names::HTTP_REQUEST_DURATION_HELP,
        );
        let le = le_pairs(http.buckets.bounds());
        for (pos, s) in series.iter().enumerate() {
            let Some(c) = counts.counts(s.index) else {
                continue;
            };
            histogram(
                out,
                HTTP_REQUEST_DURATION,
                &s.labels,
                &le,
                c,
                counts.sums[s.index],
                bucket_exemplar(exemplars(pos)),
            );
        }
    }
    family(out, HTTP_IN_FLIGHT, "gauge", names::HTTP_IN_FLIGHT_HELP);
    sample(out, HTTP_IN_FLIGHT, "", http.in_flight);
    family(
        out,
        names::HTTP_SERIES_OVERFLOW_TOTAL,
        "counter",
        names::HTTP_SERIES_OVERFLOW_TOTAL_HELP,
    );
    sample(out, names::HTTP_SERIES_OVERFLOW_TOTAL, "", http.overflowed);
    render_auth_failures(http, out);
}

/// `mcp_http_auth_failures_total{path,reason}`: the family always, its series once a
/// check was refused.
fn render_auth_failures(http: &crate::reading::HttpPart, out: &mut String) {
    family(
        out,
        names::HTTP_AUTH_FAILURES_TOTAL,
        "counter",
        names::HTTP_AUTH_FAILURES_TOTAL_HELP,
    );
    for (path, reason, n) in &http.auth_failures {
        let labels = label_pairs(&[("path", path), ("reason", reason)]);
        sample(out, names::HTTP_AUTH_FAILURES_TOTAL, &labels, *n);
    }
}

/// Caches, pools and resources.
fn render_sources(r: &Reading, out: &mut String) {
    if !r.caches.is_empty() {
        for (i, (name, help)) in [
            (names::CACHE_HITS_TOTAL, names::CACHE_HITS_TOTAL_HELP),
            (names::CACHE_MISSES_TOTAL, names::CACHE_MISSES_TOTAL_HELP),
        ]
        .into_iter()
        .enumerate()
        {
            family(out, name, "counter", help);
            for (cache, key) in &r.caches {
                let v = r.cache_since(*key, &crate::summary::snapshot::Origin::Zero);
                sample(out, name, &label_pairs(&[("cache", cache)]), v[i]);
            }
        }
    }
    if !r.pools.is_empty() {
        family(
            out,
            names::DB_POOL_CONNECTIONS,
            "gauge",
            names::DB_POOL_CONNECTIONS_HELP,
        );
        for p in &r.pools {
            for (state, v) in [("in_use", p.in_use), ("idle", p.idle), ("max", p.max_size)] {
                let labels = label_pairs(&[("pool", &p.name), ("state", state)]);
                sample(out, names::DB_POOL_CONNECTIONS, &labels, u64::from(v));
            }
        }
        family(
            out,
            names::DB_POOL_UTILIZATION,
            "gauge",
            names::DB_POOL_UTILIZATION_HELP,
        );
        for p in &r.pools {
            if let Some(u) = p.utilization() {
                let labels = label_pairs(&[("pool", &p.name)]);
                sample(out, names::DB_POOL_UTILIZATION, &labels, u);
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
            family(out, name, "gauge", help);
            sample(out, name, "", v);
        }
    }
    if let Some(rt) = &r.runtime {
        render_runtime(&rt.now, out);
    }
}

/// The `mcp_runtime_*` families of the Tokio runtime watched.
fn render_runtime(rt: &RuntimeSample, out: &mut String) {
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
        family(out, name, "gauge", help);
        sample(out, name, "", v as u64);
    }
    let busy = names::RUNTIME_BUSY_SECONDS_TOTAL;
    family(out, busy, "counter", names::RUNTIME_BUSY_SECONDS_TOTAL_HELP);
    sample(out, busy, "", rt.busy.as_secs_f64());
    let parks = names::RUNTIME_PARKS_TOTAL;
    family(out, parks, "counter", names::RUNTIME_PARKS_TOTAL_HELP);
    sample(out, parks, "", rt.parks);
}

/// `mcp_alerts`: the engine's pending and firing rules.
fn render_alerts(r: &Reading, out: &mut String) {
    if r.alerts.statuses.is_empty() {
        return;
    }
    family(out, names::ALERTS, "gauge", names::ALERTS_HELP);
    for a in &r.alerts.statuses {
        let labels = label_pairs(&[
            ("alertname", a.kind.as_str()),
            ("severity", a.severity.as_str()),
            ("alertstate", if a.firing { "firing" } else { "pending" }),
            ("component", &a.component),
        ]);
        sample(out, names::ALERTS, &labels, 1u64);
    }
}

/// `mcp_alert_notifications_*` and `mcp_alert_events_dropped_total`.
fn render_notifier(n: &NotifierCounts, out: &mut String) {
    let per = |out: &mut String,
               name: &str,
               kind: &str,
               help: &str,
               f: &dyn Fn(&crate::alerts::notify::TargetCounts) -> u64| {
        family(out, name, kind, help);
        for t in &n.targets {
            sample(out, name, &label_pairs(&[("alertmanager", &t.name)]), f(t));
        }
    };
    per(
        out,
        names::ALERT_NOTIFICATIONS_SENT_TOTAL,
        "counter",
        names::ALERT_NOTIFICATIONS_SENT_TOTAL_HELP,
        &|t| t.sent,
    );
    per(
        out,
        names::ALERT_NOTIFICATIONS_ERRORS_TOTAL,
        "counter",
        names::ALERT_NOTIFICATIONS_ERRORS_TOTAL_HELP,
        &|t| t.failed,
    );
    per(
        out,
        names::ALERT_NOTIFICATIONS_DROPPED_TOTAL,
        "counter",
        names::ALERT_NOTIFICATIONS_DROPPED_TOTAL_HELP,
        &|t| t.dropped,
    );
    family(
        out,
        names::ALERT_EVENTS_DROPPED_TOTAL,
        "counter",
        names::ALERT_EVENTS_DROPPED_TOTAL_HELP,
    );
    sample(out, names::ALERT_EVENTS_DROPPED_TOTAL, "", n.dropped_events);
    per(
        out,
        names::ALERT_NOTIFICATIONS_QUEUE_LENGTH,
        "gauge",
        names::ALERT_NOTIFICATIONS_QUEUE_LENGTH_HELP,
        &|t| t.queued,
    );
}

/// `mcp_alert_threshold{alertname,severity}` (every threshold in force, a critical
/// level only where it can be reached) and `mcp_alert_min_samples`: what the rules of
/// [`prometheus_rules`](crate::prometheus_rules) compare each instance with, so that one rules file serves a
/// fleet whose instances run with different settings.
pub(crate) fn render_thresholds(s: &Settings, out: &mut String) {
    family(out, ALERT_THRESHOLD, "gauge", names::ALERT_THRESHOLD_HELP);
    for kind in AlertType::ALL {
        let levels = Levels::of(kind, s);
        for severity in [Severity::Warning, Severity::Critical] {
            if let Some(t) = levels.level(severity) {
                let labels = label_pairs(&[
                    ("alertname", kind.as_str()),
                    ("severity", severity.as_str()),
                ]);
                sample(out, ALERT_THRESHOLD, &labels, t);
            }
        }
    }
    family(
        out,
        ALERT_MIN_SAMPLES,
        "gauge",
        names::ALERT_MIN_SAMPLES_HELP,
    );
    sample(out, ALERT_MIN_SAMPLES, "", s.alert_min_samples);
}

/// `mcp_slo_objective{slo}` and `mcp_slo_error_budget_remaining{slo}` of every
/// objective, as of the last evaluation.
fn render_slos(r: &Reading, out: &mut String) {
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
        family(out, name, "gauge", help);
        for s in &r.slos {
            sample(out, name, &label_pairs(&[("slo", &s.slo)]), value(s));
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
        render_thresholds(&s, &mut out);
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
