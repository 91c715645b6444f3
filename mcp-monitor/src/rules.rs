//! The alert thresholds as a Prometheus rules file, for fleets that alert in
//! Prometheus and Alertmanager rather than in-process.
//!
//! One group, `mcp-monitor`, evaluated every `MCP_ALERT_EVALUATION_INTERVAL`. Every
//! [`AlertType`] is an alert of the same name with a `warning` rule at its threshold
//! and a `critical` rule at the threshold times `MCP_ALERT_CRITICAL_FACTOR` (divided by
//! it for `LOW_CACHE_HIT_RATIO`), both holding for `MCP_ALERT_FOR`. `HIGH_ERROR_RATE`
//! has one pair of rules per component (`http`, `database`, `workflows`), as the
//! in-process engine does. Rates and latencies are taken over `MCP_METRICS_WINDOW` and
//! need `MCP_ALERT_MIN_SAMPLES` samples in it. Each alert is per scrape target: the
//! sums drop only the series' own labels (`sum without (...)`), so `instance`, `job`
//! and whatever target labels the fleet adds are kept.
//!
//! The YAML is written by hand: every expression is a literal block scalar and every
//! other string a single-quoted scalar, so nothing in them needs escaping beyond `'`.

use std::fmt::Write as _;
use std::time::Duration;

use crate::alerts::{AlertType, Severity};
use crate::names::{
    DB_OPERATIONS_TOTAL, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION, WORKFLOW_STEPS_TOTAL,
};
use crate::settings::Settings;

/// Renders the thresholds of `settings` as a Prometheus rules file (YAML) that
/// `promtool check rules` accepts: the same alert names, thresholds, `for` duration,
/// window and minimum sample count as the in-process alert engine, as PromQL over the
/// `mcp_` series of `/metrics`.
///
/// ```
/// let yaml = mcp_monitor::prometheus_rules(&mcp_monitor::Settings::default());
/// assert!(yaml.contains("- alert: HIGH_CPU_USAGE"));
/// ```
///
/// `cargo run --example alert-rules > docs/prometheus/alerts.yml` writes it from the
/// `MCP_*` environment.
pub fn prometheus_rules(settings: &Settings) -> String {
    let (rules, skipped) = rules(settings);
    let mut out = String::with_capacity(16 * 1024);
    header(&mut out, settings, &skipped);
    out.push_str("groups:\n");
    out.push_str("  - name: mcp-monitor\n");
    let _ = writeln!(
        out,
        "    interval: {}",
        prom_duration(settings.alert_evaluation_interval)
    );
    out.push_str("    rules:\n");
    let for_ = prom_duration(settings.alert_for);
    for r in &rules {
        let _ = writeln!(out, "      - alert: {}", r.kind.as_str());
        out.push_str("        expr: |-\n");
        for line in r.expr.lines() {
            let _ = writeln!(out, "          {line}");
        }
        let _ = writeln!(out, "        for: {for_}");
        out.push_str("        labels:\n");
        let _ = writeln!(out, "          severity: {}", r.severity.as_str());
        let _ = writeln!(out, "          component: {}", quote(&r.component));
        out.push_str("        annotations:\n");
        let _ = writeln!(out, "          summary: {}", quote(&r.summary));
        let _ = writeln!(out, "          description: {}", quote(&r.description));
    }
    out
}

/// One alerting rule.
#[derive(Debug)]
struct Rule {
    kind: AlertType,
    severity: Severity,
    /// The `component` label, as the in-process engine names it (may be a template).
    component: String,
    expr: String,
    summary: String,
    description: String,
}

/// What every expression is built from.
struct Ctx<'a> {
    s: &'a Settings,
    /// The window as a PromQL duration, `5m`.
    w: String,
}

impl Ctx<'_> {
    /// The comparison that a sample count must pass: `>= 20`, or `> 0` with no minimum
    /// (no data never fires).
    fn enough(&self) -> String {
        match self.s.alert_min_samples {
            0 => "> 0".to_owned(),
            n => format!(">= {n}"),
        }
    }

    /// `value` (one or more lines) compared with `threshold`, and guarded by `count`
    /// (one or more lines) when given.
    fn expr(&self, kind: AlertType, value: &str, threshold: f64, count: Option<&str>) -> String {
        let op = if kind.fires_below() { "<" } else { ">" };
        let compared = if value.contains('\n') {
            format!("(\n{}\n) {op} {}", indent(value), num(threshold))
        } else {
            format!("{value} {op} {}", num(threshold))
        };
        match count {
            None => compared,
            Some(count) => {
                let guarded = if count.contains('\n') {
                    format!("(\n{}\n) {}", indent(count), self.enough())
                } else {
                    format!("{count} {}", self.enough())
                };
                format!("{compared}\nand\n{guarded}")
            }
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every rule, and a note for each critical rule left out because it could never fire.
fn rules(s: &Settings) -> (Vec<Rule>, Vec<String>) {
    let c = Ctx {
        s,
        w: prom_duration(s.metrics_window),
    };
    let mut rules = Vec::new();
    let mut skipped = Vec::new();

    for kind in AlertType::ALL {
        let threshold = kind.threshold(s);
        let critical = kind.critical_threshold(s);
        if critical.is_none() {
            skipped.push(format!(
                "{} has no critical rule: its threshold {} times {} is {}, which a ratio \
                 cannot exceed.",
                kind.as_str(),
                kind.format_value(threshold),
                num(s.alert_critical_factor),
                kind.format_value(threshold * s.alert_critical_factor),
            ));
        }
        for part in parts(&c, kind) {
            for (severity, t) in [
                (Severity::Warning, Some(threshold)),
                (Severity::Critical, critical),
            ] {
                let Some(t) = t else { continue };
                let (op_word, times) = if kind.fires_below() {
                    ("below", "÷")
                } else {
                    ("above", "×")
                };
                let level = match severity {
                    Severity::Warning => format!(
                        "the threshold of {} ({})",
                        kind.format_value(t),
                        part.setting
                    ),
                    Severity::Critical => format!(
                        "the critical threshold of {} \
                         ({} {times} MCP_ALERT_CRITICAL_FACTOR: {} {times} {})",
                        kind.format_value(t),
                        part.setting,
                        kind.format_value(threshold),
                        num(s.alert_critical_factor),
                    ),
                };
                let value = value_template(kind);
                rules.push(Rule {
                    kind,
                    severity,
                    component: part.component.clone(),
                    expr: c.expr(kind, &part.value, t, part.count.as_deref()),
                    summary: format!(
                        "{} on {{{{ $labels.instance }}}}: {value} {op_word} {}",
                        part.what,
                        kind.format_value(t)
                    ),
                    description: format!(
                        "{} is {value}, {op_word} {level}.{}",
                        part.description,
                        part.note(s),
                    ),
                });
            }
        }
    }
    (rules, skipped)
}

/// One component's quantity for an alert type.
struct Part {
    component: String,
    /// Short name of the quantity, for the summary.
    what: String,
    /// Long name of the quantity, for the description.
    description: String,
    /// PromQL of the value.
    value: String,
    /// PromQL of the number of samples in the window, for rates and latencies.
    count: Option<String>,
    /// The setting that holds the threshold.
    setting: &'static str,
}

impl Part {
    /// The sample guard, for the description.
    fn note(&self, s: &Settings) -> String {
        match self.count {
            Some(_) => {
                let n = s.alert_min_samples.max(1);
                let plural = if n == 1 { "" } else { "s" };
                format!(" Needs at least {n} sample{plural} in the window (MCP_ALERT_MIN_SAMPLES).")
            }
            None => String::new(),
        }
    }
}

fn parts(c: &Ctx<'_>, kind: AlertType) -> Vec<Part> {
    let w = &c.w;
    const HTTP_BY: &str = "method, path, status";
    let http_count = sum_without(HTTP_BY, "increase", HTTP_REQUESTS_TOTAL, "", w);
    let over = |what: &str| format!("{what} over the last {w}");
    // The share of calls matching `failed` among all calls, per target.
    let share = |metric: &str, failed: &str, by: &str| {
        format!(
            "{}\n  /\n{}",
            sum_without(by, "rate", metric, failed, w),
            sum_without(by, "rate", metric, "", w),
        )
    };
    let errors = |component: &str, what: &str, description: &str, metric: &str, by, failed| Part {
        component: component.into(),
        what: what.into(),
        description: over(description),
        value: share(metric, failed, by),
        count: Some(sum_without(by, "increase", metric, "", w)),
        setting: "MCP_ERROR_RATE_THRESHOLD",
    };
    match kind {
        AlertType::HighRequestLatency => vec![Part {
            component: "http".into(),
            what: "HTTP p95 latency".into(),
            description: over("The 95th percentile of HTTP request latency"),
            value: format!(
                "histogram_quantile(0.95, {})",
                sum_without(
                    HTTP_BY,
                    "rate",
                    &format!("{HTTP_REQUEST_DURATION}_bucket"),
                    "",
                    w
                )
            ),
            count: Some(http_count),
            setting: "MCP_REQUEST_LATENCY_THRESHOLD",
        }],
        AlertType::HighErrorRate => vec![
            errors(
                "http",
                "HTTP 5xx share",
                "The share of HTTP responses with a 5xx status",
                HTTP_REQUESTS_TOTAL,
                HTTP_BY,
                "status=~\"5..\"",
            ),
            errors(
                "database",
                "Database failure share",
                "The share of database operations that failed",
                DB_OPERATIONS_TOTAL,
                "operation, table, status",
                "status=\"failure\"",
            ),
            errors(
                "workflows",
                "Workflow step failure share",
                "The share of workflow steps that failed",
                WORKFLOW_STEPS_TOTAL,
                "workflow, step, status",
                "status=\"failure\"",
            ),
        ],
        AlertType::HighMemoryUsage => vec![gauge(
            "mcp_system_memory_usage_ratio",
            "Memory use",
            "Memory in use (over the container's limit, if any)",
            "MCP_MEMORY_THRESHOLD",
        )],
        AlertType::HighCpuUsage => vec![gauge(
            "mcp_system_cpu_usage_ratio",
            "CPU use",
            "CPU in use across all cores",
            "MCP_CPU_THRESHOLD",
        )],
        AlertType::HighSystemLoad => vec![gauge(
            "mcp_system_load1_per_core",
            "Load per core",
            "The 1-minute load average per core",
            "MCP_SYSTEM_LOAD_THRESHOLD",
        )],
        AlertType::LowCacheHitRatio => {
            // Hits and misses carry the same labels: they match one to one.
            let (hits, misses) = ("mcp_cache_hits_total", "mcp_cache_misses_total");
            vec![Part {
                component: "cache:{{ $labels.cache }}".into(),
                what: "Cache {{ $labels.cache }} hit ratio".into(),
                description: over("The hit ratio of cache {{ $labels.cache }}"),
                value: format!("rate({hits}[{w}])\n  /\n(rate({hits}[{w}]) + rate({misses}[{w}]))"),
                count: Some(format!("increase({hits}[{w}]) + increase({misses}[{w}])")),
                setting: "MCP_CACHE_HIT_RATIO_THRESHOLD",
            }]
        }
        AlertType::HighDbPoolUtilization => vec![Part {
            component: "db_pool:{{ $labels.pool }}".into(),
            what: "Pool {{ $labels.pool }} utilization".into(),
            description: "The share of the connections of pool {{ $labels.pool }} in use".into(),
            value: "mcp_db_pool_utilization_ratio".into(),
            count: None,
            setting: "MCP_DB_POOL_THRESHOLD",
        }],
    }
}

/// `sum without (<labels>) (<func>(<metric>{<matcher>}[<window>]))`: one value per
/// scrape target, whatever target labels the fleet adds.
fn sum_without(labels: &str, func: &str, metric: &str, matcher: &str, window: &str) -> String {
    let selector = if matcher.is_empty() {
        metric.to_owned()
    } else {
        format!("{metric}{{{matcher}}}")
    };
    format!("sum without ({labels}) ({func}({selector}[{window}]))")
}

fn gauge(metric: &str, what: &str, description: &str, setting: &'static str) -> Part {
    Part {
        component: "system".into(),
        what: what.into(),
        description: description.into(),
        value: metric.into(),
        count: None,
        setting,
    }
}

/// How the annotations show the current value.
fn value_template(kind: AlertType) -> &'static str {
    match kind {
        AlertType::HighRequestLatency => "{{ $value | humanizeDuration }}",
        AlertType::HighSystemLoad => "{{ $value | printf \"%.2f\" }}",
        _ => "{{ $value | humanizePercentage }}",
    }
}

fn header(out: &mut String, s: &Settings, skipped: &[String]) {
    let lines = [
        "Prometheus alerting rules for mcp-monitor, generated from its settings.".to_owned(),
        "Do not edit: regenerate with".to_owned(),
        "  cargo run --example alert-rules > docs/prometheus/alerts.yml".to_owned(),
        "with the MCP_* variables of the service set in the environment.".to_owned(),
        String::new(),
        format!(
            "Window {} (MCP_METRICS_WINDOW), for {} (MCP_ALERT_FOR), at least {} samples",
            prom_duration(s.metrics_window),
            prom_duration(s.alert_for),
            s.alert_min_samples.max(1),
        ),
        format!(
            "(MCP_ALERT_MIN_SAMPLES), critical at the threshold times {} \
             (MCP_ALERT_CRITICAL_FACTOR).",
            num(s.alert_critical_factor)
        ),
        "Past the critical threshold both the warning and the critical rule fire; to be".to_owned(),
        "notified once, inhibit the warning in Alertmanager:".to_owned(),
        "  inhibit_rules:".to_owned(),
        "    - source_matchers: [severity=\"critical\"]".to_owned(),
        "      target_matchers: [severity=\"warning\"]".to_owned(),
        "      equal: [alertname, component, instance, job]".to_owned(),
    ];
    for l in lines.iter().chain(
        (!skipped.is_empty())
            .then(String::new)
            .iter()
            .chain(skipped),
    ) {
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {l}");
        }
    }
}

/// A YAML single-quoted scalar.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A number as PromQL and humans read it: `0.8`, `1`, `0.666666666667`.
fn num(v: f64) -> String {
    let s = format!("{v:.12}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A duration in Prometheus' format: `0s`, `250ms`, `90s`, `5m`, `24h`. Sub-millisecond
/// parts, which Prometheus cannot express, are rounded up.
fn prom_duration(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    if ms == 0 {
        "0s".to_owned()
    } else if ms % 1000 != 0 {
        format!("{ms}ms")
    } else {
        let secs = ms / 1000;
        if secs % 3600 == 0 {
            format!("{}h", secs / 3600)
        } else if secs % 60 == 0 {
            format!("{}m", secs / 60)
        } else {
            format!("{secs}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(&move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    /// The rules as (alert, severity, component, expr, for) read back from the YAML.
    fn parse(yaml: &str) -> Vec<[String; 5]> {
        let mut out: Vec<[String; 5]> = Vec::new();
        let mut in_expr = false;
        for line in yaml.lines() {
            if let Some(name) = line.strip_prefix("      - alert: ") {
                out.push([
                    name.to_owned(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                in_expr = false;
                continue;
            }
            let Some(r) = out.last_mut() else { continue };
            if line == "        expr: |-" {
                in_expr = true;
            } else if in_expr && line.starts_with("          ") {
                r[3].push_str(line.trim_start());
                r[3].push('\n');
            } else {
                in_expr = false;
                if let Some(v) = line.strip_prefix("          severity: ") {
                    r[1] = v.to_owned();
                } else if let Some(v) = line.strip_prefix("          component: ") {
                    r[2] = v.to_owned();
                } else if let Some(v) = line.strip_prefix("        for: ") {
                    r[4] = v.to_owned();
                }
            }
        }
        out
    }

    #[test]
    fn one_group_with_every_alert_type_and_severity() {
        let yaml = prometheus_rules(&Settings::default());
        assert!(yaml.starts_with("# Prometheus alerting rules"));
        assert_eq!(yaml.matches("\n  - name: ").count(), 1);
        assert!(yaml.contains("\n  - name: mcp-monitor\n    interval: 15s\n    rules:\n"));
        assert!(!yaml.contains('\t'));
        let rules = parse(&yaml);
        for kind in AlertType::ALL {
            let of: Vec<_> = rules.iter().filter(|r| r[0] == kind.as_str()).collect();
            assert!(of.iter().any(|r| r[1] == "warning"), "{kind}");
            // 90% × 1.2 is above 100%: no critical pool rule by default.
            assert_eq!(
                of.iter().any(|r| r[1] == "critical"),
                kind != AlertType::HighDbPoolUtilization,
                "{kind}"
            );
        }
        // warning + critical for 6 types (error rate: 3 components), warning for the pool.
        assert_eq!(rules.len(), 2 * 8 + 1);
        for r in &rules {
            assert_eq!(r[4], "1m", "{r:?}");
            assert!(!r[3].is_empty() && !r[2].is_empty(), "{r:?}");
            assert_eq!(
                r[3].matches('(').count(),
                r[3].matches(')').count(),
                "{r:?}"
            );
        }
        let components: Vec<_> = rules
            .iter()
            .filter(|r| r[0] == "HIGH_ERROR_RATE" && r[1] == "warning")
            .map(|r| r[2].as_str())
            .collect();
        assert_eq!(components, ["'http'", "'database'", "'workflows'"]);
        assert!(yaml.contains("# HIGH_DB_POOL_UTILIZATION has no critical rule"));
    }

    #[test]
    fn thresholds_window_and_guard_come_from_the_settings() {
        let yaml = prometheus_rules(&Settings::default());
        let rules = parse(&yaml);
        let expr = |alert: &str, severity: &str| {
            rules
                .iter()
                .find(|r| r[0] == alert && r[1] == severity)
                .map(|r| r[3].clone())
                .unwrap()
        };
        assert_eq!(
            expr("HIGH_CPU_USAGE", "warning"),
            "mcp_system_cpu_usage_ratio > 0.8\n"
        );
        assert_eq!(
            expr("HIGH_CPU_USAGE", "critical"),
            "mcp_system_cpu_usage_ratio > 0.96\n"
        );
        assert_eq!(
            expr("HIGH_SYSTEM_LOAD", "critical"),
            "mcp_system_load1_per_core > 1.2\n"
        );
        assert_eq!(
            expr("HIGH_REQUEST_LATENCY", "warning"),
            concat!(
                "histogram_quantile(0.95, sum without (method, path, status) ",
                "(rate(mcp_http_request_duration_seconds_bucket[5m]))) > 1\n",
                "and\n",
                "sum without (method, path, status) (increase(mcp_http_requests_total[5m])) >= 20\n",
            )
        );
        assert!(expr("HIGH_REQUEST_LATENCY", "critical").contains(") > 1.2\n"));
        let cache = expr("LOW_CACHE_HIT_RATIO", "critical");
        assert!(cache.contains(") < 0.666666666667\n"), "{cache}");
        assert!(cache.contains(") >= 20\n"), "{cache}");
        assert!(expr("HIGH_ERROR_RATE", "warning").contains("status=~\"5..\""));
        assert!(yaml.contains("above the threshold of 80% (MCP_CPU_THRESHOLD)."));
        assert!(yaml.contains(concat!(
            "above the critical threshold of 96% ",
            "(MCP_CPU_THRESHOLD × MCP_ALERT_CRITICAL_FACTOR: 80% × 1.2)."
        )));
        assert!(yaml.contains("{{ $value | humanizePercentage }}"));

        let s = with(&[
            ("MCP_CPU_THRESHOLD", "90%"),
            ("MCP_ALERT_FOR", "90s"),
            ("MCP_METRICS_WINDOW", "10m"),
            ("MCP_ALERT_MIN_SAMPLES", "50"),
            ("MCP_ALERT_CRITICAL_FACTOR", "1.1"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "30s"),
            ("MCP_REQUEST_LATENCY_THRESHOLD", "250ms"),
        ]);
        let yaml = prometheus_rules(&s);
        let rules = parse(&yaml);
        assert!(rules.iter().all(|r| r[4] == "90s"));
        assert!(yaml.contains("    interval: 30s\n"));
        assert!(yaml.contains("mcp_system_cpu_usage_ratio > 0.9\n"));
        assert!(yaml.contains("mcp_system_cpu_usage_ratio > 0.99\n"));
        assert!(yaml.contains(") > 0.25\n"));
        assert!(yaml.contains("[10m]"));
        assert!(!yaml.contains("[5m]"));
        assert!(yaml.contains(" >= 50\n"));
        // 90% × 1.1 is 99%: the pool now has a critical rule.
        assert!(rules
            .iter()
            .any(|r| r[0] == "HIGH_DB_POOL_UTILIZATION" && r[1] == "critical"));
    }

    #[test]
    fn no_minimum_still_needs_one_sample() {
        // Refused from the environment, but a builder may still set it.
        let mut s = with(&[]);
        s.alert_min_samples = 0;
        let yaml = prometheus_rules(&s);
        assert!(yaml.contains("(increase(mcp_http_requests_total[5m])) > 0\n"));
        assert!(!yaml.contains(">= 0"));
    }

    #[test]
    fn strings_are_quoted() {
        assert_eq!(quote("it's {{ $value }}"), "'it''s {{ $value }}'");
        let yaml = prometheus_rules(&Settings::default());
        for line in yaml.lines() {
            let t = line.trim_start();
            for key in ["summary: ", "description: ", "component: "] {
                if let Some(v) = t.strip_prefix(key) {
                    assert!(v.starts_with('\'') && v.ends_with('\''), "{line}");
                }
            }
        }
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(prom_duration(Duration::ZERO), "0s");
        assert_eq!(prom_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(prom_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(prom_duration(Duration::from_micros(1)), "1ms");
        assert_eq!(prom_duration(Duration::from_secs(90)), "90s");
        assert_eq!(prom_duration(Duration::from_secs(300)), "5m");
        assert_eq!(prom_duration(Duration::from_secs(86400)), "24h");
        assert_eq!(num(0.8), "0.8");
        assert_eq!(num(0.8 * 1.2), "0.96");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(0.05 * 1.2), "0.06");
        assert_eq!(num(0.8 / 1.2), "0.666666666667");
    }
}
