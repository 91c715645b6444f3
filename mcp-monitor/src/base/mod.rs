//! Primitives every other part builds on: metric names, the clock, histograms,
//! number and time formats, the text exposition format, the trace context of
//! exemplars, the error type, and the start-up diagnostics.
//! Nothing here imports another folder of the crate.

pub(crate) mod clock;
pub(crate) mod diagnostic;
pub(crate) mod error;
pub(crate) mod exposition;
pub(crate) mod format;
pub(crate) mod histogram;
pub(crate) mod long_poll;
pub(crate) mod names;
pub(crate) mod native;
pub mod trace;
