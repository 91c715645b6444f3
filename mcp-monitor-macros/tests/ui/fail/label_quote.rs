use mcp_monitor::monitor_workflow_step;

#[monitor_workflow_step("data_processing", "say_\"hi\"")]
fn validate(n: u32) -> Result<u32, String> {
    Ok(n)
}

fn main() {
    let _ = validate(1);
}
