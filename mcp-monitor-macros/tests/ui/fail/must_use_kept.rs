#![deny(unused_must_use)]

use mcp_monitor::monitor_db_operation;

/// The attribute keeps `#[must_use]`: ignoring the result is still reported.
#[must_use = "the user may not exist"]
#[monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Option<i64> {
    Some(id)
}

fn main() {
    get_user(1);
}
