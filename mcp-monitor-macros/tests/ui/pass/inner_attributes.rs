//! Inner attributes at the top of a monitored body (`#![allow(..)]`) stay inside the
//! function, in every shape, and still apply to the whole body.

#![deny(warnings)]

use std::future::Future;

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, Monitor};

#[monitor_db_operation("select", "inner_attrs")]
fn plain() -> Result<u32, String> {
    #![allow(unused_variables)]
    let unused = 1;
    Ok(2)
}

#[monitor_workflow_step("inner_attrs", "async")]
async fn in_async() -> Result<u32, String> {
    #![allow(unused_variables)]
    let unused = 1;
    Ok(2)
}

#[monitor_workflow("inner_attrs")]
fn returns_future() -> impl Future<Output = Result<u32, String>> {
    #![allow(unused_variables)]
    let unused = 1;
    async { Ok(2) }
}

/// Documented, with an inner doc comment too.
#[monitor_db_operation("select", "inner_doc")]
fn documented() -> u32 {
    //! More docs, from inside.
    3
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(plain(), Ok(2));
    assert_eq!(rt.block_on(in_async()), Ok(2));
    assert_eq!(rt.block_on(returns_future()), Ok(2));
    assert_eq!(documented(), 3);
    let text = Monitor::builder().build().unwrap().render();
    assert!(
        text.contains(r#"mcp_db_operations_total{operation="select",table="inner_attrs",status="success"} 1"#),
        "{text}"
    );
}
