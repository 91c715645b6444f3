//! A client's mistake is not a database failure: `POST /users` with an e-mail that is
//! taken answers 409, and its insert (whose `DbError::EmailTaken` says, through
//! `MonitoredError`, that it is not a failure) counts as `success`. Thirty such
//! requests used to fire a critical `HIGH_ERROR_RATE` for `database`. Its own binary:
//! the macro series are process-wide.

use crate::common::start;
use mcp_monitor::alerts::AlertType;
use mcp_monitor::Monitor;
use serde_json::json;

#[tokio::test]
async fn duplicate_emails_are_not_database_failures() {
    let s =
        start(Monitor::builder().with_settings(common_settings(&[("MCP_ALERT_FOR", "0")]))).await;
    s.create_user("Ada", "ada@example.com").await;
    for i in 0..30 {
        let dup = json!({"name": format!("Ada {i}"), "email": "ADA@example.com"});
        assert_eq!(s.post_json("/users", &dup).await.status(), 409);
    }
    s.monitor.evaluate_alerts();
    let alerts = s.monitor.active_alerts();
    assert!(
        !alerts
            .iter()
            .any(|a| a.kind == AlertType::HighErrorRate
                && a.components.iter().any(|c| c == "database")),
        "{alerts:?}"
    );

    let m = s.metrics().await;
    let inserts = |status| {
        m.value(
            "mcp_db_operations_total",
            &[
                ("operation", "insert"),
                ("table", "users"),
                ("status", status),
            ],
        )
    };
    assert_eq!(inserts("success"), 31.0);
    assert_eq!(inserts("failure"), 0.0);
    // The client's mistakes are where they belong: 4xx on the HTTP side.
    assert_eq!(
        m.value(
            "mcp_http_requests_total",
            &[("method", "POST"), ("path", "/users"), ("status", "409")]
        ),
        30.0
    );
    let dashboard = s.get_json("/api/v1/metrics/dashboard").await;
    assert_eq!(dashboard["database"]["errors"], 0, "{dashboard}");
}

fn common_settings(vars: &[(&str, &str)]) -> mcp_monitor::Settings {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    mcp_monitor::Settings::from_lookup(&move |k| map.get(k).cloned()).unwrap()
}
