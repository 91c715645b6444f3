//! The API the macros expand to. Not public: it changes with every release, which is
//! why `mcp-monitor-macros` is pinned to this crate's exact version.

/// The span of a monitored call: `call_span!(db "op" "table")`, `call_span!(step
/// "workflow" "step")`, `call_span!(run "workflow")`. A `tracing::span!` with the
/// `tracing` feature, a zero-sized [`CallSpan`] without it.
pub use crate::__mcp_monitor_call_span as call_span;
/// For the recording benchmark only.
pub use crate::base::histogram::{BenchClassicHistogram, BenchHistogram};
pub use crate::calls::outcome::{OutcomeOfAny, OutcomeOfClassified, OutcomeOfResult, Probe};
pub use crate::calls::site::{
    CheckHiddenFuture, CheckNoFuture, DbSite, FutureProbe, Guard, InRun, Monitored, RunSite,
    StepSite, Watched,
};
pub use crate::calls::span::CallSpan;
#[cfg(feature = "tracing")]
pub use crate::calls::span::InSpan;
#[cfg(feature = "tracing")]
pub use tracing;
