//! A returned value of the wrong type is reported on the user's expression, against the
//! user's declared return type, as it would be without the attribute.

use mcp_monitor::{monitor_db_operation, monitor_workflow_step};

#[monitor_db_operation("count", "users")]
fn count_users() -> u64 {
    "many"
}

#[monitor_db_operation("count", "users_async")]
async fn count_users_async(fast: bool) -> u64 {
    if fast {
        return "some";
    }
    7
}

#[monitor_workflow_step("signup", "check")]
fn check(id: i64) -> Result<bool, String> {
    if id < 0 {
        return Err(42);
    }
    Ok(true)
}

fn main() {
    let _ = count_users();
    let _ = count_users_async(true);
    let _ = check(1);
}

#[monitor_db_operation("select", "name")]
async fn name_async() -> String {
    42
}

fn _use() {
    let _ = name_async();
}
