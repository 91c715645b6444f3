//! The dashboard's row of service-level objectives, from the objectives of the settings
//! (none, no row): the error budget left of each (`mcp_slo_error_budget_remaining`), the
//! burn rates over the windows of the fast and the slow alert (the recording rules of
//! [`slo_rules`](super::slo_rules), over each objective's error budget), and the
//! burn-rate alerts Prometheus holds.

use serde_json::{json, Value};

use super::slo_rules::error_ratio;
use super::text::prom_duration;
use crate::base::names::SLO_ERROR_BUDGET_REMAINING;
use crate::settings::Settings;
use crate::slo::burn::{window, Speed, PAIRS};
use crate::slo::objective::seconds;

/// First panel id of the row (the template's ids are below 100).
const FIRST_ID: u64 = 100;

/// The row and its panels, placed at `y`; empty without objectives.
pub(crate) fn row(s: &Settings, y: u64) -> Vec<Value> {
    if s.slos.is_empty() {
        return Vec::new();
    }
    let filter = "job=~\"$job\", instance=~\"$instance\"";
    let target = |expr: String, legend: String, ref_id: char| {
        json!({
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "expr": expr,
            "legendFormat": legend,
            "refId": ref_id.to_string(),
            "range": true,
            "editorMode": "code",
        })
    };
    let refs = |i: usize| char::from(b'A' + (i % 26) as u8);
    let mut panels = vec![json!({
        "type": "row",
        "id": FIRST_ID,
        "title": "Service-level objectives",
        "collapsed": false,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    })];
    panels.push(json!({
        "type": "bargauge",
        "id": FIRST_ID + 1,
        "title": "Error budget left",
        "description": "The error budget each objective has left over its period, as each instance counted it since it started (mcp_slo_error_budget_remaining): 100% untouched, 0% spent, below 0 overspent.",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 8, "x": 0, "y": y + 1},
        "fieldConfig": {"defaults": {
            "unit": "percentunit", "min": -1, "max": 1,
            "thresholds": {"mode": "absolute", "steps": [
                {"color": "red", "value": null},
                {"color": "orange", "value": 0},
                {"color": "green", "value": 0.25},
            ]},
        }, "overrides": []},
        "options": {"orientation": "horizontal", "displayMode": "gradient", "showUnfilled": true},
        "targets": [target(
            format!("{SLO_ERROR_BUDGET_REMAINING}{{{filter}}}"),
            "{{slo}} · {{instance}}".into(),
            'A',
        )],
    }));
    for (n, speed) in [Speed::Fast, Speed::Slow].into_iter().enumerate() {
        let mut targets = Vec::new();
        let mut levels = Vec::new();
        for o in &s.slos {
            for p in PAIRS.iter().filter(|p| p.speed == speed) {
                for div in [p.long, p.short] {
                    let w = window(o.period, div);
                    let expr = format!(
                        "{}{{slo=\"{}\", {filter}}} / {}",
                        error_ratio(&prom_duration(w)),
                        o.name.replace('\\', "\\\\").replace('"', "\\\""),
                        crate::base::format::format_float((o.error_budget() * 1e12).round() / 1e12),
                    );
                    let legend =
                        format!("{} {} · {{{{instance}}}}", o.name, seconds(w.as_secs_f64()));
                    targets.push(target(expr, legend, refs(targets.len())));
                }
            }
        }
        for p in PAIRS.iter().filter(|p| p.speed == speed) {
            levels.push(p.factor);
        }
        let (title, alert) = match speed {
            Speed::Fast => (
                "Burn rate, fast-burn windows",
                "SLO_BURN_RATE_FAST (critical)",
            ),
            Speed::Slow => (
                "Burn rate, slow-burn windows",
                "SLO_BURN_RATE_SLOW (warning)",
            ),
        };
        let steps: Vec<Value> = std::iter::once(json!({"color": "green", "value": null}))
            .chain(
                levels
                    .iter()
                    .rev()
                    .map(|l| json!({"color": "red", "value": l})),
            )
            .collect();
        panels.push(json!({
            "type": "timeseries",
            "id": FIRST_ID + 2 + n as u64,
            "title": title,
            "description": format!(
                "Error ratio over the error budget (1 spends the budget in exactly the period) over the windows of {alert}, which fires when both windows of a pair are above its level ({}).",
                levels.iter().map(|l| crate::base::format::format_float(*l)).collect::<Vec<_>>().join(" or ")
            ),
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 8, "x": 8 + 8 * n as u64, "y": y + 1},
            "fieldConfig": {"defaults": {
                "unit": "short",
                "min": 0,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never",
                           "spanNulls": false, "thresholdsStyle": {"mode": "line"}},
                "color": {"mode": "palette-classic"},
                "thresholds": {"mode": "absolute", "steps": steps},
            }, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "targets": targets,
        }));
    }
    panels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_only_with_objectives_with_every_window_of_each() {
        assert!(row(&Settings::default(), 0).is_empty());
        let s = Settings::from_lookup(&|n| {
            (n == "MCP_SLOS").then(|| {
                "api = http * availability 99.5%; day = db * availability 99% over 1d".to_owned()
            })
        })
        .unwrap();
        let panels = row(&s, 90);
        assert_eq!(panels.len(), 4);
        assert_eq!(panels[0]["type"], "row");
        assert_eq!(panels[1]["gridPos"]["y"], 91);
        let exprs = |i: usize| -> Vec<String> {
            panels[i]["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(exprs(1)[0].starts_with("mcp_slo_error_budget_remaining{"));
        // Fast: two pairs of two windows per objective.
        let fast = exprs(2);
        assert_eq!(fast.len(), 8);
        assert!(fast.contains(
            &"mcp_slo:error_ratio:rate1h{slo=\"api\", job=~\"$job\", instance=~\"$instance\"} / 0.005".to_owned()
        ));
        assert!(fast
            .iter()
            .any(|e| e.starts_with("mcp_slo:error_ratio:rate10s{slo=\"day\"")));
        assert!(exprs(3)
            .iter()
            .any(|e| e.starts_with("mcp_slo:error_ratio:rate72h{slo=\"api\"")));
    }
}
