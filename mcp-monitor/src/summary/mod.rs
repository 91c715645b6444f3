//! The summary: snapshots of every series (a baseline at the last reset and a ring of
//! compact frames covering the window), and the history the page draws.

pub(crate) mod history;
pub(crate) mod snapshot;
pub(crate) mod store;
