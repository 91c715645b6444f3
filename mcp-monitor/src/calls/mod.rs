//! The macro path: the `static` call site each instrumentation macro emits, the guard
//! that records one call, how a call ended, the process-wide store of macro series, and
//! the call's `tracing` span.

pub(crate) mod outcome;
pub(crate) mod registry;
pub(crate) mod site;
pub(crate) mod span;
