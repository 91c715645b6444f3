//! Prometheus text exposition of the registry's series.
//!
//! Written with `metrics-exporter-prometheus`'s public formatting helpers so that the
//! escaping rules are the exporter's. Counters are rendered for every status (zero
//! included) so that `rate()` and `increase()` see a series from its first scrape.

use std::fmt::Write as _;

use metrics_exporter_prometheus::formatting::{
    sanitize_label_value, write_help_line, write_metric_line, write_type_line,
};

use crate::histogram::{Buckets, HistogramSnapshot};
use crate::names::{op_names, ACTIVE_WORKFLOWS};
use crate::outcome::Status;
use crate::registry::{registry, OpKind};

/// Quotes a label pair as the exposition wants it.
pub(crate) fn label(key: &str, value: &str) -> String {
    format!("{key}=\"{}\"", sanitize_label_value(value))
}

/// Writes the `_bucket`, `_sum` and `_count` lines of one histogram.
pub(crate) fn write_histogram(
    out: &mut String,
    name: &str,
    labels: &[String],
    buckets: &Buckets,
    snap: &HistogramSnapshot,
) {
    let mut cumulative = 0u64;
    for (i, count) in snap.counts.iter().enumerate() {
        cumulative += count;
        let le = match buckets.bounds().get(i) {
            Some(b) => format_float(*b),
            None => "+Inf".to_owned(),
        };
        write_metric_line(out, name, Some("bucket"), labels, Some(("le", le)), cumulative, None);
    }
    let sum = snap.sum_ns as f64 / 1e9;
    write_metric_line::<&str, f64>(out, name, Some("sum"), labels, None, sum, None);
    write_metric_line::<&str, u64>(out, name, Some("count"), labels, None, cumulative, None);
}

/// Formats a float the way Prometheus clients do (`0.005`, `1`, `2.5`).
pub(crate) fn format_float(v: f64) -> String {
    let mut s = String::new();
    let _ = write!(s, "{v}");
    s
}

/// Renders every macro-recorded family.
pub(crate) fn render_ops(out: &mut String) {
    let reg = registry();
    for kind in [OpKind::Db, OpKind::Step, OpKind::Run] {
        let series = reg.ops(kind);
        if series.is_empty() {
            continue;
        }
        let names = op_names(kind);
        let snaps: Vec<_> = series.iter().map(|s| (s, s.snapshot())).collect();

        write_help_line(out, names.total, names.total_help);
        write_type_line(out, names.total, "counter");
        for (s, snap) in &snaps {
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
            }
        }

        write_help_line(out, names.duration, names.duration_help);
        write_type_line(out, names.duration, "histogram");
        for (s, snap) in &snaps {
            let base = base_labels(names.label_keys, s.labels);
            write_histogram(out, names.duration, &base, s.histogram.buckets(), &snap.histogram);
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
