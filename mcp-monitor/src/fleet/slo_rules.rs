//! The objectives of `MCP_SLOS` as Prometheus rules: one group, `mcp-monitor-slo`, after
//! the threshold rules of [`prometheus_rules`](super::prometheus_rules).
//!
//! Per objective, recording rules give its error ratio over every window the alerts use
//! (`mcp_slo:error_ratio:rate<window>{slo}`) and its events over each long window
//! (`mcp_slo:events:increase<window>{slo}`), one series per scrape target (the sums
//! drop only the series' own labels). Then `SLO_BURN_RATE_FAST` (critical) and
//! `SLO_BURN_RATE_SLOW` (warning) compare them with the burn-rate levels of
//! `slo::burn::PAIRS`, over windows that are the same shares of the objective's period
//! as the in-process engine's, hold for `MCP_ALERT_FOR`, and need
//! `MCP_ALERT_MIN_SAMPLES` events in the long window (the instance's own
//! `mcp_alert_min_samples`), as the engine does. Their labels are those the engine
//! pushes: `alertname`, `severity`, `component` (`slo:<name>`), `slo`, and the target's
//! `instance` and `job`.

use std::fmt::Write as _;

use super::text::{prom_duration, quote};
use crate::base::format::format_float;
use crate::base::names::{
    ALERT_MIN_SAMPLES, DB_OPERATIONS_TOTAL, DB_OPERATION_DURATION, HTTP_REQUESTS_TOTAL,
    HTTP_REQUEST_DURATION, WORKFLOW_RUNS_TOTAL, WORKFLOW_RUN_DURATION, WORKFLOW_STEPS_TOTAL,
    WORKFLOW_STEP_DURATION,
};
use crate::settings::Settings;
use crate::slo::burn::{window, Speed, PAIRS, WINDOWS};
use crate::slo::objective::{percent, seconds};
use crate::slo::{Indicator, Objective, Target};

/// The name of the recording rule of the error ratio over `w`.
pub(crate) fn error_ratio(w: &str) -> String {
    format!("mcp_slo:error_ratio:rate{w}")
}

/// The name of the recording rule of the events over `w`.
pub(crate) fn events(w: &str) -> String {
    format!("mcp_slo:events:increase{w}")
}

/// Appends the group of the objectives of `s` to `out` (nothing without objectives).
pub(crate) fn render(out: &mut String, s: &Settings) {
    if s.slos.is_empty() {
        return;
    }
    out.push_str("  # Service-level objectives (MCP_SLOS): error ratios over the windows of the\n");
    out.push_str("  # burn-rate alerts, and the alerts. See docs/alerts.md.\n");
    out.push_str("  - name: mcp-monitor-slo\n");
    let _ = writeln!(
        out,
        "    interval: {}",
        prom_duration(s.alert_evaluation_interval)
    );
    out.push_str("    rules:\n");
    for o in &s.slos {
        let _ = writeln!(out, "      # {}", o);
        recording_rules(out, o);
        for speed in [Speed::Fast, Speed::Slow] {
            alert(out, o, speed, s);
        }
    }
}

fn block(out: &mut String, expr: &str) {
    out.push_str("        expr: |-\n");
    for line in expr.lines() {
        let _ = writeln!(out, "          {line}");
    }
}

fn recording_rules(out: &mut String, o: &Objective) {
    let longs: Vec<u32> = PAIRS.iter().map(|p| p.long).collect();
    for d in WINDOWS {
        let w = prom_duration(window(o.period, d));
        let _ = writeln!(out, "      - record: {}", error_ratio(&w));
        block(out, &ratio_expr(o, &w));
        out.push_str("        labels:\n");
        let _ = writeln!(out, "          slo: {}", quote(&o.name));
        if longs.contains(&d) {
            let _ = writeln!(out, "      - record: {}", events(&w));
            block(out, &events_expr(o, &w));
            out.push_str("        labels:\n");
            let _ = writeln!(out, "          slo: {}", quote(&o.name));
        }
    }
}

/// A number as PromQL writes it, without binary noise (`0.072`, not `0.07200000000000001`).
fn number(x: f64) -> String {
    format_float((x * 1e12).round() / 1e12)
}

fn alert(out: &mut String, o: &Objective, speed: Speed, s: &Settings) {
    let (name, severity, words) = match speed {
        Speed::Fast => ("SLO_BURN_RATE_FAST", "critical", "fast"),
        Speed::Slow => ("SLO_BURN_RATE_SLOW", "warning", "slowly"),
    };
    let budget = o.error_budget();
    let slo = escape(&o.name);
    let mut terms = Vec::new();
    let mut levels = Vec::new();
    for p in PAIRS.iter().filter(|p| p.speed == speed) {
        let long = prom_duration(window(o.period, p.long));
        let short = prom_duration(window(o.period, p.short));
        let level = number(p.factor * budget);
        terms.push(format!(
            "(\n  {long_ratio}{{slo=\"{slo}\"}} > {level}\n  and\n  {short_ratio}{{slo=\"{slo}\"}} > {level}\n  and\n  {events}{{slo=\"{slo}\"}} > 0\n    >= on(instance, job) group_left() {ALERT_MIN_SAMPLES}\n)",
            long_ratio = error_ratio(&long),
            short_ratio = error_ratio(&short),
            events = events(&long),
        ));
        levels.push(format!(
            "{}× over {} and {}",
            format_float(p.factor),
            seconds(window(o.period, p.long).as_secs_f64()),
            seconds(window(o.period, p.short).as_secs_f64()),
        ));
    }
    let _ = writeln!(out, "      - alert: {name}");
    block(out, &terms.join("\nor\n"));
    let _ = writeln!(out, "        for: {}", prom_duration(s.alert_for));
    out.push_str("        labels:\n");
    let _ = writeln!(out, "          severity: {severity}");
    let _ = writeln!(
        out,
        "          component: {}",
        quote(&format!("slo:{}", o.name))
    );
    out.push_str("        annotations:\n");
    let summary = format!(
        "Objective {} on {{{{ $labels.instance }}}} burns its error budget {words}",
        o.name
    );
    let description = format!(
        "{decl}: the error ratio over the long window is {{{{ $value | humanizePercentage }}}}, \
         against a budget of {budget} ({objective} good over {period}). Fires when the burn \
         rate (error ratio over budget) is above {levels}, with at least \
         MCP_ALERT_MIN_SAMPLES events in the long window.",
        decl = o,
        budget = percent(budget),
        objective = percent(o.objective),
        period = seconds(o.period.as_secs_f64()),
        levels = levels.join(", or "),
    );
    let _ = writeln!(out, "          summary: {}", quote(&summary));
    let _ = writeln!(out, "          description: {}", quote(&description));
}

/// A PromQL string's content.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The series an objective counts: the counter, the histogram, the labels each sum
/// drops (of the counter, of the histogram), the matchers of the target, and the
/// matcher of a failure.
struct Series {
    counter: &'static str,
    duration: &'static str,
    counter_by: &'static str,
    duration_by: &'static str,
    matchers: Vec<String>,
    failure: &'static str,
}

/// The failure matcher of a gRPC objective: the server's errors
/// (`crate::grpc::code::Code::SERVER_ERRORS`, checked by a test).
const GRPC_SERVER_ERROR: &str =
    "code=~\"UNKNOWN|DEADLINE_EXCEEDED|INTERNAL|UNAVAILABLE|DATA_LOSS\"";

fn series(t: &Target) -> Series {
    let m = |k: &str, v: &Option<String>| v.as_ref().map(|v| format!("{k}=\"{}\"", escape(v)));
    match t {
        Target::AllHttp | Target::Http { .. } => Series {
            counter: HTTP_REQUESTS_TOTAL,
            duration: HTTP_REQUEST_DURATION,
            counter_by: "method, path, status",
            duration_by: "method, path, status",
            matchers: match t {
                Target::Http { method, path } => {
                    [m("method", method), m("path", &Some(path.clone()))]
                        .into_iter()
                        .flatten()
                        .collect()
                }
                _ => Vec::new(),
            },
            failure: "status=~\"5..\"",
        },
        Target::Db { operation, table } => Series {
            counter: DB_OPERATIONS_TOTAL,
            duration: DB_OPERATION_DURATION,
            counter_by: "operation, table, status",
            duration_by: "operation, table",
            matchers: [m("operation", operation), m("table", table)]
                .into_iter()
                .flatten()
                .collect(),
            failure: "status=\"failure\"",
        },
        Target::Step { workflow, step } => Series {
            counter: WORKFLOW_STEPS_TOTAL,
            duration: WORKFLOW_STEP_DURATION,
            counter_by: "workflow, step, status",
            duration_by: "workflow, step",
            matchers: [m("workflow", workflow), m("step", step)]
                .into_iter()
                .flatten()
                .collect(),
            failure: "status=\"failure\"",
        },
        Target::Grpc { service, method } => Series {
            counter: crate::base::names::GRPC_REQUESTS_TOTAL,
            duration: crate::base::names::GRPC_REQUEST_DURATION,
            counter_by: "service, method, code",
            duration_by: "service, method, code",
            matchers: [m("service", service), m("method", method)]
                .into_iter()
                .flatten()
                .collect(),
            failure: GRPC_SERVER_ERROR,
        },
        Target::Run { workflow } => Series {
            counter: WORKFLOW_RUNS_TOTAL,
            duration: WORKFLOW_RUN_DURATION,
            counter_by: "workflow, status",
            duration_by: "workflow",
            matchers: m("workflow", workflow).into_iter().collect(),
            failure: "status=\"failure\"",
        },
    }
}

/// `metric{matchers..., extra}` (no braces without matchers).
fn selector(metric: &str, matchers: &[String], extra: Option<&str>) -> String {
    let all: Vec<&str> = matchers.iter().map(String::as_str).chain(extra).collect();
    if all.is_empty() {
        metric.to_owned()
    } else {
        format!("{metric}{{{}}}", all.join(", "))
    }
}

/// The `le` matcher of a bucket bound: the text exposition writes `1`, OpenMetrics
/// may write `1.0`.
fn le_matcher(bound: f64) -> String {
    let text = format_float(bound);
    if text.contains(['.', 'e']) {
        format!("le=\"{text}\"")
    } else {
        format!("le=~\"{text}|{text}\\\\.0\"")
    }
}

fn ratio_expr(o: &Objective, w: &str) -> String {
    let s = series(&o.target);
    match o.indicator {
        Indicator::Availability => {
            let all = format!(
                "sum without ({}) (rate({}[{w}]))",
                s.counter_by,
                selector(s.counter, &s.matchers, None)
            );
            let bad = format!(
                "sum without ({}) (rate({}[{w}]))",
                s.counter_by,
                selector(s.counter, &s.matchers, Some(s.failure))
            );
            // `or 0 * all`: a target with traffic and no failure has a ratio of 0, not
            // no ratio.
            format!("(\n  {bad}\n  or\n  0 * {all}\n)\n/\n{all}")
        }
        Indicator::Latency { threshold } => {
            let le = le_matcher(threshold.as_secs_f64());
            let within = format!(
                "sum without ({}, le) (rate({}[{w}]))",
                s.duration_by,
                selector(&format!("{}_bucket", s.duration), &s.matchers, Some(&le))
            );
            let all = format!(
                "sum without ({}) (rate({}[{w}]))",
                s.duration_by,
                selector(&format!("{}_count", s.duration), &s.matchers, None)
            );
            format!("1 - (\n  {within}\n  /\n  {all}\n)")
        }
    }
}

fn events_expr(o: &Objective, w: &str) -> String {
    let s = series(&o.target);
    match o.indicator {
        Indicator::Availability => format!(
            "sum without ({}) (increase({}[{w}]))",
            s.counter_by,
            selector(s.counter, &s.matchers, None)
        ),
        Indicator::Latency { .. } => format!(
            "sum without ({}) (increase({}[{w}]))",
            s.duration_by,
            selector(&format!("{}_count", s.duration), &s.matchers, None)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(slos: &str) -> Settings {
        Settings::from_lookup(&|name| (name == "MCP_SLOS").then(|| slos.to_owned())).unwrap()
    }

    #[test]
    fn no_objectives_no_group() {
        let mut out = String::new();
        render(&mut out, &Settings::default());
        assert!(out.is_empty());
    }

    #[test]
    fn availability_of_a_route_over_thirty_days() {
        let mut out = String::new();
        render(
            &mut out,
            &with("users = http GET /users/{id} availability 99.5%"),
        );
        for w in ["5m", "30m", "1h", "2h", "6h", "24h", "72h"] {
            assert!(
                out.contains(&format!("- record: mcp_slo:error_ratio:rate{w}\n")),
                "{w}"
            );
        }
        assert_eq!(out.matches("- record: mcp_slo:events:increase").count(), 4);
        assert!(out.contains(
            "sum without (method, path, status) (rate(mcp_http_requests_total{method=\"GET\", path=\"/users/{id}\", status=~\"5..\"}[1h]))"
        ));
        assert!(out.contains("mcp_slo:error_ratio:rate1h{slo=\"users\"} > 0.072\n"));
        assert!(out.contains("mcp_slo:error_ratio:rate6h{slo=\"users\"} > 0.03\n"));
        assert!(out.contains("mcp_slo:error_ratio:rate24h{slo=\"users\"} > 0.015\n"));
        assert!(out.contains("mcp_slo:error_ratio:rate72h{slo=\"users\"} > 0.005\n"));
        assert!(out.contains("      - alert: SLO_BURN_RATE_FAST\n"));
        assert!(out.contains("          severity: critical\n          component: 'slo:users'\n"));
        assert!(out.contains("          severity: warning\n          component: 'slo:users'\n"));
        assert_eq!(out.matches('(').count(), out.matches(')').count());
    }

    #[test]
    fn latency_windows_scale_with_the_period() {
        let mut out = String::new();
        render(
            &mut out,
            &with("fast = db * latency 99% within 100ms over 1d"),
        );
        // 1 d / 720 = 2 min, / 8640 = 10 s.
        assert!(out.contains("mcp_slo:error_ratio:rate2m{slo=\"fast\"} > 0.144\n"));
        assert!(out.contains("mcp_slo:error_ratio:rate10s{slo=\"fast\"} > 0.144\n"));
        assert!(out.contains(
            "sum without (operation, table, le) (rate(mcp_db_operation_duration_seconds_bucket{le=\"0.1\"}[10s]))"
        ));
        assert!(out.contains("(increase(mcp_db_operation_duration_seconds_count[2m]))"));
        assert_eq!(le_matcher(1.0), "le=~\"1|1\\\\.0\"");
    }

    #[test]
    fn grpc_objectives_count_server_errors_by_method() {
        assert_eq!(GRPC_SERVER_ERROR, crate::grpc::code::server_error_matcher());
        let mut out = String::new();
        render(
            &mut out,
            &with("users = grpc demo.users.v1.Users GetUser availability 99.5%"),
        );
        assert!(out.contains(
            "sum without (service, method, code) (rate(mcp_grpc_requests_total{service=\"demo.users.v1.Users\", method=\"GetUser\", code=~\"UNKNOWN|DEADLINE_EXCEEDED|INTERNAL|UNAVAILABLE|DATA_LOSS\"}[1h]))"
        ), "{out}");
        let mut out = String::new();
        render(&mut out, &with("fast = grpc * latency 99% within 100ms"));
        assert!(
            out.contains("mcp_grpc_request_duration_seconds_bucket{le=\"0.1\"}"),
            "{out}"
        );
    }
}
