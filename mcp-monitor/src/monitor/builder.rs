//! `install()` and the builder that configures a [`Monitor`].

use super::{Inner, Monitor};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use tokio::time::Instant;

use crate::alerts::events::SUBSCRIPTION_CAPACITY;
use crate::alerts::notify::Notifier;
use crate::base::error::Error;
use crate::base::long_poll::LongPolls;
use crate::calls::registry::{registry, OpBuckets};
use crate::facade::{set_global, FacadeStore, MonitorRecorder};
use crate::http::store::HttpStore;
use crate::settings::Settings;
use crate::slo::burn::Tracker;
use crate::sources::caches::CacheSet;
use crate::sources::pools::PoolSet;
use crate::sources::resources::{ResourceSample, ResourceSource, Sampling};
use crate::summary::snapshot::Snapshot;
use crate::summary::Summary;

/// Reads the settings from the environment and installs the monitor: the global
/// `metrics` recorder, and the background tasks (summary upkeep, alert evaluation,
/// resource sampling, retention reset).
///
/// Call it once, early in `main`, inside the Tokio runtime.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), mcp_monitor::Error> {
///     let monitor = mcp_monitor::install()?;
///     // Every `metrics::counter!` of the application now lands on `/metrics` too.
///     metrics::counter!("signups_total").increment(1);
///     let app: axum::Router = monitor.instrument(axum::Router::new());
///     # let _ = app;
///     Ok(())
/// }
/// ```
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

/// Configures a [`Monitor`]; finish with [`build`](Self::build) or [`install`](Self::install).
///
/// Made by [`Monitor::builder`], from the default [`Settings`] (not the environment:
/// start from [`Settings::from_env`] with [`with_settings`](Self::with_settings) for
/// that).
///
/// ```
/// use std::time::Duration;
/// use mcp_monitor::Monitor;
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let monitor = Monitor::builder()
///     .configure(|s| {
///         s.cpu_threshold = 0.9;
///         s.alert_for = Duration::from_secs(30);
///     })
///     .with_window(Duration::from_secs(60))
///     .with_admin_token("s3cret-admin")
///     .build()?; // or .install()? to set the global `metrics` recorder too
/// assert_eq!(monitor.settings().cpu_threshold, 0.9);
///
/// // A token that no `Authorization` header could carry is refused.
/// let refused = Monitor::builder().with_metrics_token("two words").build();
/// assert!(matches!(refused, Err(mcp_monitor::Error::InvalidSetting { .. })));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MonitorBuilder {
    settings: Settings,
    resources: ResourceSource,
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

    /// Adds a service-level objective (as one item of `MCP_SLOS` would); see
    /// [`Objective`](crate::slo::Objective). It is checked with the other settings by
    /// [`build`](Self::build).
    pub fn with_objective(mut self, objective: crate::slo::Objective) -> Self {
        self.settings.slos.push(objective);
        self
    }

    /// Sets the sliding window of rates, means and p95.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.settings.metrics_window = window;
        self
    }

    /// Does not sample the machine: no `sysinfo` call is ever made, and CPU, memory,
    /// load and this process's figures are what
    /// [`Monitor::observe_resources`] feeds (none until then, so no resource alert can
    /// fire by itself). Connection pools are still sampled every `MCP_RESOURCE_INTERVAL`.
    ///
    /// For tests that set the resources themselves, whatever the machine's load, and
    /// for hosts where the figures come from elsewhere (a container runtime, a
    /// sandbox where reading `/proc` is unwanted).
    ///
    /// ```
    /// use mcp_monitor::{Monitor, ResourceSample};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_monitor::Error> {
    /// let monitor = Monitor::builder().without_resource_sampling().build()?;
    /// monitor.spawn_tasks();
    /// monitor.observe_resources(ResourceSample { cpu: Some(0.9), ..ResourceSample::default() });
    /// monitor.sample_resources(); // what the sampling task does: the fed sample stays
    /// assert_eq!(monitor.resources().cpu, Some(0.9));
    /// # Ok(()) }
    /// ```
    pub fn without_resource_sampling(mut self) -> Self {
        self.resources = ResourceSource::Fed;
        self
    }

    /// Takes every resource sample from `source` instead of `sysinfo`: called every
    /// `MCP_RESOURCE_INTERVAL` (and by [`Monitor::sample_resources`]), on the monitor's
    /// sampling task, so it should return quickly.
    ///
    /// ```
    /// use mcp_monitor::{Monitor, ResourceSample};
    ///
    /// # fn main() -> Result<(), mcp_monitor::Error> {
    /// let monitor = Monitor::builder()
    ///     .with_resource_source(|| ResourceSample {
    ///         memory: Some(0.42), // e.g. read from the container runtime
    ///         ..ResourceSample::default()
    ///     })
    ///     .build()?;
    /// monitor.sample_resources();
    /// assert_eq!(monitor.resources().memory, Some(0.42));
    /// # Ok(()) }
    /// ```
    pub fn with_resource_source(
        mut self,
        source: impl Fn() -> ResourceSample + Send + Sync + 'static,
    ) -> Self {
        self.resources = ResourceSource::Custom(Arc::new(source));
        self
    }

    fn parts(self) -> Result<(MonitorRecorder, Monitor), Error> {
        crate::base::clock::init();
        let s = self.settings;
        s.validate()?;
        let resources = self.resources;
        let schema = s.native_histogram_schema;
        let existing = registry().set_buckets(OpBuckets {
            db: s.db_buckets.clone().with_native_schema(schema),
            workflow: s.workflow_buckets.clone().with_native_schema(schema),
        });
        if existing > 0 {
            tracing::debug!(
                series = existing,
                "monitored functions ran before the monitor was configured; their histograms keep the buckets they started with"
            );
        }
        let facade = Arc::new(FacadeStore::new(
            s.metric_max_series,
            s.http_buckets.bounds(),
        ));
        let recorder = MonitorRecorder::new(facade.clone());
        // Macro sites count into the process-wide store, layers into the monitor's.
        crate::base::long_poll::global().set_threshold(s.long_poll_threshold);
        let long_polls = Arc::new(LongPolls::new(s.long_poll_threshold));
        let http = Arc::new(
            HttpStore::new(
                s.http_buckets.clone().with_native_schema(schema),
                s.http_max_series,
            )
            .with_long_polls(long_polls.clone()),
        );
        let grpc = Arc::new(
            crate::grpc::store::GrpcStore::new(s.http_buckets.clone().with_native_schema(schema))
                .with_long_polls(long_polls.clone()),
        );
        let caches = CacheSet::default();
        let now = Instant::now();
        let summary = Summary::new(
            s.metrics_window,
            Snapshot::take(&http, &caches, now).with_grpc(&grpc),
        );
        let notifier = Notifier::new(&s)?;
        #[cfg(feature = "otlp")]
        let otlp = match &s.otlp {
            Some(o) => Some(crate::otlp::Exporter::new(o, &s.instance)?),
            None => None,
        };
        #[cfg(not(feature = "otlp"))]
        if let Some(o) = &s.otlp {
            let endpoint = o.endpoint.as_str();
            crate::base::diagnostic::diagnostic!(endpoint = endpoint;
                "mcp-monitor is built without its feature `otlp`: no OTLP push to {endpoint}");
        }
        let inner = Inner {
            events: tokio::sync::broadcast::channel(SUBSCRIPTION_CAPACITY).0,
            notifier,
            started: now,
            http,
            grpc,
            caches,
            pools: PoolSet::default(),
            long_polls,
            facade,
            summary: Mutex::new(summary),
            alerts: Mutex::default(),
            samples: Mutex::default(),
            sampler: Mutex::new(Sampling::new(resources)),
            runtime: crate::sources::runtime::RuntimeWatch::default(),
            excluded: crate::base::names::ROUTES
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            slos: Mutex::new(Tracker::new(&s.slos, now)),
            #[cfg(feature = "otlp")]
            otlp,
            settings: s,
        };
        inner.runtime.watch_current();
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
    /// [`Error::InvalidSetting`] if the configuration is refused.
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
