//! The Grafana dashboard, with its thresholds taken from the same settings as the
//! alert engine and the Prometheus rules.
//!
//! The panels, queries and layout are a template (`grafana_template.json`, embedded at
//! build time). Every panel that shows the quantity of an alert gets its threshold steps
//! from the settings: orange at the threshold, red at the threshold times
//! `MCP_ALERT_CRITICAL_FACTOR`; for `LOW_CACHE_HIT_RATIO`, where low is bad, red below
//! the threshold divided by the factor, orange below the threshold, green above. As the
//! threshold gauges, a ratio gets no red step that it could never reach (threshold ×
//! factor at or above 100%). The descriptions of those panels state the same levels in
//! words. (The rules compare each instance with its own thresholds; the dashboard's
//! steps are those of the settings it is generated with.)
//!
//! The queries use `$__rate_interval`, Grafana's choice for the zoom level, not
//! `MCP_METRICS_WINDOW`: the panels show the series, the alerts judge the window.

use serde_json::{json, Value};

use crate::alerts::levels::AlertType;
use crate::alerts::levels::{Direction, Levels};
use crate::settings::Settings;

/// The dashboard with the thresholds of the default settings' shape, before the
/// settings are applied.
const TEMPLATE: &str = include_str!("grafana_template.json");

/// Where a panel's description says its levels, replaced by [`describe`].
const LEVELS: &str = "{levels}";

/// The panels that show an alert's quantity, by panel `id` (stable, unique in the
/// template), with the title they have there (checked by the tests).
const PANELS: [(u64, &str, AlertType); 12] = [
    (3, "5xx share", AlertType::HighErrorRate),
    (4, "p95 latency", AlertType::HighRequestLatency),
    (10, "5xx error ratio", AlertType::HighErrorRate),
    (11, "Latency p50 / p95 / p99", AlertType::HighRequestLatency),
    (
        17,
        "Failure ratio by operation and table",
        AlertType::HighErrorRate,
    ),
    (19, "Pool utilization", AlertType::HighDbPoolUtilization),
    (23, "Step failure ratio", AlertType::HighErrorRate),
    (29, "Cache hit ratio", AlertType::LowCacheHitRatio),
    (30, "CPU", AlertType::HighCpuUsage),
    (31, "Memory", AlertType::HighMemoryUsage),
    (33, "Load per core", AlertType::HighSystemLoad),
    (41, "gRPC server-error share", AlertType::HighErrorRate),
];

/// Renders the Grafana dashboard (pretty JSON, ending in a newline) whose threshold
/// steps are the alert thresholds of `settings`: the warning step at each alert type's
/// threshold and the critical step at the threshold times `MCP_ALERT_CRITICAL_FACTOR`
/// (divided by it for the cache hit ratio), left out where a ratio could never reach it,
/// as `mcp_alert_threshold` leaves out such a critical level.
///
/// ```
/// use mcp_monitor::{fleet::grafana_dashboard, Settings};
///
/// let json = grafana_dashboard(&Settings::default());
/// let dashboard: serde_json::Value = serde_json::from_str(&json).unwrap();
/// assert_eq!(dashboard["uid"], "mcp-monitor");
/// ```
///
/// Write it to a file from your service's settings (`Settings::from_env()?`) and import
/// it in Grafana, or provision it.
///
/// # Panics
///
/// Only if the embedded template is not a valid dashboard, which the crate's tests rule
/// out: it is a constant, not input.
pub fn grafana_dashboard(settings: &Settings) -> String {
    let mut dashboard: Value =
        serde_json::from_str(TEMPLATE).expect("the embedded Grafana template is valid JSON");
    let panels = dashboard
        .get_mut("panels")
        .and_then(Value::as_array_mut)
        .expect("the embedded Grafana template has a `panels` array");
    for panel in panels.iter_mut() {
        apply(panel, settings);
    }
    // The objectives' row, below everything else.
    let bottom = panels
        .iter()
        .filter_map(|p| Some(p["gridPos"]["y"].as_u64()? + p["gridPos"]["h"].as_u64()?))
        .max()
        .unwrap_or(0);
    panels.extend(super::slo_grafana::row(settings, bottom));
    let mut out = serde_json::to_string_pretty(&dashboard).expect("a JSON value always serializes");
    out.push('\n');
    out
}

/// Sets the thresholds of `panel` (and of the panels of a row) from `settings`, if it
/// shows an alert's quantity.
fn apply(panel: &mut Value, settings: &Settings) {
    if let Some(nested) = panel.get_mut("panels").and_then(Value::as_array_mut) {
        for p in nested {
            apply(p, settings);
        }
    }
    let id = panel.get("id").and_then(Value::as_u64);
    let Some(&(_, _, kind)) = PANELS.iter().find(|(i, _, _)| Some(*i) == id) else {
        return;
    };
    let levels = Levels::of(kind, settings);
    panel["fieldConfig"]["defaults"]["thresholds"] = thresholds(&levels);
    if let Some(Value::String(description)) = panel.get_mut("description") {
        *description = description.replace(LEVELS, &describe(&levels));
    }
}

/// Grafana's `thresholds` of `levels`: the base step (no value) and one step per level,
/// in ascending order, each colouring the values from its own upwards.
fn thresholds(levels: &Levels) -> Value {
    let step = |color: &str, value: Value| json!({ "color": color, "value": value });
    let mut steps = Vec::with_capacity(3);
    match levels.direction {
        Direction::Below => {
            // Low is bad: red up to the critical level, orange up to the threshold.
            steps.push(step(
                if levels.critical.is_some() {
                    "red"
                } else {
                    "orange"
                },
                Value::Null,
            ));
            if let Some(c) = levels.critical {
                steps.push(step("orange", number(c)));
            }
            steps.push(step("green", number(levels.warning)));
        }
        Direction::Above => {
            steps.push(step("green", Value::Null));
            steps.push(step("orange", number(levels.warning)));
            if let Some(c) = levels.critical {
                steps.push(step("red", number(c)));
            }
        }
    }
    json!({ "mode": "absolute", "steps": steps })
}

/// `warning above 80%, critical above 96%`, for the panel's description.
fn describe(levels: &Levels) -> String {
    let (side, times) = (levels.direction.word(), levels.direction.factor_symbol());
    let kind = levels.kind;
    let warning = kind.format_value(levels.warning);
    match levels.critical {
        Some(c) => format!(
            "warning {side} {warning}, critical {side} {} \
             ({times} MCP_ALERT_CRITICAL_FACTOR)",
            kind.format_value(c)
        ),
        None => format!(
            "warning {side} {warning}, no critical level \
             ({times} MCP_ALERT_CRITICAL_FACTOR would pass 100%)"
        ),
    }
}

/// A threshold as a JSON number: rounded to 12 decimals as in the rules file (so that
/// 0.9 × 1.1 is `0.99`, not `0.9900000000000001`), and whole numbers without a
/// fraction (`1`, not `1.0`).
fn number(v: f64) -> Value {
    let rounded = format!("{v:.12}").parse::<f64>().unwrap_or(v);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        // Exact: a whole number below 2^53.
        json!(rounded as i64)
    } else {
        json!(rounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::names::*;

    #[test]
    fn the_template_queries_only_families_named_in_names_rs() {
        let known = [
            HTTP_REQUESTS_TOTAL,
            HTTP_REQUEST_DURATION,
            HTTP_IN_FLIGHT,
            DB_OPERATIONS_TOTAL,
            DB_OPERATION_DURATION,
            WORKFLOW_STEPS_TOTAL,
            WORKFLOW_STEP_DURATION,
            WORKFLOW_RUNS_TOTAL,
            WORKFLOW_RUN_DURATION,
            ACTIVE_WORKFLOWS,
            BUILD_INFO,
            UPTIME,
            HTTP_SERIES_OVERFLOW_TOTAL,
            CACHE_HITS_TOTAL,
            CACHE_MISSES_TOTAL,
            DB_POOL_CONNECTIONS,
            DB_POOL_UTILIZATION,
            SYSTEM_CPU_USAGE,
            SYSTEM_MEMORY_USAGE,
            SYSTEM_LOAD1_PER_CORE,
            PROCESS_RESIDENT_MEMORY,
            PROCESS_CPU_USAGE,
            ALERTS,
            ALERT_THRESHOLD,
            ALERT_MIN_SAMPLES,
            GRPC_REQUESTS_TOTAL,
            GRPC_REQUEST_DURATION,
            GRPC_IN_FLIGHT,
        ];
        let mut found = 0;
        let mut rest = TEMPLATE;
        while let Some(at) = rest.find("mcp_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            rest = &tail[end..];
            if name == "mcp_" {
                // The description's "the mcp_ series", not a family.
                continue;
            }
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|f| known.contains(f))
                .unwrap_or(name);
            assert!(
                known.contains(&family),
                "{name} is not a family of names.rs"
            );
            found += 1;
        }
        assert!(found > 20, "{found}");
    }

    fn render(s: &Settings) -> Value {
        serde_json::from_str(&grafana_dashboard(s)).expect("valid JSON")
    }

    /// Every panel, nested ones included.
    fn all_panels(dashboard: &Value) -> Vec<&Value> {
        fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
            for p in list.as_array().into_iter().flatten() {
                out.push(p);
                walk(&p["panels"], out);
            }
        }
        let mut out = Vec::new();
        walk(&dashboard["panels"], &mut out);
        out
    }

    fn panel(dashboard: &Value, id: u64) -> &Value {
        all_panels(dashboard)
            .into_iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("no panel {id}"))
    }

    /// A panel's steps as (color, value) with the base step's value as `None`.
    fn steps(dashboard: &Value, id: u64) -> Vec<(String, Option<f64>)> {
        let t = &panel(dashboard, id)["fieldConfig"]["defaults"]["thresholds"];
        assert_eq!(t["mode"], "absolute", "panel {id}");
        t["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("panel {id} has no steps"))
            .iter()
            .map(|s| (s["color"].as_str().unwrap().to_owned(), s["value"].as_f64()))
            .collect()
    }

    fn high(warning: f64, critical: Option<f64>) -> Vec<(String, Option<f64>)> {
        let mut v = vec![
            ("green".to_owned(), None),
            ("orange".to_owned(), Some(warning)),
        ];
        v.extend(critical.map(|c| ("red".to_owned(), Some(c))));
        v
    }

    #[test]
    fn the_panel_table_matches_the_template() {
        let template: Value = serde_json::from_str(TEMPLATE).unwrap();
        for (id, title, kind) in PANELS {
            let p = panel(&template, id);
            assert_eq!(p["title"], title, "panel {id}");
            let description = p["description"].as_str().unwrap();
            assert!(description.contains(LEVELS), "panel {id}: {description}");
            assert!(description.contains(kind.as_str()), "panel {id}");
            assert_ne!(p["type"], "row");
        }
        // No other panel has a description to fill in.
        for p in all_panels(&template) {
            let id = p["id"].as_u64().unwrap();
            if !PANELS.iter().any(|(i, _, _)| *i == id) {
                let d = p["description"].as_str().unwrap_or_default();
                assert!(!d.contains(LEVELS), "panel {id} is not in PANELS");
            }
        }
    }

    #[test]
    fn default_settings_give_the_committed_thresholds() {
        let d = render(&Settings::default());
        for id in [3, 10, 17, 23] {
            assert_eq!(steps(&d, id), high(0.05, Some(0.06)), "panel {id}");
        }
        for id in [4, 11] {
            assert_eq!(steps(&d, id), high(1.0, Some(1.2)), "panel {id}");
        }
        for id in [30, 31] {
            assert_eq!(steps(&d, id), high(0.8, Some(0.96)), "panel {id}");
        }
        // 90% × 1.2 is past 100%: no red step, as there is no critical rule.
        assert_eq!(steps(&d, 19), high(0.9, None));
        assert_eq!(steps(&d, 33), high(1.0, Some(1.2)));
        assert_eq!(
            steps(&d, 29),
            vec![
                ("red".to_owned(), None),
                ("orange".to_owned(), Some(0.666666666667)),
                ("green".to_owned(), Some(0.8)),
            ]
        );
        // Not an alert's quantity: left as the template has it.
        assert_eq!(
            steps(&d, 7),
            vec![("green".to_owned(), None), ("red".to_owned(), Some(1.0))]
        );

        assert_eq!(
            panel(&d, 30)["description"].as_str().unwrap(),
            "CPU in use across all cores (machine or container) and by this process \
             (share of one core). HIGH_CPU_USAGE (MCP_CPU_THRESHOLD) watches the system \
             figure: warning above 80%, critical above 96% (× MCP_ALERT_CRITICAL_FACTOR)."
        );
        let pool = panel(&d, 19)["description"].as_str().unwrap();
        assert!(pool.ends_with("warning above 90%, no critical level (× MCP_ALERT_CRITICAL_FACTOR would pass 100%)."), "{pool}");
        let cache = panel(&d, 29)["description"].as_str().unwrap();
        assert!(
            cache.ends_with("warning below 80%, critical below 67% (÷ MCP_ALERT_CRITICAL_FACTOR)."),
            "{cache}"
        );
    }

    #[test]
    fn other_settings_move_the_steps() {
        let s = Settings {
            cpu_threshold: 0.9,
            alert_critical_factor: 1.1,
            request_latency_threshold: std::time::Duration::from_millis(250),
            error_rate_threshold: 0.95,
            ..Settings::default()
        };
        let d = render(&s);
        assert_eq!(steps(&d, 30), high(0.9, Some(0.99)));
        assert_eq!(steps(&d, 31), high(0.8, Some(0.88)));
        // 90% × 1.1 is below 100% now: the pool gets its red step.
        assert_eq!(steps(&d, 19), high(0.9, Some(0.99)));
        // 95% × 1.1 is past 100%: the error ratios lose theirs.
        for id in [3, 10, 17, 23] {
            assert_eq!(steps(&d, id), high(0.95, None), "panel {id}");
        }
        for id in [4, 11] {
            assert_eq!(steps(&d, id), high(0.25, Some(0.275)), "panel {id}");
        }
        assert_eq!(steps(&d, 33), high(1.0, Some(1.1)));
        assert_eq!(
            steps(&d, 29),
            vec![
                ("red".to_owned(), None),
                ("orange".to_owned(), Some(0.727272727273)),
                ("green".to_owned(), Some(0.8)),
            ]
        );
        let cpu = panel(&d, 30)["description"].as_str().unwrap();
        assert!(
            cpu.contains("warning above 90%, critical above 99%"),
            "{cpu}"
        );
        let latency = panel(&d, 4)["description"].as_str().unwrap();
        assert!(
            latency.contains("warning above 250ms, critical above 275ms"),
            "{latency}"
        );
        assert_ne!(
            grafana_dashboard(&s),
            grafana_dashboard(&Settings::default())
        );
    }

    #[test]
    fn latency_panels_show_exemplars() {
        let d = render(&Settings::default());
        let targets: Vec<&Value> = all_panels(&d)
            .into_iter()
            .filter_map(|p| p.get("targets").and_then(Value::as_array))
            .flatten()
            .collect();
        let latency: Vec<&&Value> = targets
            .iter()
            .filter(|t| {
                t["expr"]
                    .as_str()
                    .is_some_and(|e| e.contains("_duration_seconds_bucket"))
            })
            .collect();
        assert_eq!(latency.len(), 9);
        for t in latency {
            assert_eq!(t["exemplar"], Value::Bool(true), "{t}");
        }
    }

    #[test]
    fn the_output_is_a_valid_dashboard() {
        let text = grafana_dashboard(&Settings::default());
        assert!(text.ends_with("}\n"));
        let d: Value = serde_json::from_str(&text).expect("valid JSON");
        let template: Value = serde_json::from_str(TEMPLATE).unwrap();
        assert_eq!(d["uid"], "mcp-monitor");
        assert_eq!(all_panels(&d).len(), all_panels(&template).len());
        assert!(!text.contains(LEVELS));
        // Steps ascend, as Grafana reads them, and every value is a plain number.
        for p in all_panels(&d) {
            let t = &p["fieldConfig"]["defaults"]["thresholds"]["steps"];
            let values: Vec<f64> = t
                .as_array()
                .into_iter()
                .flatten()
                .skip(1)
                .map(|s| s["value"].as_f64().expect("a number"))
                .collect();
            assert!(values.windows(2).all(|w| w[0] <= w[1]), "{}", p["title"]);
        }
        // Only thresholds and descriptions change: the queries are the template's.
        let exprs = |v: &Value| -> Vec<Value> {
            all_panels(v).iter().map(|p| p["targets"].clone()).collect()
        };
        assert_eq!(exprs(&d), exprs(&template));
    }

    #[test]
    fn numbers_are_rounded_like_the_rules() {
        assert_eq!(number(0.9 * 1.1).to_string(), "0.99");
        assert_eq!(number(0.8 / 1.2).to_string(), "0.666666666667");
        assert_eq!(number(1.0).to_string(), "1");
        assert_eq!(number(1.2).to_string(), "1.2");
        assert_eq!(number(0.05 * 1.2).to_string(), "0.06");
    }
}
