//! HTTP: the middleware that records every request, nested services that keep their
//! route label, and a server with the timeouts a service facing real clients needs.
//!
//! - [`HttpMetricsLayer`] (from [`Monitor::layer`](crate::Monitor::layer)) records
//!   `mcp_http_requests_total`, `mcp_http_request_duration_seconds` and
//!   `mcp_http_requests_in_flight`, labelled by method, route template and status.
//!   [`Monitor::instrument`](crate::Monitor::instrument) applies it the right way.
//! - [`RouterExt::monitored_nest_service`] nests a service (static files, another
//!   router made elsewhere) so that its requests are recorded by its mount rather than
//!   as [`UNMATCHED_PATH`].
//! - [`serve`] is `axum::serve` with header, body and idle timeouts and a graceful
//!   shutdown; [`ServerTimeouts`] holds the limits.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use mcp_monitor::http::{serve, ServerTimeouts};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let monitor = mcp_monitor::install()?;
//! let app = monitor.instrument(Router::new().route("/", get(|| async { "hello" })));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, app, ServerTimeouts::from_settings(monitor.settings()), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! # Ok(()) }
//! ```

// The tower layer, the per-monitor store of HTTP series, the per-layer route table,
// nested services labelled by their mount; the server lives in `server/`.
pub(crate) mod layer;
pub(crate) mod mount;
pub(crate) mod route_cache;
pub(crate) mod store;
pub(crate) mod watch;

pub use crate::server::{serve, ServerTimeouts};
pub use layer::{HttpMetrics, HttpMetricsLayer, ResponseFuture, STATUS_CLIENT_CLOSED};
pub use mount::{Mounted, MountedFuture, RouterExt};
pub use store::{OVERFLOW_PATH, UNMATCHED_PATH};
