//! A function that never returns normally (`-> !`): a panic is still recorded.

#![deny(warnings)]

use mcp_monitor::{monitor_workflow, Monitor};

#[monitor_workflow("forever")]
fn serve(stop: u32) -> ! {
    let mut n = 0;
    loop {
        n += 1;
        assert!(n < stop, "stopped after {n}");
    }
}

fn main() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| serve(3)).is_err());
    std::panic::set_hook(hook);
    let text = Monitor::builder().build().unwrap().render();
    assert!(
        text.contains("mcp_workflow_runs_total{workflow=\"forever\",status=\"failure\"} 1"),
        "{text}"
    );
}
