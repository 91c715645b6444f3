//! Retries of a push (the Alertmanager notifier, the OTLP exporter): attempts with
//! exponential back-off, a server's `Retry-After` honoured, and the error text of a
//! failed request.

use std::future::Future;
use std::time::Duration;

/// What one attempt came to.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Accepted.
    Done,
    /// Failed in a way another attempt may fix; `after` is the server's `Retry-After`.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Refused: another attempt will not help.
    Fail(String),
}

/// How many attempts, and the waits between them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    /// Attempts in all (at least one).
    pub(crate) attempts: u32,
    /// The first wait, doubled after each failure.
    pub(crate) first: Duration,
    /// The longest wait, the server's `Retry-After` included.
    pub(crate) max: Duration,
}

/// Runs `attempt` until it is done, refused or out of attempts: between two attempts it
/// waits what the server asked (`Retry-After`, at most `max`), else the back-off. The
/// error is the last attempt's.
pub(crate) async fn with_retries<F, Fut>(policy: Backoff, mut attempt: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt>,
{
    let mut backoff = policy.first;
    let mut last = String::new();
    for n in 1..=policy.attempts.max(1) {
        let wait = match attempt().await {
            Attempt::Done => return Ok(()),
            Attempt::Fail(e) => return Err(e),
            Attempt::Retry { after, error } => {
                last = error;
                after.unwrap_or(backoff).min(policy.max)
            }
        };
        if n < policy.attempts {
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(policy.max);
        }
    }
    Err(last)
}

/// The `Retry-After` of an answer: a number of seconds, or an HTTP date (the time
/// until then; zero if it is past).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// An error and its causes, `: `-separated (a TLS failure is in a cause).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            http::header::RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        h.insert(http::header::RETRY_AFTER, later.parse().unwrap());
        let wait = retry_after(&h).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        h.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_s_wait_replaces_the_back_off_and_attempts_are_bounded() {
        let policy = Backoff {
            attempts: 3,
            first: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        let start = tokio::time::Instant::now();
        let mut waits = Vec::new();
        let mut n = 0;
        let r = with_retries(policy, || {
            n += 1;
            waits.push(start.elapsed());
            let after = (n == 1).then_some(Duration::from_secs(5));
            async move {
                Attempt::Retry {
                    after,
                    error: format!("attempt {n}"),
                }
            }
        })
        .await;
        assert_eq!(r, Err("attempt 3".into()));
        // 5 s asked by the server, then the back-off of the second failure (200 ms).
        assert_eq!(
            waits,
            [
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_millis(5200)
            ]
        );
        let refused = with_retries(policy, || async { Attempt::Fail("400".into()) }).await;
        assert_eq!(refused, Err("400".into()));
    }
}
