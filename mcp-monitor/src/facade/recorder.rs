//! The recorder [`install`](crate::install) sets as the global `metrics` recorder.

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use crate::base::error::Error;
use crate::calls::forward::set_own_recorder_installed;
use crate::facade::store::FacadeStore;

/// Records the application's `metrics` series into the monitor's [`FacadeStore`].
#[derive(Debug)]
pub(crate) struct MonitorRecorder {
    store: Arc<FacadeStore>,
}

impl MonitorRecorder {
    pub(crate) fn new(store: Arc<FacadeStore>) -> Self {
        Self { store }
    }
}

impl Recorder for MonitorRecorder {
    fn describe_counter(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.store.describe(key.as_str(), &description);
    }
    fn describe_gauge(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.store.describe(key.as_str(), &description);
    }
    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.store.describe(key.as_str(), &description);
    }
    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        self.store.counter(key)
    }
    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        self.store.gauge(key)
    }
    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        self.store.histogram(key)
    }
}

/// Sets `recorder` as the global `metrics` recorder.
pub(crate) fn set_global(recorder: MonitorRecorder) -> Result<(), Error> {
    metrics::set_global_recorder(recorder).map_err(|_| Error::AlreadyInstalled)?;
    set_own_recorder_installed();
    Ok(())
}
