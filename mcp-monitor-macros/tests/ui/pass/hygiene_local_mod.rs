//! The user crate has its own `mcp_monitor` module (and other look-alike names) beside
//! the real crate: the expansion must reach the runtime through `::mcp_monitor` only.

#![deny(warnings)]

use ::mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

#[allow(dead_code)]
mod mcp_monitor {
    pub mod __private {
        pub struct DbSite;
        pub fn call_once() {}
    }
}

#[allow(dead_code)]
mod __private {}

// Names the expansion uses, shadowed in the user's scope.
#[allow(dead_code)]
struct Probe;
#[allow(dead_code)]
trait OutcomeOfAny {}
#[allow(dead_code)]
fn call_once() {}
#[allow(dead_code)]
type Result<T> = std::result::Result<T, String>;
#[allow(dead_code)]
type Option = ();
#[allow(dead_code)]
mod std_shadow {}

#[monitor_db_operation("select", "users")]
fn get_user(id: i64) -> Result<i64> {
    if id < 0 {
        return Err("negative".into());
    }
    Ok(id)
}

#[monitor_workflow_step("signup", "check")]
fn check(id: i64) -> bool {
    id > 0
}

#[monitor_workflow("signup")]
fn signup(id: i64) -> Result<bool> {
    Ok(check(get_user(id)?))
}

fn main() {
    assert_eq!(get_user(1), Ok(1));
    assert!(get_user(-1).is_err());
    assert_eq!(signup(2), Ok(true));
}
