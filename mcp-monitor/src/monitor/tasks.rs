//! The background tasks: summary upkeep, resource sampling, alert evaluation, the
//! retention reset and the OTLP export, each holding the monitor weakly.

use super::{Inner, Monitor};
use std::sync::{Arc, Weak};

use std::time::Duration;

use crate::alerts::notify::Notifier;

impl Monitor {
    /// Starts the background tasks: summary upkeep, alert evaluation, resource sampling
    /// and the retention reset. [`MonitorBuilder::install`](crate::MonitorBuilder::install)
    /// calls it; call it yourself after [`MonitorBuilder::build`](crate::MonitorBuilder::build)
    /// if you want them. They run on the current Tokio runtime, or on a thread of their
    /// own when there is none, and stop when the last clone of the monitor is dropped.
    pub fn spawn_tasks(&self) {
        self.inner.runtime.watch_current();
        let weak = Arc::downgrade(&self.inner);
        let s = &self.inner.settings;
        let (resource, evaluation, retention) = (
            s.resource_interval,
            s.alert_evaluation_interval,
            s.metrics_retention,
        );
        let tick = self.lock_summary().store.tick_interval();
        let notifier_tasks = self
            .inner
            .notifier
            .as_ref()
            .and_then(Notifier::tasks)
            .unwrap_or_default();
        #[cfg(feature = "otlp")]
        let (otlp, otlp_weak) = (
            self.inner
                .otlp
                .as_ref()
                .and_then(|e| Some((e.interval(), e.sender()?))),
            weak.clone(),
        );
        let tasks = async move {
            let mut jobs = vec![
                tokio::spawn(ticks(weak.clone(), tick)),
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
            #[cfg(feature = "otlp")]
            if let Some((interval, sender)) = otlp {
                jobs.push(tokio::spawn(sender));
                jobs.push(tokio::spawn(every(
                    otlp_weak,
                    interval,
                    true,
                    Monitor::export_otlp,
                )));
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

impl Monitor {
    /// Takes a reading and queues its OTLP export (the export task does this every
    /// `OTEL_METRIC_EXPORT_INTERVAL`).
    #[cfg(feature = "otlp")]
    pub(crate) fn export_otlp(&self) {
        if let Some(e) = &self.inner.otlp {
            e.export(&self.read(), self.settings());
        }
    }

    /// The OTLP/HTTP request body the push would send now, with cumulative temporality:
    /// an `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest` of every
    /// series (the application's facade metrics included), as protobuf bytes. For
    /// an application that sends it itself (`POST` it with
    /// `Content-Type: application/x-protobuf`); the resource is the one of the OTLP
    /// settings (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), or the defaults
    /// when there are none.
    ///
    /// ```
    /// let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    /// let body = monitor.otlp_request();
    /// assert!(!body.is_empty());
    /// ```
    #[cfg(feature = "otlp")]
    pub fn otlp_request(&self) -> Vec<u8> {
        use prost::Message as _;
        let s = self.settings();
        let mut otlp = s
            .otlp
            .clone()
            .unwrap_or_else(|| crate::settings::OtlpSettings::new(""));
        otlp.temporality = crate::settings::Temporality::Cumulative;
        crate::otlp::encode::RequestEncoder::new(&otlp, &s.instance)
            .encode(&self.read(), s)
            .encode_to_vec()
    }
}

/// Samples the resources every `period` while the monitor is alive. CPU use is a
/// difference between two readings, so the first sample (at start) has none; a second
/// one follows as soon as `sysinfo` can measure, so that CPU shows within a second of
/// start rather than after a whole period.
async fn sample_resources(weak: Weak<Inner>, period: Duration) {
    let Some(inner) = weak.upgrade() else { return };
    let monitor = Monitor { inner };
    monitor.sample_resources();
    let system = monitor.lock_sampler().is_system();
    drop(monitor);
    let soon = sysinfo::MINIMUM_CPU_UPDATE_INTERVAL;
    if system && period > soon {
        tokio::time::sleep(soon).await;
        let Some(inner) = weak.upgrade() else { return };
        Monitor { inner }.sample_resources();
    }
    every(weak, period, true, Monitor::sample_resources).await;
}

/// How soon after start the history has its first point (the page draws the window at
/// once rather than after a whole tick interval, `MCP_METRICS_WINDOW` / 10).
const FIRST_POINT: Duration = Duration::from_secs(2);

/// The summary upkeep: a first tick [`FIRST_POINT`] after start, then one every
/// `period` from there (the ticks keep their spacing; only their phase moves).
async fn ticks(weak: Weak<Inner>, period: Duration) {
    let first = FIRST_POINT.min(period);
    tokio::time::sleep(first).await;
    let Some(inner) = weak.upgrade() else { return };
    Monitor { inner }.tick();
    every(weak, period, true, Monitor::tick).await;
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
