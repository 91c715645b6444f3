#![doc = include_str!("../../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod exporter;
mod forward;
mod histogram;
mod monitor;
mod names;
mod outcome;
mod registry;
mod render;
mod site;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::error::Error;
pub use crate::histogram::Buckets;
pub use crate::monitor::{Monitor, MonitorBuilder};
pub use crate::names::*;
pub use crate::outcome::Status;

#[doc(inline)]
pub use mcp_monitor_macros::{monitor_db_operation, monitor_workflow, monitor_workflow_step};
