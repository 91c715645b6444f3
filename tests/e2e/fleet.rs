//! A real fleet: a real Alertmanager (Debian `prometheus-alertmanager`, cluster listener
//! disabled) with the shipped inhibit rules, a real Prometheus loading the generated
//! rules and sending to it, and two demo instances with different thresholds, both
//! pushing their own alerts to the Alertmanager.
//!
//! - The in-process alert of instance A arrives in Alertmanager with A's `instance`
//!   label, and resolves there when A's condition clears.
//! - The Prometheus rule honours each instance's own threshold: at the same CPU use,
//!   A (threshold 80%) fires and B (95%) does not.
//! - Past A's critical level Prometheus fires both rules, and Alertmanager's inhibit
//!   rule suppresses the warning.
//! - Killing B fires `INSTANCE_DOWN` for B.
//! - Every query of the Grafana dashboard runs on this Prometheus; the 5xx ratio
//!   panels read 0 (not "No data") on a fleet that served no 5xx, and the instance
//!   health panel shows both instances up.
//!
//! The CPU use is fed to each instance (`Monitor::observe_resources`, with the
//! machine never sampled) so that the test does not depend on the machine's load.
//!
//! Needs `prometheus` and `prometheus-alertmanager` (which `.ci/run` installs): under
//! CI their absence fails the test; elsewhere it is skipped with a notice.

use std::time::Duration;

use crate::common;
use crate::common::fleet::am_config_with_shipped_inhibit_rules;
use crate::common::{eventually, start, TestServer};
use mcp_monitor::fleet::prometheus_rules;
use mcp_monitor::{Monitor, ResourceSample};
use mcp_monitor_test_kit::servers::{alertmanager, am_alerts, prometheus, Server};
use serde_json::Value;

fn set_cpu(s: &TestServer, cpu: f64) {
    s.monitor.observe_resources(ResourceSample {
        cpu: Some(cpu),
        ..ResourceSample::default()
    });
}

async fn instance(name: &'static str, cpu_threshold: f64, am: String) -> TestServer {
    // The machine is never sampled: the CPU figure is the test's alone.
    start(
        Monitor::builder()
            .without_resource_sampling()
            .configure(move |s| {
                s.cpu_threshold = cpu_threshold;
                s.instance = name.into();
                s.alertmanager_urls = vec![am];
                s.alert_resend_delay = Duration::from_secs(1);
                s.alert_evaluation_interval = Duration::from_millis(200);
                s.alert_for = Duration::ZERO;
            }),
    )
    .await
}

/// `HIGH_CPU_USAGE` alerts in Alertmanager as (instance, severity, job, state).
async fn cpu_alerts(am: &Server) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = am_alerts(am, &[("alertname", "HIGH_CPU_USAGE")])
        .await
        .iter()
        .map(|a| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            (
                s(&a["labels"]["instance"]),
                s(&a["labels"]["severity"]),
                s(&a["labels"]["job"]),
                s(&a["status"]["state"]),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(instance: &str, severity: &str, job: &str, state: &str) -> (String, String, String, String) {
    (instance.into(), severity.into(), job.into(), state.into())
}

#[tokio::test]
async fn a_fleet_alerts_through_prometheus_and_alertmanager() {
    let (Some(prom_bin), Some(am_bin)) = (
        common::external_tool("prometheus"),
        common::external_tool("prometheus-alertmanager"),
    ) else {
        return;
    };
    let am = alertmanager(&am_bin, &am_config_with_shipped_inhibit_rules()).await;
    let a = instance("a", 0.80, am.base.clone()).await;
    let b = instance("b", 0.95, am.base.clone()).await;

    let rules = prometheus_rules(&common_settings());
    let am_addr = am.base.trim_start_matches("http://");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files: [alerts.yml]\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{am_addr}']\n\
         scrape_configs:\n  - job_name: mcp\n    static_configs:\n\
         \x20     - targets: ['127.0.0.1:{}']\n        labels: {{instance: a}}\n\
         \x20     - targets: ['127.0.0.1:{}']\n        labels: {{instance: b}}\n",
        a.port, b.port
    );
    let prom = prometheus(&prom_bin, &config, &rules).await;

    // Both at 90%: A's engine fires (80%), B's does not (95%); Prometheus the same.
    set_cpu(&a, 0.90);
    set_cpu(&b, 0.90);
    let alerts = eventually(
        "A's two warnings (engine and Prometheus) in Alertmanager",
        || async {
            let got = cpu_alerts(&am).await;
            (got == [
                row("a", "warning", "", "active"),
                row("a", "warning", "mcp", "active"),
            ])
            .then_some(got)
        },
    )
    .await;
    assert!(alerts.iter().all(|r| r.0 != "b"));
    // Prometheus itself has no alert for B: B's threshold is its own.
    let firing = prom.get_json("/api/v1/alerts").await;
    let for_b = firing["data"]["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|x| x["labels"]["instance"] == "b")
        .count();
    assert_eq!(for_b, 0, "{firing}");
    assert!(b.monitor.active_alerts().is_empty());

    // Past A's critical level (96%): the engine replaces its warning by a critical;
    // Prometheus fires both rules and the critical inhibits the warning.
    set_cpu(&a, 0.99);
    eventually("the critical to inhibit A's Prometheus warning", || async {
        let got = cpu_alerts(&am).await;
        (got == [
            row("a", "critical", "", "active"),
            row("a", "critical", "mcp", "active"),
            row("a", "warning", "mcp", "suppressed"),
        ])
        .then_some(())
    })
    .await;
    let inhibited = am_alerts(&am, &[("severity", "warning"), ("job", "mcp")]).await;
    assert!(
        !inhibited[0]["status"]["inhibitedBy"]
            .as_array()
            .expect("inhibitedBy")
            .is_empty(),
        "{inhibited:?}"
    );

    // A's condition clears: its engine's alert resolves in Alertmanager.
    set_cpu(&a, 0.10);
    eventually("A's engine alert to resolve in Alertmanager", || async {
        let got = cpu_alerts(&am).await;
        got.iter().all(|r| r.2 == "mcp").then_some(())
    })
    .await;

    // The dashboard's queries run, and a healthy fleet's 5xx ratio is 0, not empty.
    grafana_queries_run(&prom, &[&a, &b]).await;

    // Kill B: INSTANCE_DOWN fires for it.
    drop(b);
    let down = eventually("INSTANCE_DOWN for B in Alertmanager", || async {
        let got = am_alerts(&am, &[("alertname", "INSTANCE_DOWN")]).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0]["labels"]["instance"], "b");
    assert_eq!(down[0]["labels"]["severity"], "critical");
    assert!(
        am_alerts(&am, &[("alertname", "INSTANCE_DOWN"), ("instance", "a")])
            .await
            .is_empty()
    );
}

/// Every target expression of the shipped dashboard, by panel title.
fn dashboard_queries() -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for p in panels.as_array().into_iter().flatten() {
            walk(&p["panels"], out);
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(e) = t["expr"].as_str() {
                    out.push((p["title"].as_str().unwrap_or("").to_owned(), e.to_owned()));
                }
            }
        }
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/mcp-monitor.json");
    let d: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON");
    let mut out = Vec::new();
    walk(&d["panels"], &mut out);
    out
}

/// Runs every dashboard query (Grafana's variables replaced) on `prom`, once the
/// request counts of `fleet` (which it keeps serving) have moved in Prometheus' eyes.
async fn grafana_queries_run(prom: &Server, fleet: &[&TestServer]) {
    let query = |expr: String| {
        let client = prom.client.clone();
        let url = format!("{}/api/v1/query", prom.base);
        async move {
            let res = client
                .get(url)
                .query(&[("query", expr.as_str())])
                .send()
                .await
                .expect("query");
            let status = res.status();
            let body: Value = res.json().await.expect("JSON");
            assert!(status.is_success(), "{expr}: {body}");
            body["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    let queries = dashboard_queries();
    assert!(queries.len() >= 36, "{}", queries.len());
    let fill = |e: &str| {
        e.replace("$__rate_interval", "10s")
            .replace("$job", "mcp")
            .replace("$instance", ".+")
    };
    let ratio = queries
        .iter()
        .find(|(t, _)| t == "5xx share")
        .map(|(_, e)| fill(e))
        .expect("the 5xx share panel");
    let zero = eventually("the 5xx share to read 0 on a fleet without 5xx", || {
        let r = query(ratio.clone());
        async move {
            for s in fleet {
                assert_eq!(s.get("/users").await.status(), 200);
            }
            let r = r.await;
            (r.len() == 1 && r[0]["value"][1] == "0").then_some(r)
        }
    })
    .await;
    assert_eq!(zero.len(), 1);
    for (_, expr) in &queries {
        query(fill(expr)).await;
    }
    let health = queries
        .iter()
        .find(|(t, _)| t == "Instance health")
        .map(|(_, e)| fill(e))
        .expect("the instance health panel");
    let mut up: Vec<(String, String)> = query(health)
        .await
        .iter()
        .map(|s| {
            (
                s["metric"]["instance"].as_str().unwrap_or("").to_owned(),
                s["value"][1].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    up.sort();
    assert_eq!(up, [("a".into(), "1".into()), ("b".into(), "1".into())]);
}

/// The settings the rules are generated with: what the instances run with, apart from
/// their thresholds (which the rules read from each instance).
fn common_settings() -> mcp_monitor::Settings {
    let mut s = mcp_monitor::Settings::default();
    s.alert_for = Duration::ZERO;
    s.alert_evaluation_interval = Duration::from_secs(1);
    s
}

/// An objective of 99% of `GET /users` without a 5xx, over the default 30 days.
const CHECKOUT: &str = "checkout = http GET /users availability 99%";

/// The labels both sources give the fast burn of `checkout` on the instance `demo` of
/// the job `mcp`.
fn fast_burn_labels() -> Value {
    serde_json::json!({
        "alertname": "SLO_BURN_RATE_FAST",
        "severity": "critical",
        "component": "slo:checkout",
        "slo": "checkout",
        "instance": "demo",
        "job": "mcp",
    })
}

/// `SLO_BURN_RATE_FAST` from one declaration, in both places: the demo's `GET /users`
/// fails (its database pool is closed) while the test keeps calling it; Prometheus,
/// with the rules generated from the demo's settings, fires the fast burn, the demo's
/// own engine fires it too and pushes it with the same labels (`MCP_INSTANCE` = the
/// scrape target's `instance`, `MCP_ALERT_LABELS=job=mcp`): Alertmanager holds one
/// alert, and the shipped inhibit rule suppresses the slow burn under it. The report,
/// `/metrics` and the Grafana row of the objective show the budget spent.
#[tokio::test]
async fn a_fast_burn_fires_in_prometheus_and_in_process_with_the_same_labels() {
    let (Some(prom_bin), Some(am_bin)) = (
        common::external_tool("prometheus"),
        common::external_tool("prometheus-alertmanager"),
    ) else {
        return;
    };
    let am = alertmanager(&am_bin, &am_config_with_shipped_inhibit_rules()).await;
    let am_url = am.base.clone();
    let monitor = Monitor::builder()
        .with_objective(CHECKOUT.parse().expect("objective"))
        .configure(move |s| {
            s.instance = "demo".into();
            s.alert_labels = vec![("job".into(), "mcp".into())];
            s.alertmanager_urls = vec![am_url];
            s.alert_resend_delay = Duration::from_secs(1);
            s.alert_evaluation_interval = Duration::from_millis(200);
            s.alert_for = Duration::ZERO;
            s.alert_min_samples = 5;
            s.resource_interval = Duration::from_secs(3600);
            // Only the objective can alert.
            s.memory_threshold = 1.0;
            s.cpu_threshold = 1.0;
            s.system_load_threshold = 1e9;
        })
        .build()
        .expect("monitor");
    monitor.spawn_tasks();
    // The demo, on a pool of the test's own, so that the test can break it.
    let pool = mcp_monitor_e2e::demo::connect_database()
        .await
        .expect("database");
    let users =
        mcp_monitor_e2e::demo::users::UserService::new(pool.clone(), monitor.cache("users"));
    let state = mcp_monitor_e2e::demo::AppState::new(users, Default::default());
    let app = mcp_monitor_e2e::demo::http::app(state, &monitor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let call = |want: u16| {
        let (client, url) = (client.clone(), format!("{base}/users"));
        async move {
            let res = client.get(url).send().await.expect("GET /users");
            assert_eq!(res.status().as_u16(), want);
        }
    };

    let rules = prometheus_rules(monitor.settings());
    assert!(rules.contains("- alert: SLO_BURN_RATE_FAST\n"));
    let am_addr = am.base.trim_start_matches("http://");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files: [alerts.yml]\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{am_addr}']\n\
         scrape_configs:\n  - job_name: mcp\n    static_configs:\n\
         \x20     - targets: ['127.0.0.1:{port}']\n        labels: {{instance: demo}}\n"
    );
    let prom = prometheus(&prom_bin, &config, &rules).await;

    // Healthy first: requests succeed, across a few scrapes, and nothing burns.
    eventually("Prometheus to see the successful requests", || async {
        for _ in 0..5 {
            call(200).await;
        }
        let r = prom
            .get_json(
                "/api/v1/query?query=sum(mcp_slo%3Aerror_ratio%3Arate5m%7Bslo%3D%22checkout%22%7D)",
            )
            .await;
        (r["data"]["result"][0]["value"][1] == "0").then_some(())
    })
    .await;
    assert!(monitor.active_alerts().is_empty());

    // Break the database: `GET /users` answers 500, and the test keeps calling it.
    pool.close().await;
    let held = eventually(
        "one fast burn in Alertmanager, from both sources",
        || async {
            for _ in 0..5 {
                call(500).await;
            }
            let prom_alerts = prom.get_json("/api/v1/alerts").await;
            let prom_fires = prom_alerts["data"]["alerts"]
                .as_array()?
                .iter()
                .any(|a| a["labels"] == fast_burn_labels() && a["state"] == "firing");
            let engine_fires = monitor
                .active_alerts()
                .iter()
                .any(|a| a.kind.as_str() == "SLO_BURN_RATE_FAST" && a.slo() == Some("checkout"));
            let held = am_alerts(&am, &[("alertname", "SLO_BURN_RATE_FAST")]).await;
            (prom_fires && engine_fires && !held.is_empty()).then_some(held)
        },
    )
    .await;
    // One alert: the two sources' label sets are the same.
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["labels"], fast_burn_labels());
    assert_eq!(held[0]["status"]["state"], "active");
    // The engine did push it (accepted by Alertmanager).
    eventually("the engine's push to be accepted", || async {
        let text = monitor.render();
        text.lines()
            .any(|l| {
                l.starts_with("mcp_alert_notifications_sent_total{")
                    && l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) >= Some(1.0)
            })
            .then_some(())
    })
    .await;
    // The slow burn fires too (60%+ errors), and the fast one inhibits it.
    eventually("the slow burn to be suppressed by the fast one", || async {
        call(500).await;
        let slow = am_alerts(&am, &[("alertname", "SLO_BURN_RATE_SLOW")]).await;
        (slow.len() == 1 && slow[0]["status"]["state"] == "suppressed").then_some(())
    })
    .await;

    // The budget is spent: /metrics, the report, and the Grafana row read it.
    let text = monitor.render();
    assert!(
        text.contains("mcp_slo_objective{slo=\"checkout\"} 0.99\n"),
        "{text}"
    );
    let budget: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("mcp_slo_error_budget_remaining{slo=\"checkout\"} "))
        .expect("the budget gauge")
        .parse()
        .expect("a number");
    assert!(budget < 0.0, "{budget}");
    let report: Value = client
        .get(format!("{base}/api/v1/metrics/report"))
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("JSON");
    let o = &report["objectives"][0];
    assert_eq!(o["slo"], "checkout");
    assert!(o["error_budget_remaining"].as_f64() < Some(0.0), "{o}");
    assert!(
        o["burning"]
            .as_array()
            .expect("burning")
            .contains(&Value::from("SLO_BURN_RATE_FAST")),
        "{o}"
    );
    let dashboard: Value =
        serde_json::from_str(&mcp_monitor::fleet::grafana_dashboard(monitor.settings()))
            .expect("dashboard");
    let row: Vec<&Value> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|p| p["id"].as_u64() >= Some(100))
        .collect();
    assert_eq!(row[0]["title"], "Service-level objectives");
    for panel in &row[1..] {
        for t in panel["targets"].as_array().expect("targets") {
            let expr = t["expr"]
                .as_str()
                .expect("expr")
                .replace("$job", "mcp")
                .replace("$instance", ".+");
            let res = prom
                .client
                .get(format!("{}/api/v1/query", prom.base))
                .query(&[("query", expr.as_str())])
                .send()
                .await
                .expect("query");
            assert!(res.status().is_success(), "{expr}");
            let body: Value = res.json().await.expect("JSON");
            // Every window of the objective has its burn rate (the process is younger
            // than the windows: they cover what there is); the budget its gauge.
            let v = &body["data"]["result"][0]["value"][1];
            assert!(
                v.as_str().is_some_and(|v| v.parse::<f64>().is_ok()),
                "{expr}: {body}"
            );
        }
    }
    server.abort();
}
