//! Threshold alerts: what an alert is, and the events a subscriber receives.
//!
//! The monitor evaluates its rules in the background (every
//! `MCP_ALERT_EVALUATION_INTERVAL`); [`Monitor::active_alerts`](crate::Monitor::active_alerts)
//! and [`Monitor::alert_history`](crate::Monitor::alert_history) return [`Alert`]s, and
//! [`Monitor::subscribe_alerts`](crate::Monitor::subscribe_alerts) an
//! [`AlertSubscription`] that yields an [`AlertEvent`] whenever an alert fires,
//! escalates, de-escalates or resolves.
//!
//! ```
//! use mcp_monitor::alerts::{AlertType, Severity};
//!
//! assert_eq!(AlertType::HighCpuUsage.as_str(), "HIGH_CPU_USAGE");
//! assert!(AlertType::LowCacheHitRatio.fires_below());
//! assert_eq!(Severity::Critical.as_str(), "critical");
//! ```

// The engine (rules and states), the warning and critical levels, the events handed
// to subscribers, and the Alertmanager receiver.
pub(crate) mod engine;
pub(crate) mod events;
pub(crate) mod levels;
pub(crate) mod notify;

pub use engine::Alert;
pub use events::{AlertEvent, AlertEventKind, AlertSubscription, SUBSCRIPTION_CAPACITY};
pub use levels::{AlertType, Severity};
