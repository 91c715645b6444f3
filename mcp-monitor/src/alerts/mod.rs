//! The threshold alert engine, its events and its receivers.

pub(crate) mod engine;
pub(crate) mod events;
pub(crate) mod notify;
