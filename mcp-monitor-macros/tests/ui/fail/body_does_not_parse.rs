// A body with a syntax error: the function is kept as written, so the only error is the
// body's own (no "not a function", no "cannot find function" at the call).
use mcp_monitor::monitor_db_operation;

#[monitor_db_operation("select", "users")]
fn find_user(id: i64) -> Result<i64, String> {
    let doubled = id * ;
    Ok(doubled)
}

fn main() {
    let _ = find_user(1);
}
