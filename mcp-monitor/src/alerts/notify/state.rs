//! The state the notifier sends from: every alert Alertmanager should know of (firing,
//! or resolved less than 15 minutes ago), kept from the events and reconciled with the
//! engine's firing alerts, and what is due to be sent.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{send, Firing, Latest, TargetStats};
use crate::alerts::engine::Alert;
use crate::alerts::events::{AlertEvent, AlertEventKind};
use crate::alerts::levels::{AlertType, Levels, Severity};
use crate::settings::var;
use crate::settings::Settings;

/// How long a resolved alert is re-sent.
const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// What every alert sent is made with.
#[derive(Debug)]
pub(super) struct Config {
    pub(super) targets: Vec<Arc<TargetStats>>,
    pub(super) resend_delay: Duration,
    /// 4 × max(evaluation interval, resend delay).
    pub(super) valid_for: Duration,
    instance: String,
    static_labels: Vec<(String, String)>,
    generator_url: Option<String>,
    settings: Settings,
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
    pub(super) fn new(s: &Settings, targets: Vec<Arc<TargetStats>>) -> Self {
        Self {
            targets,
            resend_delay: s.alert_resend_delay,
            valid_for: 4 * s.alert_evaluation_interval.max(s.alert_resend_delay),
            instance: s.instance.clone(),
            static_labels: s.alert_labels.clone(),
            generator_url: s.external_url.as_ref().map(|u| format!("{u}/metrics/ui")),
            settings: s.clone(),
        }
    }
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
        AlertType::HighRequestLatency => ("p95 request latency", var::REQUEST_LATENCY_THRESHOLD),
        AlertType::HighErrorRate => ("Failure rate", var::ERROR_RATE_THRESHOLD),
        AlertType::HighMemoryUsage => ("Memory use", var::MEMORY_THRESHOLD),
        AlertType::HighCpuUsage => ("CPU use", var::CPU_THRESHOLD),
        AlertType::LowCacheHitRatio => ("Hit ratio", var::CACHE_HIT_RATIO_THRESHOLD),
        AlertType::HighDbPoolUtilization => ("Pool utilization", var::DB_POOL_THRESHOLD),
        AlertType::HighSystemLoad => ("Load per core", var::SYSTEM_LOAD_THRESHOLD),
        AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow => {
            ("Error budget burn rate, over its alert level,", var::SLOS)
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The state of every alert Alertmanager should know of.
#[derive(Debug, Default)]
pub(super) struct States {
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

    /// Fires an alert, unless it fires already (then nothing changes).
    fn fire(&mut self, c: &Config, alert: &Alert, severity: Severity, starts_at: SystemTime) {
        let labels = c.labels(alert, severity);
        let key = Self::key(&labels);
        if self
            .alerts
            .get(&key)
            .is_some_and(|t| t.resolved_at.is_none())
        {
            return;
        }
        let tracked = Tracked {
            annotations: c.annotations(alert),
            labels,
            starts_at,
            resolved_at: None,
            last_sent: None,
            dirty: true,
        };
        self.alerts.insert(key, tracked);
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

    pub(super) fn apply(&mut self, c: &Config, e: &AlertEvent) {
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

    /// Makes the state agree with the engine's firing alerts: what fires there and is
    /// not known to fire here fires (an event was lost), what fires here but no longer
    /// there resolves at the moment they were taken. The annotations of what fires take
    /// the latest values, for the next send. Returns how many alerts changed.
    pub(super) fn reconcile(&mut self, c: &Config, firing: &Firing) -> usize {
        let mut changed = 0;
        let mut keys = BTreeSet::new();
        for (alert, fired_at) in &firing.alerts {
            let key = Self::key(&c.labels(alert, alert.severity));
            match self.alerts.get_mut(&key) {
                Some(t) if t.resolved_at.is_none() => t.annotations = c.annotations(alert),
                _ => {
                    self.fire(c, alert, alert.severity, *fired_at);
                    changed += 1;
                }
            }
            keys.insert(key);
        }
        for (key, t) in &mut self.alerts {
            if t.resolved_at.is_none() && !keys.contains(key) {
                t.resolved_at = Some(firing.at);
                t.dirty = true;
                changed += 1;
            }
        }
        changed
    }

    /// The alerts due now (changed, or last sent a resend delay ago), marked as sent;
    /// forgets resolved alerts older than the retention.
    pub(super) fn due(&mut self, c: &Config, now: Instant) -> Vec<Value> {
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

/// Where the state task is: what it knows, and which events and states it has seen.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    pub(super) states: States,
    /// The generation of the last firing alerts reconciled.
    reconciled: u64,
    /// The generation of the newest event applied.
    newest_event: u64,
}

impl Tracker {
    /// Applies an event of evaluation `generation`, unless a state at least as new was
    /// reconciled already (the state holds its outcome; applying it would go back).
    pub(super) fn event(&mut self, c: &Config, generation: u64, e: &AlertEvent) {
        if generation > self.reconciled {
            self.states.apply(c, e);
            self.newest_event = self.newest_event.max(generation);
        }
    }

    /// Reconciles with `firing` if it is newer than what was reconciled and no event of
    /// a later evaluation was applied (its state is on its way). Call it after taking
    /// every event waiting: the events of an evaluation are handed over before its state.
    pub(super) fn state(&mut self, c: &Config, firing: &Firing) {
        if firing.generation <= self.reconciled || firing.generation < self.newest_event {
            return;
        }
        self.reconciled = firing.generation;
        let healed = self.states.reconcile(c, firing);
        if healed > 0 {
            tracing::info!(
                alerts = healed,
                "alert states recovered from the engine (events were dropped)"
            );
        }
    }
}

/// Applies events as they come, reconciles with the engine's firing alerts after each
/// evaluation and, every tenth of the resend delay (at most a second), queues what is
/// due: a re-send is at most that late.
pub(super) async fn run(
    mut rx: mpsc::Receiver<(u64, AlertEvent)>,
    latest: Arc<Latest>,
    c: Arc<Config>,
) {
    let mut tracker = Tracker::default();
    let mut interval = tokio::time::interval(super::tick(c.resend_delay));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            e = rx.recv() => {
                let Some((generation, e)) = e else { break };
                tracker.event(&c, generation, &e);
            }
            () = latest.wake.notified() => {}
            _ = interval.tick() => {}
        }
        while let Ok((generation, e)) = rx.try_recv() {
            tracker.event(&c, generation, &e);
        }
        if let Some(firing) = latest.get() {
            tracker.state(&c, &firing);
        }
        let due = tracker.states.due(&c, Instant::now());
        if !due.is_empty() {
            for t in &c.targets {
                send::enqueue(t, &due);
            }
        }
    }
    // The monitor is gone: let the senders finish what is queued and stop.
    for t in &c.targets {
        send::close(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(s: &Settings) -> Config {
        Config::new(s, Vec::new())
    }

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

    fn firing(generation: u64, alerts: &[Severity]) -> Firing {
        Firing {
            generation,
            at: SystemTime::now(),
            alerts: alerts
                .iter()
                .map(|s| (alert(*s), SystemTime::UNIX_EPOCH + Duration::from_secs(1)))
                .collect(),
        }
    }

    #[cfg(feature = "alertmanager")]
    #[test]
    fn the_label_is_the_url_without_userinfo() {
        let s = Settings {
            alertmanager_urls: vec!["http://u:p@am:9093".into()],
            ..Settings::default()
        };
        let n = crate::alerts::notify::Notifier::new(&s).unwrap().unwrap();
        assert_eq!(n.counts().targets[0].name, "http://am:9093");
    }

    #[tokio::test(start_paused = true)]
    async fn resend_escalation_identity_and_end_times() {
        let s = Settings {
            instance: "api-1".into(),
            alert_labels: vec![("team".into(), "payments".into())],
            external_url: Some("http://api-1:8080".into()),
            alert_evaluation_interval: Duration::from_secs(15),
            alert_resend_delay: Duration::from_secs(60),
            ..Settings::default()
        };
        let c = config(&s);
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
        // A second Fired event of the same alert changes nothing.
        st.apply(&c, &event(AlertEventKind::Fired, Severity::Warning, None));
        assert!(st.due(&c, Instant::now()).is_empty());
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
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            st.due(&c, Instant::now()).len(),
            2,
            "both resolved, re-sent"
        );
    }

    /// A lost event is healed by the next state; a state older than an applied event
    /// is not reconciled (it would undo the event); an event older than a reconciled
    /// state is not applied.
    #[tokio::test(start_paused = true)]
    async fn states_heal_lost_events_and_keep_their_order() {
        let c = config(&Settings::default());
        let mut t = Tracker::default();
        // Evaluation 1 fires a warning; its event is lost. Its state heals it, with
        // the moment it fired in the engine.
        t.state(&c, &firing(1, &[Severity::Warning]));
        let sent = t.states.due(&c, Instant::now());
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["labels"]["severity"], "warning");
        assert_eq!(sent[0]["startsAt"], "1970-01-01T00:00:01.000Z");
        // Evaluation 2 escalates: its event arrives before its state, and a stale state
        // of evaluation 1 seen after the event changes nothing.
        t.event(
            &c,
            2,
            &event(
                AlertEventKind::Escalated,
                Severity::Critical,
                Some(Severity::Warning),
            ),
        );
        t.state(&c, &firing(1, &[Severity::Warning]));
        let sent = t.states.due(&c, Instant::now());
        assert_eq!(sent.len(), 2);
        t.state(&c, &firing(2, &[Severity::Critical]));
        assert!(t.states.due(&c, Instant::now()).is_empty());
        // Evaluation 3 resolves; the event is lost, the state resolves it.
        t.state(&c, &firing(3, &[]));
        let sent = t.states.due(&c, Instant::now());
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["labels"]["severity"], "critical");
        let ends =
            chrono::DateTime::parse_from_rfc3339(sent[0]["endsAt"].as_str().unwrap()).unwrap();
        assert!(ends <= chrono::Utc::now());
        // An event of evaluation 3 arriving late is ignored (the state holds it).
        t.event(
            &c,
            3,
            &event(AlertEventKind::Fired, Severity::Critical, None),
        );
        assert!(t.states.due(&c, Instant::now()).is_empty());
    }
}
