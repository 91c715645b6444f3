use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select")]
fn get_user(id: i64) -> Result<i64, String> {
    Ok(id)
}

fn main() {
    let _ = get_user(1);
}
