//! The public read API: a test reads its own calls from a `Reading`, without parsing
//! `/metrics`, and two readings subtract.

use std::future::Future;
use std::task::Poll;
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
    // A call that is dropped before it completes is cancelled: polled once (then asleep
    // for 2 ms, whatever the machine's load), then dropped.
    {
        let mut call = std::pin::pin!(select(true));
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        assert!(first.is_pending());
    }

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

    // A worker publishes its busy time when it parks, just after the task ends: wait
    // for it rather than for a fixed time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while monitor.read().runtime().unwrap().now.busy - before.busy < blocked {
        assert!(
            tokio::time::Instant::now() < deadline,
            "busy time never published"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (release, waiting) = tokio::sync::oneshot::channel::<()>();
    let parked = tokio::spawn(waiting);
    let reading = monitor.read();
    let rt = reading.runtime().unwrap();
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

#[monitor_db_operation("select", "long_poll_users")]
fn blocking_select(blocked: Duration) -> Result<u32, Refused> {
    std::thread::sleep(blocked);
    Ok(1)
}

#[monitor_db_operation("select", "long_poll_pool")]
fn blocking_select_in_the_pool(blocked: Duration) -> Result<u32, Refused> {
    std::thread::sleep(blocked);
    Ok(1)
}

/// An async step that blocks its thread in a synchronous db call.
#[monitor_workflow_step("long_poll_flow", "parse")]
async fn parse_blocking(blocked: Duration) -> Result<u32, Refused> {
    blocking_select(blocked)
}

/// A long step whose polls are all short: it waits, it does not block.
#[monitor_workflow_step("long_poll_flow", "wait")]
async fn wait_politely(waited: Duration) -> Result<(), Refused> {
    tokio::time::sleep(waited).await;
    Ok(())
}

/// Long polls name the call that blocked its thread: an async step and the synchronous
/// db call inside it, an HTTP route; not a long call of short polls, nor a synchronous
/// call on a blocking thread. In the reading and on `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_name_the_calls_that_block_their_thread() {
    let monitor = Monitor::builder().build().unwrap();
    let threshold = monitor.settings().long_poll_threshold;
    let blocked = threshold * 6;
    let app = monitor.instrument(Router::new().route(
        "/block",
        get(move || async move {
            std::thread::sleep(blocked);
            "done"
        }),
    ));
    wait_politely(blocked).await.unwrap();
    tokio::task::spawn_blocking(move || blocking_select_in_the_pool(blocked))
        .await
        .unwrap()
        .unwrap();

    // Until each is seen (a poll is timed by a clock that ticks on a thread of its own,
    // which a loaded machine may delay): wait for it, not for a time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut calls = 0u64;
    loop {
        parse_blocking(blocked).await.unwrap();
        let req = Request::builder()
            .uri("/block")
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req).await.unwrap();
        calls += 1;
        let r = monitor.read();
        if ["step", "db", "http"]
            .iter()
            .zip([
                "long_poll_flow parse",
                "select long_poll_users",
                "GET /block",
            ])
            .all(|(k, n)| r.long_poll(k, n).is_some())
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            r.long_polls()
        );
    }
    let r = monitor.read();
    for (kind, name) in [
        ("step", "long_poll_flow parse"),
        ("db", "select long_poll_users"),
        ("http", "GET /block"),
    ] {
        let p = r.long_poll(kind, name).unwrap();
        assert!((1..=calls).contains(&p.count), "{p:?} of {calls}");
        assert!(p.longest > threshold, "{p:?}");
    }
    assert!(
        r.long_poll("step", "long_poll_flow wait").is_none(),
        "{:?}",
        r.long_polls()
    );
    assert!(
        r.long_poll("db", "select long_poll_pool").is_none(),
        "{:?}",
        r.long_polls()
    );
    let text = monitor.render();
    assert!(
        text.contains("# TYPE mcp_long_polls_total counter"),
        "{text}"
    );
    let line = format!(
        "mcp_long_polls_total{{kind=\"http\",name=\"GET /block\"}} {}",
        r.long_poll("http", "GET /block").unwrap().count
    );
    assert!(text.contains(&line), "{line} in\n{text}");
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

/// The application's own `metrics` series are read like the rest: typed look-ups by
/// name and labels, `/metrics`, the summary and the report.
#[tokio::test]
async fn the_applications_metrics_are_in_the_reading_the_documents_and_metrics() {
    let monitor = Monitor::builder().build().unwrap();
    metrics::with_local_recorder(&monitor.recorder(), || {
        metrics::describe_counter!("app_orders_total", "Orders placed.");
        metrics::counter!("app_orders_total", "kind" => "book").increment(3);
        metrics::gauge!("app_queue_depth").set(7.5);
        for v in [0.002, 0.02, 0.02, 0.2] {
            metrics::histogram!("app_step_seconds", "step" => "parse").record(v);
        }
        // A backslash before a quote, and a newline: escaped as the format says.
        metrics::counter!("app_odd_total", "v" => "a\\\"b\nc").increment(1);
    });
    let r = monitor.read();
    assert_eq!(r.counter("app_orders_total", &[("kind", "book")]), Some(3));
    assert_eq!(r.counter("app_orders_total", &[("kind", "cd")]), None);
    assert_eq!(r.gauge("app_queue_depth", &[]), Some(7.5));
    let h = r
        .histogram("app_step_seconds", &[("step", "parse")])
        .unwrap();
    assert_eq!(h.count(), 4);
    assert!((h.sum - 0.242).abs() < 1e-12);

    let text = monitor.render();
    for line in [
        "# HELP app_orders_total Orders placed.\n# TYPE app_orders_total counter\n",
        "\napp_orders_total{kind=\"book\"} 3\n",
        "\napp_queue_depth 7.5\n",
        "\napp_step_seconds_bucket{step=\"parse\",le=\"0.025\"} 3\n",
        "\napp_step_seconds_bucket{step=\"parse\",le=\"+Inf\"} 4\n",
        "\napp_step_seconds_count{step=\"parse\"} 4\n",
        "\napp_odd_total{v=\"a\\\\\\\"b\\nc\"} 1\n",
        "\nmcp_metric_overflow_total{metric=\"app_orders_total\"} 0\n",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }

    let app = monitor.instrument(Router::new());
    let res = app
        .oneshot(
            Request::get("/metrics/summary")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let orders = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "app_orders_total")
        .unwrap();
    assert_eq!(orders["kind"], "counter");
    assert_eq!(orders["series"][0]["value"], 3);
}

/// A label taken from unbounded input stays at `MCP_METRIC_MAX_SERIES` label sets per
/// name; the rest goes to one `overflow` series and nothing is lost from the counts.
#[test]
fn a_flood_of_label_values_stays_at_the_limit() {
    let monitor = Monitor::builder().build().unwrap();
    assert_eq!(monitor.settings().metric_max_series, 1000);
    metrics::with_local_recorder(&monitor.recorder(), || {
        for user in 0..10_000 {
            metrics::counter!("app_logins_total", "user" => user.to_string()).increment(1);
        }
    });
    let r = monitor.read();
    let f = r
        .metrics()
        .iter()
        .find(|f| f.name == "app_logins_total")
        .unwrap();
    assert_eq!(
        (f.label_sets, f.series.len(), f.overflowed),
        (1000, 1001, 9000)
    );
    assert_eq!(
        r.counter("app_logins_total", &[("user", "overflow")]),
        Some(9000)
    );
    assert_eq!(r.counter("app_logins_total", &[("user", "17")]), Some(1));
    let text = monitor.render();
    assert_eq!(text.matches("\napp_logins_total{").count(), 1001);
    assert!(text.contains("\nmcp_metric_overflow_total{metric=\"app_logins_total\"} 9000\n"));
}
