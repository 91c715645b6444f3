//! The background tasks: periodic evaluation and the retention reset. Its own binary:
//! the macro series are process-wide, and another test's failing calls would show here.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use mcp_monitor::alerts::AlertType;
use tower::ServiceExt;

#[tokio::test(start_paused = true)]
async fn background_tasks_evaluate_and_the_retention_reset_clears_everything() {
    let m = common::monitor_with(&[
        ("MCP_ALERT_FOR", "0"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1s"),
        ("MCP_METRICS_RETENTION", "30s"),
        ("MCP_METRICS_WINDOW", "1m"),
        // Real resource samples are taken too; keep them from firing on a busy machine.
        ("MCP_CPU_THRESHOLD", "100%"),
        ("MCP_MEMORY_THRESHOLD", "100%"),
        ("MCP_SYSTEM_LOAD_THRESHOLD", "1000"),
    ]);
    let app = Router::new()
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(m.layer());
    for _ in 0..25 {
        app.clone()
            .oneshot(Request::get("/fail").body(Body::empty()).unwrap())
            .await
            .unwrap();
    }
    m.spawn_tasks();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let active: Vec<_> = m.active_alerts().into_iter().map(|a| a.kind).collect();
    assert_eq!(active, vec![AlertType::HighErrorRate]);

    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(m.active_alerts().is_empty());
    assert!(m.alert_history().is_empty());
    assert!(m.since_reset() < Duration::from_secs(30));
    // Prometheus still has every request.
    assert_eq!(
        common::value(
            &m.render(),
            "mcp_http_requests_total{method=\"GET\",path=\"/fail\",status=\"500\"}"
        ),
        Some(25.0)
    );
}

/// The sampling task leaves a monitor built `without_resource_sampling` alone (the
/// test's CPU figure stays, memory is never read) and takes the samples of a
/// `with_resource_source` from it: what makes alert tests independent of the machine.
#[tokio::test(start_paused = true)]
async fn the_resource_sampler_can_be_turned_off_or_fed_by_the_application() {
    use mcp_monitor::{Monitor, ResourceSample};
    let every_second = |s: &mut mcp_monitor::Settings| s.resource_interval = Duration::from_secs(1);
    let off = Monitor::builder()
        .without_resource_sampling()
        .configure(every_second)
        .build()
        .unwrap();
    off.spawn_tasks();
    let fed = ResourceSample {
        cpu: Some(0.99),
        ..ResourceSample::default()
    };
    off.observe_resources(fed.clone());
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(off.resources(), fed, "the sampler replaced the fed sample");

    let source = Monitor::builder()
        .with_resource_source(|| ResourceSample {
            memory: Some(0.5),
            ..ResourceSample::default()
        })
        .configure(every_second)
        .build()
        .unwrap();
    source.spawn_tasks();
    source.observe_resources(fed);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        source.resources(),
        ResourceSample {
            memory: Some(0.5),
            ..ResourceSample::default()
        }
    );
}

/// Finding 7: the history (and so the page's charts) has its first point within a few
/// seconds of start, not after a whole tick interval (window / 10 = 30 s by default).
#[tokio::test(start_paused = true)]
async fn the_history_has_its_first_point_within_seconds_of_start() {
    let m = mcp_monitor::Monitor::builder()
        .without_resource_sampling()
        .build()
        .unwrap();
    let app = m.instrument(Router::new());
    let points = |app: Router| async move {
        let res = app
            .oneshot(
                Request::get("/api/v1/metrics/history")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        doc["points"].as_array().map_or(0, Vec::len)
    };
    m.spawn_tasks();
    assert_eq!(points(app.clone()).await, 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(points(app.clone()).await, 1, "no point 3 s after start");
    // Then one every tick interval (30 s), as before.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(points(app).await, 2);
}
