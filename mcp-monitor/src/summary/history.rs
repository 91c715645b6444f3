//! The time series the page draws (`GET /api/v1/metrics/history`).
//!
//! The summary tick (every window / 10) adds one [`Point`]: what happened since the
//! previous tick (request rate, 5xx share, p95) and the latest resource and pool
//! sample. Points older than the window are dropped, and there are never more than
//! [`MAX_POINTS`], so memory is bounded like the summary ring. Peaks since the last
//! reset are kept beside the points for the performance report. A reset clears both.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// The most points kept: one per tick over the window, and one to spare.
pub(crate) const MAX_POINTS: usize = 12;

/// One summary tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Point {
    /// When the tick ran, Unix milliseconds.
    pub(crate) t: i64,
    /// Seconds since the previous point (or the reset); the span the rates cover.
    pub(crate) interval_seconds: f64,
    /// Requests in the interval.
    pub(crate) requests: u64,
    /// 5xx responses in the interval.
    pub(crate) errors: u64,
    /// Requests per second over the interval.
    pub(crate) request_rate: f64,
    /// `errors / requests`; `null` without requests.
    pub(crate) error_rate: Option<f64>,
    /// 95th percentile request latency in the interval, seconds; `null` without requests.
    pub(crate) p95_seconds: Option<f64>,
    /// Machine CPU in use, 0..=1, at the latest resource sample.
    pub(crate) cpu: Option<f64>,
    /// Memory in use, 0..=1.
    pub(crate) memory: Option<f64>,
    /// 1-minute load average per core.
    pub(crate) load_per_core: Option<f64>,
    /// This process's resident memory, bytes.
    pub(crate) process_resident_bytes: Option<u64>,
    /// Cache hits over lookups in the interval, all caches; `null` without lookups.
    pub(crate) cache_hit_ratio: Option<f64>,
    /// Connections in use over pool sizes, all pools; `null` without pools.
    pub(crate) pool_utilization: Option<f64>,
}

/// The highest (for the cache hit ratio, the lowest) value seen, and when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Peak<T> {
    /// The value.
    pub(crate) value: T,
    /// When it was seen, Unix milliseconds.
    pub(crate) t: i64,
}

/// Peaks since the last reset, over every point taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Peaks {
    pub(crate) request_rate: Option<Peak<f64>>,
    pub(crate) error_rate: Option<Peak<f64>>,
    pub(crate) p95_seconds: Option<Peak<f64>>,
    pub(crate) cpu: Option<Peak<f64>>,
    pub(crate) memory: Option<Peak<f64>>,
    pub(crate) load_per_core: Option<Peak<f64>>,
    pub(crate) process_resident_bytes: Option<Peak<u64>>,
    pub(crate) pool_utilization: Option<Peak<f64>>,
    /// The lowest hit ratio: the cache alert fires below its threshold.
    pub(crate) cache_hit_ratio_low: Option<Peak<f64>>,
}

fn keep<T: PartialOrd + Copy>(peak: &mut Option<Peak<T>>, v: Option<T>, t: i64, higher: bool) {
    let Some(value) = v else { return };
    let better = match peak {
        None => true,
        Some(p) if higher => value > p.value,
        Some(p) => value < p.value,
    };
    if better {
        *peak = Some(Peak { value, t });
    }
}

impl Peaks {
    fn add(&mut self, p: &Point) {
        let t = p.t;
        if p.requests > 0 {
            keep(&mut self.request_rate, Some(p.request_rate), t, true);
        }
        keep(&mut self.error_rate, p.error_rate, t, true);
        keep(&mut self.p95_seconds, p.p95_seconds, t, true);
        keep(&mut self.cpu, p.cpu, t, true);
        keep(&mut self.memory, p.memory, t, true);
        keep(&mut self.load_per_core, p.load_per_core, t, true);
        keep(
            &mut self.process_resident_bytes,
            p.process_resident_bytes,
            t,
            true,
        );
        keep(&mut self.pool_utilization, p.pool_utilization, t, true);
        keep(&mut self.cache_hit_ratio_low, p.cache_hit_ratio, t, false);
    }
}

/// The points over the window and the peaks since reset.
#[derive(Debug)]
pub(crate) struct History {
    window: Duration,
    points: VecDeque<(Instant, Point)>,
    peaks: Peaks,
}

impl History {
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            window,
            points: VecDeque::with_capacity(MAX_POINTS),
            peaks: Peaks::default(),
        }
    }

    /// Adds the point of the tick at `at` and drops those older than the window.
    pub(crate) fn push(&mut self, at: Instant, point: Point) {
        self.peaks.add(&point);
        self.points.push_back((at, point));
        if let Some(cutoff) = at.checked_sub(self.window) {
            while self.points.front().is_some_and(|(t, _)| *t < cutoff) {
                self.points.pop_front();
            }
        }
        while self.points.len() > MAX_POINTS {
            self.points.pop_front();
        }
    }

    /// The points, oldest first.
    pub(crate) fn points(&self) -> Vec<Point> {
        self.points.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Peaks since the last reset.
    pub(crate) fn peaks(&self) -> Peaks {
        self.peaks.clone()
    }

    /// Forgets every point and peak.
    pub(crate) fn reset(&mut self) {
        self.points.clear();
        self.peaks = Peaks::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, requests: u64, cpu: f64, hit: f64) -> Point {
        Point {
            t,
            interval_seconds: 1.0,
            requests,
            errors: 0,
            request_rate: requests as f64,
            error_rate: (requests > 0).then_some(0.0),
            p95_seconds: None,
            cpu: Some(cpu),
            memory: None,
            load_per_core: None,
            process_resident_bytes: Some(10 * requests),
            cache_hit_ratio: Some(hit),
            pool_utilization: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_the_window_and_the_peaks_since_reset() {
        let mut h = History::new(Duration::from_secs(10));
        for i in 0..30 {
            h.push(
                Instant::now(),
                point(i, i as u64, (i % 7) as f64 / 10.0, 0.9),
            );
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        let points = h.points();
        // Ticks at 0..=29 s; the last at 29 s keeps those from 19 s on, at most 12.
        assert_eq!(points.len(), 11);
        assert_eq!(points.first().map(|p| p.t), Some(19));
        assert_eq!(points.last().map(|p| p.t), Some(29));
        let peaks = h.peaks();
        assert_eq!(peaks.request_rate, Some(Peak { value: 29.0, t: 29 }));
        assert_eq!(peaks.cpu, Some(Peak { value: 0.6, t: 6 }));
        assert_eq!(peaks.process_resident_bytes.map(|p| p.value), Some(290));
        assert_eq!(peaks.cache_hit_ratio_low.map(|p| p.t), Some(0));
        h.reset();
        assert!(h.points().is_empty());
        assert_eq!(h.peaks(), Peaks::default());
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_points() {
        let mut h = History::new(Duration::from_secs(3600));
        for i in 0..100 {
            h.push(Instant::now(), point(i, 1, 0.1, 0.5));
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        assert_eq!(h.points().len(), MAX_POINTS);
        assert_eq!(h.points()[0].t, 100 - MAX_POINTS as i64);
    }
}
