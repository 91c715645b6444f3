//! Our `metrics` recorder and the Prometheus text it renders.
//!
//! The `mcp_` series recorded by the macros do not go through the `metrics` facade at
//! all: they live in call-site atomics ([`crate::calls::registry`]). This recorder is for
//! everything else the application records with `metrics::counter!` and friends; it
//! delegates to `metrics-exporter-prometheus` configured so that every histogram is a
//! real bucketed histogram, never a summary. `/metrics` is both, concatenated.

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::base::error::Error;
use crate::base::histogram::Buckets;
use crate::calls::forward::set_own_recorder_installed;

/// The recorder [`install`](crate::install) sets as the global `metrics` recorder.
#[derive(Debug)]
pub(crate) struct MonitorRecorder {
    inner: PrometheusRecorder,
}

impl Recorder for MonitorRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.inner.register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.inner.register_histogram(key, metadata)
    }
}

/// Renders the application's own `metrics` facade series.
#[derive(Debug, Clone)]
pub(crate) struct FacadeExporter {
    handle: Arc<PrometheusHandle>,
}

impl FacadeExporter {
    /// Builds the recorder and its handle; `buckets` apply to every facade histogram.
    pub(crate) fn build(buckets: &Buckets) -> Result<(MonitorRecorder, Self), Error> {
        let recorder = PrometheusBuilder::new()
            .set_buckets(buckets.bounds())
            .map_err(Error::Exporter)?
            .build_recorder();
        let handle = recorder.handle();
        Ok((
            MonitorRecorder { inner: recorder },
            Self {
                handle: Arc::new(handle),
            },
        ))
    }

    /// Appends the facade series to `out`.
    pub(crate) fn render_into(&self, out: &mut String) {
        let text = self.handle.render();
        if !text.is_empty() {
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }

    /// Drains the exporter's pending histogram samples (call periodically).
    pub(crate) fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// Sets `recorder` as the global `metrics` recorder.
pub(crate) fn set_global(recorder: MonitorRecorder) -> Result<(), Error> {
    metrics::set_global_recorder(recorder).map_err(|_| Error::AlreadyInstalled)?;
    set_own_recorder_installed();
    Ok(())
}
