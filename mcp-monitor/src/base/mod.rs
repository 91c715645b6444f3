//! Primitives every other part builds on: metric names, the clock, histograms,
//! number and time formats, the text exposition format, the trace context of
//! exemplars, the in-flight gauges, the error type, the start-up diagnostics, and the retries of a push.
//! Nothing here imports another folder of the crate.

pub(crate) mod clock;
pub(crate) mod diagnostic;
pub(crate) mod error;
pub(crate) mod exposition;
pub(crate) mod format;
pub(crate) mod gauge;
pub(crate) mod histogram;
pub(crate) mod long_poll;
pub(crate) mod names;
pub(crate) mod native;
#[cfg(any(feature = "alertmanager", feature = "otlp"))]
pub(crate) mod retry;
pub mod trace;
