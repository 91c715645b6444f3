//! The monitor: what `install` returns and what every part hangs off.

use std::sync::Arc;

use crate::error::Error;
use crate::exporter::{set_global, FacadeExporter, MonitorRecorder};
use crate::histogram::Buckets;
use crate::registry::{registry, OpBuckets};
use crate::render::render_ops;

/// A handle to the installed (or built) monitor. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    facade: FacadeExporter,
}

/// Configures a [`Monitor`]; finish with [`build`](Self::build) or [`install`](Self::install).
#[derive(Debug, Clone)]
#[must_use]
pub struct MonitorBuilder {
    http_buckets: Buckets,
    op_buckets: OpBuckets,
}

impl Default for MonitorBuilder {
    fn default() -> Self {
        Self {
            http_buckets: Buckets::http_default(),
            op_buckets: OpBuckets::default(),
        }
    }
}

impl MonitorBuilder {
    /// Buckets of `mcp_http_request_duration_seconds` (and of the application's own
    /// `metrics` histograms).
    pub fn with_http_buckets(mut self, buckets: Buckets) -> Self {
        self.http_buckets = buckets;
        self
    }

    /// Buckets of `mcp_db_operation_duration_seconds`.
    pub fn with_db_buckets(mut self, buckets: Buckets) -> Self {
        self.op_buckets.db = buckets;
        self
    }

    /// Buckets of the workflow step and run duration histograms.
    pub fn with_workflow_buckets(mut self, buckets: Buckets) -> Self {
        self.op_buckets.workflow = buckets;
        self
    }

    fn parts(self) -> Result<(MonitorRecorder, Monitor), Error> {
        let existing = registry().set_buckets(self.op_buckets);
        if existing > 0 {
            tracing::warn!(
                series = existing,
                "monitored functions ran before the monitor was configured; their histograms keep the default buckets"
            );
        }
        let (recorder, facade) = FacadeExporter::build(&self.http_buckets)?;
        let monitor = Monitor {
            inner: Arc::new(Inner { facade }),
        };
        Ok((recorder, monitor))
    }

    /// Builds a monitor without touching the global `metrics` recorder (for tests, or
    /// for applications that install another recorder).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Exporter`] if the exporter refuses the configuration.
    pub fn build(self) -> Result<Monitor, Error> {
        Ok(self.parts()?.1)
    }

    /// Builds the monitor and installs its recorder as the global `metrics` recorder.
    ///
    /// # Errors
    ///
    /// Returns [`Error::AlreadyInstalled`] if a global recorder is already set.
    pub fn install(self) -> Result<Monitor, Error> {
        let (recorder, monitor) = self.parts()?;
        set_global(recorder)?;
        Ok(monitor)
    }
}

impl Monitor {
    /// Starts configuring a monitor.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        render_ops(&mut out);
        self.inner.facade.run_upkeep();
        self.inner.facade.render_into(&mut out);
        out
    }
}
