//! Every future-returning shape the macros measure compiles without a warning, keeps
//! its signature (lifetimes, `Send`, `Unpin`) and runs.

#![deny(warnings)]
#![deny(unused, rust_2018_idioms, missing_docs, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use futures_util::future::{BoxFuture, LocalBoxFuture};
use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, MonitoredError};

/// An error.
#[derive(Debug)]
pub struct DbError;

impl MonitoredError for DbError {
    fn is_failure(&self) -> bool {
        true
    }
}

/// A result.
pub type DbResult<T> = Result<T, DbError>;

/// `impl Future + Send + 'a`, borrowing an argument.
#[monitor_db_operation("select", "impl_future")]
pub fn impl_future<'a>(name: &'a str) -> impl Future<Output = DbResult<&'a str>> + Send + 'a {
    async move { Ok(name) }
}

/// `impl Future` with an output that is itself `impl Trait`.
#[monitor_db_operation("select", "impl_output")]
pub fn impl_output() -> impl Future<Output = impl std::fmt::Display> {
    async { 7 }
}

/// `impl Future + Unpin`.
#[monitor_db_operation("select", "unpin")]
pub fn unpin() -> impl Future<Output = DbResult<()>> + Unpin {
    std::future::ready(Ok(()))
}

/// `Pin<Box<dyn Future + Send + 'a>>`, fully qualified, with a body that is not a bare
/// `Box::pin(..)`.
#[monitor_workflow_step("wf", "pin_box")]
pub fn pin_box<'a>(
    x: &'a u32,
) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = DbResult<u32>> + Send + 'a>> {
    let fut = async move { Ok(*x) };
    Box::pin(fut)
}

/// `BoxFuture`.
#[monitor_workflow("wf")]
pub fn box_future(x: u32) -> BoxFuture<'static, DbResult<u32>> {
    Box::pin(async move { pin_box(&x).await })
}

/// `LocalBoxFuture`: not `Send`.
#[monitor_db_operation("select", "local")]
pub fn local_box_future() -> LocalBoxFuture<'static, Result<u32, String>> {
    let rc = std::rc::Rc::new(3);
    Box::pin(async move { Ok(*rc) })
}

/// A generic function returning `impl Future`.
#[monitor_db_operation("select", "generic_future")]
pub fn generic_future<T: Send + 'static>(t: T) -> impl Future<Output = Result<T, DbError>> + Send {
    async move { Ok(t) }
}

/// A user's alias hides the future: compiles, and warns at run time.
pub type Hidden = Pin<Box<dyn Future<Output = DbResult<()>> + Send>>;

/// Returns [`Hidden`].
#[monitor_db_operation("select", "hidden")]
pub fn hidden() -> Hidden {
    Box::pin(async { Ok(()) })
}

/// A repository.
#[async_trait]
pub trait Repo {
    /// Gets.
    async fn get(&self, id: u32) -> DbResult<u32>;

    /// Provided, measured in the trait.
    #[monitor_db_operation("select", "provided")]
    async fn provided(&self, id: u32) -> DbResult<u32> {
        self.get(id).await
    }
}

/// An implementation.
#[derive(Debug)]
pub struct Sql;

#[async_trait]
impl Repo for Sql {
    #[monitor_db_operation("select", "async_trait")]
    async fn get(&self, id: u32) -> DbResult<u32> {
        if id == 0 {
            return Err(DbError);
        }
        Ok(id)
    }
}

/// A `?Send` repository.
#[async_trait(?Send)]
pub trait LocalRepo {
    /// Gets.
    async fn get_local(&mut self, id: u32) -> DbResult<u32>;
}

#[async_trait(?Send)]
impl LocalRepo for Sql {
    #[monitor_db_operation("select", "async_trait_local")]
    async fn get_local(&mut self, id: u32) -> DbResult<u32> {
        let rc = std::rc::Rc::new(id);
        Ok(*rc)
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn assert_unpin<T: Unpin>(t: T) -> T {
    t
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        assert_eq!(assert_send(impl_future("ada")).await.unwrap(), "ada");
        assert_eq!(impl_output().await.to_string(), "7");
        assert_unpin(unpin()).await.unwrap();
        assert_eq!(assert_send(box_future(4)).await.unwrap(), 4);
        assert_eq!(local_box_future().await.unwrap(), 3);
        assert_eq!(generic_future("x").await.unwrap(), "x");
        hidden().await.unwrap();
        let mut repo = Sql;
        assert_eq!(assert_send(repo.get(2)).await.unwrap(), 2);
        repo.provided(0).await.unwrap_err();
        assert_eq!(repo.get_local(5).await.unwrap(), 5);
    });
}
