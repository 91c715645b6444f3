//! Waiting for something to happen: polling with a deadline, never a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::DEADLINE;

/// Calls `f` until it gives `Some`, or panics naming `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
