//! The HTTP middleware and the endpoints: routing and status codes through
//! `oneshot`, exact counts under load through a real socket.

use std::time::Duration;

use crate::common::{get_json, serve, value};
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use mcp_monitor::Monitor;
use mcp_monitor_test_kit::Exposition;
use tower::ServiceExt;

async fn user(axum::extract::Path(id): axum::extract::Path<u32>) -> Result<String, StatusCode> {
    match id {
        0 => Err(StatusCode::NOT_FOUND),
        5000 => Err(StatusCode::INTERNAL_SERVER_ERROR),
        _ => Ok(format!("user {id}")),
    }
}

async fn panics() -> &'static str {
    panic!("handler panicked")
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

fn app(monitor: &Monitor) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/panic", get(panics))
        .route("/slow", get(slow))
        .route(
            "/stream",
            get(|| async {
                let chunks = ["a", "b", "c"].map(Ok::<_, std::convert::Infallible>);
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .merge(monitor.router())
        .layer(monitor.layer())
}

fn monitor() -> Monitor {
    Monitor::builder().build().unwrap()
}

async fn send(app: &Router, method: &str, uri: &str) -> (StatusCode, String) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn requests(text: &str, method: &str, path: &str, status: u16) -> f64 {
    value(
        text,
        &format!(
            "mcp_http_requests_total{{method=\"{method}\",path=\"{path}\",status=\"{status}\"}}"
        ),
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_labelled_by_route_template_method_and_status() {
    let m = monitor();
    let app = app(&m);
    for uri in [
        "/users/1",
        "/users/2",
        "/users/0",
        "/users/5000",
        "/nope",
        "/nope/deeper",
    ] {
        send(&app, "GET", uri).await;
    }
    send(&app, "PURGE", "/users/3").await;
    send(&app, "GET", "/metrics").await;
    let t = m.render();
    assert_eq!(requests(&t, "GET", "/users/{id}", 200), 2.0);
    assert_eq!(requests(&t, "GET", "/users/{id}", 404), 1.0);
    assert_eq!(requests(&t, "GET", "/users/{id}", 500), 1.0);
    assert_eq!(requests(&t, "GET", "unmatched", 404), 2.0);
    // axum answers an unknown method on a known route with 405.
    assert_eq!(requests(&t, "OTHER", "/users/{id}", 405), 1.0);
    // The monitor's own endpoints are not recorded by default.
    assert!(!t.contains("path=\"/metrics\""), "{t}");
    assert_eq!(
        value(
            &t,
            "mcp_http_request_duration_seconds_count{method=\"GET\",path=\"/users/{id}\",status=\"200\"}"
        ),
        Some(2.0)
    );
    assert!(t.contains(
        "mcp_http_request_duration_seconds_bucket{method=\"GET\",path=\"/users/{id}\",status=\"200\",le=\"+Inf\"} 2"
    ));
    assert_eq!(value(&t, "mcp_http_requests_in_flight"), Some(0.0));
}

#[tokio::test]
async fn own_endpoints_can_be_included() {
    let m = monitor();
    let app = Router::new()
        .merge(m.router())
        .layer(m.layer().include_monitor_endpoints());
    send(&app, "GET", "/metrics").await;
    assert_eq!(requests(&m.render(), "GET", "/metrics", 200), 1.0);
}

#[tokio::test]
async fn a_panicking_handler_is_counted_once() {
    // With axum's catch-panic inside our layer: we see its 500 response.
    let m = monitor();
    let caught = Router::new()
        .route("/panic", get(panics))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(m.layer());
    assert_eq!(send(&caught, "GET", "/panic").await.0, 500);
    assert_eq!(requests(&m.render(), "GET", "/panic", 500), 1.0);

    // Without it, the panic unwinds through our guard, which records a 500 and lets
    // the panic continue (the server's task catches it).
    let m = monitor();
    let app = app(&m);
    let handle = tokio::spawn(async move { send(&app, "GET", "/panic").await });
    let err = handle.await.unwrap_err();
    assert!(err.is_panic());
    let t = m.render();
    assert_eq!(requests(&t, "GET", "/panic", 500), 1.0);
    assert_eq!(value(&t, "mcp_http_requests_in_flight"), Some(0.0));
}

#[tokio::test]
async fn a_request_dropped_before_its_response_is_499_and_in_flight_comes_down() {
    let m = monitor();
    let app = app(&m);
    let fut = app
        .clone()
        .oneshot(Request::get("/slow").body(Body::empty()).unwrap());
    let timed_out = tokio::time::timeout(Duration::from_millis(20), fut).await;
    assert!(timed_out.is_err());
    let t = m.render();
    assert_eq!(requests(&t, "GET", "/slow", 499), 1.0);
    assert_eq!(value(&t, "mcp_http_requests_in_flight"), Some(0.0));
}

#[tokio::test]
async fn a_streaming_body_is_counted_once() {
    let m = monitor();
    let app = app(&m);
    let (status, body) = send(&app, "GET", "/stream").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "abc"));
    assert_eq!(requests(&m.render(), "GET", "/stream", 200), 1.0);
}

#[tokio::test]
async fn one_hundred_thousand_distinct_paths_leave_the_series_bounded() {
    let m = monitor();
    let app = app(&m);
    for i in 0..100_000 {
        let (status, _) = send(&app, "GET", &format!("/random/{i}")).await;
        assert_eq!(status, 404);
    }
    let t = m.render();
    let series = t
        .lines()
        .filter(|l| l.starts_with("mcp_http_requests_total{"))
        .count();
    assert_eq!(series, 1, "{t}");
    assert_eq!(requests(&t, "GET", "unmatched", 404), 100_000.0);
}

#[tokio::test]
async fn the_label_set_cap_sends_new_sets_to_overflow() {
    let m = Monitor::builder()
        .configure(|s| s.http_max_series = 2)
        .build()
        .unwrap();
    let app = app(&m);
    send(&app, "GET", "/users/1").await; // (GET, /users/{id}, 200)
    send(&app, "GET", "/users/0").await; // (GET, /users/{id}, 404)
    send(&app, "GET", "/users/5000").await; // a third set: overflow
    send(&app, "GET", "/users/7").await; // known: still its own series
    send(&app, "GET", "/users/5000").await; // overflow again, counted again
    let t = m.render();
    assert_eq!(requests(&t, "GET", "/users/{id}", 200), 2.0);
    assert_eq!(requests(&t, "GET", "overflow", 500), 2.0);
    assert_eq!(value(&t, "mcp_http_series_overflow_total"), Some(2.0));
}

async fn status_from_path(axum::extract::Path(code): axum::extract::Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

/// The layer remembers a bounded number of routes, and of label sets per route; past
/// either bound requests take the store's lookup, and every one is still counted.
#[tokio::test]
async fn more_routes_and_statuses_than_the_layer_remembers_are_all_counted() {
    const ROUTES: usize = 600;
    let m = monitor();
    let mut app = Router::new().nest(
        "/api",
        Router::new()
            .route("/users/{id}", get(user))
            .layer(m.layer()),
    );
    for i in 0..ROUTES {
        app = app.route(&format!("/r{i}/{{code}}"), get(status_from_path));
    }
    let app = app.layer(m.layer());
    for round in 0..2 {
        for i in 0..ROUTES {
            send(&app, "GET", &format!("/r{i}/200")).await;
        }
        for code in 200..220 {
            send(&app, "GET", &format!("/r0/{code}")).await;
        }
        send(&app, "GET", "/api/users/1").await;
        // Parsed once: some 620 series are looked up.
        let t = Exposition::parse(&m.render());
        let requests = |path: &str, status: u16| {
            let status = status.to_string();
            let labels = [
                ("method", "GET"),
                ("path", path),
                ("status", status.as_str()),
            ];
            t.get("mcp_http_requests_total", &labels).unwrap_or(0.0)
        };
        let n = f64::from(round + 1);
        for i in 1..ROUTES {
            assert_eq!(requests(&format!("/r{i}/{{code}}"), 200), n, "/r{i}");
        }
        for code in 201..220 {
            assert_eq!(requests("/r0/{code}", code), n, "{code}");
        }
        assert_eq!(requests("/r0/{code}", 200), 2.0 * n);
        // A layer inside a nested router sees the full path; the outer layer sees
        // the same request too (two layers, two recordings).
        assert_eq!(requests("/api/users/{id}", 200), 2.0 * n);
    }
}

#[tokio::test]
async fn metrics_endpoint_serves_prometheus_text() {
    let m = monitor();
    let app = app(&m);
    let res = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        mcp_monitor::names::PROMETHEUS_CONTENT_TYPE
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("# TYPE mcp_http_requests_in_flight gauge"));
    assert!(text.contains("# TYPE mcp_build_info gauge"));
}

#[tokio::test]
async fn every_json_endpoint_and_alias_answers() {
    let m = monitor();
    let app = app(&m);
    send(&app, "GET", "/users/1").await;
    for path in [
        "/metrics/summary",
        "/metrics/report",
        "/api/v1/metrics/report",
        "/metrics/dashboard",
        "/api/v1/metrics/dashboard",
    ] {
        let (status, body) = send(&app, "GET", path).await;
        assert_eq!(status, 200, "{path}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(json.is_object(), "{path}");
    }
    let (_, body) = send(&app, "GET", "/api/v1/metrics/dashboard").await;
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["system"]["requests"]["total"], 1);
    assert_eq!(d["system"]["requests"]["errors"], 0);
    for key in ["uptime", "requests", "resources"] {
        assert!(d["system"].get(key).is_some(), "system.{key}");
    }
    for key in ["memory", "cpu", "cache_hit_ratio"] {
        assert!(d["system"]["resources"][key].is_string(), "resources.{key}");
    }
    for key in [
        "active",
        "completion_rate",
        "average_execution_time",
        "error_rate",
    ] {
        assert!(d["workflows"].get(key).is_some(), "workflows.{key}");
    }
    for key in [
        "operations",
        "errors",
        "average_latency",
        "pool_utilization",
    ] {
        assert!(d["database"].get(key).is_some(), "database.{key}");
    }
    assert!(d["alerts"]["active"].is_array());
    assert!(d["alerts"]["history"].is_array());
    assert!(d["system"]["uptime"].as_str().unwrap().ends_with('m'));
    assert!(d["system"]["requests"]["average_latency"]
        .as_str()
        .unwrap()
        .ends_with("ms"));

    let (_, body) = send(&app, "GET", "/metrics/summary").await;
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    let row = &s["http"]["series"][0];
    assert_eq!(row["method"], "GET");
    assert_eq!(row["path"], "/users/{id}");
    assert_eq!(row["status"], "200");
    assert_eq!(row["total"]["count"], 1);
    assert_eq!(row["total"]["failures"], 0);
    assert_eq!(row["total"]["error_rate"], 0.0);
    assert!(row["total"]["mean_seconds"].as_f64().unwrap() >= 0.0);
    assert!(row["total"]["p95_seconds"].as_f64().unwrap() > 0.0);
}

fn bearer(req: http::request::Builder, token: Option<&str>) -> http::request::Builder {
    match token {
        Some(t) => req.header("authorization", format!("Bearer {t}")),
        None => req,
    }
}

async fn call(app: &Router, method: &str, path: &str, token: Option<&str>) -> http::Response<Body> {
    app.clone()
        .oneshot(
            bearer(Request::builder().method(method).uri(path), token)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_wrong_method_on_a_monitor_route_is_a_json_405_with_allow() {
    let m = monitor();
    let app = app(&m);
    for (method, path, allow) in [
        ("GET", "/api/v1/metrics/reset", "POST"),
        ("DELETE", "/metrics", "GET,HEAD"),
    ] {
        let res = call(&app, method, path, None).await;
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "method not allowed");
    }
}

#[tokio::test]
async fn reset_is_refused_without_an_admin_token() {
    let m = monitor();
    let app = app(&m);
    for token in [None, Some("anything")] {
        for path in ["/api/v1/metrics/reset", "/metrics/reset"] {
            assert_eq!(call(&app, "POST", path, token).await.status(), 403);
        }
    }
}

#[tokio::test]
async fn reset_needs_the_admin_token_and_keeps_prometheus_monotonic() {
    let m = Monitor::builder()
        .with_admin_token("s3cret")
        .build()
        .unwrap();
    let app = app(&m);
    send(&app, "GET", "/users/1").await;
    send(&app, "GET", "/users/2").await;

    let res = call(&app, "POST", "/api/v1/metrics/reset", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="mcp-monitor""#
    );
    let res = call(&app, "POST", "/api/v1/metrics/reset", Some("wrong")).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let res = call(&app, "POST", "/api/v1/metrics/reset", Some("s3cret")).await;
    assert_eq!(res.status(), 200);

    let (_, body) = send(&app, "GET", "/api/v1/metrics/dashboard").await;
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["system"]["requests"]["total"], 0);
    send(&app, "GET", "/users/3").await;
    let (_, body) = send(&app, "GET", "/api/v1/metrics/dashboard").await;
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["system"]["requests"]["total"], 1);
    // The Prometheus counter never went down.
    assert_eq!(requests(&m.render(), "GET", "/users/{id}", 200), 3.0);
}

#[tokio::test]
async fn reads_can_require_the_metrics_token() {
    let m = Monitor::builder()
        .with_metrics_token("reader")
        .build()
        .unwrap();
    let app = app(&m);
    for path in [
        "/metrics",
        "/metrics/summary",
        "/api/v1/metrics/report",
        "/api/v1/metrics/dashboard",
    ] {
        let res = call(&app, "GET", path, None).await;
        assert_eq!(res.status(), 401, "{path}");
        assert_eq!(
            res.headers()["www-authenticate"],
            r#"Bearer realm="mcp-monitor""#
        );
        assert_eq!(call(&app, "GET", path, Some("nope")).await.status(), 401);
        assert_eq!(call(&app, "GET", path, Some("reader")).await.status(), 200);
    }
    // The application's own routes are untouched.
    assert_eq!(send(&app, "GET", "/users/1").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_exact_over_a_real_socket_under_load() {
    const REQUESTS: usize = 20_000;
    const CONNECTIONS: usize = 64;
    let m = monitor();
    let addr = serve(app(&m)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in (c..REQUESTS).step_by(CONNECTIONS) {
                let id = i % 1000 + 1;
                let res = client
                    .get(format!("http://{addr}/users/{id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                res.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(requests(&text, "GET", "/users/{id}", 200), REQUESTS as f64);
    let summary: serde_json::Value =
        get_json(&client, &format!("http://{addr}/metrics/summary")).await;
    assert_eq!(summary["http"]["total"]["count"], REQUESTS);
    let dashboard: serde_json::Value =
        get_json(&client, &format!("http://{addr}/api/v1/metrics/dashboard")).await;
    assert_eq!(dashboard["system"]["requests"]["total"], REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_under_concurrent_load_loses_nothing_afterwards() {
    let m = Monitor::builder().with_admin_token("t").build().unwrap();
    let addr = serve(app(&m)).await;
    let client = reqwest::Client::new();
    let load = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..2_000 {
                let res = client
                    .get(format!("http://{addr}/users/{}", i + 1))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        })
    };
    for _ in 0..20 {
        let res = client
            .post(format!("http://{addr}/api/v1/metrics/reset"))
            .bearer_auth("t")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        tokio::task::yield_now().await;
    }
    load.await.unwrap();
    // Prometheus saw every request despite the resets.
    assert_eq!(requests(&m.render(), "GET", "/users/{id}", 200), 2_000.0);
    // After a final reset, later requests are all counted.
    m.reset();
    for i in 0..50 {
        client
            .get(format!("http://{addr}/users/{}", i + 1))
            .send()
            .await
            .unwrap();
    }
    let d: serde_json::Value = get_json(&client, &format!("http://{addr}/metrics/dashboard")).await;
    assert_eq!(d["system"]["requests"]["total"], 50);
}
