//! With the runtime's `tracing` feature the expansion carries a real span (so the pass
//! cases beside this one were compiled with spans), and a user crate that never names
//! `tracing` still gets its spans: the runtime's `macro_rules!` macro reaches `tracing`
//! through `::mcp_monitor::__private`.

#![deny(warnings)]

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

#[monitor_db_operation("select", "users")]
fn select(id: u32) -> Result<u32, String> {
    Ok(id)
}

#[monitor_workflow_step("flow", "step")]
async fn step() -> Result<(), String> {
    Ok(())
}

#[monitor_workflow("flow")]
fn run() -> impl std::future::Future<Output = Result<(), String>> {
    step()
}

fn main() {
    assert!(
        std::mem::size_of::<mcp_monitor::__private::CallSpan>() > 0,
        "the `tracing` feature is on, so a call's span is a `tracing::Span`"
    );
    assert_eq!(select(3), Ok(3));
    drop(run());
}
