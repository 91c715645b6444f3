//! Files for running many instances behind Prometheus and Grafana: a Prometheus rules
//! file with the alerts of the in-process engine, and a Grafana dashboard whose panels
//! show the same thresholds.
//!
//! Both are functions of the [`Settings`](crate::Settings), so a fleet's files can be
//! written from the same `MCP_*` environment its instances run with.
//!
//! ```
//! use mcp_monitor::{fleet, Settings};
//!
//! let settings = Settings::default();
//! assert!(fleet::prometheus_rules(&settings).contains("- alert: HIGH_ERROR_RATE"));
//! assert!(fleet::grafana_dashboard(&settings).starts_with('{'));
//! ```

// The Grafana dashboard and the Prometheus rules file.
pub(crate) mod grafana;
pub(crate) mod rules;
pub(crate) mod slo_grafana;
pub(crate) mod slo_rules;
mod text;

pub use grafana::grafana_dashboard;
pub use rules::prometheus_rules;
