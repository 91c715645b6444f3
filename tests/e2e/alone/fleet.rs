//! The end-to-end module `fleet` in a process of its own: its monitors' alert engines
//! (and Prometheus' rules over their `/metrics`) read the macro series, which are
//! process-wide, and the other modules' failing database calls and workflows would
//! raise error-rate alerts in them (see `tests/e2e/main.rs`).

#[allow(dead_code, unused_imports)] // the parts of `common` this module does not use
#[path = "../common/mod.rs"]
mod common;

#[path = "../fleet.rs"]
mod fleet;
