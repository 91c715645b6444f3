//! The end-to-end module `otlp` in a process of its own: it compares every pushed family
//! with the monitor's own reading, and the macro series in it are process-wide (the other
//! modules' calls would land between the reading and the export; see `tests/e2e/main.rs`).

#[allow(dead_code, unused_imports)] // the parts of `common` this module does not use
#[path = "../common/mod.rs"]
mod common;

#[path = "../otlp.rs"]
mod otlp;
