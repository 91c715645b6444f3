//! Service-level objectives: declared once (in `MCP_SLOS` or in code), they give the
//! burn-rate alerts of the in-process engine and of the generated Prometheus rules,
//! the error budgets on `/metrics`, the report and the page, and a Grafana row.
//!
//! - `objective`: what an objective is ([`Objective`], [`Target`], [`Indicator`]);
//!   `MCP_SLOS`'s syntax is in `settings`, its PromQL in `fleet`;
//! - `burn`: the windows and burn rates of the alerts, and the in-process tracker that
//!   keeps, in bounded memory, the counts of windows up to the whole period.
//!
//! The grammar of `MCP_SLOS` and the burn-rate table are in `docs/alerts.md`.

pub(crate) mod burn;
pub(crate) mod objective;

pub use burn::{PERIOD_SLOTS, WINDOW_SLOTS};
pub use objective::{Indicator, Objective, Target, DEFAULT_PERIOD};
