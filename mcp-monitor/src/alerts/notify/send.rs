//! Sending: one bounded queue and one task per Alertmanager, batches of at most
//! [`MAX_BATCH`], a timeout per request (the client's), retries with back-off.

use std::sync::atomic::Ordering::Relaxed;
#[cfg(feature = "alertmanager")]
use std::sync::Arc;
use std::sync::PoisonError;
#[cfg(feature = "alertmanager")]
use std::time::Duration;

use serde_json::Value;
#[cfg(feature = "alertmanager")]
use tokio::time::Instant;

use super::TargetStats;

/// Most alerts in one `POST`.
#[cfg(feature = "alertmanager")]
const MAX_BATCH: usize = 256;
/// Alerts waiting for one Alertmanager; past it the oldest are dropped.
const QUEUE_CAPACITY: usize = 10_000;
/// Attempts per batch, and the first back-off (doubled after each failure).
#[cfg(feature = "alertmanager")]
const ATTEMPTS: u32 = 3;
#[cfg(feature = "alertmanager")]
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between two attempts, an Alertmanager's `Retry-After` included.
#[cfg(feature = "alertmanager")]
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Queues `alerts` for `t`, dropping the oldest past the capacity.
pub(super) fn enqueue(t: &TargetStats, alerts: &[Value]) {
    let mut q = t.queue.lock().unwrap_or_else(PoisonError::into_inner);
    for a in alerts {
        if q.len() == QUEUE_CAPACITY {
            q.pop_front();
            t.dropped.fetch_add(1, Relaxed);
        }
        q.push_back(a.clone());
    }
    drop(q);
    t.wake.notify_one();
}

/// Tells the sender of `t` to stop once its queue is empty.
pub(super) fn close(t: &TargetStats) {
    t.closed.store(true, Relaxed);
    t.wake.notify_one();
}

/// Sends one Alertmanager's queue in batches of at most [`MAX_BATCH`].
#[cfg(feature = "alertmanager")]
pub(super) async fn run(
    client: reqwest::Client,
    bearer: Option<Arc<super::auth::Bearer>>,
    t: Arc<TargetStats>,
) {
    let mut failing_since: Option<(Instant, u64)> = None;
    loop {
        let batch: Vec<Value> = {
            let mut q = t.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = q.len().min(MAX_BATCH);
            q.drain(..n).collect()
        };
        if batch.is_empty() {
            if t.closed.load(Relaxed) {
                break;
            }
            t.wake.notified().await;
            continue;
        }
        let n = batch.len() as u64;
        let token = bearer.as_deref().map(super::auth::Bearer::token);
        match post(&client, &t, token.as_deref(), &batch).await {
            Ok(()) => {
                t.sent.fetch_add(n, Relaxed);
                if let Some((since, lost)) = failing_since.take() {
                    tracing::info!(
                        alertmanager = %t.name,
                        failed_alerts = lost,
                        failing_for = ?since.elapsed(),
                        "Alertmanager reachable again"
                    );
                }
            }
            Err(e) => {
                t.failed.fetch_add(n, Relaxed);
                match &mut failing_since {
                    Some((_, lost)) => *lost += n,
                    None => {
                        tracing::warn!(
                            alertmanager = %t.name,
                            error = %e,
                            alerts = n,
                            "cannot send alerts to Alertmanager (logged once until it recovers; every alert is sent again at the next resend delay)"
                        );
                        failing_since = Some((Instant::now(), n));
                    }
                }
            }
        }
    }
}

/// One batch, with retries and back-off (`Retry-After` honoured on 429 and 503); the
/// error of the last attempt. The URL has no user information: basic auth and the
/// bearer token go in the header only.
#[cfg(feature = "alertmanager")]
async fn post(
    client: &reqwest::Client,
    t: &TargetStats,
    token: Option<&str>,
    batch: &[Value],
) -> Result<(), String> {
    use crate::base::retry::{chain, retry_after, with_retries, Attempt, Backoff};
    let policy = Backoff {
        attempts: ATTEMPTS,
        first: FIRST_BACKOFF,
        max: MAX_BACKOFF,
    };
    with_retries(policy, || async {
        let mut req = client.post(&t.url).json(batch);
        if let Some((user, password)) = &t.basic {
            req = req.basic_auth(user, password.as_ref());
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        match req.send().await {
            Ok(res) if res.status().is_success() => Attempt::Done,
            Ok(res) => {
                let status = res.status();
                let after = matches!(status.as_u16(), 429 | 503)
                    .then(|| retry_after(res.headers()))
                    .flatten();
                let body = res.text().await.unwrap_or_default();
                let error = format!("{status}: {}", body.trim());
                // A 4xx means Alertmanager refused these alerts; retrying will not help.
                if status.is_client_error() && status.as_u16() != 429 {
                    Attempt::Fail(error)
                } else {
                    Attempt::Retry { after, error }
                }
            }
            Err(e) => Attempt::Retry {
                after: None,
                error: chain(&e.without_url()),
            },
        }
    })
    .await
}
