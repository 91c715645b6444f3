//! The monitor: what `install` returns and what every part hangs off.

use std::sync::{Arc, Mutex, PoisonError};

use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::engine::{Alert, AlertEngine};
use crate::alerts::events::{AlertEvent, AlertSubscription};
use crate::alerts::notify::Notifier;
use crate::facade::FacadeExporter;
use crate::http::layer::HttpMetricsLayer;
use crate::http::store::HttpStore;
use crate::reading::{AlertsPart, Reading, Sources};
use crate::settings::Settings;
use crate::sources::caches::{CacheMonitor, CacheSet};
use crate::sources::pools::{PoolSample, PoolSet, PoolStats};
use crate::sources::resources::{ResourceSample, ResourceSampler};
use crate::summary::snapshot::{Origin, Snapshot};
use crate::summary::store::SummaryStore;
use crate::summary::Summary;

mod builder;
mod tasks;

pub use builder::{install, MonitorBuilder};

/// A handle to the monitor. Cheap to clone; the background tasks stop when the last
/// clone is dropped.
///
/// Made by [`install`](crate::install) (from the environment, as the global `metrics`
/// recorder, with its background tasks) or by [`Monitor::builder`]. It gives the HTTP
/// layer and the endpoints, the counters of caches, the registration of pools, the
/// alerts, and the expositions.
///
/// ```
/// use axum::{routing::get, Router};
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let monitor = mcp_monitor::Monitor::builder().build()?;
///
/// let users_cache = monitor.cache("users");
/// users_cache.miss();
///
/// // Your routes, the monitor's endpoints, and the HTTP layer over both.
/// let app: Router = monitor.instrument(Router::new().route("/", get(|| async { "hi" })));
/// # let _ = app;
///
/// assert!(monitor.render().contains("mcp_cache_misses_total"));
/// assert!(monitor.active_alerts().is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) settings: Settings,
    pub(crate) started: Instant,
    pub(crate) http: Arc<HttpStore>,
    pub(crate) caches: CacheSet,
    pools: PoolSet,
    facade: FacadeExporter,
    summary: Mutex<Summary>,
    alerts: Mutex<AlertEngine>,
    samples: Mutex<(ResourceSample, Vec<PoolSample>)>,
    sampler: Mutex<Option<ResourceSampler>>,
    excluded: Vec<String>,
    events: tokio::sync::broadcast::Sender<AlertEvent>,
    notifier: Option<Notifier>,
}

impl Monitor {
    /// Starts configuring a monitor from the default settings.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The HTTP middleware. Apply it with `Router::layer`, after the routes (or let
    /// [`instrument`](Self::instrument) do it); see [`HttpMetricsLayer`] for what it
    /// records.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    ///
    /// # fn main() -> Result<(), mcp_monitor::Error> {
    /// let monitor = mcp_monitor::Monitor::builder().build()?;
    /// let app: Router = Router::new()
    ///     .route("/users/{id}", get(|| async { "a user" }))
    ///     .merge(monitor.router())
    ///     .layer(monitor.layer()); // last, so that it wraps every route above
    /// # let _ = app;
    /// # Ok(()) }
    /// ```
    pub fn layer(&self) -> HttpMetricsLayer {
        HttpMetricsLayer::new(self.inner.http.clone(), self.inner.excluded.clone())
    }

    /// The hit and miss counters of the cache called `name`.
    pub fn cache(&self, name: &str) -> CacheMonitor {
        self.inner.caches.get(name)
    }

    /// Reports the connection pool `pool` as `name` (sampled with the resources).
    pub fn register_pool(&self, name: &str, pool: impl PoolStats) {
        self.inner.pools.register(name, Arc::new(pool));
    }

    /// Feeds a resource sample, as the sampling task does every `MCP_RESOURCE_INTERVAL`.
    pub fn observe_resources(&self, sample: ResourceSample) {
        self.lock_samples().0 = sample;
    }

    /// The latest resource sample.
    pub fn resources(&self) -> ResourceSample {
        self.lock_samples().0.clone()
    }

    /// Samples the machine, this process and the registered pools now.
    pub fn sample_resources(&self) {
        let sample = {
            let mut sampler = self
                .inner
                .sampler
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sampler.get_or_insert_with(ResourceSampler::new).sample()
        };
        let pools = self.inner.pools.sample();
        *self.lock_samples() = (sample, pools);
    }

    fn lock_samples(&self) -> std::sync::MutexGuard<'_, (ResourceSample, Vec<PoolSample>)> {
        self.inner
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest resource and pool samples, taken under one lock.
    fn samples(&self) -> (ResourceSample, Vec<PoolSample>) {
        let (resources, pools) = self.lock_samples().clone();
        if pools.is_empty() {
            // Not sampled yet: read the pools directly (cheap: a few atomics each).
            return (resources, self.inner.pools.sample());
        }
        (resources, pools)
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.inner.http, &self.inner.caches, Instant::now())
    }

    fn lock_summary(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.inner
            .summary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_alerts(&self) -> std::sync::MutexGuard<'_, AlertEngine> {
        self.inner
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads every value of the monitor now: the Prometheus text, the JSON documents
    /// and the alert observations are computed from one [`Reading`], and so can
    /// application code and tests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    /// monitor.cache("sessions").hit();
    /// assert_eq!(monitor.read().cache("sessions"), (1, 0));
    /// # }
    /// ```
    pub fn read(&self) -> Reading {
        self.read_with(false, |s, at| s.window_start(at))
    }

    /// A reading whose window starts at `window` (of the summary store, at the
    /// reading's moment), with the exemplars if `exemplars`.
    pub(crate) fn read_with(
        &self,
        exemplars: bool,
        window: impl FnOnce(&SummaryStore, Instant) -> Origin,
    ) -> Reading {
        let current = self.snapshot();
        let (reset, window, tick_interval, history) = {
            let summary = self.lock_summary();
            let (store, h) = (&summary.store, &summary.history);
            (
                store.since_reset(),
                window(store, current.at),
                store.tick_interval(),
                (h.points(), h.peaks()),
            )
        };
        let alerts = {
            let engine = self.lock_alerts();
            AlertsPart {
                statuses: engine.statuses(),
                active: engine.active(),
                history: engine.history(),
                notifier: self.inner.notifier.as_ref().map(Notifier::counts),
            }
        };
        let (resources, pools) = self.samples();
        Reading::take(Sources {
            started: self.inner.started,
            current,
            reset,
            window,
            http: &self.inner.http,
            caches: &self.inner.caches,
            exemplars,
            resources,
            pools,
            alerts,
            history,
            tick_interval,
        })
    }

    /// Takes a summary snapshot (the upkeep task does this every window / 10), and adds
    /// what happened since the previous one to the history the page draws.
    pub fn tick(&self) {
        let interval = self.read_with(false, |s, _| s.last_tick());
        let at = interval.at();
        let point = interval.point();
        let current = Arc::unwrap_or_clone(interval.current);
        self.lock_summary().tick(current, at, point);
        self.inner.facade.run_upkeep();
    }

    /// The HTTP series store (tests record known durations into it).
    #[cfg(test)]
    pub(crate) fn http_store(&self) -> &Arc<HttpStore> {
        &self.inner.http
    }

    /// Runs the facade exporter's upkeep (histogram upkeep of the application's own
    /// metrics), as every render does.
    pub(crate) fn facade(&self) -> &FacadeExporter {
        &self.inner.facade
    }

    /// Evaluates every alert rule now (the evaluation task does this every
    /// `MCP_ALERT_EVALUATION_INTERVAL`).
    pub fn evaluate_alerts(&self) {
        let observations = self
            .read()
            .observations(self.inner.settings.alert_min_samples);
        let events =
            self.lock_alerts()
                .evaluate(&observations, &self.inner.settings, Instant::now());
        self.dispatch(&events);
    }

    /// Hands alert events to the subscribers and the notifier, without waiting.
    fn dispatch(&self, events: &[AlertEvent]) {
        for e in events {
            // No subscriber is not an error.
            let _ = self.inner.events.send(e.clone());
            if let Some(n) = &self.inner.notifier {
                n.offer(e);
            }
        }
    }

    /// Subscribes to alert events: every alert that fires, escalates, de-escalates or
    /// resolves from now on (a reset resolves every firing alert), to forward them
    /// to a channel of your own. The evaluation loop never waits for a subscriber; one
    /// that falls [`SUBSCRIPTION_CAPACITY`](crate::alerts::SUBSCRIPTION_CAPACITY) events
    /// behind skips the oldest.
    ///
    /// ```no_run
    /// # async fn run(monitor: mcp_monitor::Monitor) {
    /// let mut events = monitor.subscribe_alerts();
    /// tokio::spawn(async move {
    ///     while let Some(e) = events.recv().await {
    ///         // e.g. post to a chat webhook
    ///         println!("{} {} {} on {}", e.kind.as_str(), e.alert.kind, e.alert.severity.as_str(), e.instance);
    ///     }
    /// });
    /// # }
    /// ```
    pub fn subscribe_alerts(&self) -> AlertSubscription {
        AlertSubscription::new(self.inner.events.subscribe())
    }

    /// Firing alerts.
    pub fn active_alerts(&self) -> Vec<Alert> {
        self.lock_alerts().active()
    }

    /// Alerts that fired since the last reset, oldest first.
    pub fn alert_history(&self) -> Vec<Alert> {
        self.lock_alerts().history()
    }

    /// Resets the summary store (counts, failures and latencies that the JSON endpoints
    /// and alerts read), the active alerts and the alert history. Firing alerts are
    /// resolved first (logged, sent to Alertmanager and to subscribers). The
    /// Prometheus series on `/metrics` are not reset: counters stay monotonic, as
    /// Prometheus requires.
    pub fn reset(&self) {
        let current = self.snapshot();
        self.lock_summary().reset(current);
        let events = self.lock_alerts().reset(&self.inner.settings.instance);
        self.dispatch(&events);
        tracing::info!(
            instance = %self.inner.settings.instance,
            resolved_alerts = events.len(),
            "metrics summary and alerts reset"
        );
    }

    /// How long since the monitor was built.
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// How long since the last reset (or since the monitor was built).
    pub fn since_reset(&self) -> Duration {
        self.lock_summary().store.reset_at().elapsed()
    }
}
