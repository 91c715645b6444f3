//! `HIGH_ERROR_RATE` per component. Its own binary: it makes failing database calls, and
//! the macro series are process-wide, so they would show in other tests' monitors.

mod common;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use mcp_monitor::alerts::AlertType;
use mcp_monitor::{monitor_db_operation, Monitor};
use tower::ServiceExt;

fn active(m: &Monitor) -> Vec<(AlertType, String)> {
    m.active_alerts()
        .into_iter()
        .map(|a| (a.kind, a.components.join(",")))
        .collect()
}

async fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

#[tokio::test(start_paused = true)]
async fn error_rate_needs_min_samples_and_fires_per_component() {
    let m = common::monitor_with(&[("MCP_ALERT_FOR", "0")]);
    let app = Router::new()
        .route("/ok", get(|| status(200)))
        .route("/fail", get(|| status(503)))
        .layer(m.layer());
    let hit = |path: &'static str| {
        let app = app.clone();
        async move {
            app.oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap()
        }
    };
    hit("/fail").await;
    m.evaluate_alerts();
    assert!(active(&m).is_empty(), "one failure out of one fired");
    for _ in 0..30 {
        hit("/ok").await;
    }
    for _ in 0..4 {
        hit("/fail").await;
    }
    m.evaluate_alerts();
    let alerts = m.active_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertType::HighErrorRate);
    assert_eq!(alerts[0].components, vec!["http".to_owned()]);
    assert_eq!(alerts[0].current_value, "14%");

    for i in 0..40 {
        let _ = flaky_query(i).await;
    }
    m.evaluate_alerts();
    let components: Vec<_> = active(&m).into_iter().map(|(_, c)| c).collect();
    assert_eq!(components, vec!["database".to_owned(), "http".to_owned()]);
}

#[derive(Debug)]
struct QueryError;

#[monitor_db_operation("select", "alerts_flaky")]
async fn flaky_query(i: u32) -> Result<u32, QueryError> {
    if i % 3 == 0 {
        Err(QueryError)
    } else {
        Ok(i)
    }
}
