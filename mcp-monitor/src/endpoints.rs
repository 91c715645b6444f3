//! The monitor's HTTP endpoints, as an axum `Router` to merge into the application's.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

use crate::monitor::Monitor;
use crate::openmetrics::OPENMETRICS_CONTENT_TYPE;
use crate::secret::Secret;

/// Every route the monitor serves (excluded from the HTTP metrics by default).
pub const ROUTES: &[&str] = &[
    "/metrics",
    "/metrics/summary",
    "/metrics/report",
    "/metrics/dashboard",
    "/metrics/reset",
    "/api/v1/metrics/report",
    "/api/v1/metrics/dashboard",
    "/api/v1/metrics/reset",
    "/metrics/ui",
    "/metrics/ui/page.css",
    "/metrics/ui/page.js",
    "/api/v1/metrics/ui",
    "/api/v1/metrics/ui/page.css",
    "/api/v1/metrics/ui/page.js",
    "/api/v1/metrics/history",
];

/// The `Content-Type` of the Prometheus text exposition.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The routes' state: the monitor, and its tokens ready for comparison.
struct Endpoints {
    monitor: Monitor,
    metrics_token: Option<Secret>,
    admin_token: Option<Secret>,
}

type EndpointsState = State<Arc<Endpoints>>;

pub(crate) fn router(monitor: Monitor) -> Router {
    let settings = monitor.settings();
    let state = Arc::new(Endpoints {
        metrics_token: settings.metrics_token.as_deref().map(Secret::new),
        admin_token: settings.admin_token.as_deref().map(Secret::new),
        monitor,
    });
    Router::new()
        .route("/metrics", get(metrics))
        .route("/metrics/summary", get(summary))
        .route("/metrics/report", get(report))
        .route("/api/v1/metrics/report", get(report))
        .route("/metrics/dashboard", get(dashboard))
        .route("/api/v1/metrics/dashboard", get(dashboard))
        .route("/metrics/reset", post(reset))
        .route("/api/v1/metrics/reset", post(reset))
        // The page: public (it holds no data and asks for the token itself).
        .route("/metrics/ui", get(crate::ui::page))
        .route("/api/v1/metrics/ui", get(crate::ui::page))
        .route("/metrics/ui/page.css", get(crate::ui::css))
        .route("/api/v1/metrics/ui/page.css", get(crate::ui::css))
        .route("/metrics/ui/page.js", get(crate::ui::js))
        .route("/api/v1/metrics/ui/page.js", get(crate::ui::js))
        .route("/api/v1/metrics/history", get(history))
        // axum still sets `Allow`; the body says what went wrong, like every other
        // refusal here.
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    let mut res = (status, Json(serde_json::json!({ "error": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// Checks `Authorization: Bearer <expected>` (see [`Secret`] for the comparison);
/// returns the response that refuses the request, if it is refused.
fn rejection(headers: &HeaderMap, expected: &Secret) -> Option<Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Some(error(StatusCode::UNAUTHORIZED, "missing bearer token"));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "expected an Authorization: Bearer <token> header",
        ));
    };
    (!expected.matches(token)).then(|| error(StatusCode::FORBIDDEN, "invalid token"))
}

/// The refusal of a read, when `MCP_METRICS_TOKEN` is set and not presented.
fn read_rejection(e: &Endpoints, headers: &HeaderMap) -> Option<Response> {
    e.metrics_token.as_ref().and_then(|t| rejection(headers, t))
}

async fn metrics(State(e): EndpointsState, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&e, &headers) {
        return r;
    }
    let m = &e.monitor;
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::openmetrics::prefers_openmetrics);
    let (content_type, body) = if openmetrics {
        (OPENMETRICS_CONTENT_TYPE, m.render_openmetrics())
    } else {
        (PROMETHEUS_CONTENT_TYPE, m.render())
    };
    // Caches between the scraper and us must keep the two formats apart.
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::VARY, "accept"),
        ],
        body,
    )
        .into_response()
}

async fn summary(State(e): EndpointsState, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&e, &headers) {
        return r;
    }
    let m = &e.monitor;
    Json(crate::json::summary(m)).into_response()
}

async fn report(State(e): EndpointsState, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&e, &headers) {
        return r;
    }
    let m = &e.monitor;
    Json(crate::json::report(m)).into_response()
}

async fn dashboard(State(e): EndpointsState, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&e, &headers) {
        return r;
    }
    let m = &e.monitor;
    Json(crate::json::dashboard(m)).into_response()
}

async fn reset(State(e): EndpointsState, headers: HeaderMap) -> Response {
    let Some(admin) = &e.admin_token else {
        return error(
            StatusCode::FORBIDDEN,
            "reset is disabled: set MCP_ADMIN_TOKEN to enable it",
        );
    };
    if let Some(r) = rejection(&headers, admin) {
        return r;
    }
    e.monitor.reset();
    Json(serde_json::json!({
        "status": "reset",
        "reset_at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
    }))
    .into_response()
}

/// `GET /api/v1/metrics/history`. Readable with the metrics token, or with the admin
/// token (the page checks an admin token here before it offers the reset button).
async fn history(State(e): EndpointsState, headers: HeaderMap) -> Response {
    let admin = e
        .admin_token
        .as_ref()
        .is_some_and(|t| rejection(&headers, t).is_none());
    if !admin {
        if let Some(r) = read_rejection(&e, &headers) {
            return r;
        }
    }
    Json(crate::ui::history(&e.monitor, admin)).into_response()
}
