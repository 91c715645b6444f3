//! The threshold alert engine.
//!
//! Each evaluation takes the observations of a reading (one per alert type and
//! component, see `Reading::observations`) and moves each through the
//! Prometheus rule states: inactive, pending (the condition holds, for less than
//! `MCP_ALERT_FOR`), firing, and back to inactive when it clears (the alert is then
//! resolved). Rates and latencies need `MCP_ALERT_MIN_SAMPLES` samples in the window;
//! no data never fires. Firing and resolving are logged through `tracing` (warn and
//! info), firing alerts are listed as active, and every alert that fired is kept in a
//! bounded history. A firing alert whose severity changes (warning ↔ critical) is
//! logged too. Every change is also returned as an [`AlertEvent`], for the
//! Alertmanager notifier and the application's subscribers.

use std::collections::{BTreeMap, VecDeque};
use std::time::SystemTime;

use serde::Serialize;
use tokio::time::Instant;

use crate::alerts::levels::{AlertType, Levels, Severity};
use crate::base::format::now_rfc3339;
use crate::settings::Settings;

/// One alert, as listed by the report and dashboard endpoints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The alert type, such as `HIGH_CPU_USAGE`.
    #[serde(rename = "type")]
    pub kind: AlertType,
    /// `warning` or `critical`.
    pub severity: Severity,
    /// The observed value, formatted (`85%`, `1.2s`).
    pub current_value: String,
    /// The threshold, formatted the same way.
    pub threshold: String,
    /// When the alert fired, RFC 3339 with the local offset.
    pub timestamp: String,
    /// What the alert is about: `http`, `database`, `workflows`, `system`,
    /// `cache:<name>`, `db_pool:<name>`.
    pub components: Vec<String>,
    /// When it resolved (history only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
}

impl Alert {
    /// The objective (`MCP_SLOS`) a burn-rate alert is about, the `slo` label of its
    /// pushed alert; `None` for a threshold alert.
    pub fn slo(&self) -> Option<&str> {
        if !self.kind.is_slo() {
            return None;
        }
        self.components.first()?.strip_prefix("slo:")
    }
}

/// One value to compare with a threshold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    pub(crate) kind: AlertType,
    pub(crate) component: String,
    pub(crate) value: f64,
}

#[derive(Debug, Clone)]
enum State {
    Pending {
        since: Instant,
    },
    Firing {
        history_id: u64,
        alert: Alert,
        fired_at: SystemTime,
    },
}

/// The state of an alert that is pending or firing, for the `mcp_alerts` gauge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AlertStatus {
    pub(crate) kind: AlertType,
    pub(crate) component: String,
    pub(crate) severity: Severity,
    pub(crate) firing: bool,
}

/// Rule states, active alerts and history.
#[derive(Debug, Default)]
pub(crate) struct AlertEngine {
    states: BTreeMap<(AlertType, String), (State, Severity)>,
    history: VecDeque<(u64, Alert)>,
    next_id: u64,
}

impl AlertEngine {
    /// Applies one evaluation's observations at `now`; returns what changed.
    pub(crate) fn evaluate(
        &mut self,
        observations: &[Observation],
        settings: &Settings,
        now: Instant,
    ) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let instance = settings.instance.as_str();
        let event = |kind, alert: &Alert, previous, fired_at| AlertEvent {
            kind,
            alert: alert.clone(),
            previous_severity: previous,
            instance: instance.to_owned(),
            fired_at,
            at: SystemTime::now(),
            reset: false,
        };
        let mut seen = Vec::with_capacity(observations.len());
        for o in observations {
            let levels = Levels::of(o.kind, settings);
            let Some(severity) = levels.severity_of(o.value) else {
                continue;
            };
            let threshold = levels.warning;
            let key = (o.kind, o.component.clone());
            seen.push(key.clone());
            let current = o.kind.format_value(o.value);
            let entry = self
                .states
                .entry(key)
                .or_insert((State::Pending { since: now }, severity));
            entry.1 = severity;
            if let State::Pending { since } = entry.0 {
                if now.saturating_duration_since(since) >= settings.alert_for {
                    let alert = Alert {
                        kind: o.kind,
                        severity,
                        current_value: current.clone(),
                        threshold: o.kind.format_value(threshold),
                        timestamp: now_rfc3339(),
                        components: vec![o.component.clone()],
                        resolved_at: None,
                    };
                    tracing::warn!(
                        alert = o.kind.as_str(),
                        severity = severity.as_str(),
                        component = %o.component,
                        instance,
                        current_value = %alert.current_value,
                        threshold = %alert.threshold,
                        "alert firing"
                    );
                    let fired_at = SystemTime::now();
                    events.push(event(AlertEventKind::Fired, &alert, None, fired_at));
                    self.next_id += 1;
                    let id = self.next_id;
                    self.history.push_back((id, alert.clone()));
                    while self.history.len() > settings.alert_history_limit {
                        self.history.pop_front();
                    }
                    entry.0 = State::Firing {
                        history_id: id,
                        alert,
                        fired_at,
                    };
                }
            } else if let State::Firing {
                alert,
                fired_at,
                history_id,
            } = &mut entry.0
            {
                alert.current_value = current;
                let previous = alert.severity;
                if previous != severity {
                    alert.severity = severity;
                    let kind = if severity == Severity::Critical {
                        AlertEventKind::Escalated
                    } else {
                        AlertEventKind::DeEscalated
                    };
                    tracing::warn!(
                        alert = o.kind.as_str(),
                        severity = severity.as_str(),
                        previous_severity = previous.as_str(),
                        component = %o.component,
                        instance,
                        current_value = %alert.current_value,
                        threshold = %alert.threshold,
                        "alert {}",
                        kind.as_str()
                    );
                    let id = *history_id;
                    if let Some((_, h)) = self.history.iter_mut().find(|(i, _)| *i == id) {
                        h.severity = severity;
                    }
                    events.push(event(kind, alert, Some(previous), *fired_at));
                }
            }
        }
        // Everything not breached now: pending alerts go back to inactive, firing ones resolve.
        let cleared: Vec<_> = self
            .states
            .keys()
            .filter(|k| !seen.contains(k))
            .cloned()
            .collect();
        for key in cleared {
            if let Some((state, _)) = self.states.remove(&key) {
                events.extend(self.resolve(state, instance, false));
            }
        }
        events
    }

    /// Resolves a firing state: logs it, marks its history entry, returns the event.
    fn resolve(&mut self, state: State, instance: &str, reset: bool) -> Option<AlertEvent> {
        let State::Firing {
            history_id,
            mut alert,
            fired_at,
        } = state
        else {
            return None;
        };
        let resolved = now_rfc3339();
        tracing::info!(
            alert = alert.kind.as_str(),
            severity = alert.severity.as_str(),
            component = %alert.components.join(","),
            instance,
            fired_at = %alert.timestamp,
            reset,
            "alert resolved"
        );
        if let Some((_, h)) = self.history.iter_mut().find(|(id, _)| *id == history_id) {
            h.resolved_at = Some(resolved.clone());
        }
        alert.resolved_at = Some(resolved);
        Some(AlertEvent {
            kind: AlertEventKind::Resolved,
            alert,
            previous_severity: None,
            instance: instance.to_owned(),
            fired_at,
            at: SystemTime::now(),
            reset,
        })
    }

    /// Firing alerts, by type and component.
    pub(crate) fn active(&self) -> Vec<Alert> {
        self.states
            .values()
            .filter_map(|(s, _)| match s {
                State::Firing { alert, .. } => Some(alert.clone()),
                State::Pending { .. } => None,
            })
            .collect()
    }

    /// Firing alerts with the moment each fired: the state the Alertmanager notifier
    /// sends from.
    pub(crate) fn firing(&self) -> Vec<(Alert, SystemTime)> {
        self.states
            .values()
            .filter_map(|(s, _)| match s {
                State::Firing {
                    alert, fired_at, ..
                } => Some((alert.clone(), *fired_at)),
                State::Pending { .. } => None,
            })
            .collect()
    }

    /// Alerts that fired, oldest first, at most `MCP_ALERT_HISTORY_LIMIT`.
    pub(crate) fn history(&self) -> Vec<Alert> {
        self.history.iter().map(|(_, a)| a.clone()).collect()
    }

    /// Pending and firing alerts.
    pub(crate) fn statuses(&self) -> Vec<AlertStatus> {
        self.states
            .iter()
            .map(|((kind, component), (state, severity))| AlertStatus {
                kind: *kind,
                component: component.clone(),
                severity: *severity,
                firing: matches!(state, State::Firing { .. }),
            })
            .collect()
    }

    /// Resolves every firing alert (returning their events), then forgets every
    /// state, active alert and the history.
    pub(crate) fn reset(&mut self, instance: &str) -> Vec<AlertEvent> {
        let states = std::mem::take(&mut self.states);
        let events = states
            .into_values()
            .filter_map(|(state, _)| self.resolve(state, instance, true))
            .collect();
        self.history.clear();
        events
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlertEventKind {
    /// The condition held for `MCP_ALERT_FOR`: the alert is firing.
    Fired,
    /// A firing `warning` crossed the critical level: it is now `critical`.
    Escalated,
    /// A firing `critical` fell back under the critical level: it is now a `warning`.
    DeEscalated,
    /// The condition cleared, or a reset (`POST /api/v1/metrics/reset`, the retention
    /// period) ended the alert.
    Resolved,
}

impl AlertEventKind {
    /// `fired`, `escalated`, `de-escalated`, `resolved`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertEventKind::Fired => "fired",
            AlertEventKind::Escalated => "escalated",
            AlertEventKind::DeEscalated => "de-escalated",
            AlertEventKind::Resolved => "resolved",
        }
    }
}

/// One change of one alert.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AlertEvent {
    /// What happened.
    pub kind: AlertEventKind,
    /// The alert after the change: for [`Escalated`](AlertEventKind::Escalated) its new
    /// severity, for [`Resolved`](AlertEventKind::Resolved) its `resolved_at`.
    pub alert: Alert,
    /// The severity before an escalation or de-escalation.
    pub previous_severity: Option<Severity>,
    /// `MCP_INSTANCE` of the monitor that raised it.
    pub instance: String,
    /// When the alert fired (unchanged by escalation).
    pub fired_at: SystemTime,
    /// When this change happened.
    pub at: SystemTime,
    /// Whether a reset (the endpoint, or the retention period) rather than the
    /// condition clearing ended the alert.
    pub reset: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn obs(kind: AlertType, value: f64) -> Vec<Observation> {
        vec![Observation {
            kind,
            component: "system".into(),
            value,
        }]
    }

    fn settings() -> Settings {
        Settings {
            alert_for: Duration::from_secs(60),
            alert_history_limit: 3,
            ..Settings::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pending_then_firing_then_resolved() {
        let s = settings();
        let mut e = AlertEngine::default();
        e.evaluate(&obs(AlertType::HighCpuUsage, 0.85), &s, Instant::now());
        assert!(e.active().is_empty());
        assert!(!e.statuses()[0].firing);
        tokio::time::advance(Duration::from_secs(59)).await;
        e.evaluate(&obs(AlertType::HighCpuUsage, 0.85), &s, Instant::now());
        assert!(e.active().is_empty());
        tokio::time::advance(Duration::from_secs(1)).await;
        e.evaluate(&obs(AlertType::HighCpuUsage, 0.99), &s, Instant::now());
        let active = e.active();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].kind, AlertType::HighCpuUsage);
        assert_eq!(active[0].severity, Severity::Critical);
        assert_eq!(active[0].current_value, "99%");
        assert_eq!(active[0].threshold, "80%");
        assert_eq!(active[0].components, vec!["system".to_owned()]);
        chrono::DateTime::parse_from_rfc3339(&active[0].timestamp).unwrap();

        e.evaluate(&obs(AlertType::HighCpuUsage, 0.5), &s, Instant::now());
        assert!(e.active().is_empty());
        let h = e.history();
        assert_eq!(h.len(), 1);
        assert!(h[0].resolved_at.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_blip_shorter_than_for_never_fires() {
        let s = settings();
        let mut e = AlertEngine::default();
        e.evaluate(&obs(AlertType::HighSystemLoad, 3.0), &s, Instant::now());
        tokio::time::advance(Duration::from_secs(30)).await;
        e.evaluate(&obs(AlertType::HighSystemLoad, 0.1), &s, Instant::now());
        tokio::time::advance(Duration::from_secs(60)).await;
        e.evaluate(&obs(AlertType::HighSystemLoad, 3.0), &s, Instant::now());
        assert!(e.active().is_empty());
        assert!(e.history().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn low_alerts_fire_below_and_history_is_bounded() {
        let s = Settings {
            alert_for: Duration::ZERO,
            ..settings()
        };
        let mut e = AlertEngine::default();
        for _ in 0..5 {
            e.evaluate(&obs(AlertType::LowCacheHitRatio, 0.5), &s, Instant::now());
            assert_eq!(e.active()[0].severity, Severity::Critical);
            e.evaluate(&obs(AlertType::LowCacheHitRatio, 0.9), &s, Instant::now());
            assert!(e.active().is_empty());
        }
        assert_eq!(e.history().len(), 3);
        e.evaluate(&obs(AlertType::LowCacheHitRatio, 0.75), &s, Instant::now());
        assert_eq!(e.active()[0].severity, Severity::Warning);
        e.reset("test");
        assert!(e.active().is_empty() && e.history().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn every_change_is_an_event_and_reset_resolves() {
        let s = Settings {
            alert_for: Duration::ZERO,
            instance: "api-1".into(),
            ..settings()
        };
        let mut e = AlertEngine::default();
        let kinds = |v: f64, e: &mut AlertEngine| {
            e.evaluate(&obs(AlertType::HighCpuUsage, v), &s, Instant::now())
                .into_iter()
                .map(|ev| {
                    assert_eq!(ev.instance, "api-1");
                    (ev.kind, ev.alert.severity, ev.previous_severity)
                })
                .collect::<Vec<_>>()
        };
        use AlertEventKind::*;
        use Severity::*;
        assert_eq!(kinds(0.85, &mut e), [(Fired, Warning, None)]);
        assert_eq!(kinds(0.86, &mut e), []);
        assert_eq!(kinds(0.99, &mut e), [(Escalated, Critical, Some(Warning))]);
        assert_eq!(e.history()[0].severity, Critical);
        assert_eq!(kinds(0.9, &mut e), [(DeEscalated, Warning, Some(Critical))]);
        assert_eq!(kinds(0.1, &mut e), [(Resolved, Warning, None)]);
        assert_eq!(kinds(0.97, &mut e), [(Fired, Critical, None)]);
        let reset = e.reset("api-1");
        assert_eq!(reset.len(), 1);
        assert!(reset[0].reset && reset[0].kind == Resolved);
        assert!(reset[0].alert.resolved_at.is_some());
        assert!(e.active().is_empty() && e.statuses().is_empty());
    }
}
