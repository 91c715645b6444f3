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

use tokio::sync::broadcast;

pub use crate::alerts::engine::{AlertEvent, AlertEventKind};

/// Events a subscriber may fall behind by before it loses the oldest.
pub const SUBSCRIPTION_CAPACITY: usize = 1024;

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
