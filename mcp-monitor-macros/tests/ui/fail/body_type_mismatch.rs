use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Result<i64, String> {
    let name: String = id;
    Ok(name.len() as i64)
}

#[monitor_db_operation("select", "users_async")]
async fn get_user_async(id: i64) -> Result<i64, String> {
    let name: String = id;
    Ok(name.len() as i64)
}

#[monitor_db_operation("count", "users")]
fn count_users() -> u64 {
    "many"
}

fn main() {
    let _ = get_user(1);
    let _ = get_user_async(1);
    let _ = count_users();
}
