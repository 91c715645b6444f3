use mcp_monitor::monitor_db_operation;

// 65 bytes: one over the limit.
#[monitor_db_operation(
    "select",
    "a_table_name_that_goes_on_and_on_well_past_the_limit_of_64_bytes_"
)]
fn get_user(id: i64) -> Result<i64, String> {
    Ok(id)
}

fn main() {
    let _ = get_user(1);
}
