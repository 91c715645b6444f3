//! What the middleware remembers per route, so that its hot path takes no lock and
//! clones no path.
//!
//! A [`RouteTable`] belongs to one [`HttpMetricsLayer`](crate::HttpMetricsLayer) (axum
//! may apply the layer to a route once per connection, or per request for a router
//! without state, so nothing per route can live in the layered service itself). It maps
//! a matched path to its [`RouteCache`]: whether the path is excluded, and the label sets
//! (method, status) recorded for it, each the `Arc` of a series of the [`HttpStore`]
//! (series are never removed, so an entry stays valid). The table is open addressing
//! over a fixed array whose entries are set once and never removed; its keys are route
//! templates, which the application bounds, never clients. A path that finds no room
//! (more routes than the table holds) takes the store's own lookup, which is always
//! correct, only slower.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::extract::MatchedPath;

use crate::http::store::{HttpSeries, HttpStore, MethodLabel, UNMATCHED_PATH};

/// Routes remembered per layer (a power of two); kept at most three quarters full.
const TABLE_SLOTS: usize = 512;
/// Entries probed before a path is looked up in the store instead.
const PROBES: usize = 16;

/// Where a request's route is in a [`RouteTable`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum RouteRef {
    /// Requests that matched no route.
    Unmatched,
    /// The entry at this index.
    Entry(usize),
}

/// The routes of one layer; see the module docs.
#[derive(Debug)]
pub(crate) struct RouteTable {
    unmatched: RouteCache,
    /// `TABLE_SLOTS` entries, allocated with the first.
    entries: OnceLock<Box<[OnceLock<Box<RouteCache>>]>>,
    /// Entries set; written under its lock only.
    len: Mutex<usize>,
    /// No more entries will be added (so lookups that miss need not take `len`).
    full: AtomicBool,
}

impl RouteTable {
    /// An empty table (unmatched requests are always recorded).
    pub(crate) fn new() -> Self {
        Self {
            unmatched: RouteCache::new(None, false),
            entries: OnceLock::new(),
            len: Mutex::new(0),
            full: AtomicBool::new(false),
        }
    }

    /// The entry of `path`, added (with `excluded` deciding its exclusion) if it is
    /// new and there is room; `None` when there is none.
    #[inline]
    pub(crate) fn find(
        &self,
        path: &MatchedPath,
        excluded: impl FnOnce(&str) -> bool,
    ) -> Option<(RouteRef, &RouteCache)> {
        let hash = rustc_hash::FxBuildHasher.hash_one(path.as_str());
        let Some(entries) = self.entries.get() else {
            return self.add(hash, path, excluded);
        };
        match probe(entries, path, hash) {
            Lookup::Found(at, e) => Some((RouteRef::Entry(at), e)),
            Lookup::Free(_) if !self.full.load(Relaxed) => self.add(hash, path, excluded),
            Lookup::Free(_) | Lookup::Crowded => None,
        }
    }

    #[cold]
    fn add(
        &self,
        hash: u64,
        path: &MatchedPath,
        excluded: impl FnOnce(&str) -> bool,
    ) -> Option<(RouteRef, &RouteCache)> {
        let mut len = self.len.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = self
            .entries
            .get_or_init(|| (0..TABLE_SLOTS).map(|_| OnceLock::new()).collect());
        match probe(entries, path, hash) {
            Lookup::Found(at, e) => Some((RouteRef::Entry(at), e)),
            Lookup::Free(at) if *len < TABLE_SLOTS / 4 * 3 => {
                *len += 1;
                if *len == TABLE_SLOTS / 4 * 3 {
                    self.full.store(true, Relaxed);
                }
                // Only writer: we hold `len`, and the entry was empty.
                let e = entries[at].get_or_init(|| {
                    let excluded = excluded(path.as_str());
                    Box::new(RouteCache::new(Some((path.clone(), hash)), excluded))
                });
                Some((RouteRef::Entry(at), e))
            }
            Lookup::Free(_) | Lookup::Crowded => None,
        }
    }

    /// The entry `at` refers to (`Unmatched`, or an `Entry` made by [`Self::find`] on
    /// this table, which is always there: entries are never removed).
    #[inline]
    pub(crate) fn get(&self, at: RouteRef) -> &RouteCache {
        let entry = match at {
            RouteRef::Unmatched => None,
            RouteRef::Entry(i) => self.entries.get().and_then(|e| e.get(i)?.get()),
        };
        entry.map_or(&self.unmatched, |e| e)
    }
}

/// What probing the table for a path found.
enum Lookup<'a> {
    /// The path's entry, at this index.
    Found(usize, &'a RouteCache),
    /// No entry for the path; this index is the first free one of its probe sequence.
    Free(usize),
    /// No entry for the path, and no free one within `PROBES`.
    Crowded,
}

/// Linear probing from `hash`: entries are set once and never removed, so the first
/// free entry ends the search.
#[inline]
fn probe<'a>(
    entries: &'a [OnceLock<Box<RouteCache>>],
    path: &MatchedPath,
    hash: u64,
) -> Lookup<'a> {
    for i in 0..PROBES {
        let at = (hash as usize).wrapping_add(i) & (TABLE_SLOTS - 1);
        match entries[at].get() {
            Some(e) if e.is_for(path, hash) => return Lookup::Found(at, e),
            Some(_) => {}
            None => return Lookup::Free(at),
        }
    }
    Lookup::Crowded
}

/// Label sets (method, status) remembered per route; more are recorded through the
/// store's map. A route usually sees one method and a handful of statuses.
const SLOTS: usize = 8;

/// What is remembered of one route; see the module docs.
#[derive(Debug)]
pub(crate) struct RouteCache {
    /// The route's matched path and its hash (`None`: unmatched). Holding the path
    /// keeps axum's `Arc<str>` alive, so a pointer comparison usually identifies the
    /// route.
    path: Option<(MatchedPath, u64)>,
    excluded: bool,
    /// Filled in order, under `fill`; a reader stops at the first empty slot.
    slots: [OnceLock<Arc<HttpSeries>>; SLOTS],
    fill: Mutex<()>,
}

impl RouteCache {
    pub(crate) fn new(path: Option<(MatchedPath, u64)>, excluded: bool) -> Self {
        Self {
            path,
            excluded,
            slots: Default::default(),
            fill: Mutex::new(()),
        }
    }

    /// The route template (`unmatched` for the entry of unmatched requests).
    pub(crate) fn path(&self) -> &str {
        self.path
            .as_ref()
            .map_or(UNMATCHED_PATH, |(p, _)| p.as_str())
    }

    /// Whether this is the entry of `path`, whose hash is `hash`.
    #[inline]
    fn is_for(&self, path: &MatchedPath, hash: u64) -> bool {
        self.path.as_ref().is_some_and(|(p, h)| {
            std::ptr::eq(p.as_str(), path.as_str()) || (*h == hash && p.as_str() == path.as_str())
        })
    }

    /// Whether the route's requests are not recorded.
    #[inline]
    pub(crate) fn excluded(&self) -> bool {
        self.excluded
    }

    fn path_label(&self) -> &str {
        self.path
            .as_ref()
            .map_or(UNMATCHED_PATH, |(p, _)| p.as_str())
    }

    /// Records one request of this route.
    #[inline]
    pub(crate) fn record(&self, store: &HttpStore, method: MethodLabel, status: u16, ns: u64) {
        for slot in &self.slots {
            match slot.get() {
                Some(s) if s.method == method && s.status == status => {
                    s.histogram.record_ns(ns);
                    return;
                }
                Some(_) => {}
                None => break,
            }
        }
        self.record_new(store, method, status, ns);
    }

    #[cold]
    fn record_new(&self, store: &HttpStore, method: MethodLabel, status: u16, ns: u64) {
        let path = self.path_label();
        if self.slots[SLOTS - 1].get().is_some() {
            store.record(method, path, status, ns);
            return;
        }
        // Past the cap the store counts the request under `overflow`; such label sets
        // are not remembered, so that every one of them is counted as overflowed.
        let Some(series) = store.series_for(method, path, status) else {
            store.record_overflow(method, status, ns);
            return;
        };
        series.histogram.record_ns(ns);
        let _fill = self.fill.lock().unwrap_or_else(PoisonError::into_inner);
        for slot in &self.slots {
            match slot.get() {
                Some(s) if Arc::ptr_eq(s, &series) => return,
                Some(_) => {}
                None => {
                    // Only writer: we hold `fill`, and the slot was empty.
                    let _ = slot.set(series);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::histogram::Buckets;

    fn count(store: &HttpStore, path: &str, status: u16) -> u64 {
        store
            .series()
            .iter()
            .filter(|s| &*s.path == path && s.status == status)
            .map(|s| s.histogram.snapshot().count())
            .sum()
    }

    #[test]
    fn records_every_label_set_exactly_beyond_the_slots() {
        let store = HttpStore::new(Buckets::http_default(), 1000);
        let cache = RouteCache::new(None, false);
        for round in 0..3 {
            for status in 200..220 {
                cache.record(&store, MethodLabel::Get, status, 1);
            }
            assert_eq!(count(&store, UNMATCHED_PATH, 200), round + 1);
            assert_eq!(count(&store, UNMATCHED_PATH, 219), round + 1);
        }
        assert_eq!(store.len(), 20);
        assert!(cache.slots.iter().all(|s| s.get().is_some()));
    }

    #[test]
    fn past_the_cap_every_request_counts_as_overflowed() {
        let store = HttpStore::new(Buckets::http_default(), 1);
        let cache = RouteCache::new(None, false);
        cache.record(&store, MethodLabel::Get, 200, 1);
        for _ in 0..5 {
            cache.record(&store, MethodLabel::Get, 500, 1);
        }
        assert_eq!(store.overflowed(), 5);
        assert_eq!(count(&store, crate::http::store::OVERFLOW_PATH, 500), 5);
        assert_eq!(count(&store, UNMATCHED_PATH, 200), 1);
    }
}
