//! Prometheus text exposition of the registry's series.
//!
//! Written with `metrics-exporter-prometheus`'s public formatting helpers, except for
//! label values: its `sanitize_label_value` leaves a backslash that precedes a quote
//! unescaped (so `a\"` and `a"` both render as `a\"`, one series twice) and moves one
//! that precedes a line feed after it; [`escape_label_value`] escapes exactly as the
//! format says. Counters are rendered for every status (zero included) so that `rate()`
//! and `increase()` see a series from its first scrape.

use metrics_exporter_prometheus::formatting::{
    write_help_line, write_metric_line, write_type_line,
};

use crate::alerts::engine::{AlertType, Severity};
use crate::alerts::levels::Levels;
use crate::base::histogram::{AtomicHistogram, Buckets, Exemplar, HistogramSnapshot};
use crate::base::names::OpKind;
use crate::base::names::{op_names, ACTIVE_WORKFLOWS, ALERT_MIN_SAMPLES, ALERT_THRESHOLD};
use crate::calls::outcome::Status;
use crate::calls::registry::registry;
use crate::output::openmetrics::append_exemplar;
use crate::settings::Settings;

pub(crate) use crate::base::format::format_float;

/// Quotes a label pair as the exposition wants it.
pub(crate) fn label(key: &str, value: &str) -> String {
    format!("{key}=\"{}\"", escape_label_value(value))
}

/// Escapes a label value for the text format: `\` as `\\`, `"` as `\"`, a line feed as
/// `\n`; every other character as it is.
pub(crate) fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The exposition format being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text 0.0.4.
    Text,
    /// Prometheus text with exemplars appended, to be converted to OpenMetrics.
    OpenMetrics,
}

impl Format {
    /// The exemplars of `histogram` to write in this format: none in text 0.0.4.
    fn exemplars(self, histogram: &AtomicHistogram) -> Option<Vec<Option<Exemplar>>> {
        match self {
            Format::Text => None,
            Format::OpenMetrics => histogram.exemplars(),
        }
    }
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

/// Writes the `_bucket`, `_sum` and `_count` lines of one histogram, with the
/// exemplar of each bucket after its line when `exemplars` is given.
pub(crate) fn write_histogram(
    out: &mut String,
    name: &str,
    labels: &[String],
    buckets: &Buckets,
    snap: &HistogramSnapshot,
    exemplars: Option<&[Option<Exemplar>]>,
) {
    let mut cumulative = 0u64;
    for (i, count) in snap.counts.iter().enumerate() {
        cumulative += count;
        let le = match buckets.bounds().get(i) {
            Some(b) => format_float(*b),
            None => "+Inf".to_owned(),
        };
        write_metric_line(
            out,
            name,
            Some("bucket"),
            labels,
            Some(("le", le)),
            cumulative,
            None,
        );
        if let Some(Some(ex)) = exemplars.and_then(|e| e.get(i)) {
            write_exemplar(out, ex, ex.ns as f64 / 1e9);
        }
    }
    let sum = snap.sum_ns as f64 / 1e9;
    write_metric_line::<&str, f64>(out, name, Some("sum"), labels, None, sum, None);
    write_metric_line::<&str, u64>(out, name, Some("count"), labels, None, cumulative, None);
}

/// Renders every macro-recorded family.
pub(crate) fn render_ops(out: &mut String, format: Format) {
    let reg = registry();
    for kind in [OpKind::Db, OpKind::Step, OpKind::Run] {
        let series = reg.ops(kind);
        if series.is_empty() {
            continue;
        }
        let names = op_names(kind);
        let snaps: Vec<_> = series
            .iter()
            .map(|s| (s, s.snapshot(), format.exemplars(&s.histogram)))
            .collect();

        write_help_line(out, names.total, names.total_help);
        write_type_line(out, names.total, "counter");
        for (s, snap, ex) in &snaps {
            let base = base_labels(names.label_keys, s.labels);
            for status in Status::ALL {
                let mut labels = base.clone();
                labels.push(label("status", status.as_str()));
                write_metric_line::<&str, u64>(
                    out,
                    names.total,
                    None,
                    &labels,
                    None,
                    snap.statuses[status as usize],
                    None,
                );
                if let Some(e) = latest(ex.as_deref(), |c| c == status as usize) {
                    write_exemplar(out, &e, 1.0);
                }
            }
        }

        write_help_line(out, names.duration, names.duration_help);
        write_type_line(out, names.duration, "histogram");
        for (s, snap, ex) in &snaps {
            let base = base_labels(names.label_keys, s.labels);
            write_histogram(
                out,
                names.duration,
                &base,
                s.histogram.buckets(),
                &snap.histogram,
                ex.as_deref(),
            );
        }
    }

    let gauges = reg.active_gauges();
    if !gauges.is_empty() {
        write_help_line(
            out,
            ACTIVE_WORKFLOWS,
            "Executions of each workflow in progress.",
        );
        write_type_line(out, ACTIVE_WORKFLOWS, "gauge");
        for g in gauges {
            write_metric_line::<&str, i64>(
                out,
                ACTIVE_WORKFLOWS,
                None,
                &[label("workflow", g.workflow)],
                None,
                g.get(),
                None,
            );
        }
    }
}

fn base_labels(keys: &[&str], values: [&'static str; 2]) -> Vec<String> {
    keys.iter().zip(values).map(|(k, v)| label(k, v)).collect()
}

pub(crate) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    write_help_line(out, name, help);
    write_type_line(out, name, kind);
}

pub(crate) fn line<V: std::fmt::Display>(out: &mut String, name: &str, labels: &[String], v: V) {
    write_metric_line::<&str, V>(out, name, None, labels, None, v, None);
}

/// Renders every series of `monitor`: the macro families, HTTP, caches, pools,
/// resources and alerts.
pub(crate) fn render_all(monitor: &crate::Monitor, out: &mut String, format: Format) {
    use crate::base::names::{HTTP_IN_FLIGHT, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION};

    family(
        out,
        "mcp_build_info",
        "gauge",
        "Version of mcp-monitor; always 1.",
    );
    line(
        out,
        "mcp_build_info",
        &[label("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    family(
        out,
        "mcp_uptime_seconds",
        "gauge",
        "Seconds since the monitor started.",
    );
    line(
        out,
        "mcp_uptime_seconds",
        &[],
        monitor.uptime().as_secs_f64(),
    );

    render_ops(out, format);

    let http = monitor.inner_http();
    let series = http.series();
    let snaps: Vec<_> = series
        .iter()
        .map(|s| (s, s.histogram.snapshot(), format.exemplars(&s.histogram)))
        .collect();
    let labels_of = |s: &crate::http::store::HttpSeries| {
        vec![
            label("method", s.method.as_str()),
            label("path", &s.path),
            label("status", &s.status.to_string()),
        ]
    };
    if !snaps.is_empty() {
        family(
            out,
            HTTP_REQUESTS_TOTAL,
            "counter",
            "HTTP requests, by route template and status.",
        );
        for (s, snap, ex) in &snaps {
            line(out, HTTP_REQUESTS_TOTAL, &labels_of(s), snap.count());
            if let Some(e) = latest(ex.as_deref(), |_| true) {
                write_exemplar(out, &e, 1.0);
            }
        }
        family(
            out,
            HTTP_REQUEST_DURATION,
            "histogram",
            "Duration of HTTP requests until the response head, in seconds.",
        );
        for (s, snap, ex) in &snaps {
            write_histogram(
                out,
                HTTP_REQUEST_DURATION,
                &labels_of(s),
                http.buckets(),
                snap,
                ex.as_deref(),
            );
        }
    }
    family(out, HTTP_IN_FLIGHT, "gauge", "HTTP requests being served.");
    line(out, HTTP_IN_FLIGHT, &[], http.in_flight());
    family(
        out,
        "mcp_http_series_overflow_total",
        "counter",
        "HTTP requests recorded under path=\"overflow\" because the label-set cap was reached.",
    );
    line(
        out,
        "mcp_http_series_overflow_total",
        &[],
        http.overflowed(),
    );

    let caches = monitor.inner_caches().all();
    if !caches.is_empty() {
        for (i, (name, help)) in [
            (
                "mcp_cache_hits_total",
                "Cache lookups that found their entry.",
            ),
            ("mcp_cache_misses_total", "Cache lookups that did not."),
        ]
        .into_iter()
        .enumerate()
        {
            family(out, name, "counter", help);
            for c in &caches {
                line(out, name, &[label("cache", c.name())], c.counts()[i]);
            }
        }
    }

    let pools = monitor.pool_samples();
    if !pools.is_empty() {
        family(
            out,
            "mcp_db_pool_connections",
            "gauge",
            "Connections of each database pool: in use, idle, and the pool's maximum.",
        );
        for p in &pools {
            for (state, v) in [("in_use", p.in_use), ("idle", p.idle), ("max", p.max_size)] {
                line(
                    out,
                    "mcp_db_pool_connections",
                    &[label("pool", &p.name), label("state", state)],
                    v,
                );
            }
        }
        family(
            out,
            "mcp_db_pool_utilization_ratio",
            "gauge",
            "Connections in use over the pool's maximum size.",
        );
        for p in &pools {
            if let Some(u) = p.utilization() {
                line(
                    out,
                    "mcp_db_pool_utilization_ratio",
                    &[label("pool", &p.name)],
                    u,
                );
            }
        }
    }

    let r = monitor.resources();
    let gauges: [(&str, &str, Option<f64>); 5] = [
        (
            "mcp_system_cpu_usage_ratio",
            "CPU in use across all cores (0 to 1).",
            r.cpu,
        ),
        (
            "mcp_system_memory_usage_ratio",
            "Memory in use over the total, or over the container's limit (0 to 1).",
            r.memory,
        ),
        (
            "mcp_system_load1_per_core",
            "1-minute load average divided by the number of cores.",
            r.load_per_core,
        ),
        (
            "mcp_process_resident_memory_bytes",
            "Resident memory of this process in bytes.",
            r.process_resident_bytes.map(|b| b as f64),
        ),
        (
            "mcp_process_cpu_usage_ratio",
            "CPU used by this process, as a share of one core.",
            r.process_cpu,
        ),
    ];
    for (name, help, v) in gauges {
        if let Some(v) = v {
            family(out, name, "gauge", help);
            line(out, name, &[], v);
        }
    }

    let alerts = monitor.alert_statuses();
    if !alerts.is_empty() {
        family(
            out,
            "mcp_alerts",
            "gauge",
            "Alerts of the in-process engine that are pending or firing (1).",
        );
        for a in alerts {
            line(
                out,
                "mcp_alerts",
                &[
                    label("alertname", a.kind.as_str()),
                    label("severity", a.severity.as_str()),
                    label("alertstate", if a.firing { "firing" } else { "pending" }),
                    label("component", &a.component),
                ],
                1,
            );
        }
    }
    render_thresholds(monitor.settings(), out);
    if let Some(n) = &monitor.inner_notifier() {
        n.render(out);
    }
}

/// `mcp_alert_threshold{alertname,severity}` (every threshold in force, a critical
/// level only where it can be reached) and `mcp_alert_min_samples`: what the rules of
/// [`prometheus_rules`](crate::prometheus_rules) compare each instance with, so that one rules file serves a
/// fleet whose instances run with different settings.
pub(crate) fn render_thresholds(s: &Settings, out: &mut String) {
    family(
        out,
        ALERT_THRESHOLD,
        "gauge",
        crate::base::names::ALERT_THRESHOLD_HELP,
    );
    for kind in AlertType::ALL {
        let levels = Levels::of(kind, s);
        for severity in [Severity::Warning, Severity::Critical] {
            if let Some(t) = levels.level(severity) {
                let labels = [
                    label("alertname", kind.as_str()),
                    label("severity", severity.as_str()),
                ];
                line(out, ALERT_THRESHOLD, &labels, format_float(t));
            }
        }
    }
    family(
        out,
        ALERT_MIN_SAMPLES,
        "gauge",
        crate::base::names::ALERT_MIN_SAMPLES_HELP,
    );
    line(out, ALERT_MIN_SAMPLES, &[], s.alert_min_samples);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads an escaped label value back, as Prometheus does.
    fn unescape(v: &str) -> String {
        let mut out = String::new();
        let mut chars = v.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(c @ ('\\' | '"')) => out.push(c),
                    other => panic!("invalid escape {other:?} in {v:?}"),
                },
                (c, false) => out.push(c),
            }
        }
        out
    }

    /// Found by the `exposition` fuzz target (fuzz/regressions/exposition/): the
    /// exporter's `sanitize_label_value` dropped the backslash of `\"` and moved the one of
    /// `\` + line feed.
    #[test]
    fn label_values_read_back_exactly() {
        for v in [
            "p\"\\\n",
            "a\\\"b",
            "a\"",
            "a\\\"",
            "\\",
            "\\\\n",
            "\n\\",
            "C:\\dir\\",
            "ユ\"ー",
        ] {
            let escaped = escape_label_value(v);
            assert!(!escaped.contains('\n'), "{escaped:?}");
            assert_eq!(unescape(&escaped), v, "{escaped:?}");
        }
        assert_ne!(escape_label_value("a\""), escape_label_value("a\\\""));
    }

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
