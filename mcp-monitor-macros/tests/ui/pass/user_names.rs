//! The user's body and parameters use the names the expansion uses internally
//! (`guard`, `out`, `failed`, `SITE`, `Probe`): they must not clash or be captured.

#![deny(warnings)]

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

const SITE: &str = "module-level";

struct Probe(u32);

#[monitor_db_operation("select", "users")]
fn params(guard: u32, out: u32, failed: bool) -> Result<u32, u32> {
    if failed {
        Err(guard)
    } else {
        Ok(guard + out)
    }
}

#[monitor_db_operation("select", "locals")]
fn locals() -> (u32, u32, bool, &'static str) {
    let guard = 1;
    let out = 2;
    let failed = true;
    (guard, out, failed, SITE)
}

#[monitor_workflow_step("names", "statics")]
fn statics() -> u32 {
    static SITE: u32 = 7;
    let probe = Probe(SITE);
    probe.0
}

#[monitor_workflow("names")]
async fn run(guard: String) -> Result<String, String> {
    let out = format!("{guard}!");
    let failed = out.is_empty();
    if failed {
        Err(out)
    } else {
        Ok(out)
    }
}

fn main() {
    assert_eq!(params(1, 2, false), Ok(3));
    assert_eq!(params(1, 2, true), Err(1));
    assert_eq!(locals(), (1, 2, true, "module-level"));
    assert_eq!(statics(), 7);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(run("go".into())), Ok("go!".to_string()));
}
