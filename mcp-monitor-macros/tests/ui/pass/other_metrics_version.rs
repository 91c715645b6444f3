//! The user crate's own `metrics` is another major version than the runtime's: the
//! expansion must not go through it.

#![deny(warnings)]

extern crate metrics023 as metrics;

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, Monitor};

#[monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Result<i64, String> {
    // The user's own metrics keep working beside the monitor's.
    metrics::counter!("app_lookups_total").increment(1);
    Ok(id)
}

#[monitor_workflow_step("signup", "check")]
async fn check(id: i64) -> Result<bool, String> {
    Ok(get_user(id)? > 0)
}

#[monitor_workflow("signup")]
async fn signup(id: i64) -> Result<bool, String> {
    check(id).await
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(signup(3)), Ok(true));
    let text = Monitor::builder().build().unwrap().render();
    assert!(
        text.contains(
            "mcp_db_operations_total{operation=\"select\",table=\"users\",status=\"success\"} 1"
        ),
        "{text}"
    );
}
