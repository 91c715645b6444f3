//! Performance monitoring for axum and tower web services: attribute macros that count
//! and time database operations and workflow steps, a middleware that does the same for
//! HTTP requests, a Prometheus `/metrics` endpoint, JSON summaries and a live page, and
//! threshold alerts. Everything is configured from `MCP_*` environment variables.
//!
//! # Usage
//!
//! Put the macros on the functions to measure, [`install`] the monitor once at start-up,
//! and serve your router through [`Monitor::instrument`], which adds the monitor's
//! endpoints and wraps every route in the HTTP layer:
//!
//! ```no_run
//! use axum::{extract::Path, routing::get, Router};
//! use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};
//!
//! #[derive(Debug)]
//! struct DbError;
//!
//! // Counted in mcp_db_operations_total{operation="select",table="users",status}
//! // and timed in mcp_db_operation_duration_seconds{operation="select",table="users"}.
//! #[monitor_db_operation("select", "users")]
//! async fn find_user(id: i64) -> Result<Option<String>, DbError> {
//!     Ok((id == 1).then(|| "Ada".to_owned())) // an `Err` counts as a failure
//! }
//!
//! #[monitor_workflow_step("signup", "validation")]
//! fn validate(name: &str) -> Result<(), String> {
//!     if name.is_empty() { Err("no name".into()) } else { Ok(()) }
//! }
//!
//! // A whole run, with mcp_active_workflows{workflow="signup"} raised while it runs.
//! #[monitor_workflow("signup")]
//! async fn signup(name: String) -> Result<(), String> {
//!     validate(&name)
//! }
//!
//! async fn user(Path(id): Path<i64>) -> String {
//!     format!("{:?}", find_user(id).await)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Reads the MCP_* variables (a bad value is an error naming it), installs the
//!     // global `metrics` recorder and starts the background tasks.
//!     let monitor = mcp_monitor::install()?;
//!
//!     // Your routes, then the monitor's endpoints and the HTTP layer over all of them.
//!     let app = monitor.instrument(Router::new().route("/users/{id}", get(user)));
//!
//!     // Like `axum::serve`, with timeouts on every connection and a graceful shutdown.
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     let timeouts = mcp_monitor::ServerTimeouts::from_settings(monitor.settings());
//!     mcp_monitor::serve(listener, app, timeouts, async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await;
//!     Ok(())
//! }
//! ```
//!
//! - The macros ([`monitor_db_operation`], [`monitor_workflow_step`],
//!   [`monitor_workflow`]) work on `async fn` and plain `fn`, methods, and functions that
//!   return a future. A call ends as a success, a failure (an `Err` or a panic) or
//!   cancelled (its future was dropped). Implement [`MonitoredError`] for an error type
//!   whose values are not all failures of the call (a missing row, a duplicate key).
//! - [`Monitor::layer`] is the HTTP middleware on its own ([`HttpMetricsLayer`]); apply
//!   it last, after every route. Mount nested services with
//!   [`RouterExt::monitored_nest_service`] so that their requests keep a route label.
//! - Report caches with [`Monitor::cache`] ([`CacheMonitor`]) and connection pools with
//!   [`Monitor::register_pool`] (any [`PoolStats`]); CPU, memory and load are sampled on
//!   their own.
//! - In tests, or next to another global `metrics` recorder, build a monitor without
//!   installing it: [`Monitor::builder`] then [`MonitorBuilder::build`].
//!
//! # Endpoints
//!
//! [`Monitor::router`] (merged by [`Monitor::instrument`]) serves:
//!
//! | route | what it gives |
//! |---|---|
//! | `GET /metrics` | every series in the Prometheus text format; OpenMetrics with exemplars when the `Accept` header asks for `application/openmetrics-text` |
//! | `GET /metrics/summary` | JSON: each label set's `count`, `failures`, `error_rate`, `mean_seconds` and `p95_seconds`, since the last reset and over the sliding window |
//! | `GET /api/v1/metrics/report` | JSON: requests, database operations and pools, workflows, resources and the active alerts |
//! | `GET /api/v1/metrics/dashboard` | JSON: the same figures formatted for display |
//! | `POST /api/v1/metrics/reset` | clears the summary and the alerts (needs the admin token); `/metrics` counters keep counting |
//! | `GET /metrics/ui` | a live page with charts, tables and a printable report |
//!
//! The metric names are in [`names`]; series that the application records itself with
//! the `metrics` crate (`metrics::counter!` and friends) are appended to `/metrics`. With
//! `MCP_METRICS_TOKEN` set, every read needs `Authorization: Bearer <token>`.
//!
//! # Reading the values
//!
//! [`Monitor::read`] takes a [`Reading`] of every series at one moment, the same one
//! `/metrics` and the JSON endpoints are written from. A test asserts on its own calls
//! through the difference of two readings:
//!
//! ```
//! # use mcp_monitor::{monitor_db_operation, Monitor, Status};
//! # #[monitor_db_operation("select", "crate_doc_users")]
//! # async fn find_user(id: i64) -> Result<Option<String>, std::io::Error> { Ok(None) }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let monitor = Monitor::builder().build().unwrap();
//! let before = monitor.read();
//! find_user(7).await.unwrap();
//! let calls = monitor.read().since(&before).db("select", "crate_doc_users");
//! assert_eq!(calls.count(Status::Success), 1);
//! # }
//! ```
//!
//! # Settings
//!
//! [`install`] reads [`Settings::from_env`]: thresholds, the window, histogram buckets,
//! tokens, timeouts, all as `MCP_*` variables with documented defaults (the full list is
//! [`settings::VARIABLES`], each described on its [`Settings`] field). Percentages take
//! `80%` or `0.8`, durations `250ms`, `5m` or `1d`. A bad value stops start-up with an
//! [`Error::InvalidSetting`] naming the variable; nothing falls back to a default
//! silently. [`MonitorBuilder::configure`] sets values in code.
//!
//! # Alerts
//!
//! Seven threshold alerts ([`alerts::AlertType`]: request latency, error rate, memory,
//! CPU, cache hit ratio, pool use, system load) are evaluated in the background with
//! Prometheus' semantics: pending, then firing after `MCP_ALERT_FOR`, then resolved. They
//! are logged through `tracing`, listed by [`Monitor::active_alerts`], exposed on
//! `/metrics`, pushed to Alertmanager when `MCP_ALERTMANAGER_URL` is set, and delivered to
//! [`Monitor::subscribe_alerts`]. [`fleet::prometheus_rules`] and
//! [`fleet::grafana_dashboard`] write the same thresholds as a Prometheus rules file and
//! a Grafana dashboard for a fleet of instances.
//!
//! Service-level objectives ([`slo::Objective`], declared in `MCP_SLOS` or with
//! [`MonitorBuilder::with_objective`]) add two burn-rate alerts, `SLO_BURN_RATE_FAST`
//! and `SLO_BURN_RATE_SLOW`, evaluated in process and rendered into the same rules file,
//! and their error budgets on `/metrics`, the report and the page.
//!
//! # Features
//!
//! - `alertmanager` (default): push alerts to Alertmanager (`reqwest` with rustls).
//! - `sqlx`: [`PoolStats`] for every `sqlx::Pool`. It enables no database driver and
//!   builds against whichever driver your own `sqlx` dependency enables.
//! - `tracing`: each monitored call runs in a `tracing` span named after its labels, with
//!   OpenTelemetry's semantic-convention fields and its outcome.
//! - `opentelemetry` (implies `tracing`): exemplars take their trace from the
//!   OpenTelemetry context of the current span, before the request's `traceparent`.
//!
//! # Where to look next
//!
//! - [`Monitor`]: everything a running monitor does, [`MonitorBuilder`] to configure one.
//! - [`reading`]: the values of a [`Reading`]: [`reading::Calls`], [`reading::Requests`].
//! - [`http`]: the middleware, nested services, and the server with its timeouts.
//! - [`alerts`]: alert values and the events of [`Monitor::subscribe_alerts`].
//! - [`settings`] and [`names`]: the variables and the metric names.
//! - [`trace`]: trace contexts for exemplars outside an HTTP request.

// docs.rs (`--cfg docsrs`, nightly) marks what each feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]
pub mod alerts;
mod base;
mod calls;
mod facade;
pub mod fleet;
pub mod grpc;
pub mod http;
mod monitor;
#[cfg(feature = "otlp")]
mod otlp;
mod output;
pub mod reading;
mod server;
pub mod settings;
pub mod slo;
mod sources;
mod summary;

#[doc(inline)]
pub use crate::base::trace;

pub mod names {
    //! The names the monitor's outputs are fixed to: metric names, the monitor's routes,
    //! and the content types of the expositions `/metrics` answers with.
    //!
    //! ```
    //! use mcp_monitor::names;
    //!
    //! assert_eq!(names::HTTP_REQUESTS_TOTAL, "mcp_http_requests_total");
    //! assert!(names::ROUTES.contains(&"/metrics"));
    //! assert!(names::PROMETHEUS_CONTENT_TYPE.starts_with("text/plain"));
    //! ```

    // Every public name of the module, as it grows.
    pub use crate::base::names::*;
    pub use crate::output::negotiate::{OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::base::error::Error;
pub use crate::base::histogram::{Buckets, BucketsError};
pub use crate::calls::outcome::{MonitoredError, Status};
#[doc(inline)]
pub use crate::grpc::GrpcMetricsLayer;
pub use crate::http::{serve, HttpMetricsLayer, RouterExt, ServerTimeouts};
pub use crate::monitor::{install, Monitor, MonitorBuilder};
#[doc(inline)]
pub use crate::reading::Reading;
#[doc(inline)]
pub use crate::settings::Settings;
pub use crate::sources::caches::CacheMonitor;
pub use crate::sources::pools::PoolStats;
pub use crate::sources::resources::ResourceSample;

#[doc(inline)]
pub use mcp_monitor_macros::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

/// The README and the guides in `docs/` are compiled as doctests so that their examples
/// stay true.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/macros.md")]
    struct Macros;
    #[doc = include_str!("../../docs/middleware.md")]
    struct Middleware;
}
