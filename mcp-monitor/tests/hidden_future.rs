//! A future returned through a type the macro cannot see (a user's own alias) is not
//! silently miscounted: the first call logs one `tracing` warning naming the function
//! and the fix. Its own binary: `tracing` caches each callsite's interest process-wide.

mod common;

use std::future::Future;
use std::pin::Pin;

use common::Warnings;
use mcp_monitor::monitor_db_operation;

#[derive(Debug)]
struct DbError;

/// The user's own alias: the macro sees only `JobFuture`.
type JobFuture = Pin<Box<dyn Future<Output = Result<u32, DbError>> + Send>>;

#[monitor_db_operation("select", "hidden_alias")]
fn hidden(n: u32) -> JobFuture {
    Box::pin(async move { Ok(n) })
}

#[monitor_db_operation("select", "visible")]
fn visible(n: u32) -> Pin<Box<dyn Future<Output = Result<u32, DbError>> + Send>> {
    Box::pin(async move { Ok(n) })
}

#[monitor_db_operation("select", "not_a_future")]
fn plain(n: u32) -> Result<u32, DbError> {
    Ok(n)
}

#[test]
fn a_hidden_future_warns_once_naming_the_function_and_the_fix() {
    use tracing_subscriber::layer::SubscriberExt;
    let warnings = Warnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for n in 0..3 {
        assert_eq!(rt.block_on(hidden(n)).unwrap(), n);
        assert_eq!(rt.block_on(visible(n)).unwrap(), n);
        assert_eq!(plain(n).unwrap(), n);
    }
    let got = warnings.messages();
    assert_eq!(got.len(), 1, "{got:#?}");
    let w = &got[0];
    assert!(w.contains("hidden_future::hidden"), "{w}");
    assert!(w.contains("impl Future<Output = T>"), "{w}");
    assert!(w.contains("measured until the future is made"), "{w}");
}
