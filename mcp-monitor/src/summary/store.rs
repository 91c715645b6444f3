//! The summary store: where "since reset" and "over the window" start from.
//!
//! It holds no counters of its own. It keeps snapshots of the same atomics that
//! `/metrics` renders: a baseline taken at the last reset, and a ring of frames taken
//! every `window / 10` by the upkeep task. "Since reset" is the current value minus the
//! baseline; "over the window" is the current value minus the newest frame at least a
//! window old. A reset replaces the baseline and clears the ring, so the Prometheus
//! series stay monotonic and later recordings are never lost. The ring holds at most
//! 12 frames whatever the traffic, so memory is bounded by the number of series, which
//! is bounded in turn. Baseline and frames are shared (`Arc`), so a reading holds on to
//! the two it subtracts without copying them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::summary::snapshot::{Frame, Origin, Snapshot};

/// Snapshots kept per window.
const TICKS_PER_WINDOW: u32 = 10;

/// The most frames the ring keeps.
pub(crate) const MAX_FRAMES: usize = TICKS_PER_WINDOW as usize + 2;

/// Baseline and ring; see the module docs.
#[derive(Debug)]
pub(crate) struct SummaryStore {
    window: Duration,
    baseline: Arc<Snapshot>,
    ring: VecDeque<Arc<Frame>>,
}

impl SummaryStore {
    pub(crate) fn new(window: Duration, now: Snapshot) -> Self {
        let mut store = Self {
            window,
            baseline: Arc::new(now),
            ring: VecDeque::new(),
        };
        store.restart();
        store
    }

    /// Empties the ring but for a frame at the baseline.
    fn restart(&mut self) {
        self.ring.clear();
        let first = Frame::new((*self.baseline).clone());
        self.ring.push_back(Arc::new(first));
    }

    /// How often [`tick`](Self::tick) should run.
    pub(crate) fn tick_interval(&self) -> Duration {
        (self.window / TICKS_PER_WINDOW).max(Duration::from_millis(10))
    }

    /// Adds a frame and forgets those no longer needed to cover the window.
    pub(crate) fn tick(&mut self, now: Snapshot) {
        let cutoff = now.at.checked_sub(self.window);
        self.ring.push_back(Arc::new(Frame::new(now)));
        if let Some(cutoff) = cutoff {
            while self.ring.len() > 1 && self.ring[1].at <= cutoff {
                self.ring.pop_front();
            }
        }
        while self.ring.len() > MAX_FRAMES {
            self.ring.pop_front();
        }
    }

    /// Starts counting afresh from `now`.
    pub(crate) fn reset(&mut self, now: Snapshot) {
        self.baseline = Arc::new(now);
        self.restart();
    }

    /// When the store was last reset.
    pub(crate) fn reset_at(&self) -> Instant {
        self.baseline.at
    }

    /// What "since reset" starts from.
    pub(crate) fn since_reset(&self) -> Origin {
        Origin::Snapshot(self.baseline.clone())
    }

    fn origin(&self, frame: &Arc<Frame>) -> Origin {
        Origin::Frame {
            frame: frame.clone(),
        }
    }

    /// What "over the window" starts from, at `now`: the newest frame at least a
    /// window old, or the oldest there is.
    pub(crate) fn window_start(&self, now: Instant) -> Origin {
        let cutoff = now.checked_sub(self.window);
        cutoff
            .and_then(|c| self.ring.iter().rev().find(|f| f.at <= c))
            .or_else(|| self.ring.front())
            .map_or_else(|| self.since_reset(), |f| self.origin(f))
    }

    /// The last [`tick`](Self::tick) (or the reset): where one point of the page's
    /// history starts.
    pub(crate) fn last_tick(&self) -> Origin {
        self.ring
            .back()
            .map_or_else(|| self.since_reset(), |f| self.origin(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::histogram::Buckets;
    use crate::http::store::{HttpStore, MethodLabel};
    use crate::sources::caches::CacheSet;

    #[test]
    fn the_ring_stays_bounded_and_the_window_starts_a_window_back() {
        let http = HttpStore::new(Buckets::http_default(), 100);
        let caches = CacheSet::default();
        let t0 = Instant::now();
        let window = Duration::from_secs(10);
        let mut store = SummaryStore::new(window, Snapshot::take(&http, &caches, t0));
        for s in 1..=30u64 {
            http.record(MethodLabel::Get, "/a", 200, 1_000);
            let at = t0 + Duration::from_secs(s);
            store.tick(Snapshot::take(&http, &caches, at));
            assert!(store.ring.len() <= MAX_FRAMES);
        }
        let now = t0 + Duration::from_secs(30);
        let start = store.window_start(now);
        assert_eq!(start.at(), Some(t0 + Duration::from_secs(20)));
        // 20 requests had been recorded 20 s in; 30 by now.
        assert_eq!(start.http(0, 13).count(), 20);
        assert_eq!(store.since_reset().http(0, 13).count(), 0);
        store.reset(Snapshot::take(&http, &caches, now));
        assert_eq!(store.since_reset().http(0, 13).count(), 30);
        assert_eq!(store.window_start(now).http(0, 13).count(), 30);
    }
}
