//! The HTTP path: the tower layer that records every request, the per-monitor store of
//! HTTP series, the per-layer route table, nested services labelled by their mount, and
//! a server with the timeouts a service facing real clients needs.

pub(crate) mod layer;
pub(crate) mod mount;
pub(crate) mod route_cache;
pub(crate) mod server;
pub(crate) mod store;
