//! The monitor's HTTP endpoints, as an axum `Router` to merge into the application's.

use axum::extract::{MatchedPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

use crate::output::auth::Secret;
use crate::output::json::error;
use crate::output::negotiate::{negotiate, Exposition, PROMETHEUS_CONTENT_TYPE};
use crate::output::profile::ProfileFormat;
use crate::output::prometheus::{exposition, Format};
use crate::reading::Reading;
use crate::settings::Settings;

/// What the endpoints read and do: a monitor, as its routes see it. The monitor
/// implements it (`monitor/endpoints`); every answer is a function of one reading.
pub(crate) trait Source: Send + Sync + 'static {
    /// The settings the monitor runs with.
    fn settings(&self) -> &Settings;
    /// A reading now, over the window; with the exemplars if `exemplars`.
    fn read(&self, exemplars: bool) -> Reading;
    /// `POST /api/v1/metrics/reset`.
    fn reset(&self);
    /// A scrape of `/metrics` (for the diagnostic of a layer that sees no request).
    fn note_scrape(&self);
    /// A refused token check of a request to the route `path`.
    fn note_auth_failure(&self, path: &str, reason: &'static str);
}

/// The routes' state: the source, and its tokens ready for comparison.
struct Endpoints {
    source: Arc<dyn Source>,
    metrics_token: Option<Secret>,
    admin_token: Option<Secret>,
}

type EndpointsState = State<Arc<Endpoints>>;

/// The monitor's routes, over `source`: `/metrics`, the JSON documents, reset, the page
/// and its files, the history, the profiles. Answers are gzipped when the request
/// allows it.
pub(crate) fn router(source: Arc<dyn Source>) -> Router {
    let settings = source.settings();
    let state = Arc::new(Endpoints {
        metrics_token: settings.metrics_token.as_deref().map(Secret::new),
        admin_token: settings.admin_token.as_deref().map(Secret::new),
        source,
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
        .route("/metrics/ui", get(crate::output::ui::page))
        .route("/api/v1/metrics/ui", get(crate::output::ui::page))
        .route("/metrics/ui/{file}", get(crate::output::ui::file))
        .route("/api/v1/metrics/ui/{file}", get(crate::output::ui::file))
        .route("/api/v1/metrics/history", get(history))
        .route("/api/v1/metrics/page", get(page_document))
        .route("/debug/pprof/profile", get(pprof_profile))
        .route("/debug/pprof/flamegraph", get(pprof_flamegraph))
        // axum still sets `Allow`; the body says what went wrong, like every other
        // refusal here.
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::output::compress::gzip))
}

/// The `realm` of every challenge.
const REALM: &str = "mcp-monitor";

/// Why a request is refused, as RFC 6750 (section 3) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No bearer credentials at all (no header, or another scheme): 401 with a bare
    /// challenge, no error code.
    Missing,
    /// A bearer header that is malformed (empty token, a space inside): 400
    /// `invalid_request`.
    Malformed,
    /// A bearer token that is not the expected one: 401 `invalid_token`.
    InvalidToken,
    /// A valid token without the right to do this (the metrics token on reset), or an
    /// action that no token may do (reset without `MCP_ADMIN_TOKEN`): 403
    /// `insufficient_scope`.
    InsufficientScope(&'static str),
}

impl Refusal {
    /// The `reason` label of `mcp_http_auth_failures_total`.
    fn reason(self) -> &'static str {
        let [missing, malformed, invalid, scope] = crate::base::names::AUTH_FAILURE_REASONS;
        match self {
            Self::Missing => missing,
            Self::Malformed => malformed,
            Self::InvalidToken => invalid,
            Self::InsufficientScope(_) => scope,
        }
    }

    fn response(self) -> Response {
        let (status, code, message) = match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                None,
                "missing bearer token: send Authorization: Bearer <token>",
            ),
            Self::Malformed => (
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "malformed Authorization header: expected Bearer <token>",
            ),
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "invalid token",
            ),
            Self::InsufficientScope(message) => {
                (StatusCode::FORBIDDEN, Some("insufficient_scope"), message)
            }
        };
        let challenge = match code {
            None => format!("Bearer realm=\"{REALM}\""),
            Some(code) => format!(
                "Bearer realm=\"{REALM}\", error=\"{code}\", error_description=\"{message}\""
            ),
        };
        let mut res = error(status, message);
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

/// The bearer token of an `Authorization` header: the scheme is case-insensitive
/// (RFC 7235), one or more spaces separate it from the token, and the token is one
/// word (RFC 6750's `b64token`; surrounding spaces are ignored).
fn bearer_token(headers: &HeaderMap) -> Result<&str, Refusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Refusal::Missing)?
        .to_str()
        .map_err(|_| Refusal::Malformed)?
        .trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::Missing);
    }
    let token = rest.trim_matches(|c| c == ' ' || c == '\t');
    if token.is_empty() || token.contains([' ', '\t']) {
        return Err(Refusal::Malformed);
    }
    Ok(token)
}

/// Checks `Authorization: Bearer <expected>` (see [`Secret`] for the comparison): why
/// the request is refused, if it is. A token that is `weaker` (valid, for something
/// else) is refused as `insufficient_scope`.
fn check(headers: &HeaderMap, expected: &Secret, weaker: Option<&Secret>) -> Result<(), Refusal> {
    match bearer_token(headers) {
        Err(r) => Err(r),
        Ok(token) if expected.matches(token) => Ok(()),
        Ok(token) if weaker.is_some_and(|w| w.matches(token)) => Err(Refusal::InsufficientScope(
            "this token may read, not reset: reset needs MCP_ADMIN_TOKEN",
        )),
        Ok(_) => Err(Refusal::InvalidToken),
    }
}

/// The response that refuses the request, if [`check`] refuses it.
#[cfg(test)]
fn rejection(headers: &HeaderMap, expected: &Secret, weaker: Option<&Secret>) -> Option<Response> {
    check(headers, expected, weaker)
        .err()
        .map(Refusal::response)
}

impl Endpoints {
    /// Counts a refusal of a request to `path` in `mcp_http_auth_failures_total` and
    /// makes its response.
    fn refuse(&self, path: &MatchedPath, refusal: Refusal) -> Response {
        self.source
            .note_auth_failure(path.as_str(), refusal.reason());
        refusal.response()
    }

    /// The refusal of an admin action, `what` (`MCP_ADMIN_TOKEN` unset: refused to
    /// everyone, as `insufficient_scope` with `disabled` as the reason).
    fn admin_rejection(
        &self,
        path: &MatchedPath,
        headers: &HeaderMap,
        disabled: &'static str,
    ) -> Option<Response> {
        let Some(admin) = &self.admin_token else {
            return Some(self.refuse(path, Refusal::InsufficientScope(disabled)));
        };
        check(headers, admin, self.metrics_token.as_ref())
            .err()
            .map(|r| self.refuse(path, r))
    }

    /// The refusal of a read, when `MCP_METRICS_TOKEN` is set and not presented.
    fn read_rejection(&self, path: &MatchedPath, headers: &HeaderMap) -> Option<Response> {
        let token = self.metrics_token.as_ref()?;
        check(headers, token, None)
            .err()
            .map(|r| self.refuse(path, r))
    }
}

async fn metrics(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    e.source.note_scrape();
    let s = e.source.settings();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let negotiated = negotiate(accept);
    let body: Vec<u8> = match negotiated.format {
        Exposition::OpenMetrics => {
            exposition(&e.source.read(true), s, Format::OpenMetrics).into_bytes()
        }
        Exposition::Text | Exposition::Text1 => {
            exposition(&e.source.read(false), s, Format::Text).into_bytes()
        }
        Exposition::Protobuf => crate::output::protobuf::encode(&e.source.read(true), s),
    };
    let content_type = HeaderValue::from_str(&negotiated.content_type())
        .unwrap_or(HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE));
    // Caches between the scraper and us must keep the formats apart.
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::VARY, HeaderValue::from_static("accept")),
        ],
        body,
    )
        .into_response()
}

async fn summary(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    Json(crate::output::json::summary_document(
        &e.source.read(false),
        e.source.settings(),
    ))
    .into_response()
}

async fn report(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    Json(crate::output::json::report_document(
        &e.source.read(false),
        e.source.settings(),
    ))
    .into_response()
}

async fn dashboard(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    Json(crate::output::json::dashboard_document(
        &e.source.read(false),
        e.source.settings(),
    ))
    .into_response()
}

async fn reset(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.admin_rejection(
        &path,
        &headers,
        "reset is disabled: set MCP_ADMIN_TOKEN to enable it",
    ) {
        return r;
    }
    e.source.reset();
    Json(serde_json::json!({
        "status": "reset",
        "reset_at": crate::base::format::now_rfc3339(),
    }))
    .into_response()
}

/// The `seconds` parameter of the profile routes.
#[derive(Debug, serde::Deserialize)]
struct ProfileQuery {
    seconds: Option<String>,
}

async fn take_profile(
    e: &Endpoints,
    path: &MatchedPath,
    headers: &HeaderMap,
    query: &ProfileQuery,
    format: ProfileFormat,
) -> Response {
    if let Some(r) = e.admin_rejection(
        path,
        headers,
        "profiles are disabled: set MCP_ADMIN_TOKEN to enable them",
    ) {
        return r;
    }
    let max = e.source.settings().profile_max_seconds;
    crate::output::profile::respond(format, query.seconds.as_deref(), max).await
}

/// `GET /debug/pprof/profile?seconds=N`: a gzipped pprof CPU profile; admin token.
async fn pprof_profile(
    State(e): EndpointsState,
    path: MatchedPath,
    headers: HeaderMap,
    Query(q): Query<ProfileQuery>,
) -> Response {
    take_profile(&e, &path, &headers, &q, ProfileFormat::Pprof).await
}

/// `GET /debug/pprof/flamegraph?seconds=N`: an SVG flame graph; admin token.
async fn pprof_flamegraph(
    State(e): EndpointsState,
    path: MatchedPath,
    headers: HeaderMap,
    Query(q): Query<ProfileQuery>,
) -> Response {
    take_profile(&e, &path, &headers, &q, ProfileFormat::Flamegraph).await
}

impl Endpoints {
    /// Whether the request presents the admin token; else the refusal of a read (the
    /// page checks an admin token on the history before it offers the reset button).
    fn admin_or_read(
        &self,
        path: &MatchedPath,
        headers: &HeaderMap,
    ) -> Result<bool, Box<Response>> {
        let admin = self
            .admin_token
            .as_ref()
            .is_some_and(|t| check(headers, t, None).is_ok());
        if admin {
            return Ok(true);
        }
        self.read_rejection(path, headers)
            .map_or(Ok(false), |r| Err(Box::new(r)))
    }
}

/// `GET /api/v1/metrics/history`. Readable with the metrics token, or with the admin
/// token.
async fn history(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    match e.admin_or_read(&path, &headers) {
        Ok(admin) => Json(crate::output::ui::history_document(
            &e.source.read(false),
            e.source.settings(),
            admin,
        ))
        .into_response(),
        Err(r) => *r,
    }
}

/// `GET /api/v1/metrics/page`: the page's document, from one reading; readable like
/// the history.
async fn page_document(
    State(e): EndpointsState,
    path: MatchedPath,
    headers: HeaderMap,
) -> Response {
    match e.admin_or_read(&path, &headers) {
        Ok(admin) => Json(crate::output::ui::page_document(
            &e.source.read(false),
            e.source.settings(),
            admin,
        ))
        .into_response(),
        Err(r) => *r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(authorization).unwrap(),
        );
        h
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_one_word() {
        for ok in [
            "Bearer tok",
            "bearer tok",
            "BEARER tok",
            "bEaReR  tok ",
            "Bearer\ttok",
        ] {
            assert_eq!(bearer_token(&headers(ok.as_bytes())), Ok("tok"), "{ok:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), Err(Refusal::Missing));
        for other in ["Basic dG9rOg==", "Bearertok", "Token tok"] {
            assert_eq!(
                bearer_token(&headers(other.as_bytes())),
                Err(Refusal::Missing),
                "{other:?}"
            );
        }
        for bad in [&b"Bearer"[..], b"Bearer   ", b"Bearer a b", b"Bearer \xff"] {
            assert_eq!(
                bearer_token(&headers(bad)),
                Err(Refusal::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refusals_follow_rfc_6750() {
        let admin = Secret::new("adm1n");
        let reader = Secret::new("r3ad");
        let check = |auth: Option<&str>| {
            let h = auth.map_or_else(HeaderMap::new, |a| headers(a.as_bytes()));
            rejection(&h, &admin, Some(&reader)).map(|r| {
                let challenge = r.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .to_owned();
                (r.status(), challenge)
            })
        };
        assert_eq!(check(Some("BEARER adm1n")), None);
        assert_eq!(
            check(None),
            Some((
                StatusCode::UNAUTHORIZED,
                r#"Bearer realm="mcp-monitor""#.into()
            ))
        );
        let (status, challenge) = check(Some("Bearer adm1N")).unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(challenge.starts_with(r#"Bearer realm="mcp-monitor", error="invalid_token""#));
        let (status, challenge) = check(Some("Bearer r3ad")).unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            challenge.contains(r#"error="insufficient_scope""#),
            "{challenge}"
        );
        let (status, challenge) = check(Some("Bearer")).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            challenge.contains(r#"error="invalid_request""#),
            "{challenge}"
        );
    }
}
