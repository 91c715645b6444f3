//! The end-to-end tests: one binary, a module per feature, on real sockets, real
//! processes and real tools (Prometheus, Alertmanager, promtool, amtool, openssl,
//! headless Chromium), all through the test kit (`test-kit/`, crate
//! `mcp_monitor_test_kit`). `cargo test --test e2e <module>::` runs one feature.
//!
//! To add a feature: write `tests/e2e/<feature>.rs` (its `//!` docs say what it proves
//! and what it needs), add `mod <feature>;` below in order, and take what it shares from
//! `common` (the demo in this process, its client) or the kit (servers, tools, the
//! exposition parser). Everything here runs in one process, in parallel: a test must not
//! set environment variables, install a global recorder or `tracing` subscriber, or
//! assume the macro series (process-wide) are its own.
//!
//! A module that needs a process of its own gets a root in `tests/e2e/alone/` and a
//! `[[test]]` entry in `Cargo.toml`: `alertmanager` and `fleet`, whose alert engines and
//! Prometheus rules would see the other modules' failing calls as error-rate alerts, and
//! `otlp`, which compares what it pushes with its monitor's reading.

mod common;

mod alert_rules;
mod auth;
mod browser;
mod client_errors;
mod demo;
mod endpoints;
mod example;
mod fault;
mod grafana_dashboard;
mod grpc;
mod prometheus;
mod promtool;
mod server;
mod ui;
