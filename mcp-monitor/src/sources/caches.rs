//! Cache hit and miss counters reported by the application.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

/// Counts the hits and misses of one named cache. Cheap to clone; each report is
/// one relaxed atomic increment, usable from sync and async code alike.
///
/// ```
/// let monitor = mcp_monitor::Monitor::builder().build().unwrap();
/// let users_cache = monitor.cache("users");
/// users_cache.hit();
/// users_cache.record(false); // a miss
/// ```
#[derive(Debug, Clone)]
pub struct CacheMonitor {
    series: Arc<CacheSeries>,
}

impl CacheMonitor {
    /// Reports a lookup that found its entry.
    #[inline]
    pub fn hit(&self) {
        self.series.hits.fetch_add(1, Relaxed);
    }

    /// Reports a lookup that did not.
    #[inline]
    pub fn miss(&self) {
        self.series.misses.fetch_add(1, Relaxed);
    }

    /// Reports a lookup: a hit if `hit` is true, a miss otherwise.
    #[inline]
    pub fn record(&self, hit: bool) {
        if hit {
            self.hit();
        } else {
            self.miss();
        }
    }

    /// The cache's name (the `cache` label).
    pub fn name(&self) -> &str {
        &self.series.name
    }
}

/// One cache's counters.
#[derive(Debug)]
pub(crate) struct CacheSeries {
    name: String,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CacheSeries {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// `[hits, misses]`.
    pub(crate) fn counts(&self) -> [u64; 2] {
        [self.hits.load(Relaxed), self.misses.load(Relaxed)]
    }
}

/// The caches of one monitor, by name.
#[derive(Debug, Default)]
pub(crate) struct CacheSet {
    by_name: RwLock<BTreeMap<String, Arc<CacheSeries>>>,
}

impl CacheSet {
    /// The monitor for `name`, created on first use.
    pub(crate) fn get(&self, name: &str) -> CacheMonitor {
        if let Some(s) = self
            .by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return CacheMonitor { series: s.clone() };
        }
        let mut map = self.by_name.write().unwrap_or_else(PoisonError::into_inner);
        let series = map
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(CacheSeries {
                    name: name.to_owned(),
                    hits: AtomicU64::new(0),
                    misses: AtomicU64::new(0),
                })
            })
            .clone();
        CacheMonitor { series }
    }

    /// Every cache, by name.
    pub(crate) fn all(&self) -> Vec<Arc<CacheSeries>> {
        self.by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}
