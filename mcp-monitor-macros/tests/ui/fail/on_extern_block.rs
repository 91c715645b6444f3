use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select", "users")]
extern "C" {
    fn abs(x: i32) -> i32;
}

fn main() {
    let _ = unsafe { abs(-1) };
}
