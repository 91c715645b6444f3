//! The API the macros expand to. Not public: it changes with every release, which is
//! why `mcp-monitor-macros` is pinned to this crate's exact version.

pub use crate::outcome::{OutcomeOfAny, OutcomeOfClassified, OutcomeOfResult, Probe};
pub use crate::site::{
    call_in_run, call_once, CheckHiddenFuture, CheckNoFuture, DbSite, FutureProbe, Guard, InRun,
    Monitored, RunSite, StepSite,
};
