//! The application's own metrics: our `metrics` recorder and what it keeps.
//!
//! The `mcp_` series recorded by the macros do not go through the `metrics` facade at
//! all: they live in call-site atomics ([`crate::calls::registry`]). This recorder is
//! for everything else the application records with `metrics::counter!` and friends:
//! a [`store::FacadeStore`] of atomics behind a cardinality firewall, read into every
//! [`Reading`](crate::Reading) like the rest.

pub(crate) mod recorder;
pub(crate) mod store;

pub(crate) use recorder::{set_global, MonitorRecorder};
pub(crate) use store::FacadeStore;
