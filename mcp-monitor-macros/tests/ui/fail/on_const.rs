use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select", "users")]
const LIMIT: usize = 10;

fn main() {
    let _ = LIMIT;
}
