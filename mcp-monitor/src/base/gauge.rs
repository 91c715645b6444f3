//! The up-down count of what is under way: requests and gRPC calls in flight, workflows
//! running. Raised and lowered by one guard each (the guard's `Drop` lowers it, so a
//! cancelled future or a panic never leaves it raised), read at each reading.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// A gauge of things under way; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Gauge(AtomicI64);

impl Gauge {
    /// One more under way.
    #[inline]
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// One fewer under way.
    #[inline]
    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Relaxed);
    }

    /// How many are under way now.
    pub(crate) fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}
