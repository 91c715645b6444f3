//! The instrumentation macros on every kind of target, with every outcome.

use std::fmt::Display;
use std::sync::Arc;

use crate::common::{active, db, step, text, value};
use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

#[derive(Debug)]
struct DbError;
type DbResult<T> = Result<T, DbError>;

#[monitor_db_operation("select", "alias")]
async fn through_alias(fail: bool) -> DbResult<u32> {
    if fail {
        return Err(DbError);
    }
    Ok(1)
}

#[monitor_db_operation("select", "io")]
fn through_io(fail: bool) -> std::io::Result<()> {
    if fail {
        Err(std::io::Error::other("boom"))?;
    }
    Ok(())
}

#[monitor_db_operation("select", "anyhow")]
async fn through_anyhow(fail: bool) -> anyhow::Result<u8> {
    let n: u8 = if fail { "x".parse()? } else { "7".parse()? };
    Ok(n)
}

#[monitor_db_operation("select", "option")]
fn not_a_result() -> Option<u8> {
    None
}

#[tokio::test]
async fn err_is_failure_through_any_alias() {
    through_alias(false).await.unwrap();
    through_alias(true).await.unwrap_err();
    through_io(false).unwrap();
    through_io(true).unwrap_err();
    through_anyhow(false).await.unwrap();
    through_anyhow(true).await.unwrap_err();
    assert_eq!(not_a_result(), None);
    for table in ["alias", "io", "anyhow"] {
        assert_eq!(db("select", table, "success"), 1.0, "{table}");
        assert_eq!(db("select", table, "failure"), 1.0, "{table}");
        assert_eq!(db("select", table, "cancelled"), 0.0, "{table}");
    }
    assert_eq!(db("select", "option", "success"), 1.0);
    let t = text();
    assert!(t.contains(
        "mcp_db_operation_duration_seconds_count{operation=\"select\",table=\"alias\"} 2"
    ));
}

struct Users {
    names: Vec<String>,
}

impl Users {
    #[monitor_db_operation("select", "users_ref")]
    fn first(&self) -> Option<&str> {
        self.names.first().map(String::as_str)
    }

    #[monitor_db_operation("update", "users_mut")]
    fn first_mut(&mut self) -> &mut String {
        &mut self.names[0]
    }

    #[monitor_db_operation("delete", "users_owned")]
    fn into_names(self) -> Vec<String> {
        self.names
    }

    #[monitor_db_operation("select", "users_async")]
    async fn find(&self, name: &str) -> Result<&String, DbError> {
        self.names.iter().find(|n| *n == name).ok_or(DbError)
    }

    #[monitor_db_operation("update", "users_async_mut")]
    async fn push(&mut self, name: impl Into<String>) -> &mut Vec<String> {
        self.names.push(name.into());
        &mut self.names
    }
}

trait Repository {
    fn count(&self) -> usize;
    async fn load(&self, id: u64) -> Result<u64, DbError>;
}

impl Repository for Users {
    #[monitor_db_operation("count", "users_trait")]
    fn count(&self) -> usize {
        self.names.len()
    }

    #[monitor_db_operation("select", "users_trait_async")]
    async fn load(&self, id: u64) -> Result<u64, DbError> {
        if id == 0 {
            Err(DbError)
        } else {
            Ok(id)
        }
    }
}

#[monitor_db_operation("select", "generic")]
fn generic<T, const N: usize>(items: &[T; N]) -> Vec<T>
where
    T: Clone + std::fmt::Debug,
{
    items.to_vec()
}

#[monitor_db_operation("select", "impl_iter")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitor_db_operation("select", "impl_async")]
async fn shown(n: u32) -> impl Display {
    n * 2
}

#[tokio::test]
async fn methods_generics_and_impl_trait() {
    let mut users = Users {
        names: vec!["ada".into(), "bob".into()],
    };
    assert_eq!(users.first(), Some("ada"));
    users.first_mut().push('!');
    assert_eq!(users.find("bob").await.unwrap(), "bob");
    assert!(users.find("eve").await.is_err());
    users.push("eve").await.push("zed".into());
    assert_eq!(users.count(), 4);
    assert_eq!(users.load(3).await.unwrap(), 3);
    assert!(users.load(0).await.is_err());
    assert_eq!(generic(&[1, 2, 3]), vec![1, 2, 3]);
    assert_eq!(evens(5).collect::<Vec<_>>(), vec![0, 2, 4]);
    assert_eq!(shown(4).await.to_string(), "8");
    let names = users.into_names();
    assert_eq!(names[0], "ada!");

    assert_eq!(db("select", "users_ref", "success"), 1.0);
    assert_eq!(db("update", "users_mut", "success"), 1.0);
    assert_eq!(db("delete", "users_owned", "success"), 1.0);
    assert_eq!(db("select", "users_async", "success"), 1.0);
    assert_eq!(db("select", "users_async", "failure"), 1.0);
    assert_eq!(db("update", "users_async_mut", "success"), 1.0);
    assert_eq!(db("count", "users_trait", "success"), 1.0);
    assert_eq!(db("select", "users_trait_async", "success"), 1.0);
    assert_eq!(db("select", "users_trait_async", "failure"), 1.0);
    assert_eq!(db("select", "generic", "success"), 1.0);
    assert_eq!(db("select", "impl_iter", "success"), 1.0);
    assert_eq!(db("select", "impl_async", "success"), 1.0);
}

#[monitor_workflow_step("panicky", "explode")]
fn explode(n: u32) -> u32 {
    if n > 0 {
        panic!("explode {n}");
    }
    n
}

#[monitor_workflow_step("panicky", "explode_async")]
async fn explode_async() -> Result<(), DbError> {
    tokio::task::yield_now().await;
    panic!("async explode");
}

#[tokio::test]
async fn panic_is_failure_and_continues_unchanged() {
    let before = active("panicky");
    let payload = std::panic::catch_unwind(|| explode(3)).unwrap_err();
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "explode 3");
    assert_eq!(explode(0), 0);
    assert_eq!(step("panicky", "explode", "failure"), 1.0);
    assert_eq!(step("panicky", "explode", "success"), 1.0);

    let err = tokio::spawn(explode_async()).await.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        *err.into_panic().downcast_ref::<&str>().unwrap(),
        "async explode"
    );
    assert_eq!(step("panicky", "explode_async", "failure"), 1.0);
    assert_eq!(active("panicky"), before);
}

#[monitor_workflow_step("slow", "wait")]
async fn wait_forever() -> Result<(), DbError> {
    std::future::pending::<()>().await;
    Ok(())
}

#[tokio::test]
async fn dropped_future_is_cancelled_and_gauge_comes_down() {
    let mut fut = Box::pin(wait_forever());
    // Poll once so the call starts, then observe the gauge while it is in progress.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(std::future::Future::poll(fut.as_mut(), &mut cx).is_pending());
    assert_eq!(active("slow"), 1.0);
    drop(fut);
    assert_eq!(active("slow"), 0.0);
    assert_eq!(step("slow", "wait", "cancelled"), 1.0);

    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(5), wait_forever()).await;
    assert!(timed_out.is_err());
    assert_eq!(step("slow", "wait", "cancelled"), 2.0);
    assert_eq!(active("slow"), 0.0);

    // A future never polled never started: nothing is recorded.
    drop(wait_forever());
    assert_eq!(step("slow", "wait", "cancelled"), 2.0);
}

#[monitor_workflow_step("etl", "extract")]
async fn extract(observe: bool) -> Result<f64, DbError> {
    tokio::task::yield_now().await;
    Ok(if observe { active("etl") } else { 0.0 })
}

#[monitor_workflow_step("etl", "load")]
fn load_sync() -> f64 {
    active("etl")
}

#[monitor_workflow("etl")]
async fn etl_run() -> Result<(f64, f64, f64), DbError> {
    let inside = active("etl");
    let in_step = extract(true).await?;
    let in_sync_step = load_sync();
    Ok((inside, in_step, in_sync_step))
}

#[monitor_workflow("etl_sync")]
fn etl_sync_run() -> (f64, f64) {
    (active("etl_sync"), sync_step())
}

#[monitor_workflow_step("etl_sync", "only")]
fn sync_step() -> f64 {
    active("etl_sync")
}

#[tokio::test]
async fn a_step_inside_a_run_does_not_count_the_workflow_twice() {
    assert_eq!(etl_run().await.unwrap(), (1.0, 1.0, 1.0));
    assert_eq!(active("etl"), 0.0);
    // Standalone, a step is one execution of its workflow in progress.
    assert_eq!(extract(true).await.unwrap(), 1.0);
    assert_eq!(active("etl"), 0.0);
    assert_eq!(etl_sync_run(), (1.0, 1.0));
    assert_eq!(sync_step(), 1.0);
    let t = text();
    assert_eq!(
        value(
            &t,
            "mcp_workflow_runs_total{workflow=\"etl\",status=\"success\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &t,
            "mcp_workflow_run_duration_seconds_count{workflow=\"etl\"}"
        ),
        Some(1.0)
    );
}

#[monitor_db_operation("insert", "concurrent_a")]
async fn concurrent_a(i: u64) -> Result<u64, DbError> {
    if i % 7 == 0 {
        Err(DbError)
    } else {
        Ok(i)
    }
}

#[monitor_db_operation("insert", "concurrent_b")]
fn concurrent_b(i: u64) -> u64 {
    i
}

#[test]
fn counts_are_exact_under_concurrency() {
    const TASKS: u64 = 16;
    const CALLS: u64 = 5_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let done = done.clone();
            handles.push(tokio::spawn(async move {
                for i in 0..CALLS {
                    let _ = concurrent_a(i).await;
                    concurrent_b(i);
                    if i % 512 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    let failures_per_task = (0..CALLS).filter(|i| i % 7 == 0).count() as u64;
    assert_eq!(
        db("insert", "concurrent_a", "failure"),
        (TASKS * failures_per_task) as f64
    );
    assert_eq!(
        db("insert", "concurrent_a", "success"),
        (TASKS * (CALLS - failures_per_task)) as f64
    );
    assert_eq!(
        db("insert", "concurrent_b", "success"),
        (TASKS * CALLS) as f64
    );
    let t = text();
    assert_eq!(
        value(
            &t,
            "mcp_db_operation_duration_seconds_count{operation=\"insert\",table=\"concurrent_b\"}"
        ),
        Some((TASKS * CALLS) as f64)
    );
}
