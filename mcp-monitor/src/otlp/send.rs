//! Sending: each export is encoded by the monitor's export task (off the hot path) and
//! queued here; one sender posts the queue in order, each request bounded by
//! `OTEL_METRIC_EXPORT_TIMEOUT`, retried with exponential back-off on a network error
//! and on the answers the OTLP specification calls retryable (429, 502, 503, 504),
//! waiting what the server's `Retry-After` asks. Past [`QUEUE_CAPACITY`] waiting
//! exports the oldest is dropped and counted.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use prost::Message as _;
use tokio::sync::Notify;

use super::encode::RequestEncoder;
use crate::base::error::Error;
use crate::base::retry::{chain, retry_after, with_retries, Attempt, Backoff};
use crate::reading::Reading;
use crate::settings::{OtlpSettings, Settings};

/// Exports waiting to be sent; past it the oldest is dropped.
pub(crate) const QUEUE_CAPACITY: usize = 8;
/// Attempts per export.
const ATTEMPTS: u32 = 5;
/// The first back-off, doubled after each failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts, a server's `Retry-After` included.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The exporter of one monitor: its encoder, queue, client and counters.
#[derive(Debug)]
pub(crate) struct Exporter {
    settings: OtlpSettings,
    client: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    encoder: Mutex<RequestEncoder>,
    queue: Mutex<VecDeque<Vec<u8>>>,
    wake: Arc<Notify>,
    sender_started: std::sync::atomic::AtomicBool,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // The sender waits on `wake` holding the exporter weakly: let it see it is gone.
        self.wake.notify_one();
    }
}

impl Exporter {
    /// The exporter of `otlp` (`instance`: the default `service.instance.id`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a header that HTTP does not allow, or a client that
    /// cannot be built.
    pub(crate) fn new(otlp: &OtlpSettings, instance: &str) -> Result<Arc<Self>, Error> {
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &otlp.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes());
            let value = reqwest::header::HeaderValue::from_str(v);
            let (Ok(name), Ok(mut value)) = (name, value) else {
                return Err(Error::InvalidSetting {
                    variable: "OTEL_EXPORTER_OTLP_HEADERS",
                    value: "(not shown)".into(),
                    reason: format!(
                        "the header {k:?} is not a valid HTTP header name and value (a value may use visible ASCII and spaces, percent-encoded otherwise)"
                    ),
                });
            };
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(otlp.timeout)
            .user_agent(concat!("mcp-monitor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidSetting {
                variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
                value: otlp.endpoint.clone(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Arc::new(Self {
            settings: otlp.clone(),
            client,
            headers,
            encoder: Mutex::new(RequestEncoder::new(otlp, instance)),
            queue: Mutex::default(),
            wake: Arc::new(Notify::new()),
            sender_started: false.into(),
            sent: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }))
    }

    /// Time between two exports.
    pub(crate) fn interval(&self) -> Duration {
        self.settings.interval
    }

    /// Exports `[sent, failed, dropped]`.
    pub(crate) fn counts(&self) -> [u64; 3] {
        [
            self.sent.load(Relaxed),
            self.failed.load(Relaxed),
            self.dropped.load(Relaxed),
        ]
    }

    /// Encodes `r` and queues it, dropping the oldest export past the capacity.
    pub(crate) fn export(&self, r: &Reading, s: &Settings) {
        let request = self
            .encoder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .encode(r, s);
        let body = request.encode_to_vec();
        let body = if self.settings.gzip {
            gzip(&body)
        } else {
            body
        };
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() == QUEUE_CAPACITY {
            q.pop_front();
            self.dropped.fetch_add(1, Relaxed);
        }
        q.push_back(body);
        drop(q);
        self.wake.notify_one();
    }

    /// The sender task, once per exporter (`None` after the first call).
    pub(crate) fn sender(self: &Arc<Self>) -> Option<impl std::future::Future<Output = ()>> {
        if self.sender_started.swap(true, Relaxed) {
            return None;
        }
        Some(run(Arc::downgrade(self), self.wake.clone()))
    }

    /// One export, with its retries; the last attempt's error.
    async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let policy = Backoff {
            attempts: ATTEMPTS,
            first: FIRST_BACKOFF,
            max: MAX_BACKOFF.min(self.settings.interval.max(FIRST_BACKOFF)),
        };
        with_retries(policy, || async {
            let mut req = self
                .client
                .post(&self.settings.endpoint)
                .headers(self.headers.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
                .body(body.clone());
            if self.settings.gzip {
                req = req.header(reqwest::header::CONTENT_ENCODING, "gzip");
            }
            match req.send().await {
                Ok(res) if res.status().is_success() => Attempt::Done,
                Ok(res) => {
                    let status = res.status();
                    let after = retry_after(res.headers());
                    let text = res.text().await.unwrap_or_default();
                    let error = format!("{status}: {}", text.trim());
                    if matches!(status.as_u16(), 429 | 502 | 503 | 504) {
                        Attempt::Retry { after, error }
                    } else {
                        Attempt::Fail(error)
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
}

/// `body` gzipped at the fastest level (the encoded request is repetitive).
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    e.write_all(body).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}

/// Sends the queue in order while the exporter lives; failures logged once per streak.
async fn run(exporter: Weak<Exporter>, wake: Arc<Notify>) {
    let mut failing = false;
    loop {
        let Some(e) = exporter.upgrade() else { break };
        let next = e
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        let Some(body) = next else {
            drop(e);
            wake.notified().await;
            continue;
        };
        match e.post(body).await {
            Ok(()) => {
                e.sent.fetch_add(1, Relaxed);
                if std::mem::take(&mut failing) {
                    tracing::info!(endpoint = %e.settings.endpoint, "OTLP endpoint reachable again");
                }
            }
            Err(error) => {
                e.failed.fetch_add(1, Relaxed);
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(
                        endpoint = %e.settings.endpoint,
                        %error,
                        "cannot push metrics over OTLP (logged once until it recovers; mcp_otlp_exports_total counts the failures)"
                    );
                }
            }
        }
    }
}
