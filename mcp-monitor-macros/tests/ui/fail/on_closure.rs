use mcp_monitor::monitor_db_operation;

fn main() {
    let get_user = #[monitor_db_operation("select", "users")]
    |id: i64| -> Result<i64, String> { Ok(id) };
    let _ = get_user(1);
}
