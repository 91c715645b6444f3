//! The Tokio runtime the application runs on, read through Tokio's stable metrics API
//! (no `tokio_unstable`).
//!
//! The monitor watches the runtime it was built or started on ([`RuntimeWatch::watch`]).
//! A reading reads the runtime's counters there and then (a few atomics per worker);
//! the sampling task keeps one mark per resource sample, so that the busy ratio and the
//! global queue depth can be given over the window. Without a Tokio runtime (the
//! monitor built outside one, or only the monitor's own fallback thread) nothing is
//! read and the runtime is reported as absent, never as zero.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::time::Instant;

/// The most marks kept, whatever the window and the sampling interval: a week of
/// samples every 5 s would be 120,960; 4,096 marks cover a 5-minute window sampled
/// every 100 ms.
const MAX_MARKS: usize = 4096;

/// The Tokio runtime's figures at one moment, from its stable metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RuntimeSample {
    /// `"multi_thread"` or `"current_thread"`.
    pub flavor: &'static str,
    /// Worker threads (1 for a current-thread runtime).
    pub workers: usize,
    /// Tasks spawned on the runtime and not yet finished.
    pub alive_tasks: usize,
    /// Tasks waiting in the runtime's global (injection) queue: work that no worker
    /// has picked up yet.
    pub global_queue_depth: usize,
    /// Time all workers together spent busy (polling tasks), since the runtime started.
    pub busy: Duration,
    /// Times the workers parked (went idle), all workers together, since the runtime
    /// started.
    pub parks: u64,
}

impl RuntimeSample {
    /// Reads `handle`'s metrics now.
    fn take(handle: &Handle) -> Self {
        let m = handle.metrics();
        let workers = m.num_workers();
        let (busy, parks) = (0..workers).fold((Duration::ZERO, 0u64), |(b, p), w| {
            (
                b + m.worker_total_busy_duration(w),
                p + m.worker_park_count(w),
            )
        });
        Self {
            flavor: match handle.runtime_flavor() {
                RuntimeFlavor::CurrentThread => "current_thread",
                _ => "multi_thread",
            },
            workers,
            alive_tasks: m.num_alive_tasks(),
            global_queue_depth: m.global_queue_depth(),
            busy,
            parks,
        }
    }
}

/// The runtime over a stretch of time: what a reading reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeReading {
    /// The figures at the reading's moment.
    pub now: RuntimeSample,
    /// The share of the workers' time spent busy over the window (0..=1), from the
    /// oldest mark in the window to now; `None` until a mark is old enough to tell.
    pub busy_ratio: Option<f64>,
    /// The deepest global queue sampled over the window (now included).
    pub max_global_queue_depth: usize,
    /// The samples over the window, oldest first: seconds before the reading, busy
    /// ratio since the previous sample, and global queue depth; for the page's chart.
    pub samples: Vec<RuntimePoint>,
}

/// One sample of the runtime over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuntimePoint {
    /// Seconds before the reading.
    pub ago_s: f64,
    /// The workers' busy share since the sample before (0..=1).
    pub busy_ratio: f64,
    /// The global queue depth at the sample.
    pub global_queue_depth: usize,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    at: Instant,
    sample: RuntimeSample,
}

/// Watches one Tokio runtime: the handle and the marks over the window.
#[derive(Debug, Default)]
pub(crate) struct RuntimeWatch {
    handle: OnceLock<Handle>,
    marks: Mutex<VecDeque<Mark>>,
}

impl RuntimeWatch {
    /// Watches `handle` from now on, unless a runtime is already watched.
    pub(crate) fn watch(&self, handle: Handle) {
        let _ = self.handle.set(handle);
    }

    /// Watches the runtime of the calling thread, if it is in one.
    pub(crate) fn watch_current(&self) {
        if let Ok(handle) = Handle::try_current() {
            self.watch(handle);
        }
    }

    /// Reads the runtime now and keeps the figures as a mark, dropping the marks older
    /// than `window` (the sampling task calls this with the resources).
    pub(crate) fn mark(&self, at: Instant, window: Duration) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let sample = RuntimeSample::take(handle);
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        marks.push_back(Mark { at, sample });
        while marks.len() > MAX_MARKS
            || marks
                .front()
                .is_some_and(|m| at.saturating_duration_since(m.at) > window)
        {
            marks.pop_front();
        }
    }

    /// The runtime at `at`, over the marks within `window` of it; `None` without a
    /// runtime.
    pub(crate) fn read(&self, at: Instant, window: Duration) -> Option<RuntimeReading> {
        let now = RuntimeSample::take(self.handle.get()?);
        let marks: Vec<Mark> = self
            .marks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|m| m.at <= at && at.saturating_duration_since(m.at) <= window)
            .copied()
            .collect();
        let end = Mark { at, sample: now };
        let busy_ratio = marks.first().and_then(|first| busy_between(first, &end));
        let max_global_queue_depth = marks
            .iter()
            .map(|m| m.sample.global_queue_depth)
            .chain([now.global_queue_depth])
            .max()
            .unwrap_or(0);
        let samples = marks
            .windows(2)
            .filter_map(|pair| {
                Some(RuntimePoint {
                    ago_s: at.saturating_duration_since(pair[1].at).as_secs_f64(),
                    busy_ratio: busy_between(&pair[0], &pair[1])?,
                    global_queue_depth: pair[1].sample.global_queue_depth,
                })
            })
            .collect();
        Some(RuntimeReading {
            now,
            busy_ratio,
            max_global_queue_depth,
            samples,
        })
    }
}

/// The workers' busy share between two marks, if time passed between them.
fn busy_between(from: &Mark, to: &Mark) -> Option<f64> {
    let elapsed = to.at.saturating_duration_since(from.at).as_secs_f64();
    let workers = to.sample.workers.max(1) as f64;
    if elapsed <= 0.0 {
        return None;
    }
    let busy = to
        .sample
        .busy
        .saturating_sub(from.sample.busy)
        .as_secs_f64();
    Some((busy / (elapsed * workers)).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runtime_is_absent_not_zero() {
        let watch = RuntimeWatch::default();
        watch.watch_current();
        assert!(watch.handle.get().is_none());
        watch.mark(Instant::now(), Duration::from_secs(60));
        assert_eq!(watch.read(Instant::now(), Duration::from_secs(60)), None);
    }

    #[test]
    fn a_current_thread_runtime_is_read() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let watch = RuntimeWatch::default();
        rt.block_on(async { watch.watch_current() });
        let r = watch.read(Instant::now(), Duration::from_secs(60)).unwrap();
        assert_eq!(r.now.flavor, "current_thread");
        assert_eq!(r.now.workers, 1);
        assert_eq!(r.busy_ratio, None, "no mark yet");
    }

    #[test]
    fn the_busy_ratio_is_busy_time_over_worker_time() {
        let sample = |busy_ms, depth| RuntimeSample {
            flavor: "multi_thread",
            workers: 2,
            alive_tasks: 0,
            global_queue_depth: depth,
            busy: Duration::from_millis(busy_ms),
            parks: 0,
        };
        let t0 = Instant::now();
        let a = Mark {
            at: t0,
            sample: sample(1_000, 0),
        };
        let b = Mark {
            at: t0 + Duration::from_secs(1),
            sample: sample(2_500, 3),
        };
        // 1.5 s busy over 2 workers x 1 s.
        assert_eq!(busy_between(&a, &b), Some(0.75));
        assert_eq!(busy_between(&a, &a), None);
    }

    #[test]
    fn marks_are_bounded_by_the_window_and_the_cap() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let watch = RuntimeWatch::default();
        rt.block_on(async { watch.watch_current() });
        let t0 = Instant::now();
        let window = Duration::from_secs(10);
        for i in 0..(MAX_MARKS as u64 + 100) {
            watch.mark(t0 + Duration::from_millis(i), Duration::from_secs(3600));
        }
        assert_eq!(watch.marks.lock().unwrap().len(), MAX_MARKS);
        let later = t0 + Duration::from_secs(100);
        watch.mark(later, window);
        assert_eq!(watch.marks.lock().unwrap().len(), 1);
    }
}
