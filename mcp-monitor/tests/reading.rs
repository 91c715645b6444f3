//! The public read API: a test reads its own calls from a `Reading`, without parsing
//! `/metrics`, and two readings subtract.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, Monitor, Status};
use tower::ServiceExt;

#[derive(Debug)]
struct Refused;

impl std::error::Error for Refused {}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

#[monitor_db_operation("select", "reading_users")]
async fn select(ok: bool) -> Result<u32, Refused> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    if ok {
        Ok(1)
    } else {
        Err(Refused)
    }
}

#[monitor_workflow_step("reading_flow", "load")]
async fn load() -> Result<(), Refused> {
    Ok(())
}

#[monitor_workflow("reading_flow")]
async fn flow() -> Result<(), Refused> {
    load().await?;
    load().await
}

#[tokio::test]
async fn counts_by_status_sum_mean_and_p95_of_a_db_operation() {
    let monitor = Monitor::builder().build().unwrap();
    let before = monitor.read();
    for ok in [true, true, false] {
        let _ = select(ok).await;
    }
    // A call that is dropped before it completes is cancelled.
    drop(tokio::time::timeout(Duration::from_micros(1), select(true)).await);

    let calls = monitor.read().since(&before).db("select", "reading_users");
    assert_eq!(calls.count(Status::Success), 2);
    assert_eq!(calls.count(Status::Failure), 1);
    assert_eq!(calls.count(Status::Cancelled), 1);
    assert_eq!(calls.total(), 4);
    assert!(calls.sum() >= Duration::from_millis(6), "{:?}", calls.sum());
    let mean = calls.mean().unwrap();
    assert!(mean >= Duration::from_micros(1500), "{mean:?}");
    assert!(calls.p95().unwrap() >= mean);
    let stats = calls.stats();
    assert_eq!((stats.count, stats.failures), (4, 1));

    // Nothing happened since the second reading; a label set never called is zero.
    let again = monitor.read();
    assert_eq!(
        monitor
            .read()
            .since(&again)
            .db("select", "reading_users")
            .total(),
        0
    );
    assert_eq!(again.db("select", "never_called").total(), 0);
    assert_eq!(again.db("select", "never_called").p95(), None);
    // Without `since`, counts start with the process.
    assert!(again.db("select", "reading_users").total() >= 4);
}

#[tokio::test]
async fn steps_runs_and_active_workflows() {
    let monitor = Monitor::builder().build().unwrap();
    let before = monitor.read();
    flow().await.unwrap();
    flow().await.unwrap();
    let d = monitor.read().since(&before);
    assert_eq!(d.step("reading_flow", "load").count(Status::Success), 4);
    assert_eq!(d.run("reading_flow").count(Status::Success), 2);
    assert_eq!(d.active_workflows("reading_flow"), 0);
}

#[tokio::test]
async fn requests_by_route_and_status() {
    let monitor = Monitor::builder().build().unwrap();
    let app = monitor.instrument(
        Router::new()
            .route("/users/{id}", get(|| async { "ada" }))
            .route("/gone", get(|| async { StatusCode::GONE })),
    );
    let before = monitor.read();
    for uri in ["/users/1", "/users/2", "/gone", "/nowhere"] {
        let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
        app.clone().oneshot(req).await.unwrap();
    }
    let d = monitor.read().since(&before);
    let users = d.route("GET", "/users/{id}");
    assert_eq!(users.total(), 2);
    assert_eq!(users.count(200), 2);
    assert_eq!(users.statuses(), [(200, 2)]);
    assert!(users.mean().is_some() && users.p95().is_some());
    assert_eq!(d.route("GET", "/gone").count(410), 1);
    assert_eq!(d.route("GET", "/gone").server_errors(), 0);
    assert_eq!(d.route("GET", "unmatched").count(404), 1);
    assert_eq!(d.route("POST", "/users/{id}").total(), 0);
    assert_eq!(d.in_flight(), 0);
    // The earlier reading had seen none of them.
    assert_eq!(before.route("GET", "/users/{id}").total(), 0);
}

#[tokio::test]
async fn caches_subtract_too() {
    let monitor = Monitor::builder().build().unwrap();
    let cache = monitor.cache("reading_sessions");
    cache.hit();
    let before = monitor.read();
    cache.hit();
    cache.miss();
    assert_eq!(
        monitor.read().since(&before).cache("reading_sessions"),
        (1, 1)
    );
    assert_eq!(monitor.read().cache("reading_sessions"), (2, 1));
}
