//! What the monitor serves: the Prometheus text and OpenMetrics expositions, the JSON
//! documents, the page, CPU profiles, and the router with its bearer-token checks.

pub(crate) mod auth;
pub(crate) mod compress;
pub(crate) mod json;
pub(crate) mod negotiate;
pub(crate) mod profile;
pub(crate) mod prometheus;
pub(crate) mod protobuf;
pub(crate) mod router;
pub(crate) mod ui;
