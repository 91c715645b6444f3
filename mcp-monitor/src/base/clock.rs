//! The clocks every recorded duration (macro calls, HTTP requests) and every watched
//! poll is measured with.
//!
//! **The precise clock** ([`Start`]) is [`quanta`], the clock `metrics-util` uses.
//! Where the CPU has an invariant TSC, a reading is one `rdtsc` (about 25 ns on the
//! benchmark machine, where `Instant::now()` costs about 45 ns), scaled to nanoseconds
//! by a calibration against the OS's monotonic clock made once per process; elsewhere
//! it reads the OS's monotonic clock, like `Instant`. An end reading earlier than its
//! start (two cores whose TSCs disagree) gives a duration of 0, never a huge one.
//!
//! **The coarse clock** ([`coarse_ns`]) is one relaxed load of an `AtomicU64` that a
//! thread of its own (`mcp-monitor-clock`) sets from the precise clock every tick
//! ([`keep_coarse`]: a tenth of the long-poll threshold, at least 1 ms). It times every
//! poll of a monitored future (`base::long_poll`), where two precise readings would
//! double the cost of a call. A difference of two coarse readings is within one tick
//! of the true duration (later, never earlier, when the machine is so loaded that the
//! clock's thread waits for a core). The thread is ours rather than `quanta`'s upkeep
//! thread: that one sets a process-wide "recent" time whose period belongs to whoever
//! starts it first (a second start fails), and a task on the executor would stop
//! ticking exactly when the executor is blocked. Until a monitor is built, nothing
//! ticks and the coarse clock reads 0.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Once, OnceLock};
use std::time::Duration;

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

/// The coarse clock: nanoseconds since the clock's thread started, as of its last tick.
static COARSE_NS: AtomicU64 = AtomicU64::new(0);
/// The coarse clock's tick, in nanoseconds: the shortest any monitor asked for.
static TICK_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// The shortest tick: finer would wake the clock's thread more than 1,000 times a second.
pub(crate) const MIN_TICK: Duration = Duration::from_millis(1);

/// The coarse clock now, in nanoseconds (0 until [`keep_coarse`] was called). One
/// relaxed load; within one tick of the precise clock.
#[inline]
pub(crate) fn coarse_ns() -> u64 {
    COARSE_NS.load(Relaxed)
}

/// Keeps the coarse clock ticking at least every `tick` (never under [`MIN_TICK`]):
/// starts its thread the first time; a later, shorter tick takes effect at the
/// thread's next wake-up.
pub(crate) fn keep_coarse(tick: Duration) {
    let ns = u64::try_from(tick.max(MIN_TICK).as_nanos()).unwrap_or(u64::MAX);
    TICK_NS.fetch_min(ns, Relaxed);
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let origin = Start::now();
        // Never 0 once ticking: 0 is "not ticking".
        COARSE_NS.store(1, Relaxed);
        let spawned = std::thread::Builder::new()
            .name("mcp-monitor-clock".into())
            .spawn(move || loop {
                COARSE_NS.store(origin.elapsed_ns().max(1), Relaxed);
                std::thread::sleep(Duration::from_nanos(TICK_NS.load(Relaxed)));
            });
        if let Err(e) = spawned {
            crate::base::diagnostic::diagnostic!(error = e.to_string();
                "cannot start the thread of the coarse clock ({e}): long polls \
                 (mcp_long_polls_total) are not detected");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

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

    #[test]
    fn the_coarse_clock_ticks() {
        keep_coarse(MIN_TICK);
        let first = coarse_ns();
        assert!(first > 0, "ticking");
        // Waits for ticks rather than for a time: the clock's thread may wait for a core.
        let deadline = Instant::now() + Duration::from_secs(60);
        while coarse_ns() - first < 20_000_000 {
            assert!(Instant::now() < deadline, "the coarse clock stopped");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
