use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select", "users")]
struct User {
    id: i64,
}

fn main() {
    let _ = User { id: 1 }.id;
}
