//! The macros' compile-pass cases again, with this crate's `tracing` feature on: the
//! expansion is then a `tracing::span!` per function, and must still reach the runtime
//! through `::mcp_monitor` only (the user's crate has no `tracing` of its own to lean
//! on), keep every shape compiling, and trigger no lint in user code. The cases live in
//! `mcp-monitor-macros/tests/ui/pass/`; `other_metrics_version.rs` is left out because
//! it needs a second `metrics` that only the macro crate's dev-dependencies have.
//!
//! Built only with the feature (`required-features`): `cargo test -p mcp-monitor
//! --features tracing --test ui_tracing`, or `cargo test --workspace --all-features`.

#[test]
fn pass_cases_compile_with_spans() {
    let t = trybuild::TestCases::new();
    for case in [
        "body_coercions",
        "full_path",
        "future_shapes",
        "hygiene_local_mod",
        "lints_every_target",
        "never_returns",
        "user_names",
    ] {
        t.pass(format!("../mcp-monitor-macros/tests/ui/pass/{case}.rs"));
    }
    t.pass("tests/ui_tracing/span_without_tracing_dep.rs");
}
