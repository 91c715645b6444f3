//! Compile-time behaviour of the monitor attributes, checked with `trybuild`.
//!
//! `tests/ui/pass/*.rs` must compile (warnings denied where the file says so) and run;
//! `tests/ui/fail/*.rs` must fail with exactly the checked-in `.stderr`. After a
//! deliberate change to a message, regenerate them with
//! `TRYBUILD=overwrite cargo test -p mcp-monitor-macros --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
