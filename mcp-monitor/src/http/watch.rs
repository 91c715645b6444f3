//! Whether the HTTP layer sees the application's routes: kept by the store, set by the
//! layers, read on every scrape of `/metrics`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// Whether any layer of a store has seen a request that matched a route, for the
/// diagnostic of a layer added before the routes (axum applies `Router::layer` only to
/// the routes added before it, so such a layer sees no routed request, and records
/// nothing, without any error).
#[derive(Debug, Default)]
pub(crate) struct LayerWatch {
    /// A layer was made.
    made: AtomicBool,
    /// A layer saw a request that matched a route.
    routed: AtomicBool,
    /// Scrapes of `/metrics` while layers exist and none has seen a routed request.
    unseen_scrapes: AtomicU32,
    /// Whether the diagnostic was given.
    warned: AtomicBool,
}

/// Scrapes of `/metrics`, with no layer seeing a routed request, after which the
/// diagnostic is given: the scrape itself passes through a layer over the monitor's
/// routes ([`Monitor::instrument`](crate::Monitor::instrument)), and a layer over the
/// application's routes only sees them soon enough.
const UNSEEN_SCRAPES: u32 = 3;

impl LayerWatch {
    /// A layer over the store was made.
    pub(crate) fn made(&self) {
        self.made.store(true, Relaxed);
    }

    /// A routed request reached a layer (one relaxed load per request once set).
    #[inline]
    pub(crate) fn routed(&self) {
        if !self.routed.load(Relaxed) {
            self.routed.store(true, Relaxed);
        }
    }

    /// Called on every scrape of `/metrics`: says once, naming the fix, when a layer
    /// exists but has seen no routed request, not even the scrapes.
    pub(crate) fn scraped(&self) {
        if !self.made.load(Relaxed) || self.routed.load(Relaxed) || self.warned.load(Relaxed) {
            return;
        }
        let scrapes = self.unseen_scrapes.fetch_add(1, Relaxed) + 1;
        if scrapes >= UNSEEN_SCRAPES && !self.warned.swap(true, Relaxed) {
            warn_unseen_layer(scrapes);
        }
    }
}

#[cold]
fn warn_unseen_layer(scrapes: u32) {
    crate::base::diagnostic::diagnostic!(scrapes = scrapes;
        "/metrics was scraped {scrapes} times, but the monitor's HTTP layer has not seen one \
         request of a route, so no request is recorded: it was probably added with \
         `Router::layer` before the routes (axum layers only the routes added before it). \
         Fix: serve `monitor.instrument(app)`, which adds the monitor's routes and the \
         layer last, or call `.layer(monitor.layer())` after every route");
}
