//! `promtool check metrics` accepts the demo's `/metrics` after traffic of every kind:
//! no error and no lint warning (it prints nothing and exits 0), the objectives' gauges
//! included.
//!
//! Needs `promtool` (Debian package `prometheus`, which `.ci/run` installs): under CI
//! its absence fails the test; elsewhere the test is skipped with a notice.

use std::time::Duration;

use crate::common;
use mcp_monitor::Monitor;
use mcp_monitor_test_kit::promtool::Promtool;
use serde_json::json;

#[tokio::test]
async fn promtool_accepts_the_demo_metrics() {
    let Some(promtool) = Promtool::find() else {
        return;
    };
    // The demo's objectives, so that the `mcp_slo_*` gauges are checked too.
    let mut builder = Monitor::builder();
    for o in mcp_monitor_e2e::demo::objectives() {
        builder = builder.with_objective(o);
    }
    let s = common::start(builder.configure(|c| {
        c.resource_interval = Duration::from_millis(250);
        // Let an alert fire so that `mcp_alerts` is exposed too.
        c.alert_for = Duration::ZERO;
        c.alert_min_samples = 1;
        c.alert_evaluation_interval = Duration::from_millis(100);
        c.cache_hit_ratio_threshold = 1.0;
    }))
    .await;

    // Every kind of series: HTTP 2xx/4xx on templates and `unmatched`, db success and
    // failure, workflow steps and runs, cache hits and misses, the pool.
    let id = s.create_user("Ada", "ada@example.com").await;
    assert_eq!(
        s.post_json(
            "/users",
            &json!({"name": "Ada", "email": "ada@example.com"})
        )
        .await
        .status(),
        409
    );
    for _ in 0..2 {
        assert_eq!(s.get(&format!("/users/{id}")).await.status(), 200);
    }
    assert_eq!(s.get("/users/0").await.status(), 404);
    assert_eq!(s.get("/no/such/route").await.status(), 404);
    assert_eq!(s.get("/users").await.status(), 200);
    s.run_workflow_ok_and_invalid(json!([1, "two", {"three": 3}]))
        .await;

    // Wait for the resource gauges (two CPU samples) and the alert.
    let text = common::eventually("resource gauges and mcp_alerts on /metrics", || async {
        let m = s.metrics().await;
        (m.has_type("mcp_system_cpu_usage_ratio", "gauge") && m.has_type("mcp_alerts", "gauge"))
            .then_some(m.text)
    })
    .await;
    for family in [
        "mcp_http_requests_total",
        "mcp_http_request_duration_seconds",
        "mcp_db_operations_total",
        "mcp_db_operation_duration_seconds",
        "mcp_workflow_steps_total",
        "mcp_workflow_step_duration_seconds",
        "mcp_workflow_runs_total",
        "mcp_active_workflows",
        "mcp_cache_hits_total",
        "mcp_db_pool_connections",
        "mcp_build_info",
        "mcp_slo_objective",
        "mcp_slo_error_budget_remaining",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
    }

    let out = promtool.check_metrics(&text);
    assert!(
        out.clean(),
        "promtool check metrics: {}\nstdout:\n{}\nstderr:\n{}\nmetrics:\n{text}",
        out.status,
        out.stdout,
        out.stderr
    );
}
