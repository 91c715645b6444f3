use mcp_monitor::{monitor_db_operation, monitor_workflow_step};

#[monitor_db_operation("select", "users")]
#[monitor_workflow_step("signup", "load_user")]
fn get_user(id: i64) -> Result<i64, String> {
    Ok(id)
}

fn main() {
    let _ = get_user(1);
}
