//! Functions that return a future instead of being `async fn`: `async-trait` methods,
//! `impl Future`, `Pin<Box<dyn Future>>` and the `BoxFuture`/`LocalBoxFuture` aliases.
//! Each is measured from the call to the future's completion, with the outcome of the
//! future's output; a future dropped before it completes is `cancelled`, and the active
//! gauge stays raised until then. Also: error types that say which errors are failures.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::common::{active, db, step, text, value};
use async_trait::async_trait;
use futures_util::future::{BoxFuture, LocalBoxFuture};
use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, MonitoredError};

const NAP: Duration = Duration::from_millis(30);

fn db_seconds(op: &str, table: &str) -> f64 {
    value(
        &text(),
        &format!("mcp_db_operation_duration_seconds_sum{{operation=\"{op}\",table=\"{table}\"}}"),
    )
    .unwrap_or(0.0)
}

fn run(wf: &str, status: &str) -> f64 {
    value(
        &text(),
        &format!("mcp_workflow_runs_total{{workflow=\"{wf}\",status=\"{status}\"}}"),
    )
    .unwrap_or(0.0)
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[derive(Debug)]
struct DbError;
type DbResult<T> = Result<T, DbError>;

/// Checks one shape through its `op`/`table` labels: a success and a failure, each
/// taking at least [`NAP`] (so the duration covers the future, not its making), then a
/// future dropped while pending (`cancelled`).
async fn check_db_shape<F, Fut>(op: &str, table: &str, call: F)
where
    F: Fn(bool, Duration) -> Fut,
    Fut: Future<Output = DbResult<u32>>,
{
    let seconds = db_seconds(op, table);
    call(false, NAP).await.unwrap();
    call(true, NAP).await.unwrap_err();
    assert_eq!(db(op, table, "success"), 1.0, "{table}");
    assert_eq!(db(op, table, "failure"), 1.0, "{table}");
    let spent = db_seconds(op, table) - seconds;
    assert!(spent >= 2.0 * NAP.as_secs_f64(), "{table}: {spent}s");

    let pending = call(false, Duration::from_secs(3600));
    let cancelled = tokio::time::timeout(Duration::from_millis(5), pending).await;
    assert!(cancelled.is_err());
    assert_eq!(db(op, table, "cancelled"), 1.0, "{table}");
    assert_eq!(db(op, table, "success"), 1.0, "{table}");
}

async fn nap_then(fail: bool, nap: Duration) -> DbResult<u32> {
    tokio::time::sleep(nap).await;
    if fail {
        Err(DbError)
    } else {
        Ok(1)
    }
}

// ---------------------------------------------------------------------------------------
// async-trait

#[async_trait]
trait Repo {
    async fn get(&self, fail: bool, nap: Duration) -> DbResult<u32>;

    // A provided method, measured in the trait itself.
    #[monitor_db_operation("select", "async_trait_default")]
    async fn provided(&self, fail: bool, nap: Duration) -> DbResult<u32> {
        nap_then(fail, nap).await
    }
}

struct SqlRepo {
    rows: u32,
}

#[async_trait]
impl Repo for SqlRepo {
    #[monitor_db_operation("select", "async_trait")]
    async fn get(&self, fail: bool, nap: Duration) -> DbResult<u32> {
        let n = nap_then(fail, nap).await?;
        Ok(n * self.rows)
    }
}

// A `?Send` trait: the boxed future is not `Send`.
#[async_trait(?Send)]
trait LocalRepo {
    async fn get(&self, fail: bool, nap: Duration) -> DbResult<u32>;
}

#[async_trait(?Send)]
impl LocalRepo for SqlRepo {
    #[monitor_db_operation("select", "async_trait_local")]
    async fn get(&self, fail: bool, nap: Duration) -> DbResult<u32> {
        let rc = std::rc::Rc::new(self.rows);
        let n = nap_then(fail, nap).await?;
        Ok(n * *rc)
    }
}

#[tokio::test]
async fn async_trait_methods_are_measured_to_completion() {
    let repo = SqlRepo { rows: 1 };
    check_db_shape("select", "async_trait", |f, d| Repo::get(&repo, f, d)).await;
    check_db_shape("select", "async_trait_default", |f, d| repo.provided(f, d)).await;
    check_db_shape("select", "async_trait_local", |f, d| {
        LocalRepo::get(&repo, f, d)
    })
    .await;
    // Still `Send` where the trait's future is: it can be spawned.
    let repo = std::sync::Arc::new(repo);
    let spawned = tokio::spawn(async move { Repo::get(&*repo, false, Duration::ZERO).await });
    assert_eq!(spawned.await.unwrap().unwrap(), 1);
    assert_eq!(db("select", "async_trait", "success"), 2.0);
}

// ---------------------------------------------------------------------------------------
// impl Future, Pin<Box<dyn Future>>, BoxFuture, LocalBoxFuture

#[monitor_db_operation("select", "impl_future")]
fn impl_future(fail: bool, nap: Duration) -> impl Future<Output = DbResult<u32>> + Send {
    nap_then(fail, nap)
}

struct Store {
    base: u32,
}

impl Store {
    // Borrows `self` in the returned future: the lifetime stays as written.
    #[monitor_db_operation("select", "impl_future_borrow")]
    fn get<'a>(&'a self, fail: bool, nap: Duration) -> impl Future<Output = DbResult<u32>> + 'a {
        async move { Ok(nap_then(fail, nap).await? * self.base) }
    }

    #[monitor_db_operation("select", "box_future")]
    fn boxed(&self, fail: bool, nap: Duration) -> BoxFuture<'_, DbResult<u32>> {
        Box::pin(async move { Ok(nap_then(fail, nap).await? * self.base) })
    }
}

#[monitor_db_operation("select", "pin_box_dyn")]
fn pin_box_dyn(fail: bool, nap: Duration) -> Pin<Box<dyn Future<Output = DbResult<u32>> + Send>> {
    // Not a bare `Box::pin(..)` body: the returned future is boxed again.
    let fut = nap_then(fail, nap);
    Box::pin(fut)
}

#[monitor_db_operation("select", "pin_box_dyn_direct")]
fn pin_box_dyn_direct(
    fail: bool,
    nap: Duration,
) -> std::pin::Pin<std::boxed::Box<dyn Future<Output = DbResult<u32>> + Send + 'static>> {
    std::boxed::Box::pin(nap_then(fail, nap))
}

#[monitor_db_operation("select", "local_box_future")]
fn local_box_future(fail: bool, nap: Duration) -> LocalBoxFuture<'static, DbResult<u32>> {
    let rc = std::rc::Rc::new(1);
    Box::pin(async move { Ok(nap_then(fail, nap).await? * *rc) })
}

#[tokio::test]
async fn future_returning_fns_are_measured_to_completion() {
    check_db_shape("select", "impl_future", impl_future).await;
    let store = Store { base: 1 };
    check_db_shape("select", "impl_future_borrow", |f, d| store.get(f, d)).await;
    check_db_shape("select", "box_future", |f, d| store.boxed(f, d)).await;
    check_db_shape("select", "pin_box_dyn", pin_box_dyn).await;
    check_db_shape("select", "pin_box_dyn_direct", pin_box_dyn_direct).await;
    check_db_shape("select", "local_box_future", local_box_future).await;
    // `Send` as declared.
    assert_send(impl_future(false, Duration::ZERO))
        .await
        .unwrap();
    assert_send(pin_box_dyn(false, Duration::ZERO))
        .await
        .unwrap();
    assert_send(store.boxed(false, Duration::ZERO))
        .await
        .unwrap();
}

/// Finding 7: one rule for every shape: a future dropped before its first poll never
/// started, and counts nothing (as an `async fn`'s always did); once polled, dropping
/// it is `cancelled`. The gauge its call raised comes back down either way.
#[tokio::test]
async fn a_future_dropped_before_its_first_poll_counts_nothing_in_every_shape() {
    drop(never_polled());
    drop(never_polled_boxed());
    drop(never_polled_async());
    drop(never_polled_step());
    for table in ["never_polled", "never_polled_boxed", "never_polled_async"] {
        for status in ["cancelled", "success", "failure"] {
            assert_eq!(db("select", table, status), 0.0, "{table} {status}");
        }
    }
    assert_eq!(step("never_polled_steps", "wait", "cancelled"), 0.0);
    assert_eq!(active("never_polled_steps"), 0.0);

    // Polled once, then dropped: cancelled, in every shape.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = Box::pin(never_polled_step());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    drop(fut);
    assert_eq!(step("never_polled_steps", "wait", "cancelled"), 1.0);
    assert_eq!(active("never_polled_steps"), 0.0);
}

#[monitor_db_operation("select", "never_polled")]
fn never_polled() -> impl Future<Output = DbResult<()>> {
    async { Ok(()) }
}

#[monitor_db_operation("select", "never_polled_boxed")]
fn never_polled_boxed() -> BoxFuture<'static, DbResult<()>> {
    Box::pin(async { Ok(()) })
}

#[monitor_db_operation("select", "never_polled_async")]
async fn never_polled_async() -> DbResult<()> {
    Ok(())
}

#[monitor_workflow_step("never_polled_steps", "wait")]
fn never_polled_step() -> impl Future<Output = DbResult<()>> {
    std::future::pending()
}

// ---------------------------------------------------------------------------------------
// Workflow steps and runs: the active gauge lives as long as the future.

#[monitor_workflow_step("future_steps", "wait")]
fn step_future(nap: Duration) -> impl Future<Output = Result<(), DbError>> + Send {
    let sleep = tokio::time::sleep(nap);
    async move {
        sleep.await;
        Ok(())
    }
}

#[monitor_workflow_step("future_steps", "inner")]
fn inner_step() -> BoxFuture<'static, Result<(), DbError>> {
    Box::pin(async { Ok(()) })
}

#[monitor_workflow("future_runs")]
fn run_future(nap: Duration) -> Pin<Box<dyn Future<Output = Result<(), DbError>> + Send>> {
    Box::pin(async move {
        tokio::time::sleep(nap).await;
        inner_run_step().await
    })
}

#[monitor_workflow_step("future_runs", "inner")]
fn inner_run_step() -> BoxFuture<'static, Result<(), DbError>> {
    Box::pin(async { Ok(()) })
}

#[tokio::test]
async fn the_active_gauge_stays_raised_until_the_future_completes_or_drops() {
    let mut fut = Box::pin(step_future(Duration::from_secs(3600)));
    // Raised from the call, before the first poll.
    assert_eq!(active("future_steps"), 1.0);
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(active("future_steps"), 1.0);
    drop(fut);
    assert_eq!(active("future_steps"), 0.0);
    assert_eq!(step("future_steps", "wait", "cancelled"), 1.0);

    step_future(Duration::from_millis(1)).await.unwrap();
    inner_step().await.unwrap();
    assert_eq!(step("future_steps", "wait", "success"), 1.0);
    assert_eq!(step("future_steps", "inner", "success"), 1.0);
    assert_eq!(active("future_steps"), 0.0);

    // A run's steps do not raise the gauge again; the run holds it until it ends.
    let mut fut = run_future(Duration::from_millis(20));
    assert_eq!(active("future_runs"), 1.0);
    assert!(poll_once(&mut fut).is_pending());
    tokio::time::sleep(Duration::from_millis(40)).await;
    let out = fut.await;
    out.unwrap();
    assert_eq!(run("future_runs", "success"), 1.0);
    assert_eq!(step("future_runs", "inner", "success"), 1.0);
    assert_eq!(active("future_runs"), 0.0);
}

// ---------------------------------------------------------------------------------------
// A panic while the future is polled is a failure, and the gauge comes down.

#[monitor_workflow_step("future_panics", "explode")]
fn explode() -> impl Future<Output = Result<(), DbError>> + Send {
    async {
        tokio::task::yield_now().await;
        panic!("future explode");
    }
}

#[tokio::test]
async fn a_panic_in_the_future_is_a_failure() {
    let err = tokio::spawn(explode()).await.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(step("future_panics", "explode", "failure"), 1.0);
    assert_eq!(active("future_panics"), 0.0);
}

// ---------------------------------------------------------------------------------------
// Errors that are not failures.

#[derive(Debug)]
enum UserError {
    EmailTaken,
    Connection,
}

impl MonitoredError for UserError {
    fn is_failure(&self) -> bool {
        !matches!(self, UserError::EmailTaken)
    }
}

type UserResult<T> = Result<T, UserError>;

#[monitor_db_operation("insert", "classified")]
async fn insert(e: Option<UserError>) -> UserResult<()> {
    match e {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[monitor_db_operation("insert", "classified_sync")]
fn insert_sync(e: Option<UserError>) -> Result<(), UserError> {
    e.map_or(Ok(()), Err)
}

#[monitor_db_operation("insert", "classified_future")]
fn insert_future(e: Option<UserError>) -> BoxFuture<'static, UserResult<()>> {
    Box::pin(async move { e.map_or(Ok(()), Err) })
}

#[tokio::test]
async fn an_error_type_decides_which_errors_are_failures() {
    insert(None).await.unwrap();
    insert(Some(UserError::EmailTaken)).await.unwrap_err();
    insert(Some(UserError::Connection)).await.unwrap_err();
    insert_sync(Some(UserError::EmailTaken)).unwrap_err();
    insert_sync(Some(UserError::Connection)).unwrap_err();
    insert_future(Some(UserError::EmailTaken))
        .await
        .unwrap_err();
    insert_future(Some(UserError::Connection))
        .await
        .unwrap_err();
    assert_eq!(db("insert", "classified", "success"), 2.0);
    assert_eq!(db("insert", "classified", "failure"), 1.0);
    for table in ["classified_sync", "classified_future"] {
        assert_eq!(db("insert", table, "success"), 1.0, "{table}");
        assert_eq!(db("insert", table, "failure"), 1.0, "{table}");
    }
}
