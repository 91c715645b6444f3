//! The alert engine end to end: injected samples, paused time, real traffic.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use mcp_monitor::alerts::{AlertType, Severity};
use mcp_monitor::{Monitor, PoolStats, ResourceSample, Settings};

fn monitor(settings: Settings) -> Monitor {
    Monitor::builder().with_settings(settings).build().unwrap()
}

use common::{get_json, serve, settings};

fn active(m: &Monitor) -> Vec<(AlertType, String)> {
    m.active_alerts()
        .into_iter()
        .map(|a| (a.kind, a.components.join(",")))
        .collect()
}

/// Evaluates now, then again after `MCP_ALERT_FOR`, returning the alerts active
/// after the first and the second evaluation.
async fn evaluate_across_for(m: &Monitor) -> (Vec<(AlertType, String)>, Vec<(AlertType, String)>) {
    m.evaluate_alerts();
    let pending = active(m);
    tokio::time::advance(m.settings().alert_for).await;
    m.evaluate_alerts();
    (pending, active(m))
}

#[tokio::test(start_paused = true)]
async fn resource_alerts_respect_for_fire_and_resolve() {
    let m = monitor(settings(&[]));
    m.observe_resources(ResourceSample {
        cpu: Some(0.85),
        memory: Some(0.97),
        load_per_core: Some(2.0),
        ..ResourceSample::default()
    });
    let (pending, firing) = evaluate_across_for(&m).await;
    assert!(pending.is_empty(), "fired before `for`: {pending:?}");
    let sys = |k| (k, "system".to_owned());
    assert_eq!(
        firing,
        vec![
            sys(AlertType::HighMemoryUsage),
            sys(AlertType::HighCpuUsage),
            sys(AlertType::HighSystemLoad)
        ]
    );
    let alerts = m.active_alerts();
    let cpu = alerts
        .iter()
        .find(|a| a.kind == AlertType::HighCpuUsage)
        .unwrap();
    assert_eq!(cpu.severity, Severity::Warning);
    assert_eq!(
        (cpu.current_value.as_str(), cpu.threshold.as_str()),
        ("85%", "80%")
    );
    let mem = alerts
        .iter()
        .find(|a| a.kind == AlertType::HighMemoryUsage)
        .unwrap();
    assert_eq!(mem.severity, Severity::Critical);
    chrono::DateTime::parse_from_rfc3339(&cpu.timestamp).expect("RFC 3339 with offset");

    let text = m.render();
    assert!(text.contains(
        "mcp_alerts{alertname=\"HIGH_CPU_USAGE\",severity=\"warning\",alertstate=\"firing\",component=\"system\"} 1"
    ));

    m.observe_resources(ResourceSample {
        cpu: Some(0.2),
        memory: Some(0.5),
        load_per_core: Some(0.1),
        ..ResourceSample::default()
    });
    m.evaluate_alerts();
    assert!(active(&m).is_empty());
    let history = m.alert_history();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|a| a.resolved_at.is_some()));
    assert!(!m.render().contains("mcp_alerts{"));
}

#[tokio::test(start_paused = true)]
async fn thresholds_come_from_the_environment() {
    let sample = ResourceSample {
        cpu: Some(0.9),
        ..ResourceSample::default()
    };
    let default = monitor(settings(&[]));
    default.observe_resources(sample.clone());
    assert_eq!(evaluate_across_for(&default).await.1.len(), 1);

    let raised = monitor(settings(&[
        ("MCP_CPU_THRESHOLD", "95%"),
        ("MCP_ALERT_FOR", "0"),
    ]));
    raised.observe_resources(sample);
    raised.evaluate_alerts();
    assert!(active(&raised).is_empty());

    let lowered = monitor(settings(&[
        ("MCP_SYSTEM_LOAD_THRESHOLD", "0.5"),
        ("MCP_ALERT_FOR", "0"),
    ]));
    lowered.observe_resources(ResourceSample {
        load_per_core: Some(0.6),
        ..ResourceSample::default()
    });
    lowered.evaluate_alerts();
    assert_eq!(
        active(&lowered),
        vec![(AlertType::HighSystemLoad, "system".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn the_history_is_bounded_and_reset_clears_it() {
    let m = monitor(settings(&[
        ("MCP_ALERT_FOR", "0"),
        ("MCP_ALERT_HISTORY_LIMIT", "2"),
    ]));
    for _ in 0..5 {
        common::evaluate_cpu(&m, 0.99);
        common::evaluate_cpu(&m, 0.1);
    }
    assert_eq!(m.alert_history().len(), 2);
    common::evaluate_cpu(&m, 0.99);
    assert_eq!(m.active_alerts().len(), 1);
    m.reset();
    assert!(m.active_alerts().is_empty());
    assert!(m.alert_history().is_empty());
}

struct FakePool {
    in_use: Arc<AtomicU32>,
}

impl PoolStats for FakePool {
    fn in_use(&self) -> u32 {
        self.in_use.load(Ordering::Relaxed)
    }
    fn idle(&self) -> u32 {
        10 - self.in_use()
    }
    fn max_size(&self) -> u32 {
        10
    }
}

#[tokio::test(start_paused = true)]
async fn pool_utilization_fires_per_pool() {
    let m = monitor(settings(&[]));
    let in_use = Arc::new(AtomicU32::new(5));
    m.register_pool(
        "main",
        FakePool {
            in_use: in_use.clone(),
        },
    );
    m.sample_resources();
    assert!(evaluate_across_for(&m)
        .await
        .1
        .iter()
        .all(|(k, _)| *k != AlertType::HighDbPoolUtilization));
    in_use.store(10, Ordering::Relaxed);
    m.sample_resources();
    let (_, firing) = evaluate_across_for(&m).await;
    assert!(
        firing.contains(&(AlertType::HighDbPoolUtilization, "db_pool:main".to_owned())),
        "{firing:?}"
    );
    let text = m.render();
    assert!(text.contains("mcp_db_pool_connections{pool=\"main\",state=\"in_use\"} 10"));
    assert!(text.contains("mcp_db_pool_utilization_ratio{pool=\"main\"} 1"));
}

#[tokio::test(start_paused = true)]
async fn cache_hit_ratio_needs_enough_lookups() {
    let m = monitor(settings(&[("MCP_ALERT_FOR", "0")]));
    let cache = m.cache("users");
    // One miss out of one lookup is not evidence.
    cache.miss();
    m.evaluate_alerts();
    assert!(active(&m).is_empty());
    for i in 0..40 {
        cache.record(i % 2 == 0);
    }
    m.evaluate_alerts();
    assert_eq!(
        active(&m),
        vec![(AlertType::LowCacheHitRatio, "cache:users".to_owned())]
    );
    let alert = &m.active_alerts()[0];
    assert_eq!(alert.threshold, "80%");
    assert_eq!(alert.severity, Severity::Critical);
    for _ in 0..2000 {
        cache.hit();
    }
    m.evaluate_alerts();
    assert!(active(&m).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_real_traffic_raises_high_request_latency_in_the_report() {
    let m = monitor(settings(&[
        ("MCP_REQUEST_LATENCY_THRESHOLD", "2ms"),
        ("MCP_ALERT_FOR", "0"),
        ("MCP_ALERT_MIN_SAMPLES", "10"),
    ]));
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(15)).await;
                "ok"
            }),
        )
        .merge(m.router())
        .layer(m.layer());
    let addr = serve(app).await;
    let client = reqwest::Client::new();
    for _ in 0..12 {
        let res = client
            .get(format!("http://{addr}/slow"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    m.evaluate_alerts();
    let report: serde_json::Value =
        get_json(&client, &format!("http://{addr}/api/v1/metrics/report")).await;
    let active = report["alerts"]["active"].as_array().unwrap();
    let latency = active
        .iter()
        .find(|a| a["type"] == "HIGH_REQUEST_LATENCY")
        .unwrap_or_else(|| panic!("no latency alert in {report:#}"));
    assert_eq!(latency["threshold"], "2.0ms");
    assert_eq!(latency["components"][0], "http");
    assert_eq!(latency["severity"], "critical");
    for key in [
        "type",
        "severity",
        "current_value",
        "threshold",
        "timestamp",
        "components",
    ] {
        assert!(latency.get(key).is_some(), "{key}");
    }
    let dashboard: serde_json::Value =
        get_json(&client, &format!("http://{addr}/api/v1/metrics/dashboard")).await;
    assert_eq!(
        dashboard["alerts"]["active"][0]["type"],
        "HIGH_REQUEST_LATENCY"
    );
    assert_eq!(dashboard["alerts"]["history"].as_array().unwrap().len(), 1);
}
