//! The monitor: what `install` returns and what every part hangs off.

use std::sync::{Arc, Mutex, PoisonError};

use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::engine::{observe, Alert, AlertEngine, AlertStatus};
use crate::alerts::events::{AlertEvent, AlertSubscription};
use crate::alerts::notify::Notifier;
use crate::facade::FacadeExporter;
use crate::http::layer::HttpMetricsLayer;
use crate::http::store::HttpStore;
use crate::settings::Settings;
use crate::sources::caches::{CacheMonitor, CacheRegistry};
use crate::sources::pools::{PoolRegistry, PoolSample, PoolStats};
use crate::sources::resources::{ResourceSample, ResourceSampler};
use crate::summary::history::{History, Peaks, Point};
use crate::summary::store::{Snapshot, SummaryStore, View};

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
    pub(crate) caches: CacheRegistry,
    pools: PoolRegistry,
    facade: FacadeExporter,
    summary: Mutex<SummaryStore>,
    history: Mutex<History>,
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

    pub(crate) fn pool_samples(&self) -> Vec<PoolSample> {
        let pools = self.lock_samples().1.clone();
        if pools.is_empty() {
            // Not sampled yet: read the pools directly (cheap: a few atomics each).
            return self.inner.pools.sample();
        }
        pools
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.inner.http, &self.inner.caches, Instant::now())
    }

    fn lock_summary(&self) -> std::sync::MutexGuard<'_, SummaryStore> {
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

    /// The summary at this moment.
    pub(crate) fn view(&self) -> View {
        let current = self.snapshot();
        self.lock_summary()
            .view(&current, &self.inner.http, &self.inner.caches)
    }

    /// Takes a summary snapshot (the upkeep task does this every window / 10), and adds
    /// what happened since the previous one to the history the page draws.
    pub fn tick(&self) {
        let current = self.snapshot();
        let at = current.at;
        let interval = {
            let mut summary = self.lock_summary();
            let interval = summary.since_last_tick(&current, &self.inner.http, &self.inner.caches);
            summary.tick(current);
            interval
        };
        let resources = self.resources();
        let pools = self.pool_samples();
        let point = Point::new(
            &interval,
            &resources,
            &pools,
            chrono::Utc::now().timestamp_millis(),
        );
        self.lock_history().push(at, point);
        self.inner.facade.run_upkeep();
    }

    fn lock_history(&self) -> std::sync::MutexGuard<'_, History> {
        self.inner
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The history points over the window (oldest first) and the peaks since reset.
    pub(crate) fn history(&self) -> (Vec<Point>, Peaks) {
        let h = self.lock_history();
        (h.points(), h.peaks())
    }

    /// How often the summary ticks, which is the spacing of the history points.
    pub(crate) fn tick_interval(&self) -> Duration {
        self.lock_summary().tick_interval()
    }

    /// Evaluates every alert rule now (the evaluation task does this every
    /// `MCP_ALERT_EVALUATION_INTERVAL`).
    pub fn evaluate_alerts(&self) {
        let view = self.view();
        let (resources, _) = self.lock_samples().clone();
        let pools = self.pool_samples();
        let observations = observe(
            &view,
            &resources,
            &pools,
            self.inner.settings.alert_min_samples,
        );
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

    pub(crate) fn alert_statuses(&self) -> Vec<AlertStatus> {
        self.lock_alerts().statuses()
    }

    /// Resets the summary store (counts, failures and latencies that the JSON endpoints
    /// and alerts read), the active alerts and the alert history. Firing alerts are
    /// resolved first (logged, sent to Alertmanager and to subscribers). The
    /// Prometheus series on `/metrics` are not reset: counters stay monotonic, as
    /// Prometheus requires.
    pub fn reset(&self) {
        let current = self.snapshot();
        self.lock_summary().reset(current);
        self.lock_history().reset();
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
        self.lock_summary().reset_at().elapsed()
    }

    pub(crate) fn inner_http(&self) -> &HttpStore {
        &self.inner.http
    }

    pub(crate) fn inner_notifier(&self) -> Option<&Notifier> {
        self.inner.notifier.as_ref()
    }

    pub(crate) fn inner_caches(&self) -> &CacheRegistry {
        &self.inner.caches
    }

    /// The Prometheus text exposition (0.0.4) of every series.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        crate::output::prometheus::render_all(
            self,
            &mut out,
            crate::output::prometheus::Format::Text,
        );
        self.inner.facade.run_upkeep();
        self.inner.facade.render_into(&mut out);
        out
    }

    /// The OpenMetrics 1.0 text exposition of every series (the application's facade
    /// metrics included), with exemplars: on each bucket of the HTTP, db-operation,
    /// workflow-step and workflow-run histograms, the latest sample recorded in a
    /// trace (see [`trace`](crate::trace)), and on their counters the latest one of
    /// that label set. `GET /metrics` answers with it when the scraper asks for
    /// `application/openmetrics-text`, as Prometheus does.
    pub fn render_openmetrics(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        crate::output::prometheus::render_all(
            self,
            &mut text,
            crate::output::prometheus::Format::OpenMetrics,
        );
        self.inner.facade.run_upkeep();
        self.inner.facade.render_into(&mut text);
        let mut out = String::with_capacity(text.len() + 1024);
        crate::output::openmetrics::from_text(&text, &mut out);
        out
    }
}
