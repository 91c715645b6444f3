//! The monitor's HTTP endpoints, as an axum `Router` to merge into the application's.

use axum::extract::{MatchedPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

use crate::monitor::Monitor;
use crate::output::auth::Secret;
use crate::output::json::error;
use crate::output::negotiate::{negotiate, Exposition, PROMETHEUS_CONTENT_TYPE};
use crate::output::profile::ProfileFormat;
use crate::output::prometheus::Format;

/// The routes' state: the monitor, and its tokens ready for comparison.
struct Endpoints {
    monitor: Monitor,
    metrics_token: Option<Secret>,
    admin_token: Option<Secret>,
}

type EndpointsState = State<Arc<Endpoints>>;

/// The monitor's routes: defined here, with the handlers, so that the monitor needs
/// nothing of the outputs.
impl Monitor {
    /// The endpoints: `/metrics`, `/metrics/summary`, `/api/v1/metrics/report`,
    /// `/api/v1/metrics/dashboard`, `POST /api/v1/metrics/reset` and their `/metrics/...`
    /// aliases; the page at `/metrics/ui` (alias `/api/v1/metrics/ui`) and its
    /// `/api/v1/metrics/history`. Merge it into the application's router.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router(self.clone()).with_state(())
    }

    /// The application's router merged with the monitor's endpoints
    /// ([`router`](Self::router)) and wrapped by the HTTP layer ([`layer`](Self::layer))
    /// last, so that the layer sees every route and its matched template: the way to
    /// serve an application.
    ///
    /// Why last: axum applies a `Router::layer` only to the routes added before it.
    /// `Router::new().layer(monitor.layer()).route("/a", ..)` leaves `/a` unrecorded,
    /// without any error; so does merging routes (or the monitor's router) after the
    /// layer. Layers the application adds before calling this (a timeout, a body
    /// limit, CORS) run inside the HTTP layer, which so records the response they
    /// make: a `tower_http` timeout's `408` is recorded as `408`. A layer wrapped
    /// around the returned router (or around the whole service, outside axum) runs
    /// outside it: a request it cuts short is recorded as `499`, as a client that
    /// went away would be.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let monitor = mcp_monitor::Monitor::builder().build()?;
    /// let app = Router::new().route("/users", get(|| async { "[]" }));
    /// let app = monitor.instrument(app); // + /metrics, /metrics/summary, ...
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # drop(listener); let _: Router = app;
    /// // axum::serve(listener, app).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// `instrument` merges the monitor's router itself: given a router that already has
    /// it (`monitor.instrument(app.merge(monitor.router()))`), it panics with a message
    /// that says so, rather than only axum's "overlapping method route".
    pub fn instrument<S>(&self, app: axum::Router<S>) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let endpoints = self.router();
        // axum panics when two routers have the same route; only ours can collide here.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || app.merge(endpoints))) {
            Ok(app) => app.layer(self.layer()),
            Err(panic) => {
                let axum = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a route overlaps");
                panic!(
                    "Monitor::instrument merges the monitor's router itself, and the router \
                     given to it already has the monitor's routes ({axum}). Fix: remove \
                     `.merge(monitor.router())` and pass your routes alone to \
                     `monitor.instrument(app)`"
                )
            }
        }
    }
}

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
        .route("/metrics/ui", get(crate::output::ui::page))
        .route("/api/v1/metrics/ui", get(crate::output::ui::page))
        .route("/metrics/ui/page.css", get(crate::output::ui::css))
        .route("/api/v1/metrics/ui/page.css", get(crate::output::ui::css))
        .route("/metrics/ui/page.js", get(crate::output::ui::js))
        .route("/api/v1/metrics/ui/page.js", get(crate::output::ui::js))
        .route("/api/v1/metrics/history", get(history))
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
        self.monitor
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
    e.monitor.note_scrape();
    let m = &e.monitor;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let negotiated = negotiate(accept);
    let body: Vec<u8> = match negotiated.format {
        Exposition::OpenMetrics => m.render_format(Format::OpenMetrics).into_bytes(),
        Exposition::Text | Exposition::Text1 => m.render_format(Format::Text).into_bytes(),
        Exposition::Protobuf => m.render_protobuf(),
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
    let m = &e.monitor;
    Json(crate::output::json::summary_document(
        &m.read(),
        m.settings(),
    ))
    .into_response()
}

async fn report(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    let m = &e.monitor;
    Json(crate::output::json::report_document(
        &m.read(),
        m.settings(),
    ))
    .into_response()
}

async fn dashboard(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    if let Some(r) = e.read_rejection(&path, &headers) {
        return r;
    }
    let m = &e.monitor;
    Json(crate::output::json::dashboard_document(
        &m.read(),
        m.settings(),
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
    e.monitor.reset();
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
    let max = e.monitor.settings().profile_max_seconds;
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

/// `GET /api/v1/metrics/history`. Readable with the metrics token, or with the admin
/// token (the page checks an admin token here before it offers the reset button).
async fn history(State(e): EndpointsState, path: MatchedPath, headers: HeaderMap) -> Response {
    let admin = e
        .admin_token
        .as_ref()
        .is_some_and(|t| check(&headers, t, None).is_ok());
    if !admin {
        if let Some(r) = e.read_rejection(&path, &headers) {
            return r;
        }
    }
    let m = &e.monitor;
    Json(crate::output::ui::history_document(
        &m.read(),
        m.settings(),
        admin,
    ))
    .into_response()
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
