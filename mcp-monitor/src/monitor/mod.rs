//! The monitor: what `install` returns and what every part hangs off.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::engine::{observe, Alert, AlertEngine, AlertStatus};
use crate::alerts::events::{AlertEvent, AlertSubscription, SUBSCRIPTION_CAPACITY};
use crate::alerts::notify::Notifier;
use crate::base::error::Error;
use crate::calls::registry::{registry, OpBuckets};
use crate::facade::{set_global, FacadeExporter, MonitorRecorder};
use crate::http::layer::HttpMetricsLayer;
use crate::http::store::HttpStore;
use crate::settings::Settings;
use crate::sources::caches::{CacheMonitor, CacheRegistry};
use crate::sources::pools::{PoolRegistry, PoolSample, PoolStats};
use crate::sources::resources::{ResourceSample, ResourceSampler};
use crate::summary::history::{History, Peaks, Point};
use crate::summary::store::{Snapshot, SummaryStore, View};

/// Reads the settings from the environment and installs the monitor: the global
/// `metrics` recorder, and the background tasks (summary upkeep, alert evaluation,
/// resource sampling, retention reset).
///
/// Call it once, early in `main`, inside the Tokio runtime.
///
/// # Errors
///
/// [`Error::InvalidSetting`] naming the first bad `MCP_*` variable, or
/// [`Error::AlreadyInstalled`] when a global recorder is already set.
pub fn install() -> Result<Monitor, Error> {
    Monitor::builder()
        .with_settings(Settings::from_env()?)
        .install()
}

/// A handle to the monitor. Cheap to clone; the background tasks stop when the last
/// clone is dropped.
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

/// Configures a [`Monitor`]; finish with [`build`](Self::build) or [`install`](Self::install).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MonitorBuilder {
    settings: Settings,
}

impl MonitorBuilder {
    /// Replaces every setting (for instance with [`Settings::from_env`]).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Changes settings in place: `.configure(|s| s.cpu_threshold = 0.9)`.
    pub fn configure(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.settings);
        self
    }

    /// Requires `Authorization: Bearer <token>` for `POST /api/v1/metrics/reset`.
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.settings.admin_token = Some(token.into());
        self
    }

    /// Requires `Authorization: Bearer <token>` to read `/metrics` and the JSON endpoints.
    pub fn with_metrics_token(mut self, token: impl Into<String>) -> Self {
        self.settings.metrics_token = Some(token.into());
        self
    }

    /// Sets the sliding window of rates, means and p95.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.settings.metrics_window = window;
        self
    }

    fn parts(self) -> Result<(MonitorRecorder, Monitor), Error> {
        crate::base::clock::init();
        let s = self.settings;
        s.validate()?;
        let existing = registry().set_buckets(OpBuckets {
            db: s.db_buckets.clone(),
            workflow: s.workflow_buckets.clone(),
        });
        if existing > 0 {
            tracing::debug!(
                series = existing,
                "monitored functions ran before the monitor was configured; their histograms keep the buckets they started with"
            );
        }
        let (recorder, facade) = FacadeExporter::build(&s.http_buckets)?;
        let http = Arc::new(HttpStore::new(s.http_buckets.clone(), s.http_max_series));
        let caches = CacheRegistry::default();
        let now = Instant::now();
        let summary = SummaryStore::new(s.metrics_window, Snapshot::take(&http, &caches, now));
        let notifier = Notifier::new(&s)?;
        let inner = Inner {
            events: tokio::sync::broadcast::channel(SUBSCRIPTION_CAPACITY).0,
            notifier,
            started: now,
            http,
            caches,
            pools: PoolRegistry::default(),
            facade,
            summary: Mutex::new(summary),
            history: Mutex::new(History::new(s.metrics_window)),
            alerts: Mutex::default(),
            samples: Mutex::default(),
            sampler: Mutex::new(None),
            excluded: crate::base::names::ROUTES
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            settings: s,
        };
        Ok((
            recorder,
            Monitor {
                inner: Arc::new(inner),
            },
        ))
    }

    /// Builds a monitor without touching the global `metrics` recorder and without
    /// starting background tasks (start them with [`Monitor::spawn_tasks`]). For tests,
    /// and for applications that install another recorder.
    ///
    /// # Errors
    ///
    /// [`Error::Exporter`] or [`Error::InvalidSetting`] if the configuration is refused.
    pub fn build(self) -> Result<Monitor, Error> {
        Ok(self.parts()?.1)
    }

    /// Builds the monitor, installs its recorder as the global `metrics` recorder and
    /// starts the background tasks (on the current Tokio runtime, or on a thread of
    /// their own when there is none).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInstalled`] if a global recorder is already set (a second
    /// install included); the configuration errors of [`build`](Self::build).
    pub fn install(self) -> Result<Monitor, Error> {
        let (recorder, monitor) = self.parts()?;
        set_global(recorder)?;
        monitor.spawn_tasks();
        Ok(monitor)
    }
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

    /// The HTTP middleware. Apply it with `Router::layer`, after the routes.
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
    /// that falls [`SUBSCRIPTION_CAPACITY`](crate::SUBSCRIPTION_CAPACITY) events
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
    /// trace (see [`trace`](crate::base::trace)), and on their counters the latest one of
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

    /// Starts the background tasks: summary upkeep, alert evaluation, resource sampling
    /// and the retention reset. [`MonitorBuilder::install`] calls it; call it yourself
    /// after [`MonitorBuilder::build`] if you want them. They run on the current Tokio
    /// runtime, or on a thread of their own when there is none, and stop when the last
    /// clone of the monitor is dropped.
    pub fn spawn_tasks(&self) {
        let weak = Arc::downgrade(&self.inner);
        let s = &self.inner.settings;
        let (resource, evaluation, retention) = (
            s.resource_interval,
            s.alert_evaluation_interval,
            s.metrics_retention,
        );
        let tick = self.lock_summary().tick_interval();
        let notifier_tasks = self
            .inner
            .notifier
            .as_ref()
            .and_then(Notifier::tasks)
            .unwrap_or_default();
        let tasks = async move {
            let mut jobs = vec![
                tokio::spawn(every(weak.clone(), tick, true, Monitor::tick)),
                tokio::spawn(sample_resources(weak.clone(), resource)),
                tokio::spawn(every(
                    weak.clone(),
                    evaluation,
                    true,
                    Monitor::evaluate_alerts,
                )),
            ];
            if let Some(retention) = retention {
                jobs.push(tokio::spawn(every(weak, retention, true, Monitor::reset)));
            }
            for task in notifier_tasks {
                jobs.push(tokio::spawn(task));
            }
            for j in jobs {
                let _ = j.await;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(tasks);
            }
            Err(_) => {
                let spawned = std::thread::Builder::new()
                    .name("mcp-monitor".into())
                    .spawn(move || {
                        match tokio::runtime::Builder::new_current_thread()
                            .enable_time()
                            .build()
                        {
                            Ok(rt) => rt.block_on(tasks),
                            Err(e) => {
                                tracing::error!(error = %e, "cannot start the monitor's runtime");
                            }
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start the monitor's thread");
                }
            }
        }
    }
}

/// Samples the resources every `period` while the monitor is alive. CPU use is a
/// difference between two readings, so the first sample (at start) has none; a second
/// one follows as soon as `sysinfo` can measure, so that CPU shows within a second of
/// start rather than after a whole period.
async fn sample_resources(weak: Weak<Inner>, period: Duration) {
    let Some(inner) = weak.upgrade() else { return };
    Monitor { inner }.sample_resources();
    let soon = sysinfo::MINIMUM_CPU_UPDATE_INTERVAL;
    if period > soon {
        tokio::time::sleep(soon).await;
        let Some(inner) = weak.upgrade() else { return };
        Monitor { inner }.sample_resources();
    }
    every(weak, period, true, Monitor::sample_resources).await;
}

/// Runs `f` every `period` while the monitor is alive.
async fn every(weak: Weak<Inner>, period: Duration, skip_first: bool, f: impl Fn(&Monitor)) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if skip_first {
        interval.tick().await;
    }
    loop {
        interval.tick().await;
        let Some(inner) = weak.upgrade() else { break };
        f(&Monitor { inner });
    }
}
