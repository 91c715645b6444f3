//! The runtime's integration tests that can share a process: a module per concern, one
//! binary (each test binary links the whole crate).
//!
//! The other files of `tests/` are binaries of their own because they need a process
//! to themselves: a global `metrics` recorder (`foreign_recorder`, `install`,
//! `openmetrics`), a global `tracing` subscriber (`hidden_future`, `otel_exemplars`,
//! `router_shapes`, `spans`), `tracing`'s per-callsite interest (`alert_logging`), the
//! alert engine over the process-wide macro series, which another module's failing calls
//! would move (`alerts`, `alerts_database`, `background_tasks`), or a feature and
//! trybuild (`ui_tracing`). To add a module here: `tests/integration/<name>.rs`, `mod
//! <name>;` below, and macro sites with names of its own (the macro series are
//! process-wide).

#[path = "../common/mod.rs"]
mod common;

mod future_shapes;
mod http_layer;
mod macros;
mod reading;
