//! What the monitor serves: the Prometheus text and OpenMetrics expositions, the JSON
//! documents, the page, the content negotiation (format and compression), and the
//! router with its bearer-token checks.

pub(crate) mod auth;
pub(crate) mod compress;
pub(crate) mod json;
pub(crate) mod negotiate;
pub(crate) mod prometheus;
pub(crate) mod router;
pub(crate) mod ui;
