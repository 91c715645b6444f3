//! A service shaped like the seed's backend, instrumented with `mcp-monitor`.
//!
//! - [`users::UserService`]: users in SQLite through an `sqlx` pool, every query
//!   measured with `#[monitor_db_operation]`, lookups by id served through a small cache
//!   that reports its hits and misses;
//! - [`workflows::WorkflowEngine`]: the `data_processing` workflow, its run measured with
//!   `#[monitor_workflow]` and its `validation` and `transformation` steps with
//!   `#[monitor_workflow_step]`;
//! - [`grpc`]: `grpc.health.v1.Health` and `demo.users.v1.Users` on their own
//!   listener (`MCP_GRPC_ADDR`), recorded by the monitor's gRPC layer;
//! - [`http`]: the routes, with JSON errors for every failure (a malformed body is a
//!   4xx, never a 500), merged with the monitor's endpoints under its middleware.
//!
//! [`app`] puts it all together; [`listen`] reads the listen address (`MCP_ADDR`):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_monitor_e2e::demo::{self, listen};
//!
//! let monitor = mcp_monitor::install()?;
//! let app = demo::app(&monitor).await?;
//! let listener = listen::HTTP.bind(listen::HTTP.from_env()?).await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod grpc;
pub mod http;
pub mod listen;
pub mod users;
pub mod workflows;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

pub use self::http::AppState;
use self::users::UserService;
use self::workflows::WorkflowEngine;

/// The demo's service-level objectives, in `MCP_SLOS`'s syntax (one item each); they
/// apply when `MCP_SLOS` is unset:
///
/// - `api`: 99.5% of all requests answered without a 5xx, over 30 days;
/// - `user-lookup`: 99% of `GET /users/{id}` answered within 100 ms (a bound of the
///   default HTTP buckets);
/// - `database`: 99.9% of all db operations without a failure.
pub const OBJECTIVES: &[&str] = &[
    "api = http * availability 99.5%",
    "user-lookup = http GET /users/{id} latency 99% within 100ms",
    "database = db * availability 99.9%",
];

/// The settings of the demo: the `MCP_*` environment, with [`OBJECTIVES`] when
/// `MCP_SLOS` is unset.
///
/// # Errors
///
/// The error of [`Settings::from_env`](mcp_monitor::Settings::from_env) naming the first
/// bad variable.
pub fn settings_from_env() -> Result<mcp_monitor::Settings, mcp_monitor::Error> {
    let mut s = mcp_monitor::Settings::from_env()?;
    if std::env::var_os("MCP_SLOS").is_none() {
        s.slos = objectives();
        s.validate()?;
    }
    Ok(s)
}

/// [`OBJECTIVES`], parsed.
pub fn objectives() -> Vec<mcp_monitor::slo::Objective> {
    OBJECTIVES
        .iter()
        .map(|o| o.parse().expect("the demo's objectives parse"))
        .collect()
}

/// Connections in the demo's pool.
pub const POOL_SIZE: u32 = 5;

/// Opens a fresh in-memory SQLite database (shared by the pool's connections, private
/// to this pool) and creates its schema.
///
/// # Errors
///
/// Any error of SQLite while connecting or creating the tables.
pub async fn connect_database() -> Result<SqlitePool, sqlx::Error> {
    // `:memory:` gives every options value its own database, shared by the pool's
    // connections; it lives as long as one of them, so keep one open for good.
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
    let pool = SqlitePoolOptions::new()
        .max_connections(POOL_SIZE)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    users::migrate(&pool).await?;
    Ok(pool)
}

/// Builds the whole demo for `monitor`: a new database, registered as the pool
/// `sqlite`; the user service with its cache reported as `users`; the workflow engine;
/// the routes, merged with the monitor's endpoints and wrapped in its layer by
/// [`Monitor::instrument`](mcp_monitor::Monitor::instrument).
///
/// # Errors
///
/// Any error of SQLite while creating the database.
pub async fn app(monitor: &mcp_monitor::Monitor) -> Result<axum::Router, sqlx::Error> {
    let state = state(monitor).await?;
    Ok(http::app(state, monitor))
}

/// The services of the demo, without the routes (for a scheduler or a test that calls
/// them directly).
///
/// # Errors
///
/// Any error of SQLite while creating the database.
pub async fn state(monitor: &mcp_monitor::Monitor) -> Result<AppState, sqlx::Error> {
    let pool = connect_database().await?;
    monitor.register_pool("sqlite", pool.clone());
    Ok(AppState::new(
        UserService::new(pool, monitor.cache("users")),
        WorkflowEngine::default(),
    ))
}

/// Reads `DEMO_SCHEDULER`: `1` (or `true`, `yes`, `on`) runs the workflow in the
/// background every [`workflows::SCHEDULER_PERIOD`]; unset, empty, `0`, `false`, `no`
/// or `off` does not.
///
/// # Errors
///
/// A message naming the variable when its value is none of these.
pub fn scheduler_from_env() -> Result<bool, String> {
    match std::env::var("DEMO_SCHEDULER") {
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(format!("invalid value for DEMO_SCHEDULER: {v:?}"))
        }
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "" | "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!(
                "invalid value for DEMO_SCHEDULER: {v:?}: expected 1 or 0"
            )),
        },
    }
}
