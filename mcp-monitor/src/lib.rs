#![doc = include_str!("../../README.md")]

mod alerts;
mod base;
mod calls;
mod facade;
mod fleet;
mod http;
mod monitor;
mod output;
pub mod reading;
mod settings;
mod sources;
mod summary;

#[doc(inline)]
pub use crate::base::trace;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::alerts::engine::{Alert, AlertType, Severity};
pub use crate::alerts::events::{
    AlertEvent, AlertEventKind, AlertSubscription, SUBSCRIPTION_CAPACITY,
};
pub use crate::base::error::Error;
pub use crate::base::histogram::Buckets;
pub use crate::base::names::*;
pub use crate::calls::outcome::{MonitoredError, Status};
pub use crate::fleet::grafana::grafana_dashboard;
pub use crate::fleet::rules::prometheus_rules;
pub use crate::http::layer::{HttpMetrics, HttpMetricsLayer, ResponseFuture, STATUS_CLIENT_CLOSED};
pub use crate::http::mount::{Mounted, MountedFuture, RouterExt};
pub use crate::http::server::{serve, ServerTimeouts};
pub use crate::http::store::{OVERFLOW_PATH, UNMATCHED_PATH};
pub use crate::monitor::{install, Monitor, MonitorBuilder};
pub use crate::output::openmetrics::OPENMETRICS_CONTENT_TYPE;
pub use crate::output::router::PROMETHEUS_CONTENT_TYPE;
pub use crate::settings::{Settings, UnknownVariable, VARIABLES};
pub use crate::sources::caches::CacheMonitor;
pub use crate::sources::pools::PoolStats;
pub use crate::sources::resources::ResourceSample;

#[doc(inline)]
pub use mcp_monitor_macros::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

/// The guides in `docs/` are compiled as doctests so that their examples stay true.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../docs/macros.md")]
    struct Macros;
    #[doc = include_str!("../../docs/middleware.md")]
    struct Middleware;
}
