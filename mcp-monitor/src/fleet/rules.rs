//! The alert rules as a Prometheus rules file, for fleets that alert in Prometheus and
//! Alertmanager as well as (or rather than) in-process.
//!
//! One group, `mcp-monitor`, evaluated every `MCP_ALERT_EVALUATION_INTERVAL`. Every
//! [`AlertType`] is an alert of the same name with a `warning` and a `critical` rule,
//! both holding for `MCP_ALERT_FOR`. **The thresholds are not in the file**: each
//! instance exports its own as `mcp_alert_threshold{alertname,severity}` (a critical
//! level only where it can be reached) and `mcp_alert_min_samples`, and each rule
//! compares an instance with its own (`> on(instance, job) group_left()
//! mcp_alert_threshold{..}`). One file so serves a fleet whose instances run with
//! different settings, and its `promtool test rules` holds for any thresholds.
//! `HIGH_ERROR_RATE` has one pair of rules per component (`http`, `database`,
//! `workflows`), as the in-process engine does. Rates and latencies are taken over
//! `MCP_METRICS_WINDOW`. Each alert is per scrape target: the sums drop only the
//! series' own labels (`sum without (...)`), so `instance`, `job` and whatever target
//! labels the fleet adds are kept. `INSTANCE_DOWN` fires for a target that exported
//! `mcp_build_info` in the last day and is no longer scraped.
//!
//! The YAML is written by hand: every expression is a literal block scalar and every
//! other string a single-quoted scalar, so nothing in them needs escaping beyond `'`.

use std::fmt::Write as _;

use crate::alerts::levels::Direction;
use crate::alerts::levels::{AlertType, Severity};
use crate::base::names::{
    ALERT_MIN_SAMPLES, ALERT_THRESHOLD, BUILD_INFO, CACHE_HITS_TOTAL, CACHE_MISSES_TOTAL,
    DB_OPERATIONS_TOTAL, DB_POOL_UTILIZATION, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION,
    SYSTEM_CPU_USAGE, SYSTEM_LOAD1_PER_CORE, SYSTEM_MEMORY_USAGE, WORKFLOW_STEPS_TOTAL,
};
use crate::settings::var;
use crate::settings::Settings;

use super::text::{prom_duration, quote};

/// Renders the alerts of the in-process engine as a Prometheus rules file (YAML) that
/// `promtool check rules` accepts: the same alert names, severities, `for` duration and
/// window, as PromQL over the `mcp_` series of `/metrics`, comparing each instance with
/// the thresholds and minimum sample count it exports (`mcp_alert_threshold`,
/// `mcp_alert_min_samples`); plus `INSTANCE_DOWN`. Thresholds do not change the file.
///
/// ```
/// let yaml = mcp_monitor::fleet::prometheus_rules(&mcp_monitor::Settings::default());
/// assert!(yaml.contains("- alert: HIGH_CPU_USAGE"));
/// ```
///
/// Write it to a file from your service's settings (`Settings::from_env()?`) and list
/// that file under `rule_files` in `prometheus.yml`.
pub fn prometheus_rules(settings: &Settings) -> String {
    let rules = rules(settings);
    let mut out = String::with_capacity(16 * 1024);
    header(&mut out, settings);
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
        let _ = writeln!(out, "      - alert: {}", r.name);
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
    super::slo_rules::render(&mut out, settings);
    out
}

/// One alerting rule.
#[derive(Debug)]
struct Rule {
    name: &'static str,
    severity: Severity,
    /// The `component` label, as the in-process engine names it (may be a template).
    component: String,
    expr: String,
    summary: String,
    description: String,
}

/// What every expression is built from.
struct Ctx {
    /// The window as a PromQL duration, `5m`.
    w: String,
}

impl Ctx {
    /// `value` (one or more lines) compared with the instance's own threshold, and
    /// guarded by `count` (one or more lines) when given: more than 0 and at least the
    /// instance's `mcp_alert_min_samples`.
    fn expr(
        &self,
        kind: AlertType,
        severity: Severity,
        value: &str,
        count: Option<&str>,
    ) -> String {
        let op = Direction::of(kind).operator();
        let threshold = format!(
            "{op} on(instance, job) group_left()\n  {ALERT_THRESHOLD}{{alertname=\"{}\", severity=\"{}\"}}",
            kind.as_str(),
            severity.as_str()
        );
        let wrap = |v: &str| {
            if v.contains('\n') {
                format!("(\n{}\n)", indent(v))
            } else {
                v.to_owned()
            }
        };
        let compared = format!("{} {threshold}", wrap(value));
        match count {
            None => compared,
            Some(count) => format!(
                "{compared}\nand\n{} > 0\n  >= on(instance, job) group_left() {ALERT_MIN_SAMPLES}",
                wrap(count)
            ),
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every rule: two per alert type and component, and `INSTANCE_DOWN`.
fn rules(s: &Settings) -> Vec<Rule> {
    let c = Ctx {
        w: prom_duration(s.metrics_window),
    };
    let mut rules = Vec::new();
    for kind in AlertType::ALL {
        for part in parts(&c, kind) {
            for severity in [Severity::Warning, Severity::Critical] {
                let direction = Direction::of(kind);
                let (op_word, times) = (direction.word(), direction.factor_symbol());
                let t = threshold_template(kind, severity);
                let level = match severity {
                    Severity::Warning => format!("the threshold of {t} ({})", part.setting),
                    Severity::Critical => format!(
                        "the critical threshold of {t} ({} {times} MCP_ALERT_CRITICAL_FACTOR)",
                        part.setting,
                    ),
                };
                let value = value_template(kind);
                rules.push(Rule {
                    name: kind.as_str(),
                    severity,
                    component: part.component.clone(),
                    expr: c.expr(kind, severity, &part.value, part.count.as_deref()),
                    summary: format!(
                        "{} on {{{{ $labels.instance }}}}: {value} {op_word} {t}",
                        part.what
                    ),
                    description: format!(
                        "{} is {value}, {op_word} {level}.{}",
                        part.description,
                        part.note(),
                    ),
                });
            }
        }
    }
    rules.push(Rule {
        name: INSTANCE_DOWN,
        severity: Severity::Critical,
        component: "instance".into(),
        expr: format!("up == 0\nand on(instance, job)\npresent_over_time({BUILD_INFO}[1d])"),
        summary: "{{ $labels.instance }} is down".into(),
        description: "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}), \
                      which served mcp-monitor metrics within the last day: it is down or \
                      unreachable, and its own alerts can no longer fire."
            .into(),
    });
    rules
}

/// The alert that fires for an instance Prometheus can no longer scrape.
pub(crate) const INSTANCE_DOWN: &str = "INSTANCE_DOWN";

/// The instance's own threshold, read back from `mcp_alert_threshold` by a template
/// query, formatted as the value is.
fn threshold_template(kind: AlertType, severity: Severity) -> String {
    let format = match kind {
        AlertType::HighRequestLatency => "humanizeDuration",
        AlertType::HighSystemLoad => "printf \"%.2f\"",
        _ => "humanizePercentage",
    };
    format!(
        "{{{{ with printf \"{ALERT_THRESHOLD}{{alertname='{}',severity='{}',instance='%s',job='%s'}}\" \
         $labels.instance $labels.job | query }}}}{{{{ . | first | value | {format} }}}}{{{{ end }}}}",
        kind.as_str(),
        severity.as_str()
    )
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
    fn note(&self) -> String {
        match self.count {
            Some(_) => " Needs at least MCP_ALERT_MIN_SAMPLES samples in the window.".into(),
            None => String::new(),
        }
    }
}

fn parts(c: &Ctx, kind: AlertType) -> Vec<Part> {
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
        setting: var::ERROR_RATE_THRESHOLD,
    };
    match kind {
        AlertType::HighRequestLatency => vec![Part {
            component: "http".into(),
            what: "HTTP p95 latency".into(),
            description: over("The 95th percentile of HTTP request latency"),
            value: latency_quantile("0.95", HTTP_BY, HTTP_REQUEST_DURATION, w),
            count: Some(http_count),
            setting: var::REQUEST_LATENCY_THRESHOLD,
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
            errors(
                "grpc",
                "gRPC server-error share",
                "The share of gRPC calls that ended with a server error (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS)",
                crate::base::names::GRPC_REQUESTS_TOTAL,
                "service, method, code",
                &crate::grpc::code::server_error_matcher(),
            ),
        ],
        AlertType::HighMemoryUsage => vec![gauge(
            SYSTEM_MEMORY_USAGE,
            "Memory use",
            "Memory in use (over the container's limit, if any)",
            var::MEMORY_THRESHOLD,
        )],
        AlertType::HighCpuUsage => vec![gauge(
            SYSTEM_CPU_USAGE,
            "CPU use",
            "CPU in use across all cores",
            var::CPU_THRESHOLD,
        )],
        AlertType::HighSystemLoad => vec![gauge(
            SYSTEM_LOAD1_PER_CORE,
            "Load per core",
            "The 1-minute load average per core",
            var::SYSTEM_LOAD_THRESHOLD,
        )],
        AlertType::LowCacheHitRatio => {
            // Hits and misses carry the same labels: they match one to one.
            let (hits, misses) = (CACHE_HITS_TOTAL, CACHE_MISSES_TOTAL);
            vec![Part {
                component: "cache:{{ $labels.cache }}".into(),
                what: "Cache {{ $labels.cache }} hit ratio".into(),
                description: over("The hit ratio of cache {{ $labels.cache }}"),
                value: format!("rate({hits}[{w}])\n  /\n(rate({hits}[{w}]) + rate({misses}[{w}]))"),
                count: Some(format!("increase({hits}[{w}]) + increase({misses}[{w}])")),
                setting: var::CACHE_HIT_RATIO_THRESHOLD,
            }]
        }
        AlertType::HighDbPoolUtilization => vec![Part {
            component: "db_pool:{{ $labels.pool }}".into(),
            what: "Pool {{ $labels.pool }} utilization".into(),
            description: "The share of the connections of pool {{ $labels.pool }} in use".into(),
            value: DB_POOL_UTILIZATION.into(),
            count: None,
            setting: var::DB_POOL_THRESHOLD,
        }],
        // Not threshold alerts: `fleet::slo_rules` renders them, from the objectives.
        AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow => Vec::new(),
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

/// The `q` quantile of the latency histogram `family` over `window`, summed without
/// `labels`, for every kind of scraper: from the native histogram `family` where
/// Prometheus stores one (scraped over protobuf with native histograms on), or else
/// from the classic `family_bucket` series. Where it stores both, `or` keeps the
/// native result: the two sides have the same labels once `le` is consumed, so a
/// target is counted once, never twice.
pub(crate) fn latency_quantile(q: &str, labels: &str, family: &str, window: &str) -> String {
    format!(
        "histogram_quantile({q}, {})\nor\nhistogram_quantile({q}, {})",
        sum_without(labels, "rate", family, "", window),
        sum_without(labels, "rate", &format!("{family}_bucket"), "", window),
    )
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

fn header(out: &mut String, s: &Settings) {
    let lines = [
        "Prometheus alerting rules for mcp-monitor, generated from its settings.".to_owned(),
        "Do not edit: regenerate with".to_owned(),
        "  cargo run --example alert-rules > docs/prometheus/alerts.yml".to_owned(),
        String::new(),
        "The thresholds are not in this file: every instance exports its own as".to_owned(),
        format!("{ALERT_THRESHOLD}{{alertname,severity}} and {ALERT_MIN_SAMPLES}, and each rule"),
        "compares an instance with them (on(instance, job)), so this one file serves".to_owned(),
        "instances run with different MCP_*_THRESHOLD settings. What it does take from".to_owned(),
        format!(
            "the settings: window {} (MCP_METRICS_WINDOW), for {} (MCP_ALERT_FOR),",
            prom_duration(s.metrics_window),
            prom_duration(s.alert_for),
        ),
        format!(
            "evaluation every {} (MCP_ALERT_EVALUATION_INTERVAL).",
            prom_duration(s.alert_evaluation_interval)
        ),
        String::new(),
        "Past the critical threshold both the warning and the critical rule fire; the".to_owned(),
        "inhibit rule of docs/alertmanager/alertmanager.yml notifies only the critical.".to_owned(),
    ];
    for l in &lines {
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {l}");
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
            // Every critical rule is there: an instance whose critical level cannot
            // be reached exports no critical threshold, and its rule never matches.
            assert!(of.iter().any(|r| r[1] == "critical"), "{kind}");
        }
        // warning + critical for 7 types (error rate: 4 components), and INSTANCE_DOWN.
        assert_eq!(rules.len(), 2 * 10 + 1);
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
        assert_eq!(
            components,
            ["'http'", "'database'", "'workflows'", "'grpc'"]
        );
        let down = rules.iter().find(|r| r[0] == INSTANCE_DOWN).unwrap();
        assert_eq!(down[1], "critical");
        assert!(down[3].starts_with("up == 0\n"), "{down:?}");
    }

    #[test]
    fn each_instance_is_compared_with_its_own_thresholds() {
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
            concat!(
                "mcp_system_cpu_usage_ratio > on(instance, job) group_left()\n",
                "mcp_alert_threshold{alertname=\"HIGH_CPU_USAGE\", severity=\"warning\"}\n"
            )
        );
        assert_eq!(
            expr("HIGH_REQUEST_LATENCY", "critical"),
            concat!(
                "(\n",
                "histogram_quantile(0.95, sum without (method, path, status) ",
                "(rate(mcp_http_request_duration_seconds[5m])))\n",
                "or\n",
                "histogram_quantile(0.95, sum without (method, path, status) ",
                "(rate(mcp_http_request_duration_seconds_bucket[5m])))\n",
                ") > on(instance, job) group_left()\n",
                "mcp_alert_threshold{alertname=\"HIGH_REQUEST_LATENCY\", severity=\"critical\"}\n",
                "and\n",
                "sum without (method, path, status) (increase(mcp_http_requests_total[5m])) > 0\n",
                ">= on(instance, job) group_left() mcp_alert_min_samples\n",
            )
        );
        assert!(expr("LOW_CACHE_HIT_RATIO", "warning").contains(") < on(instance, job)"));
        assert!(expr("HIGH_ERROR_RATE", "warning").contains("status=~\"5..\""));
        assert!(yaml.contains("above the threshold of {{ with printf"));
        assert!(yaml.contains("(MCP_CPU_THRESHOLD × MCP_ALERT_CRITICAL_FACTOR)"));
        assert!(yaml.contains("{{ $value | humanizePercentage }}"));
    }

    #[test]
    fn thresholds_are_not_in_the_file_but_window_and_for_are() {
        let default = prometheus_rules(&Settings::default());
        // No sample minimum: refused from the environment, but a builder may set it.
        let mut strict = with(&[
            ("MCP_CPU_THRESHOLD", "1%"),
            ("MCP_ALERT_CRITICAL_FACTOR", "1.1"),
            ("MCP_REQUEST_LATENCY_THRESHOLD", "250ms"),
        ]);
        strict.alert_min_samples = 0;
        let thresholds = prometheus_rules(&strict);
        assert_eq!(default, thresholds);
        let s = with(&[
            ("MCP_ALERT_FOR", "90s"),
            ("MCP_METRICS_WINDOW", "10m"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "30s"),
        ]);
        let yaml = prometheus_rules(&s);
        assert!(parse(&yaml).iter().all(|r| r[4] == "90s"));
        assert!(yaml.contains("    interval: 30s\n"));
        assert!(yaml.contains("[10m]") && !yaml.contains("[5m]"));
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
}
