//! The demo service of `mcp-monitor` and what its end-to-end tests share.
//!
//! This package is not published. It owns the runnable example
//! (`cargo run --release --example service`, a thin `main` around [`demo`]) and the
//! end-to-end tests in `tests/`, which serve the same [`demo::app`] on a real socket.

pub mod demo;
