//! The clock every recorded duration (macro calls, HTTP requests) is measured with.
//!
//! It is [`quanta`], the clock `metrics-util` uses. Where the CPU has an invariant TSC,
//! a reading is one `rdtsc` (about 25 ns on the benchmark machine, where
//! `Instant::now()` costs about 45 ns), scaled to nanoseconds by a calibration against
//! the OS's monotonic clock made once per process; elsewhere it reads the OS's
//! monotonic clock, like `Instant`. An end reading earlier than its start (two cores
//! whose TSCs disagree) gives a duration of 0, never a huge one.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

#[inline]
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Calibrates the clock now, so that no recorded call pays for it (once per process:
/// `quanta` measures the TSC against the OS clock for at least half a millisecond,
/// and up to 200 ms on a noisy machine).
pub(crate) fn init() {
    clock();
}

/// When a measured call or request started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start(u64);

impl Start {
    /// Now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self(clock().raw())
    }

    /// Nanoseconds since `self`.
    #[inline]
    pub(crate) fn elapsed_ns(self) -> u64 {
        let c = clock();
        c.delta_as_nanos(self.0, c.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn agrees_with_instant() {
        init();
        let (start, reference) = (Start::now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (ours, theirs) = (start.elapsed_ns(), reference.elapsed().as_nanos() as u64);
        assert!(ours >= 20_000_000, "{ours} ns");
        // The two readings are a few instructions apart; allow scheduling noise.
        let diff = ours.abs_diff(theirs);
        assert!(diff < theirs / 20 + 200_000, "{ours} ns vs {theirs} ns");
    }
}
