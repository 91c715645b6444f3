//! The demo's routes. Every error is a JSON `{"error": "..."}` with a 4xx status for
//! the client's mistakes (a malformed body or path included) and 500 only for the
//! server's own failures.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::users::{DbError, NewUser, User, UserService};
use super::workflows::{ProcessingReport, WorkflowEngine, WorkflowError};

/// The services the handlers use. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Users, with the lookup cache.
    pub users: Arc<UserService>,
    /// Workflows.
    pub workflows: WorkflowEngine,
}

impl AppState {
    /// Wraps the services.
    pub fn new(users: UserService, workflows: WorkflowEngine) -> Self {
        Self {
            users: Arc::new(users),
            workflows,
        }
    }
}

/// An error response: `status` with the body `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The response status.
    pub status: StatusCode,
    /// The `error` field of the body.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

impl From<JsonRejection> for ApiError {
    /// Keeps axum's status (400 for invalid JSON, 415 without a JSON content type,
    /// 422 for JSON of the wrong shape, 413 for a body too large) with a JSON body.
    fn from(rejection: JsonRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::EmailTaken(_) => Self::new(StatusCode::CONFLICT, e.to_string()),
            DbError::Sqlx(e) => {
                tracing::error!(error = %e, "database operation failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "database error")
            }
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::Validation(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
        }
    }
}

/// `axum::Json`, rejecting a malformed body with an [`ApiError`] rather than plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path`, rejecting a malformed segment with an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// The body of `POST /users`.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateUser {
    /// Must not be blank; at most [`MAX_FIELD_LEN`] characters.
    pub name: String,
    /// Must contain `@`; at most [`MAX_FIELD_LEN`] characters.
    pub email: String,
}

/// Longest name or email accepted.
pub const MAX_FIELD_LEN: usize = 200;

impl CreateUser {
    /// Trims the fields and checks them.
    ///
    /// # Errors
    ///
    /// A 422 [`ApiError`] naming the first field refused.
    pub fn validate(self) -> Result<NewUser, ApiError> {
        let invalid = |m: &str| Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m));
        let (name, email) = (self.name.trim(), self.email.trim());
        if name.is_empty() {
            return invalid("`name` must not be empty");
        }
        if email.is_empty() {
            return invalid("`email` must not be empty");
        }
        if !email.contains('@') {
            return invalid("`email` must contain '@'");
        }
        if name.chars().count() > MAX_FIELD_LEN || email.chars().count() > MAX_FIELD_LEN {
            return invalid("`name` and `email` must be at most 200 characters");
        }
        Ok(NewUser {
            name: name.to_owned(),
            email: email.to_owned(),
        })
    }
}

/// The body of `POST /workflows/data_processing`.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRequest {
    /// Any JSON values but `null`; at least one.
    pub records: Vec<Value>,
}

/// The body of `GET /users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserList {
    /// Users by id, at most [`LIST_LIMIT`](super::users::LIST_LIMIT).
    pub users: Vec<User>,
}

async fn list_users(State(s): State<AppState>) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList {
        users: s.users.list_users().await?,
    }))
}

async fn get_user(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, ApiError> {
    match s.users.find_user(id).await? {
        Some(user) => Ok(Json(user)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("user {id} not found"),
        )),
    }
}

async fn create_user(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    let new = body.validate()?;
    let user = s.users.create_user(&new).await?;
    metrics::counter!("demo_users_created_total").increment(1);
    let location = format!("/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(user),
    )
        .into_response())
}

async fn data_processing(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<WorkflowRequest>,
) -> Result<Json<ProcessingReport>, ApiError> {
    Ok(Json(s.workflows.data_processing(body.records).await?))
}

/// The query of `GET /reports/digest` and `GET /reports/blocking`.
#[derive(Debug, Clone, Deserialize)]
pub struct DigestQuery {
    /// How long to compute, in milliseconds (at most [`DIGEST_MAX_MS`]).
    pub ms: u64,
}

/// The longest `GET /reports/digest` computes (and `GET /reports/blocking` blocks).
pub const DIGEST_MAX_MS: u64 = 1_000;

/// `GET /reports/digest?ms=N`: a checksum computed for `N` ms on the executor's own
/// thread. It holds its worker on purpose: the demo's example of a handler that blocks
/// the executor (a long poll for `mcp_long_polls_total`, busy time for
/// `mcp_runtime_busy_seconds_total`, and the hot function of a CPU profile).
async fn digest(q: Result<Query<DigestQuery>, QueryRejection>) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    if q.ms > DIGEST_MAX_MS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("ms must be at most {DIGEST_MAX_MS}"),
        ));
    }
    let (rounds, digest) = digest_spin(std::time::Duration::from_millis(q.ms));
    metrics::counter!("demo_digest_rounds_total").increment(rounds);
    Ok(Json(
        serde_json::json!({ "rounds": rounds, "digest": format!("{digest:016x}") }),
    ))
}

/// `GET /reports/blocking?ms=N`: a report "rendered" by a blocking
/// `std::thread::sleep` of `N` ms (at most [`DIGEST_MAX_MS`]) inside the async handler:
/// the classic mistake (a blocking call on the executor) that the monitor finds. The
/// request's poll holds its worker for `N` ms without using the CPU, so it counts in
/// `mcp_long_polls_total{kind="http",name="GET /reports/blocking"}` and as busy time
/// of the runtime (a worker that polls is busy, whatever it waits for).
async fn blocking(q: Result<Query<DigestQuery>, QueryRejection>) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    if q.ms > DIGEST_MAX_MS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("ms must be at most {DIGEST_MAX_MS}"),
        ));
    }
    // Deliberately blocking: this is what the route demonstrates.
    std::thread::sleep(std::time::Duration::from_millis(q.ms));
    Ok(Json(serde_json::json!({ "blocked_ms": q.ms })))
}

/// Mixes a 64-bit state (SplitMix64) until `length` has passed; the rounds and the
/// final state. Not inlined, so that a CPU profile names it.
#[inline(never)]
pub fn digest_spin(length: std::time::Duration) -> (u64, u64) {
    let start = std::time::Instant::now();
    let (mut rounds, mut x) = (0u64, 0x9e37_79b9_7f4a_7c15u64);
    loop {
        for _ in 0..1024 {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x = std::hint::black_box(z ^ (z >> 31));
        }
        rounds += 1024;
        if start.elapsed() >= length {
            return (rounds, x);
        }
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The demo's own routes, with JSON 404 and 405 fallbacks.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user))
        .route("/workflows/data_processing", post(data_processing))
        .route("/reports/digest", get(digest))
        .route("/reports/blocking", get(blocking))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The demo's routes merged with the monitor's endpoints, all under the monitor's
/// middleware (applied last, so that it sees every route and its matched template):
/// what the `service` example serves.
pub fn app(state: AppState, monitor: &mcp_monitor::Monitor) -> Router {
    monitor.instrument(routes(state))
}
