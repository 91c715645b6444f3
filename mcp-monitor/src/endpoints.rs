//! The monitor's HTTP endpoints, as an axum `Router` to merge into the application's.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use subtle::ConstantTimeEq;

use crate::monitor::Monitor;

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
];

/// The `Content-Type` of the Prometheus text exposition.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) fn router(monitor: Monitor) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/metrics/summary", get(summary))
        .route("/metrics/report", get(report))
        .route("/api/v1/metrics/report", get(report))
        .route("/metrics/dashboard", get(dashboard))
        .route("/api/v1/metrics/dashboard", get(dashboard))
        .route("/metrics/reset", post(reset))
        .route("/api/v1/metrics/reset", post(reset))
        .with_state(monitor)
}

fn error(status: StatusCode, message: &str) -> Response {
    let mut res = (status, Json(serde_json::json!({ "error": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// Checks `Authorization: Bearer <expected>` in constant time; returns the response
/// that refuses the request, if it is refused.
fn rejection(headers: &HeaderMap, expected: &str) -> Option<Response> {
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
    let matches: bool = token.as_bytes().ct_eq(expected.as_bytes()).into();
    (!matches).then(|| error(StatusCode::FORBIDDEN, "invalid token"))
}

/// The refusal of a read, when `MCP_METRICS_TOKEN` is set and not presented.
fn read_rejection(m: &Monitor, headers: &HeaderMap) -> Option<Response> {
    m.settings()
        .metrics_token
        .as_deref()
        .and_then(|t| rejection(headers, t))
}

async fn metrics(State(m): State<Monitor>, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&m, &headers) {
        return r;
    }
    (
        [(header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)],
        m.render(),
    )
        .into_response()
}

async fn summary(State(m): State<Monitor>, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&m, &headers) {
        return r;
    }
    Json(crate::json::summary(&m)).into_response()
}

async fn report(State(m): State<Monitor>, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&m, &headers) {
        return r;
    }
    Json(crate::json::report(&m)).into_response()
}

async fn dashboard(State(m): State<Monitor>, headers: HeaderMap) -> Response {
    if let Some(r) = read_rejection(&m, &headers) {
        return r;
    }
    Json(crate::json::dashboard(&m)).into_response()
}

async fn reset(State(m): State<Monitor>, headers: HeaderMap) -> Response {
    let Some(admin) = &m.settings().admin_token else {
        return error(
            StatusCode::FORBIDDEN,
            "reset is disabled: set MCP_ADMIN_TOKEN to enable it",
        );
    };
    if let Some(r) = rejection(&headers, admin) {
        return r;
    }
    m.reset();
    Json(serde_json::json!({
        "status": "reset",
        "reset_at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
    }))
    .into_response()
}
