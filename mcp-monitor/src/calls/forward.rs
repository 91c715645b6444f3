//! Forwarding to a `metrics` recorder that is not ours.
//!
//! When the application installed its own recorder (a `metrics-exporter-prometheus`
//! one, a StatsD bridge, a test's `DebuggingRecorder`) instead of ours, each call site
//! also records through the `metrics` facade so that the `mcp_` series reach it. The
//! handles are cached per call site together with the address of the recorder they
//! came from; a different recorder (installed after the first call, or a thread-local
//! one) is noticed on the next call and the handles are registered again. When our
//! own recorder is installed none of this runs: the call sites' atomics are what it
//! exports.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock};

use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder};

use crate::base::names::OpKind;
use crate::base::names::{op_names, ACTIVE_WORKFLOWS};
use crate::calls::outcome::Status;

static OWN_RECORDER_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Marks our recorder as the global `metrics` recorder: forwarding stops.
pub(crate) fn set_own_recorder_installed() {
    OWN_RECORDER_INSTALLED.store(true, Relaxed);
}

/// Whether call sites must forward to the current `metrics` recorder.
#[inline]
pub(crate) fn forwarding() -> bool {
    !OWN_RECORDER_INSTALLED.load(Relaxed)
}

struct Handles {
    recorder: usize,
    statuses: [Counter; 3],
    duration: Histogram,
    active: Gauge,
}

/// A call site's cached facade handles.
pub(crate) struct Forward {
    cache: RwLock<Option<Handles>>,
}

fn current_recorder() -> usize {
    metrics::with_recorder(|r| (r as *const dyn Recorder).cast::<()>() as usize)
}

static META: metrics::Metadata<'static> =
    metrics::Metadata::new("mcp_monitor", metrics::Level::INFO, Some("mcp_monitor"));

impl Forward {
    pub(crate) const fn new() -> Self {
        Self {
            cache: RwLock::new(None),
        }
    }

    fn with<T>(&self, kind: OpKind, labels: [&'static str; 2], f: impl Fn(&Handles) -> T) -> T {
        let recorder = current_recorder();
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(h) = cache.as_ref().filter(|h| h.recorder == recorder) {
                return f(h);
            }
        }
        let handles = metrics::with_recorder(|r| register(r, recorder, kind, labels));
        let out = f(&handles);
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Some(handles);
        out
    }

    /// Forwards one finished call.
    pub(crate) fn record(
        &self,
        kind: OpKind,
        labels: [&'static str; 2],
        status: Status,
        secs: f64,
    ) {
        self.with(kind, labels, |h| {
            h.statuses[status as usize].increment(1);
            h.duration.record(secs);
        });
    }

    /// Forwards a change of the active-workflows gauge.
    pub(crate) fn active(&self, kind: OpKind, labels: [&'static str; 2], delta: f64) {
        self.with(kind, labels, |h| h.active.increment(delta));
    }
}

fn register(r: &dyn Recorder, recorder: usize, kind: OpKind, labels: [&'static str; 2]) -> Handles {
    let names = op_names(kind);
    let base: Vec<Label> = names
        .label_keys
        .iter()
        .zip(labels)
        .map(|(k, v)| Label::from_static_parts(k, v))
        .collect();
    let statuses = Status::ALL.map(|s| {
        let mut l = base.clone();
        l.push(Label::from_static_parts("status", s.as_str()));
        r.register_counter(&Key::from_parts(names.total, l), &META)
    });
    let duration = r.register_histogram(&Key::from_parts(names.duration, base), &META);
    let active = r.register_gauge(
        &Key::from_parts(
            ACTIVE_WORKFLOWS,
            vec![Label::from_static_parts("workflow", labels[0])],
        ),
        &META,
    );
    Handles {
        recorder,
        statuses,
        duration,
        active,
    }
}
