//! The summary: snapshots of every series (a baseline at the last reset and a ring
//! covering the window), and the history the page draws.

pub(crate) mod history;
pub(crate) mod store;
