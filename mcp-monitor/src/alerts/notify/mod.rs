//! The Alertmanager notifier: pushes firing and resolved alerts to
//! `POST <MCP_ALERTMANAGER_URL>/api/v2/alerts`, with Prometheus' notifier semantics.
//!
//! - Pending alerts are never sent. A firing alert is sent when it fires and again every
//!   `MCP_ALERT_RESEND_DELAY`, with `startsAt` the moment it fired and `endsAt` now +
//!   4 × max(`MCP_ALERT_EVALUATION_INTERVAL`, resend delay), so that Alertmanager
//!   resolves it by itself if this process dies. A resolved alert is sent at once with
//!   `endsAt` the moment it resolved, and re-sent every resend delay for 15 minutes.
//! - The label set is the identity: `alertname`, `severity`, `component`, `instance`
//!   (`MCP_INSTANCE`) and `MCP_ALERT_LABELS`. An escalation resolves the `warning`
//!   alert and fires a `critical` one (a de-escalation the reverse), as Prometheus'
//!   two rules and an inhibit rule show it.
//! - It sends from state (`state`): each evaluation hands over its events (with
//!   `try_send` on a bounded channel, for the changes without delay) and then the
//!   engine's firing alerts (a slot the next evaluation overwrites, which never fills).
//!   The state task applies the events and reconciles what it knows with the latest
//!   firing alerts, so an event dropped from a full channel is healed at the next
//!   evaluation; every alert it knows is re-sent every resend delay, so a send lost to
//!   a restarted Alertmanager or a network blip is healed within one resend delay.
//! - Sending (`send`): one bounded queue and one task per Alertmanager, batches of at
//!   most 256, a timeout per request, retries with back-off. Drops, sends and failures
//!   are counted (`mcp_alert_notifications_*`); a failure is logged once per streak.
//! - Trust and credentials (`auth`): `MCP_ALERTMANAGER_CA_FILE`, mutual TLS with
//!   `MCP_ALERTMANAGER_CERT_FILE` and `MCP_ALERTMANAGER_KEY_FILE`, a bearer token from
//!   `MCP_ALERTMANAGER_BEARER_TOKEN_FILE`, or basic auth from a URL's user information,
//!   which is sent as a header and never shown (the `alertmanager` label, the logs and
//!   the errors use the URL without it).

mod auth;
mod send;
mod state;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, Notify};

use crate::alerts::engine::Alert;
use crate::alerts::events::AlertEvent;
use crate::base::error::Error;
use crate::settings::Settings;

/// Events the evaluation loop may be ahead of the notifier by.
const EVENT_CAPACITY: usize = 1024;

/// A background task of the notifier.
pub(crate) type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// One Alertmanager: where it is, how to log in, its counts and its queue.
#[derive(Debug)]
pub(crate) struct TargetStats {
    /// The URL without user information, for the `alertmanager` label and the logs.
    pub(crate) name: String,
    /// `<name>/api/v2/alerts`, without user information.
    #[cfg_attr(not(feature = "alertmanager"), allow(dead_code))]
    url: String,
    /// Basic auth from the URL's user information (user, password), percent-decoded.
    #[cfg_attr(not(feature = "alertmanager"), allow(dead_code))]
    basic: Option<(String, Option<String>)>,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    queue: Mutex<VecDeque<serde_json::Value>>,
    wake: Notify,
    closed: AtomicBool,
}

/// One Alertmanager's counters (`mcp_alert_notifications_*{alertmanager}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetCounts {
    /// The URL without user information.
    pub(crate) name: String,
    /// Alerts it accepted.
    pub(crate) sent: u64,
    /// Alerts in batches it did not accept after every retry.
    pub(crate) failed: u64,
    /// Alerts dropped from its full queue.
    pub(crate) dropped: u64,
    /// Alerts waiting to be sent to it.
    pub(crate) queued: u64,
}

/// The notifier's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NotifierCounts {
    pub(crate) targets: Vec<TargetCounts>,
    /// Alert events the notifier was too far behind to take.
    pub(crate) dropped_events: u64,
}

/// The engine's firing alerts after one evaluation (or reset), numbered.
#[derive(Debug)]
pub(crate) struct Firing {
    /// 1 for the first evaluation; the events of evaluation `n` carry `n` too.
    pub(crate) generation: u64,
    /// When it was taken: the end time of the alerts it no longer holds.
    pub(crate) at: SystemTime,
    /// Each firing alert with the moment it fired.
    pub(crate) alerts: Vec<(Alert, SystemTime)>,
}

/// What the evaluation loop hands the state task besides the events.
#[derive(Debug, Default)]
pub(crate) struct Latest {
    firing: Mutex<Option<Arc<Firing>>>,
    wake: Notify,
}

impl Latest {
    pub(crate) fn get(&self) -> Option<Arc<Firing>> {
        self.firing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The handle the monitor keeps.
#[derive(Debug)]
pub(crate) struct Notifier {
    tx: mpsc::Sender<(u64, AlertEvent)>,
    rx: Mutex<Option<mpsc::Receiver<(u64, AlertEvent)>>>,
    config: Arc<state::Config>,
    latest: Arc<Latest>,
    /// The generation of the last state handed over.
    generation: AtomicU64,
    /// Events the evaluation loop could not hand over (the channel was full).
    dropped_events: AtomicU64,
    #[cfg(feature = "alertmanager")]
    client: reqwest::Client,
    #[cfg(feature = "alertmanager")]
    bearer: Option<Arc<auth::Bearer>>,
}

impl Notifier {
    /// `None` without `MCP_ALERTMANAGER_URL`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] when push is asked for but the crate was built without
    /// its `alertmanager` feature, or when a file of `MCP_ALERTMANAGER_CA_FILE`,
    /// `MCP_ALERTMANAGER_CERT_FILE`, `MCP_ALERTMANAGER_KEY_FILE` cannot be read or used
    /// (naming the variable and the path); [`Error::TokenFile`] when the file of
    /// `MCP_ALERTMANAGER_BEARER_TOKEN_FILE` cannot be read.
    pub(crate) fn new(s: &Settings) -> Result<Option<Self>, Error> {
        if s.alertmanager_urls.is_empty() {
            return Ok(None);
        }
        if cfg!(not(feature = "alertmanager")) {
            return Err(Error::InvalidSetting {
                variable: crate::settings::var::ALERTMANAGER_URL,
                value: crate::settings::without_password(&s.alertmanager_urls.join(",")),
                reason: "mcp-monitor was built without its `alertmanager` feature".into(),
            });
        }
        #[cfg(feature = "alertmanager")]
        let (client, bearer) = (auth::client(s)?, auth::Bearer::new(s)?.map(Arc::new));
        let targets = s
            .alertmanager_urls
            .iter()
            .map(|url| {
                let (name, basic) = auth::split_userinfo(url);
                Arc::new(TargetStats {
                    url: format!("{name}/api/v2/alerts"),
                    name,
                    basic,
                    sent: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    dropped: AtomicU64::new(0),
                    queue: Mutex::new(VecDeque::new()),
                    wake: Notify::new(),
                    closed: AtomicBool::new(false),
                })
            })
            .collect();
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        Ok(Some(Self {
            tx,
            rx: Mutex::new(Some(rx)),
            config: Arc::new(state::Config::new(s, targets)),
            latest: Arc::default(),
            generation: AtomicU64::new(0),
            dropped_events: AtomicU64::new(0),
            #[cfg(feature = "alertmanager")]
            client,
            #[cfg(feature = "alertmanager")]
            bearer,
        }))
    }

    /// Hands an event to the state task; never waits. The monitor calls it under the
    /// engine's lock, before [`observe`](Self::observe) of the same evaluation.
    pub(crate) fn offer(&self, event: &AlertEvent) {
        let generation = self.generation.load(Relaxed) + 1;
        if self.tx.try_send((generation, event.clone())).is_err() {
            let before = self.dropped_events.fetch_add(1, Relaxed);
            if before == 0 {
                tracing::warn!(
                    "alert notifier is behind; events are dropped (mcp_alert_events_dropped_total) and healed from the engine's state at the next evaluation"
                );
            }
        }
    }

    /// Hands the engine's firing alerts after an evaluation to the state task (the
    /// latest replaces the one before); never waits.
    pub(crate) fn observe(&self, alerts: Vec<(Alert, SystemTime)>) {
        let generation = self.generation.load(Relaxed) + 1;
        let firing = Arc::new(Firing {
            generation,
            at: SystemTime::now(),
            alerts,
        });
        *self
            .latest
            .firing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(firing);
        self.generation.store(generation, Relaxed);
        self.latest.wake.notify_one();
    }

    /// The background work: the state task and one sender per Alertmanager. `None`
    /// the second time.
    pub(crate) fn tasks(&self) -> Option<Vec<Task>> {
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        #[cfg_attr(not(feature = "alertmanager"), allow(unused_mut))]
        let mut tasks: Vec<Task> = vec![Box::pin(state::run(
            rx,
            self.latest.clone(),
            self.config.clone(),
        ))];
        #[cfg(feature = "alertmanager")]
        for t in &self.config.targets {
            tasks.push(Box::pin(send::run(
                self.client.clone(),
                self.bearer.clone(),
                t.clone(),
            )));
        }
        Some(tasks)
    }

    /// The counters of every Alertmanager and of dropped events, now.
    pub(crate) fn counts(&self) -> NotifierCounts {
        NotifierCounts {
            targets: self
                .config
                .targets
                .iter()
                .map(|t| TargetCounts {
                    name: t.name.clone(),
                    sent: t.sent.load(Relaxed),
                    failed: t.failed.load(Relaxed),
                    dropped: t.dropped.load(Relaxed),
                    queued: t.queue.lock().unwrap_or_else(PoisonError::into_inner).len() as u64,
                })
                .collect(),
            dropped_events: self.dropped_events.load(Relaxed),
        }
    }
}

/// How long the state task may wait between two looks at what is due: a tenth of the
/// resend delay, between 10 ms and 1 s.
fn tick(resend_delay: Duration) -> Duration {
    (resend_delay / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

#[cfg(all(test, not(feature = "alertmanager")))]
mod tests {
    use super::*;

    #[test]
    fn without_the_feature_a_push_is_refused() {
        let s = Settings {
            alertmanager_urls: vec!["http://u:secret@am:9093".into()],
            ..Settings::default()
        };
        let e = Notifier::new(&s).unwrap_err().to_string();
        assert!(
            e.contains("MCP_ALERTMANAGER_URL") && e.contains("`alertmanager` feature"),
            "{e}"
        );
        assert!(!e.contains("secret"), "{e}");
    }
}
