//! An error in the user's body is reported on the user's line, not on the attribute.

use mcp_monitor::{monitor_db_operation, monitor_workflow};

#[monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Result<i64, String> {
    let name: String = id;
    Ok(name.len() as i64)
}

#[monitor_workflow("signup")]
async fn signup(id: i64) -> Result<i64, String> {
    let name: String = id;
    Ok(name.len() as i64)
}

fn main() {
    let _ = get_user(1);
    let _ = signup(1);
}
