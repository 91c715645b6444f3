//! The macro path: the `static` call site each instrumentation macro emits, the guard
//! that records one call, how a call ended, the process-wide store of macro series, and
//! the call's `tracing` span, and forwarding to a `metrics` recorder that is not ours.

pub(crate) mod forward;
pub(crate) mod outcome;
pub(crate) mod registry;
pub(crate) mod site;
pub(crate) mod span;
