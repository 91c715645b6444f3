//! Router shapes: `Monitor::instrument` wraps every route, including the monitor's
//! own; a layer applied before routes are added misses them (axum's rule, shown here so
//! that the docs stay true); a service nested with `nest_service` is recorded by its
//! mount, and a plain one warns; a `tower_http` timeout inside the layer is recorded as
//! the 408 the client saw, outside it as 499.
//!
//! Real sockets throughout. The `tracing` subscriber is global to this binary.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use common::{serve, value, Warnings};
use http::StatusCode;
use mcp_monitor::{Monitor, RouterExt};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

fn requests(m: &Monitor, method: &str, path: &str, status: &str) -> f64 {
    value(
        &m.render(),
        &format!(
            "mcp_http_requests_total{{method=\"{method}\",path=\"{path}\",status=\"{status}\"}}"
        ),
    )
    .unwrap_or(0.0)
}

fn total(m: &Monitor) -> usize {
    m.render()
        .lines()
        .filter(|l| l.starts_with("mcp_http_requests_total{"))
        .count()
}

async fn get_status(url: String) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// Every warning logged in this binary.
fn warnings() -> Warnings {
    static WARNINGS: OnceLock<Warnings> = OnceLock::new();
    WARNINGS
        .get_or_init(|| {
            use tracing_subscriber::layer::SubscriberExt;
            let got = Warnings::default();
            let subscriber = tracing_subscriber::registry().with(got.clone());
            tracing::subscriber::set_global_default(subscriber).unwrap();
            got
        })
        .clone()
}

#[tokio::test]
async fn instrument_records_every_route_and_serves_the_monitor() {
    let m = Monitor::builder().build().unwrap();
    let app = Router::new().route("/a", get(|| async { "a" })).nest(
        "/api",
        Router::new().route("/b/{id}", get(|| async { "b" })),
    );
    let addr = serve(m.instrument(app)).await;
    assert_eq!(get_status(format!("http://{addr}/a")).await, 200);
    assert_eq!(get_status(format!("http://{addr}/api/b/7")).await, 200);
    assert_eq!(get_status(format!("http://{addr}/nope")).await, 404);
    assert_eq!(get_status(format!("http://{addr}/metrics")).await, 200);
    assert_eq!(requests(&m, "GET", "/a", "200"), 1.0);
    assert_eq!(requests(&m, "GET", "/api/b/{id}", "200"), 1.0);
    assert_eq!(requests(&m, "GET", "unmatched", "404"), 1.0);
    // The monitor's own endpoints are served, and (by default) not recorded.
    assert_eq!(total(&m), 3);
}

#[tokio::test]
async fn a_layer_applied_before_a_route_does_not_see_it() {
    // What axum does, and why `instrument` exists: `/late` is added after the layer.
    let m = Monitor::builder().build().unwrap();
    let app = Router::new()
        .route("/early", get(|| async { "early" }))
        .layer(m.layer())
        .route("/late", get(|| async { "late" }));
    let addr = serve(app).await;
    assert_eq!(get_status(format!("http://{addr}/early")).await, 200);
    assert_eq!(get_status(format!("http://{addr}/late")).await, 200);
    assert_eq!(requests(&m, "GET", "/early", "200"), 1.0);
    assert_eq!(total(&m), 1, "axum applied the layer to /late after all");
}

#[tokio::test]
async fn a_nested_service_is_recorded_by_its_mount() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let m = Monitor::builder().build().unwrap();
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .monitored_nest_service("/assets", ServeDir::new(dir));
    let addr = serve(m.instrument(app)).await;
    assert_eq!(
        get_status(format!("http://{addr}/assets/Cargo.toml")).await,
        200
    );
    assert_eq!(
        get_status(format!("http://{addr}/assets/src/lib.rs")).await,
        200
    );
    assert_eq!(
        get_status(format!("http://{addr}/assets/absent.txt")).await,
        404
    );
    assert_eq!(requests(&m, "GET", "/assets/{*path}", "200"), 2.0);
    assert_eq!(requests(&m, "GET", "/assets/{*path}", "404"), 1.0);
    assert_eq!(requests(&m, "GET", "unmatched", "200"), 0.0);
    assert!(
        !m.render().contains("Cargo.toml"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn a_plain_nest_service_warns_once() {
    let warnings = warnings();
    let dir = env!("CARGO_MANIFEST_DIR");
    let m = Monitor::builder().build().unwrap();
    let app = Router::new().nest_service("/files", ServeDir::new(dir));
    let addr = serve(m.instrument(app)).await;
    for _ in 0..3 {
        assert_eq!(
            get_status(format!("http://{addr}/files/Cargo.toml")).await,
            200
        );
    }
    // Still counted, as unmatched, and said so once.
    assert_eq!(requests(&m, "GET", "unmatched", "200"), 3.0);
    let got: Vec<String> = warnings
        .messages()
        .into_iter()
        .filter(|w| w.contains("monitored_nest_service"))
        .collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].contains("matched no route was answered 200"),
        "{}",
        got[0]
    );
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

#[tokio::test]
async fn a_timeout_inside_the_layer_is_recorded_as_the_408_the_client_saw() {
    let timeout =
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(50));

    // Inside: added to the application before `instrument`.
    let m = Monitor::builder().build().unwrap();
    let app = Router::new().route("/slow", get(slow)).layer(timeout);
    let addr = serve(m.instrument(app)).await;
    assert_eq!(get_status(format!("http://{addr}/slow")).await, 408);
    assert_eq!(requests(&m, "GET", "/slow", "408"), 1.0);

    // Outside: wrapped around the instrumented router. The client still sees 408, but
    // the layer saw its request dropped before a response: 499.
    let m = Monitor::builder().build().unwrap();
    let app = m
        .instrument(Router::new().route("/slow", get(slow)))
        .layer(timeout);
    let addr = serve(app).await;
    assert_eq!(get_status(format!("http://{addr}/slow")).await, 408);
    assert_eq!(requests(&m, "GET", "/slow", "499"), 1.0);
    assert_eq!(requests(&m, "GET", "/slow", "408"), 0.0);
}

/// Finding 2: the newcomer's double merge is an error that names `instrument`, not only
/// axum's "overlapping method route".
#[test]
#[should_panic(expected = "Monitor::instrument merges the monitor's router itself")]
fn merging_the_monitor_router_before_instrument_names_instrument() {
    let m = Monitor::builder().build().unwrap();
    let app: Router = Router::new().route("/a", get(|| async { "a" }));
    let _ = m.instrument(app.merge(m.router()));
}

/// Finding 2: a layer added before the routes records nothing; while `/metrics` is
/// scraped, that is said once, naming the fix. A layer that sees the scrapes says
/// nothing.
#[tokio::test]
async fn a_layer_that_sees_no_routed_request_is_reported_once_while_scraped() {
    let warnings = warnings();
    let unseen = |w: &Warnings| {
        w.messages()
            .into_iter()
            .filter(|m| m.contains("has not seen one request of a route"))
            .collect::<Vec<_>>()
    };
    let m = Monitor::builder().build().unwrap();
    let app = Router::new()
        .layer(m.layer())
        .route("/users", get(|| async { "[]" }))
        .merge(m.router());
    let addr = serve(app).await;
    assert_eq!(get_status(format!("http://{addr}/users")).await, 200);
    for _ in 0..5 {
        assert_eq!(get_status(format!("http://{addr}/metrics")).await, 200);
    }
    assert_eq!(total(&m), 0, "the layer saw /users after all");
    let got = unseen(&warnings);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].contains("monitor.instrument(app)"), "{}", got[0]);

    let fine = Monitor::builder().build().unwrap();
    let addr = serve(fine.instrument(Router::new().route("/users", get(|| async { "[]" })))).await;
    for _ in 0..5 {
        assert_eq!(get_status(format!("http://{addr}/metrics")).await, 200);
    }
    assert_eq!(unseen(&warnings).len(), 1);
}
