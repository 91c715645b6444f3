#![doc = include_str!("../../README.md")]

mod alert_events;
mod alerts;
mod caches;
mod clock;
mod endpoints;
mod error;
mod exporter;
mod format;
mod forward;
mod grafana;
mod histogram;
mod history;
mod http_store;
mod json;
mod middleware;
mod monitor;
mod mount;
mod names;
mod notify;
mod openmetrics;
mod outcome;
mod pools;
mod registry;
mod render;
mod resources;
mod route_cache;
mod rules;
mod secret;
mod server;
mod settings;
mod site;
mod span;
mod summary;
pub mod trace;
mod ui;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::alert_events::{
    AlertEvent, AlertEventKind, AlertSubscription, SUBSCRIPTION_CAPACITY,
};
pub use crate::alerts::{Alert, AlertType, Severity};
pub use crate::caches::CacheMonitor;
pub use crate::endpoints::PROMETHEUS_CONTENT_TYPE;
pub use crate::error::Error;
pub use crate::grafana::grafana_dashboard;
pub use crate::histogram::Buckets;
pub use crate::http_store::{OVERFLOW_PATH, UNMATCHED_PATH};
pub use crate::json::Stats;
pub use crate::middleware::{HttpMetrics, HttpMetricsLayer, ResponseFuture, STATUS_CLIENT_CLOSED};
pub use crate::monitor::{install, Monitor, MonitorBuilder};
pub use crate::mount::{Mounted, MountedFuture, RouterExt};
pub use crate::names::*;
pub use crate::openmetrics::OPENMETRICS_CONTENT_TYPE;
pub use crate::outcome::{MonitoredError, Status};
pub use crate::pools::PoolStats;
pub use crate::resources::ResourceSample;
pub use crate::rules::prometheus_rules;
pub use crate::server::{bind, serve, ServerTimeouts};
pub use crate::settings::{Settings, UnknownVariable, VARIABLES};

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
