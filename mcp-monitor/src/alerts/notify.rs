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
//! - The evaluation loop hands events over with `try_send` on a bounded channel; a
//!   background task keeps the alert states and fills one bounded queue per
//!   Alertmanager; one task per Alertmanager sends batches of at most 256 with a
//!   timeout per request and retries with back-off. Drops, sends and failures are
//!   counted (`mcp_alert_notifications_*`), and a failure is logged once per streak.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::alerts::engine::Alert;
use crate::alerts::events::{AlertEvent, AlertEventKind};
use crate::alerts::levels::Levels;
use crate::alerts::levels::{AlertType, Severity};
use crate::base::error::Error;
use crate::settings::Settings;

/// Most alerts in one `POST`.
#[cfg(feature = "alertmanager")]
pub(crate) const MAX_BATCH: usize = 256;
/// Events the evaluation loop may be ahead of the notifier by.
const EVENT_CAPACITY: usize = 1024;
/// Alerts waiting for one Alertmanager; past it the oldest are dropped.
const QUEUE_CAPACITY: usize = 10_000;
/// How long a resolved alert is re-sent.
pub(crate) const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);
/// The timeout of one request.
#[cfg(feature = "alertmanager")]
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per batch, and the first back-off (doubled after each failure).
#[cfg(feature = "alertmanager")]
const ATTEMPTS: u32 = 3;
#[cfg(feature = "alertmanager")]
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A background task of the notifier.
pub(crate) type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Counts of one Alertmanager.
#[derive(Debug)]
pub(crate) struct TargetStats {
    /// The URL without user information, for the `alertmanager` label and the logs.
    pub(crate) name: String,
    #[cfg_attr(not(feature = "alertmanager"), allow(dead_code))]
    url: String,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    queue: Mutex<VecDeque<Value>>,
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

/// The handle the monitor keeps.
#[derive(Debug)]
pub(crate) struct Notifier {
    tx: mpsc::Sender<AlertEvent>,
    rx: Mutex<Option<mpsc::Receiver<AlertEvent>>>,
    config: Arc<Config>,
    /// Events the evaluation loop could not hand over (the channel was full).
    dropped_events: AtomicU64,
}

#[derive(Debug)]
struct Config {
    targets: Vec<Arc<TargetStats>>,
    resend_delay: Duration,
    /// 4 × max(evaluation interval, resend delay).
    valid_for: Duration,
    instance: String,
    static_labels: Vec<(String, String)>,
    generator_url: Option<String>,
    settings: Settings,
}

impl Notifier {
    /// `None` without `MCP_ALERTMANAGER_URL`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] when push is asked for but the crate was built without
    /// its `alertmanager` feature.
    pub(crate) fn new(s: &Settings) -> Result<Option<Self>, Error> {
        if s.alertmanager_urls.is_empty() {
            return Ok(None);
        }
        if cfg!(not(feature = "alertmanager")) {
            return Err(Error::InvalidSetting {
                variable: "MCP_ALERTMANAGER_URL",
                value: s.alertmanager_urls.join(","),
                reason: "mcp-monitor was built without its `alertmanager` feature".into(),
            });
        }
        let targets = s
            .alertmanager_urls
            .iter()
            .map(|url| {
                Arc::new(TargetStats {
                    name: without_userinfo(url),
                    url: format!("{url}/api/v2/alerts"),
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
            config: Arc::new(Config {
                targets,
                resend_delay: s.alert_resend_delay,
                valid_for: 4 * s.alert_evaluation_interval.max(s.alert_resend_delay),
                instance: s.instance.clone(),
                static_labels: s.alert_labels.clone(),
                generator_url: s.external_url.as_ref().map(|u| format!("{u}/metrics/ui")),
                settings: s.clone(),
            }),
            dropped_events: AtomicU64::new(0),
        }))
    }

    /// Hands an event to the background task; never waits.
    pub(crate) fn offer(&self, event: &AlertEvent) {
        if self.tx.try_send(event.clone()).is_err() {
            let before = self.dropped_events.fetch_add(1, Relaxed);
            if before == 0 {
                tracing::warn!(
                    "alert notifier is behind; events are dropped (mcp_alert_events_dropped_total)"
                );
            }
        }
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
        let mut tasks: Vec<Task> = vec![Box::pin(run_states(rx, self.config.clone()))];
        #[cfg(feature = "alertmanager")]
        {
            let client = reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .user_agent(concat!("mcp-monitor/", env!("CARGO_PKG_VERSION")))
                .build();
            match client {
                Ok(client) => {
                    for t in &self.config.targets {
                        tasks.push(Box::pin(run_sender(client.clone(), t.clone())));
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot build the Alertmanager client"),
            }
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

/// One alert as Alertmanager knows it: a label set.
#[derive(Debug)]
struct Tracked {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: SystemTime,
    resolved_at: Option<SystemTime>,
    last_sent: Option<Instant>,
    /// Changed since it was last sent: send now.
    dirty: bool,
}

impl Config {
    fn labels(&self, alert: &Alert, severity: Severity) -> BTreeMap<String, String> {
        let mut l: BTreeMap<String, String> = self.static_labels.iter().cloned().collect();
        l.insert("alertname".into(), alert.kind.as_str().into());
        l.insert("severity".into(), severity.as_str().into());
        l.insert("component".into(), alert.components.join(","));
        l.insert("instance".into(), self.instance.clone());
        if let Some(slo) = alert.slo() {
            l.insert("slo".into(), slo.into());
        }
        l
    }

    fn annotations(&self, alert: &Alert) -> BTreeMap<String, String> {
        if let Some(slo) = alert.slo() {
            return self.slo_annotations(alert, slo);
        }
        let kind = alert.kind;
        let (what, setting) = describe(kind);
        let levels = Levels::of(kind, &self.settings);
        let side = levels.direction.word();
        let level = match alert.severity {
            Severity::Warning => format!("the threshold of {} ({setting})", alert.threshold),
            Severity::Critical => {
                let critical = levels
                    .critical
                    .map(|c| kind.format_value(c))
                    .unwrap_or_default();
                let op = levels.direction.factor_symbol();
                format!(
                    "the critical level of {critical} ({setting} {} {op} MCP_ALERT_CRITICAL_FACTOR)",
                    alert.threshold
                )
            }
        };
        let component = alert.components.join(",");
        BTreeMap::from([
            (
                "summary".to_owned(),
                format!(
                    "{what} of {component} on {} is {}, {side} {}",
                    self.instance, alert.current_value, alert.threshold
                ),
            ),
            (
                "description".to_owned(),
                format!(
                    "{what} of {component} on {} is {}, {side} {level}.",
                    self.instance, alert.current_value
                ),
            ),
            ("current_value".to_owned(), alert.current_value.clone()),
            ("threshold".to_owned(), alert.threshold.clone()),
        ])
    }

    /// A burn-rate alert's: the summary of the Prometheus rule, and the burn rate over
    /// the level of the pair of windows that fires.
    fn slo_annotations(&self, alert: &Alert, slo: &str) -> BTreeMap<String, String> {
        let speed = if alert.kind == AlertType::SloBurnRateFast {
            "fast"
        } else {
            "slowly"
        };
        BTreeMap::from([
            (
                "summary".to_owned(),
                format!(
                    "Objective {slo} on {} burns its error budget {speed}",
                    self.instance
                ),
            ),
            (
                "description".to_owned(),
                format!(
                    "Objective {slo} (MCP_SLOS) on {}: its burn rate is {} the level of its alert over both windows of a pair (above 1.00× fires; see docs/alerts.md).",
                    self.instance, alert.current_value
                ),
            ),
            ("current_value".to_owned(), alert.current_value.clone()),
            ("threshold".to_owned(), alert.threshold.clone()),
        ])
    }

    fn to_json(&self, t: &Tracked) -> Value {
        let ends_at = t
            .resolved_at
            .unwrap_or_else(|| SystemTime::now() + self.valid_for);
        let mut v = json!({
            "labels": t.labels,
            "annotations": t.annotations,
            "startsAt": rfc3339(t.starts_at),
            "endsAt": rfc3339(ends_at),
        });
        if let Some(url) = &self.generator_url {
            v["generatorURL"] = Value::String(url.clone());
        }
        v
    }
}

/// The quantity an alert type measures, in words, and the setting of its threshold.
fn describe(kind: AlertType) -> (&'static str, &'static str) {
    match kind {
        AlertType::HighRequestLatency => ("p95 request latency", "MCP_REQUEST_LATENCY_THRESHOLD"),
        AlertType::HighErrorRate => ("Failure rate", "MCP_ERROR_RATE_THRESHOLD"),
        AlertType::HighMemoryUsage => ("Memory use", "MCP_MEMORY_THRESHOLD"),
        AlertType::HighCpuUsage => ("CPU use", "MCP_CPU_THRESHOLD"),
        AlertType::LowCacheHitRatio => ("Hit ratio", "MCP_CACHE_HIT_RATIO_THRESHOLD"),
        AlertType::HighDbPoolUtilization => ("Pool utilization", "MCP_DB_POOL_THRESHOLD"),
        AlertType::HighSystemLoad => ("Load per core", "MCP_SYSTEM_LOAD_THRESHOLD"),
        AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow => {
            ("Error budget burn rate, over its alert level,", "MCP_SLOS")
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

/// The state of every alert Alertmanager should know of, applied from the events.
#[derive(Debug, Default)]
struct States {
    alerts: BTreeMap<String, Tracked>,
}

impl States {
    fn key(labels: &BTreeMap<String, String>) -> String {
        let mut k = String::new();
        for (n, v) in labels {
            let _ = write!(k, "{n}\u{0}{v}\u{0}");
        }
        k
    }

    fn fire(&mut self, c: &Config, alert: &Alert, severity: Severity, starts_at: SystemTime) {
        let labels = c.labels(alert, severity);
        let tracked = Tracked {
            annotations: c.annotations(alert),
            labels,
            starts_at,
            resolved_at: None,
            last_sent: None,
            dirty: true,
        };
        self.alerts.insert(Self::key(&tracked.labels), tracked);
    }

    fn resolve(&mut self, c: &Config, alert: &Alert, severity: Severity, at: SystemTime) {
        let key = Self::key(&c.labels(alert, severity));
        if let Some(t) = self.alerts.get_mut(&key) {
            if t.resolved_at.is_none() {
                t.resolved_at = Some(at);
                t.annotations = c.annotations(alert);
                t.dirty = true;
            }
        }
    }

    fn apply(&mut self, c: &Config, e: &AlertEvent) {
        match e.kind {
            AlertEventKind::Fired => self.fire(c, &e.alert, e.alert.severity, e.fired_at),
            AlertEventKind::Escalated | AlertEventKind::DeEscalated => {
                let previous = e.previous_severity.unwrap_or(e.alert.severity);
                self.resolve(c, &e.alert, previous, e.at);
                self.fire(c, &e.alert, e.alert.severity, e.at);
            }
            AlertEventKind::Resolved => self.resolve(c, &e.alert, e.alert.severity, e.at),
        }
    }

    /// The alerts due now (changed, or last sent a resend delay ago), marked as sent;
    /// forgets resolved alerts older than the retention.
    fn due(&mut self, c: &Config, now: Instant) -> Vec<Value> {
        let wall = SystemTime::now();
        self.alerts.retain(|_, t| {
            t.resolved_at
                .is_none_or(|r| wall.duration_since(r).unwrap_or_default() < RESOLVED_RETENTION)
        });
        let mut out = Vec::new();
        for t in self.alerts.values_mut() {
            let due = t.dirty
                || t.last_sent
                    .is_none_or(|s| now.saturating_duration_since(s) >= c.resend_delay);
            if due {
                t.dirty = false;
                t.last_sent = Some(now);
                out.push(c.to_json(t));
            }
        }
        out
    }
}

/// Applies events as they come and, every tenth of the resend delay (at most a
/// second), queues what is due: a re-send is at most that late.
async fn run_states(mut rx: mpsc::Receiver<AlertEvent>, c: Arc<Config>) {
    let mut states = States::default();
    let tick = (c.resend_delay / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            e = rx.recv() => {
                let Some(e) = e else { break };
                states.apply(&c, &e);
                while let Ok(e) = rx.try_recv() {
                    states.apply(&c, &e);
                }
            }
            _ = interval.tick() => {}
        }
        let due = states.due(&c, Instant::now());
        if !due.is_empty() {
            for t in &c.targets {
                enqueue(t, &due);
            }
        }
    }
    // The monitor is gone: let the senders finish what is queued and stop.
    for t in &c.targets {
        t.closed.store(true, Relaxed);
        t.wake.notify_one();
    }
}

fn enqueue(t: &TargetStats, alerts: &[Value]) {
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

/// Sends one Alertmanager's queue in batches of at most [`MAX_BATCH`].
#[cfg(feature = "alertmanager")]
async fn run_sender(client: reqwest::Client, t: Arc<TargetStats>) {
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
        match post(&client, &t.url, &batch).await {
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
                            "cannot send alerts to Alertmanager (logged once until it recovers)"
                        );
                        failing_since = Some((Instant::now(), n));
                    }
                }
            }
        }
    }
}

/// One batch, with retries and back-off; the error of the last attempt.
#[cfg(feature = "alertmanager")]
async fn post(client: &reqwest::Client, url: &str, batch: &[Value]) -> Result<(), String> {
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.post(url).json(batch).send().await {
            Ok(res) if res.status().is_success() => return Ok(()),
            Ok(res) => {
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                last = format!("{status}: {}", body.trim());
                // A 4xx means Alertmanager refused these alerts; retrying will not help.
                if status.is_client_error() {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "alertmanager")]
    fn config(s: &Settings) -> Arc<Config> {
        Notifier::new(s).unwrap().unwrap().config.clone()
    }

    #[cfg(feature = "alertmanager")]
    fn alert(severity: Severity) -> Alert {
        Alert {
            kind: AlertType::HighCpuUsage,
            severity,
            current_value: "99%".into(),
            threshold: "80%".into(),
            timestamp: String::new(),
            components: vec!["system".into()],
            resolved_at: None,
        }
    }

    #[cfg(feature = "alertmanager")]
    fn event(kind: AlertEventKind, severity: Severity, previous: Option<Severity>) -> AlertEvent {
        AlertEvent {
            kind,
            alert: alert(severity),
            previous_severity: previous,
            instance: "api-1".into(),
            fired_at: SystemTime::now(),
            at: SystemTime::now(),
            reset: false,
        }
    }

    #[cfg(not(feature = "alertmanager"))]
    #[test]
    fn without_the_feature_a_push_is_refused() {
        let s = Settings {
            alertmanager_urls: vec!["http://am:9093".into()],
            ..Settings::default()
        };
        let e = Notifier::new(&s).unwrap_err().to_string();
        assert!(
            e.contains("MCP_ALERTMANAGER_URL") && e.contains("`alertmanager` feature"),
            "{e}"
        );
    }

    #[cfg(feature = "alertmanager")]
    #[tokio::test(start_paused = true)]
    async fn resend_escalation_identity_and_end_times() {
        let s = Settings {
            alertmanager_urls: vec!["http://u:p@am:9093".into()],
            instance: "api-1".into(),
            alert_labels: vec![("team".into(), "payments".into())],
            external_url: Some("http://api-1:8080".into()),
            alert_evaluation_interval: Duration::from_secs(15),
            alert_resend_delay: Duration::from_secs(60),
            ..Settings::default()
        };
        let c = config(&s);
        assert_eq!(c.targets[0].name, "http://am:9093");
        assert_eq!(c.valid_for, Duration::from_secs(240));
        let mut st = States::default();
        st.apply(&c, &event(AlertEventKind::Fired, Severity::Warning, None));
        let sent = st.due(&c, Instant::now());
        assert_eq!(sent.len(), 1);
        let a = &sent[0];
        assert_eq!(a["labels"]["alertname"], "HIGH_CPU_USAGE");
        assert_eq!(a["labels"]["severity"], "warning");
        assert_eq!(a["labels"]["instance"], "api-1");
        assert_eq!(a["labels"]["team"], "payments");
        assert_eq!(a["generatorURL"], "http://api-1:8080/metrics/ui");
        let starts = chrono::DateTime::parse_from_rfc3339(a["startsAt"].as_str().unwrap()).unwrap();
        let ends = chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().unwrap()).unwrap();
        let valid = (ends - starts).num_seconds();
        assert!((239..=241).contains(&valid), "{valid}");
        assert!(a["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("above the threshold of 80% (MCP_CPU_THRESHOLD)"));
        // Not again before the resend delay; again after it.
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(st.due(&c, Instant::now()).is_empty());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(st.due(&c, Instant::now()).len(), 1);
        // Escalation: the warning resolves, a critical fires.
        st.apply(
            &c,
            &event(
                AlertEventKind::Escalated,
                Severity::Critical,
                Some(Severity::Warning),
            ),
        );
        let sent = st.due(&c, Instant::now());
        assert_eq!(sent.len(), 2);
        let by_severity = |sev: &str| {
            sent.iter()
                .find(|a| a["labels"]["severity"] == sev)
                .unwrap()
        };
        let warning_end = by_severity("warning")["endsAt"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(warning_end).unwrap() <= chrono::Utc::now());
        assert!(by_severity("critical")["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("critical level of 96%"));
        // Resolved: sent at once, re-sent every resend delay for 15 minutes, then forgotten.
        st.apply(
            &c,
            &event(AlertEventKind::Resolved, Severity::Critical, None),
        );
        let sent = st.due(&c, Instant::now());
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["labels"]["severity"], "critical");
        assert_eq!(st.alerts.len(), 2);
    }

    #[test]
    fn userinfo_is_not_shown() {
        assert_eq!(
            without_userinfo("https://a:b@am.example.com/x"),
            "https://am.example.com/x"
        );
        assert_eq!(without_userinfo("http://am:9093"), "http://am:9093");
    }
}
