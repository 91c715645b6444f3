#![doc = include_str!("../../README.md")]

pub mod alerts;
mod base;
mod calls;
mod facade;
pub mod fleet;
pub mod http;
mod monitor;
mod output;
pub mod settings;
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
    pub use crate::output::openmetrics::OPENMETRICS_CONTENT_TYPE;
    pub use crate::output::router::PROMETHEUS_CONTENT_TYPE;
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::base::error::Error;
pub use crate::base::histogram::{Buckets, BucketsError};
pub use crate::calls::outcome::{MonitoredError, Status};
#[doc(inline)]
pub use crate::http::{serve, HttpMetricsLayer, RouterExt, ServerTimeouts};
pub use crate::monitor::{install, Monitor, MonitorBuilder};
#[doc(inline)]
pub use crate::settings::Settings;
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
