//! The attributes written with a full path, without importing them.

#![deny(warnings)]

#[mcp_monitor::monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Result<i64, String> {
    Ok(id)
}

#[::mcp_monitor::monitor_workflow_step("signup", "check")]
fn check(id: i64) -> bool {
    id > 0
}

#[mcp_monitor::monitor_workflow("signup")]
fn signup(id: i64) -> Result<bool, String> {
    Ok(check(get_user(id)?))
}

fn main() {
    assert_eq!(signup(1), Ok(true));
}
