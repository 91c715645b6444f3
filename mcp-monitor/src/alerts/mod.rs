//! The threshold alert engine, its levels, its events and its receivers.

pub(crate) mod engine;
pub(crate) mod events;
pub(crate) mod levels;
pub(crate) mod notify;
