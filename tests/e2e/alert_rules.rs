//! `docs/prometheus/alerts.yml` is what `prometheus_rules` renders from the default
//! settings and the demo's objectives (`demo::OBJECTIVES`), `promtool check rules` accepts it, and `promtool test rules` proves that
//! each rule fires on synthetic series and stays quiet below its threshold
//! (`docs/prometheus/alerts.test.yml`). The rules read each instance's thresholds from
//! its `mcp_alert_threshold` gauges, so rules generated with any thresholds are the
//! same file and pass the same tests; the shipped Alertmanager example passes
//! `amtool check-config`.
//!
//! Without `promtool` the promtool checks fail when `CI` is set and are skipped (with a
//! notice) otherwise. CI installs it from Debian's `prometheus` package.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use crate::common;
use mcp_monitor::fleet::prometheus_rules;
use mcp_monitor::Settings;
use mcp_monitor_test_kit::promtool::Promtool;

const RULES: &str = "docs/prometheus/alerts.yml";
const RULE_TESTS: &str = "docs/prometheus/alerts.test.yml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn settings(vars: &[(&str, &str)]) -> Settings {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // Never the process environment: the committed file is the defaults.
    Settings::from_lookup(&move |name| vars.get(name).cloned()).expect("settings")
}

/// `settings(vars)` with the demo's objectives, as the committed file is rendered.
fn with_demo_objectives(vars: &[(&str, &str)]) -> Settings {
    let mut s = settings(vars);
    s.slos = mcp_monitor_e2e::demo::objectives();
    s
}

/// Runs `promtool <args>` in the workspace root and asserts that it succeeds.
fn promtool(tool: &Promtool, args: &[&str]) -> String {
    let run = tool.run(args, Some(&root()), None);
    let text = run.text();
    assert!(run.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn the_committed_rules_are_the_default_settings_rendered() {
    let committed = std::fs::read_to_string(root().join(RULES)).expect("read the rules");
    let rendered = prometheus_rules(&with_demo_objectives(&[]));
    assert!(
        committed == rendered,
        "{RULES} is out of date; regenerate it with\n  \
         cargo run --example alert-rules > {RULES}\n(with no MCP_* variable set)"
    );
    // The demo's objectives are all there, each with its two alerts.
    for o in mcp_monitor_e2e::demo::objectives() {
        assert!(committed.contains(&format!("      # {o}\n")), "{o}");
        assert_eq!(
            committed
                .matches(&format!("component: 'slo:{}'", o.name))
                .count(),
            2,
            "{o}"
        );
    }
}

#[test]
fn promtool_checks_and_tests_the_committed_rules() {
    let Some(tool) = Promtool::find() else {
        return;
    };
    let check = promtool(&tool, &["check", "rules", RULES]);
    assert!(check.contains("SUCCESS"), "{check}");
    // Every alert type of the in-process engine has its rules.
    for kind in mcp_monitor::alerts::AlertType::ALL {
        let yaml = std::fs::read_to_string(root().join(RULES)).expect("read the rules");
        assert!(
            yaml.contains(&format!("- alert: {}\n", kind.as_str())),
            "{kind}"
        );
    }
    let test = promtool(&tool, &["test", "rules", RULE_TESTS]);
    assert!(test.contains("SUCCESS"), "{test}");
}

#[test]
fn every_alert_type_is_unit_tested() {
    let tests = std::fs::read_to_string(root().join(RULE_TESTS)).expect("read the rule tests");
    for kind in mcp_monitor::alerts::AlertType::ALL {
        let name = kind.as_str();
        assert!(
            tests.contains(&format!("alertname: {name}\n")),
            "{RULE_TESTS} does not test {name}"
        );
        for severity in ["warning", "critical"] {
            let pool = kind == mcp_monitor::alerts::AlertType::HighDbPoolUtilization;
            if severity == "critical" && pool {
                continue; // 90% × 1.2 is above 100%: no critical pool level by default
            }
            assert!(
                tests.contains(&format!("severity: '{severity}'")),
                "{RULE_TESTS} never expects a {severity} alert"
            );
        }
    }
}

#[test]
fn the_burn_rate_alerts_are_unit_tested_for_both_indicators() {
    let tests = std::fs::read_to_string(root().join(RULE_TESTS)).expect("read the rule tests");
    for name in ["SLO_BURN_RATE_FAST", "SLO_BURN_RATE_SLOW"] {
        assert!(tests.contains(&format!("alertname: {name}\n")), "{name}");
    }
    // An availability and a latency objective, each firing and each quiet.
    for slo in ["api", "user-lookup"] {
        assert!(tests.contains(&format!("slo: '{slo}'")), "{slo}");
    }
    for scenario in ["fast", "slow", "ok", "few", "lfast", "lslow", "lok"] {
        assert!(
            tests.contains(&format!("instance=\"{scenario}\"")),
            "{scenario}"
        );
    }
}

#[test]
fn any_thresholds_give_the_same_rules_and_the_shipped_tests_pass() {
    let default = prometheus_rules(&with_demo_objectives(&[]));
    // A fleet member run with other thresholds: the same file.
    let mut strict = with_demo_objectives(&[
        ("MCP_CPU_THRESHOLD", "1%"),
        ("MCP_ERROR_RATE_THRESHOLD", "0.5%"),
        ("MCP_REQUEST_LATENCY_THRESHOLD", "250ms"),
        ("MCP_ALERT_CRITICAL_FACTOR", "1.05"),
        ("MCP_DB_POOL_THRESHOLD", "50%"),
    ]);
    // No sample minimum: refused from the environment, but a builder may set it.
    strict.alert_min_samples = 0;
    let strict = prometheus_rules(&strict);
    assert!(strict == default, "thresholds leaked into the rules file");

    let custom = prometheus_rules(&settings(&[
        ("MCP_ALERT_FOR", "5m"),
        ("MCP_METRICS_WINDOW", "10m"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "30s"),
    ]));
    assert!(custom.contains("        for: 5m\n"));
    assert!(!custom.contains("        for: 1m\n"));
    assert!(custom.contains("    interval: 30s\n"));
    assert!(custom.contains("[10m]") && !custom.contains("[5m]"));
    let odd = prometheus_rules(&settings(&[
        ("MCP_ALERT_FOR", "0"),
        ("MCP_METRICS_WINDOW", "90s"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1500ms"),
    ]));
    assert!(odd.contains("        for: 0s\n"));
    assert!(odd.contains("[90s]"));
    assert!(odd.contains("    interval: 1500ms\n"));

    let Some(tool) = Promtool::find() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, yaml) in [("custom", &custom), ("odd", &odd)] {
        let path = dir.path().join(format!("alert-rules-{name}.yml"));
        std::fs::write(&path, yaml).expect("write the rules");
        let check = promtool(&tool, &["check", "rules", &path.to_string_lossy()]);
        assert!(check.contains("SUCCESS"), "{check}");
    }
    // The shipped tests against the rules generated with the strict thresholds.
    std::fs::write(dir.path().join("alerts.yml"), &strict).expect("write the rules");
    let tests = dir.path().join("alerts.test.yml");
    std::fs::copy(root().join(RULE_TESTS), &tests).expect("copy the tests");
    let test = promtool(&tool, &["test", "rules", &tests.to_string_lossy()]);
    assert!(test.contains("SUCCESS"), "{test}");
}

#[test]
fn amtool_accepts_the_shipped_alertmanager_example() {
    let Some(amtool) = common::external_tool("amtool") else {
        return;
    };
    let out = Command::new(amtool)
        .args(["check-config", "docs/alertmanager/alertmanager.yml"])
        .current_dir(root())
        .output()
        .expect("run amtool");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("SUCCESS"), "{text}");
    assert!(text.contains(" - 3 inhibit rules"), "{text}");
}
