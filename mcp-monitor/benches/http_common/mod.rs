//! What the HTTP benchmarks share: the route under test and its five variants.
//!
//! Every variant is the same `GET /users/{id}` route (a `Path<u64>` extractor and a
//! short text body); only the middleware differs:
//!
//! * `bare`: no middleware;
//! * `mcp_monitor`: `monitor.layer()`;
//! * `axum_prometheus`: `axum_prometheus::BaseMetricLayer` (the layer without its
//!   exporter feature; it records through the `metrics` facade into the global
//!   recorder, which is our monitor's bucketed Prometheus recorder);
//! * `from_fn_facade`: a hand-written `axum::middleware::from_fn` recording
//!   `counter!` and `histogram!` with method, matched path and status labels;
//! * `from_fn_empty`: a `from_fn` that only calls `next.run(req)`: the cost of
//!   `from_fn` itself;
//! * `noop_layer`: `tower::layer::util::Identity`, a layer that does nothing: what
//!   axum's `Router::layer` costs any middleware (it still wraps each route in
//!   another boxed route);
//! * `mcp_monitor_traced`: `monitor.layer()`, every request carrying a sampled W3C
//!   `traceparent` (so the layer parses it, makes it current while the handler runs
//!   and keeps an exemplar); the header's insertion into the request is in its time.

// Each bench binary uses a subset.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use mcp_monitor::Monitor;
use tower::ServiceExt;

/// The variants, in the order the tables list them.
pub(crate) const VARIANTS: [&str; 7] = [
    "bare",
    "mcp_monitor",
    "axum_prometheus",
    "from_fn_facade",
    "from_fn_empty",
    "noop_layer",
    "mcp_monitor_traced",
];

/// The `traceparent` of the traced variant's requests.
pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The URI every benchmark requests.
pub(crate) const URI: &str = "/users/42";

async fn get_user(Path(id): Path<u64>) -> String {
    format!("user {id}")
}

fn app() -> Router {
    Router::new().route("/users/{id}", get(get_user))
}

/// A typical hand-written metrics middleware on the `metrics` facade.
pub(crate) async fn facade_middleware(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let labels = [
        ("method", method),
        ("path", path),
        ("status", res.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

async fn empty_middleware(req: Request, next: Next) -> Response {
    next.run(req).await
}

/// The router of variant `name` (one of [`VARIANTS`]).
pub(crate) fn router(name: &str, monitor: &Monitor) -> Router {
    match name {
        "bare" => app(),
        "mcp_monitor" | "mcp_monitor_traced" => app().layer(monitor.layer()),
        "axum_prometheus" => app().layer(axum_prometheus::BaseMetricLayer::new()),
        "from_fn_facade" => app().layer(middleware::from_fn(facade_middleware)),
        "from_fn_empty" => app().layer(middleware::from_fn(empty_middleware)),
        "noop_layer" => app().layer(tower::layer::util::Identity::new()),
        other => panic!("unknown variant {other}"),
    }
}

/// Installs the monitor as the global `metrics` recorder, with the background
/// resource sampling slowed down so that it does not land inside a measurement.
pub(crate) fn install_monitor() -> Monitor {
    Monitor::builder()
        .configure(|s| {
            s.resource_interval = Duration::from_secs(3600);
            // The evaluation interval may not exceed the window: both slowed down.
            s.metrics_window = Duration::from_secs(3600);
            s.alert_evaluation_interval = Duration::from_secs(3600);
        })
        .install()
        .expect("install the monitor")
}

/// One request through `router`: `GET /users/42`, body collected.
#[inline]
pub(crate) async fn one_request(router: &Router) -> usize {
    let req = Request::get(URI).body(Body::empty()).expect("request");
    send(router, req).await
}

/// [`one_request`] with a sampled `traceparent` ([`TRACEPARENT`]).
#[inline]
pub(crate) async fn one_traced_request(router: &Router) -> usize {
    let req = Request::get(URI)
        .header("traceparent", http::HeaderValue::from_static(TRACEPARENT))
        .body(Body::empty())
        .expect("request");
    send(router, req).await
}

#[inline]
async fn send(router: &Router, req: Request) -> usize {
    let res = router.clone().oneshot(req).await.expect("infallible");
    debug_assert!(res.status().is_success());
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

/// A current-thread runtime to drive requests with.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`).
pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The median of `v` (sorted in place).
pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
