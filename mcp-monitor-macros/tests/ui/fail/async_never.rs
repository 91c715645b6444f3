use mcp_monitor::monitor_workflow;

#[monitor_workflow("server")]
async fn serve() -> ! {
    loop {
        std::thread::yield_now();
    }
}

fn main() {
    let _ = serve();
}
