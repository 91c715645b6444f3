//! Alert events, and the hook through which application code receives them.
//!
//! The engine emits an [`AlertEvent`] when an alert fires, escalates (warning →
//! critical), de-escalates (critical → warning) and resolves, including the resolution
//! of every firing alert by a reset or by the retention period. The Alertmanager
//! notifier consumes the same events; [`Monitor::subscribe_alerts`](crate::Monitor::subscribe_alerts)
//! gives one more consumer to the application, to forward them to a chat, a pager or a
//! ticket queue of its own.
//!
//! Delivery goes through a bounded broadcast channel: the evaluation loop never waits
//! for a subscriber; a subscriber that falls more than [`SUBSCRIPTION_CAPACITY`] events
//! behind loses the oldest ones, and [`AlertSubscription::recv`] says how many.

use std::time::SystemTime;

use tokio::sync::broadcast;

use crate::alerts::{Alert, Severity};

/// Events a subscriber may fall behind by before it loses the oldest.
pub const SUBSCRIPTION_CAPACITY: usize = 1024;

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

/// A subscription to alert events; see [`Monitor::subscribe_alerts`](crate::Monitor::subscribe_alerts).
#[derive(Debug)]
pub struct AlertSubscription {
    rx: broadcast::Receiver<AlertEvent>,
    lost: u64,
}

impl AlertSubscription {
    pub(crate) fn new(rx: broadcast::Receiver<AlertEvent>) -> Self {
        Self { rx, lost: 0 }
    }

    /// The next event; `None` once the monitor is gone. Events this subscriber was too
    /// slow to take are skipped (counted by [`lost`](Self::lost), and logged).
    pub async fn recv(&mut self) -> Option<AlertEvent> {
        loop {
            match self.rx.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.lost += n;
                    tracing::warn!(lost = n, "alert subscriber fell behind; events skipped");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<AlertEvent> {
        loop {
            match self.rx.try_recv() {
                Ok(e) => return Some(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.lost += n,
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber lost by falling behind.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}
