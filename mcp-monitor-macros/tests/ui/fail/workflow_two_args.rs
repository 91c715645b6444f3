use mcp_monitor::monitor_workflow;

#[monitor_workflow("data_processing", "validation")]
fn process(n: u32) -> Result<u32, String> {
    Ok(n)
}

fn main() {
    let _ = process(1);
}
