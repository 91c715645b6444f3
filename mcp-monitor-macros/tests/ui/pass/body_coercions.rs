//! The body is checked against the declared return type, as without the attribute: a
//! `return` or tail expression is coerced to it and `?` converts into its error type.

#![deny(warnings)]

use std::error::Error;
use std::fmt::Display;

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

#[derive(Debug)]
struct NotFound;

impl Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not found")
    }
}

impl Error for NotFound {}

#[monitor_db_operation("select", "boxed")]
fn boxed(id: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    if id.is_empty() {
        return Err(Box::new(NotFound));
    }
    let n: u32 = id.parse()?;
    Ok(n)
}

#[monitor_db_operation("select", "boxed_async")]
async fn boxed_async(id: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    if id.is_empty() {
        return Err(Box::new(NotFound));
    }
    let n: u32 = id.parse()?;
    Ok(n)
}

#[monitor_workflow_step("coerce", "display")]
fn display(n: u32) -> Box<dyn Display> {
    if n == 0 {
        return Box::new("zero");
    }
    Box::new(n)
}

#[monitor_workflow_step("coerce", "display_async")]
async fn display_async(n: u32) -> Box<dyn Display + Send> {
    if n == 0 {
        return Box::new("zero");
    }
    Box::new(n)
}

#[monitor_workflow("coerce")]
fn slice(v: &mut Vec<u8>) -> &[u8] {
    v.push(1);
    v
}

#[monitor_workflow("coerce_async")]
async fn tail_only(n: u8) -> u8 {
    n
}

#[monitor_db_operation("unit", "explicit")]
async fn unit_explicit() -> () {}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(boxed("3").unwrap(), 3);
    assert_eq!(boxed("").unwrap_err().to_string(), "not found");
    assert!(boxed("x").is_err());
    assert_eq!(rt.block_on(boxed_async("4")).unwrap(), 4);
    assert!(rt.block_on(boxed_async("")).is_err());
    assert_eq!(display(0).to_string(), "zero");
    assert_eq!(rt.block_on(display_async(5)).to_string(), "5");
    assert_eq!(slice(&mut Vec::new()), &[1]);
    assert_eq!(rt.block_on(tail_only(2)), 2);
    rt.block_on(unit_explicit());
}
