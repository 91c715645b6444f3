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

/// The runtime a monitor is built on is read from Tokio's stable metrics: a worker kept
/// busy shows in the busy time (at least as long as it was blocked) and in the window's
/// busy ratio, on `/metrics` and in the JSON documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_worker_shows_in_the_runtime_busy_time() {
    let monitor = Monitor::builder().build().unwrap();
    monitor.sample_resources(); // the first mark of the window
    let before = monitor.read().runtime().expect("built on a runtime").now;
    assert_eq!((before.flavor, before.workers), ("multi_thread", 2));

    let blocked = Duration::from_millis(200);
    tokio::spawn(async move { std::thread::sleep(blocked) })
        .await
        .unwrap();

    let (release, waiting) = tokio::sync::oneshot::channel::<()>();
    let parked = tokio::spawn(waiting);
    let reading = monitor.read();
    let rt = reading.runtime().unwrap();
    assert!(
        rt.now.busy - before.busy >= blocked,
        "busy {:?} -> {:?}",
        before.busy,
        rt.now.busy
    );
    assert!(rt.busy_ratio.is_some_and(|r| r > 0.0 && r <= 1.0), "{rt:?}");
    assert!(rt.now.alive_tasks >= 1, "the waiting task is alive");
    release.send(()).unwrap();
    parked.await.unwrap().unwrap();

    let text = monitor.render();
    for name in [
        "mcp_runtime_workers 2",
        "mcp_runtime_alive_tasks ",
        "mcp_runtime_global_queue_depth ",
        "mcp_runtime_busy_seconds_total ",
        "mcp_runtime_parks_total ",
    ] {
        assert!(text.contains(&format!("\n{name}")), "{name} in\n{text}");
    }
}

/// Built outside any runtime, the monitor reports the runtime as absent, not as zero;
/// watching one later turns it on.
#[test]
fn without_a_runtime_the_runtime_is_absent() {
    let monitor = Monitor::builder().build().unwrap();
    assert!(monitor.read().runtime().is_none());
    assert!(!monitor.render().contains("mcp_runtime_"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    monitor.watch_runtime(rt.handle().clone());
    let now = monitor.read().runtime().unwrap().now;
    assert_eq!((now.flavor, now.workers), ("current_thread", 1));
}
