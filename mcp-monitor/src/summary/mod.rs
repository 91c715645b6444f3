//! The summary: snapshots of every series (a baseline at the last reset and a ring of
//! compact frames covering the window), and the history the page draws. The two move
//! together (a tick adds a frame and a point, a reset clears both), so the monitor keeps
//! them behind one lock as a [`Summary`].

pub(crate) mod history;
pub(crate) mod snapshot;
pub(crate) mod store;

use std::time::Duration;

use tokio::time::Instant;

use crate::summary::history::{History, Point};
use crate::summary::snapshot::Snapshot;
use crate::summary::store::SummaryStore;

/// The summary store and the history, which change together.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) store: SummaryStore,
    pub(crate) history: History,
}

impl Summary {
    /// A summary over `window`, counting from `now`.
    pub(crate) fn new(window: Duration, now: Snapshot) -> Self {
        Self {
            store: SummaryStore::new(window, now),
            history: History::new(window),
        }
    }

    /// Adds the frame of `current` and the history point of the interval it ends.
    pub(crate) fn tick(&mut self, current: Snapshot, at: Instant, point: Point) {
        self.store.tick(current);
        self.history.push(at, point);
    }

    /// Starts counting afresh from `now`, with an empty history.
    pub(crate) fn reset(&mut self, now: Snapshot) {
        self.store.reset(now);
        self.history.reset();
    }
}
