//! The monitor: what `install` returns and what every part hangs off.

use std::sync::{Arc, Mutex, PoisonError};

use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::engine::{Alert, AlertEngine, Observation};
use crate::alerts::events::{AlertEvent, AlertSubscription};
use crate::alerts::levels::AlertType;
use crate::alerts::notify::Notifier;
use crate::base::long_poll::LongPolls;
use crate::facade::FacadeStore;
use crate::http::layer::HttpMetricsLayer;
use crate::http::store::HttpStore;
use crate::reading::{AlertsPart, Reading, Sources};
use crate::settings::Settings;
use crate::slo::burn::Tracker;
use crate::sources::caches::{CacheMonitor, CacheSet};
use crate::sources::pools::{PoolSample, PoolSet, PoolStats};
use crate::sources::resources::{ResourceSample, Sampling};
use crate::sources::runtime::RuntimeWatch;
use crate::summary::snapshot::{Origin, Snapshot};
use crate::summary::store::SummaryStore;
use crate::summary::Summary;

// The read path end to end: recorded durations to the figures people read.
#[cfg(test)]
mod accuracy;
mod builder;
mod endpoints;
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
    pub(crate) grpc: Arc<crate::grpc::store::GrpcStore>,
    pub(crate) caches: CacheSet,
    pools: PoolSet,
    /// The long polls of the layers (`http`, `grpc`); the macro sites' are process-wide
    /// (`base::long_poll::global`).
    pub(crate) long_polls: Arc<LongPolls>,
    facade: Arc<FacadeStore>,
    summary: Mutex<Summary>,
    alerts: Mutex<AlertEngine>,
    samples: Mutex<(ResourceSample, Vec<PoolSample>)>,
    sampler: Mutex<Sampling>,
    runtime: RuntimeWatch,
    excluded: Vec<String>,
    events: tokio::sync::broadcast::Sender<AlertEvent>,
    notifier: Option<Notifier>,
    /// The objectives' burn-rate rings (`slo::burn`).
    slos: Mutex<Tracker>,
    /// The OTLP push, when `OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT` is set.
    #[cfg(feature = "otlp")]
    otlp: Option<Arc<crate::otlp::Exporter>>,
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

    /// The gRPC middleware recording into this monitor, for a tonic server
    /// (`Server::builder().layer(…)`) or any tower service carrying gRPC. Tell it the
    /// methods the server serves with
    /// [`GrpcMetricsLayer::service`](crate::grpc::GrpcMetricsLayer::service); calls to
    /// any other method share one `unknown` series. See [`crate::grpc`].
    ///
    /// ```
    /// # fn main() -> Result<(), mcp_monitor::Error> {
    /// let monitor = mcp_monitor::Monitor::builder().build()?;
    /// let layer = monitor
    ///     .grpc_layer()
    ///     .service("demo.users.v1.Users", &["GetUser", "ListUsers"]);
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub fn grpc_layer(&self) -> crate::grpc::GrpcMetricsLayer {
        crate::grpc::GrpcMetricsLayer::new(self.inner.grpc.clone())
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

    /// Samples the machine, this process and the registered pools now. With
    /// [`without_resource_sampling`](crate::MonitorBuilder::without_resource_sampling),
    /// only the pools: the resources stay what
    /// [`observe_resources`](Self::observe_resources) fed; with
    /// [`with_resource_source`](crate::MonitorBuilder::with_resource_source), the
    /// resources are what the source gives.
    pub fn sample_resources(&self) {
        let sample = self.lock_sampler().sample();
        let pools = self.inner.pools.sample();
        let mut samples = self.lock_samples();
        if let Some(sample) = sample {
            samples.0 = sample;
        }
        samples.1 = pools;
        drop(samples);
        self.inner
            .runtime
            .mark(Instant::now(), self.inner.settings.metrics_window);
    }

    /// A `metrics` recorder that records into this monitor, for
    /// `metrics::with_local_recorder` (tests, or a monitor that is not the global
    /// recorder): what the application records through it appears in
    /// [`Reading::metrics`] and on `/metrics`, behind the same cardinality firewall.
    pub fn recorder(&self) -> impl metrics::Recorder + Send + Sync + 'static {
        crate::facade::MonitorRecorder::new(self.inner.facade.clone())
    }

    /// Watches `handle`'s Tokio runtime for `mcp_runtime_*`, the reading, the JSON
    /// documents and the page. The monitor watches the runtime it is built or started
    /// on by itself ([`MonitorBuilder::build`], [`spawn_tasks`](Self::spawn_tasks));
    /// call this when it is built outside the application's runtime. The first runtime
    /// watched stays: a later call changes nothing.
    ///
    /// ```
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    /// assert!(monitor.read().runtime().is_none()); // built outside a runtime
    /// monitor.watch_runtime(rt.handle().clone());
    /// assert!(monitor.read().runtime().unwrap().now.workers >= 1);
    /// ```
    pub fn watch_runtime(&self, handle: tokio::runtime::Handle) {
        self.inner.runtime.watch(handle);
    }

    fn lock_sampler(&self) -> std::sync::MutexGuard<'_, Sampling> {
        self.inner
            .sampler
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
            .with_grpc(&self.inner.grpc)
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
        let runtime = self
            .inner
            .runtime
            .read(current.at, self.inner.settings.metrics_window);
        let metrics = self.inner.facade.read();
        let mut long_polls = crate::base::long_poll::global().read();
        long_polls.extend(self.inner.long_polls.read());
        let slos = self.lock_slos().statuses();
        Reading::take(Sources {
            started: self.inner.started,
            current,
            reset,
            window,
            http: &self.inner.http,
            grpc: &self.inner.grpc,
            caches: &self.inner.caches,
            exemplars,
            resources,
            pools,
            runtime,
            metrics,
            long_polls,
            alerts,
            history,
            tick_interval,
            slos,
            #[cfg(feature = "otlp")]
            otlp: self.inner.otlp.as_ref().map(|e| e.counts()),
            #[cfg(not(feature = "otlp"))]
            otlp: None,
        })
    }

    fn lock_slos(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.inner
            .slos
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a summary snapshot (the upkeep task does this every window / 10), and adds
    /// what happened since the previous one to the history the page draws.
    pub fn tick(&self) {
        let interval = self.read_with(false, |s, _| s.last_tick());
        let at = interval.at();
        let point = interval.point();
        let current = Arc::unwrap_or_clone(interval.current);
        self.lock_summary().tick(current, at, point);
    }

    /// Notes a scrape of `/metrics`, for the diagnostic of a layer that sees no
    /// request ([`LayerWatch`](crate::http::watch::LayerWatch)).
    pub(crate) fn note_scrape(&self) {
        self.inner.http.watch.scraped();
    }

    /// Counts a refused token check of a request to the route `path`
    /// (`mcp_http_auth_failures_total{path,reason}`).
    pub(crate) fn note_auth_failure(&self, path: &str, reason: &'static str) {
        self.inner.http.auth_failures.add(path, reason);
    }

    /// The HTTP series store (tests record known durations into it).
    #[cfg(test)]
    pub(crate) fn http_store(&self) -> &Arc<HttpStore> {
        &self.inner.http
    }

    /// The gRPC series store (tests record known calls into it).
    #[cfg(test)]
    pub(crate) fn grpc_store(&self) -> &Arc<crate::grpc::store::GrpcStore> {
        &self.inner.grpc
    }

    /// Evaluates every alert rule now (the evaluation task does this every
    /// `MCP_ALERT_EVALUATION_INTERVAL`).
    pub fn evaluate_alerts(&self) {
        let reading = self.read();
        let mut observations = reading.observations(self.inner.settings.alert_min_samples);
        observations.extend(self.slo_observations(&reading));
        let events = {
            let mut engine = self.lock_alerts();
            let events = engine.evaluate(&observations, &self.inner.settings, Instant::now());
            self.notify(&events, &engine);
            events
        };
        self.dispatch(&events);
        let statuses = self.lock_alerts().statuses();
        self.lock_slos().set_burning(|slo| {
            let component = format!("slo:{slo}");
            statuses
                .iter()
                .filter(|s| s.kind.is_slo() && s.component == component)
                .map(|s| s.kind.as_str())
                .collect()
        });
    }

    /// Feeds the objectives' counts of `reading` to their rings; the burn-rate
    /// observations of this evaluation (a value above 1 fires).
    fn slo_observations(&self, reading: &Reading) -> Vec<Observation> {
        let s = &self.inner.settings;
        if s.slos.is_empty() {
            return Vec::new();
        }
        let counts: Vec<_> = s.slos.iter().map(|o| reading.slo_counts(o)).collect();
        let burns = self
            .lock_slos()
            .observe(reading.at(), &counts, s.alert_min_samples);
        let mut out = Vec::new();
        for (o, b) in s.slos.iter().zip(burns) {
            for (kind, value) in [
                (AlertType::SloBurnRateFast, b.fast),
                (AlertType::SloBurnRateSlow, b.slow),
            ] {
                if let Some(value) = value.filter(|v| v.is_finite()) {
                    out.push(Observation {
                        kind,
                        component: format!("slo:{}", o.name),
                        value,
                    });
                }
            }
        }
        out
    }

    /// Hands alert events to the subscribers, without waiting.
    fn dispatch(&self, events: &[AlertEvent]) {
        for e in events {
            // No subscriber is not an error.
            let _ = self.inner.events.send(e.clone());
        }
    }

    /// Hands the notifier the events, then the firing alerts after them (the state it
    /// sends from, which heals a lost event), without waiting. Called under the
    /// engine's lock, so that events and states reach it in order.
    fn notify(&self, events: &[AlertEvent], engine: &AlertEngine) {
        if let Some(n) = &self.inner.notifier {
            for e in events {
                n.offer(e);
            }
            n.observe(engine.firing());
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
        let events = {
            let mut engine = self.lock_alerts();
            let events = engine.reset(&self.inner.settings.instance);
            self.notify(&events, &engine);
            events
        };
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
