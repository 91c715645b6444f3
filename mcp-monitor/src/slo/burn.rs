//! Burn rates: the windows of the multi-window, multi-burn-rate alerts (the Google SRE
//! workbook, "Alerting on SLOs"), and the in-process tracker that measures them.
//!
//! Every window is a fixed share of the objective's period, so a 30-day objective gets
//! the workbook's windows and a shorter period (a test's) the same shares of its own:
//!
//! | alert | severity | long window | short window | burn rate above | budget spent when it fires |
//! |---|---|---|---|---|---|
//! | `SLO_BURN_RATE_FAST` | critical | period / 720 (1 h) | period / 8640 (5 m) | 14.4 | 2% in 1 h |
//! | `SLO_BURN_RATE_FAST` | critical | period / 120 (6 h) | period / 1440 (30 m) | 6 | 5% in 6 h |
//! | `SLO_BURN_RATE_SLOW` | warning | period / 30 (1 d) | period / 360 (2 h) | 3 | 10% in 1 d |
//! | `SLO_BURN_RATE_SLOW` | warning | period / 10 (3 d) | period / 120 (6 h) | 1 | 10% in 3 d |
//!
//! The burn rate over a window is its error ratio (bad events over all events) divided
//! by the error budget (`1 - objective`): at 1 the budget lasts exactly the period.
//!
//! **Memory.** The tracker keeps, per objective, one ring per window of cumulative
//! (bad, total) counts: a sample is added when a tenth of the window has passed since
//! the last one, and samples older than the window are dropped except the newest of
//! them, which is where the window starts. A window's ring so holds at most
//! [`WINDOW_SLOTS`] samples and covers between the window and 1.1 times it; the ring
//! of the whole period (for the budget left) keeps a sample every thirtieth of it, at
//! most [`PERIOD_SLOTS`]. Whatever the period and the traffic, an objective costs at
//! most `7 × 12 + 32 = 116` samples of 32 bytes (3.7 KiB), allocated when it is
//! declared, plus its last status. The counts come from the reading each alert
//! evaluation takes: nothing runs on the request path.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::slo::objective::{percent, seconds, Objective};

/// How fast a budget burns: which of the two alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Speed {
    /// `SLO_BURN_RATE_FAST`, critical: pages.
    Fast,
    /// `SLO_BURN_RATE_SLOW`, warning: a ticket.
    Slow,
}

/// One pair of windows: the alert fires when the burn rate over both is above `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pair {
    pub(crate) speed: Speed,
    /// The long window is `period / long`.
    pub(crate) long: u32,
    /// The short window is `period / short`.
    pub(crate) short: u32,
    pub(crate) factor: f64,
}

/// The four pairs, fast ones first.
pub(crate) const PAIRS: [Pair; 4] = [
    Pair {
        speed: Speed::Fast,
        long: 720,
        short: 8640,
        factor: 14.4,
    },
    Pair {
        speed: Speed::Fast,
        long: 120,
        short: 1440,
        factor: 6.0,
    },
    Pair {
        speed: Speed::Slow,
        long: 30,
        short: 360,
        factor: 3.0,
    },
    Pair {
        speed: Speed::Slow,
        long: 10,
        short: 120,
        factor: 1.0,
    },
];

/// Every window the pairs use, as divisors of the period, shortest first.
pub(crate) const WINDOWS: [u32; 7] = [8640, 1440, 720, 360, 120, 30, 10];

/// Most samples a window's ring holds.
pub const WINDOW_SLOTS: usize = 12;
/// Most samples the period's ring holds.
pub const PERIOD_SLOTS: usize = 32;

/// The window `period / divisor`.
pub(crate) fn window(period: Duration, divisor: u32) -> Duration {
    period / divisor
}

/// Cumulative counts of an objective's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Events that were not good.
    pub(crate) bad: u64,
    /// All events.
    pub(crate) total: u64,
}

impl Counts {
    fn since(self, earlier: Counts) -> Counts {
        Counts {
            bad: self.bad.saturating_sub(earlier.bad),
            total: self.total.saturating_sub(earlier.total),
        }
    }
}

/// Cumulative counts sampled over one window.
#[derive(Debug)]
struct Ring {
    width: Duration,
    step: Duration,
    cap: usize,
    samples: VecDeque<(Instant, Counts)>,
}

impl Ring {
    fn new(width: Duration, parts: u32, cap: usize, start: Instant) -> Self {
        let mut samples = VecDeque::with_capacity(cap);
        samples.push_back((start, Counts::default()));
        Self {
            width,
            step: width / parts,
            cap,
            samples,
        }
    }

    /// Adds `now`'s counts if a step has passed since the last sample, and drops the
    /// samples the window no longer needs.
    fn push(&mut self, now: Instant, c: Counts) {
        let due = self
            .samples
            .back()
            .is_none_or(|(t, _)| now.saturating_duration_since(*t) >= self.step);
        if due {
            self.samples.push_back((now, c));
        }
        let start = now.checked_sub(self.width);
        while self.samples.len() >= 2 && start.is_some_and(|s| self.samples[1].0 <= s) {
            self.samples.pop_front();
        }
        while self.samples.len() > self.cap {
            self.samples.pop_front();
        }
    }

    /// The events since the window's start (the oldest sample kept).
    fn over(&self, now: Counts) -> Counts {
        self.samples
            .front()
            .map_or(now, |(_, then)| now.since(*then))
    }
}

/// The burn rate over one window, as the report and the page show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct WindowRate {
    /// The window, `1h`.
    pub(crate) window: String,
    pub(crate) window_seconds: f64,
    /// Events in the window.
    pub(crate) events: u64,
    /// Bad events in the window.
    pub(crate) bad: u64,
    /// Error ratio over the budget; `None` without events.
    pub(crate) burn_rate: Option<f64>,
}

/// One objective's state, as the report, the page and `/metrics` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SloStatus {
    /// The `slo` label.
    pub(crate) slo: String,
    /// The declaration, as `MCP_SLOS` writes it.
    pub(crate) declaration: String,
    /// The share promised.
    pub(crate) objective: f64,
    pub(crate) objective_text: String,
    pub(crate) period_seconds: f64,
    /// How much of the period the monitor has seen (less than the period after start).
    pub(crate) covered_seconds: f64,
    /// Events and bad events over what it has seen of the period.
    pub(crate) events: u64,
    pub(crate) bad: u64,
    /// `1 - (bad / events) / (1 - objective)`: 1 untouched, 0 spent, below 0 overspent.
    pub(crate) error_budget_remaining: f64,
    /// The burn rate over every window the alerts use, shortest first.
    pub(crate) windows: Vec<WindowRate>,
    /// The alerts firing or pending for it (names).
    pub(crate) burning: Vec<&'static str>,
}

/// One objective's rings.
#[derive(Debug)]
struct Track {
    objective: Objective,
    windows: Vec<Ring>,
    period: Ring,
    started: Instant,
    status: SloStatus,
}

/// The value of each alert of one evaluation: the burn rate as a multiple of the
/// pair's factor (above 1 fires), for the best pair whose windows both have events and
/// whose long window has at least the minimum of samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Burn {
    pub(crate) fast: Option<f64>,
    pub(crate) slow: Option<f64>,
}

/// The burn-rate state of every objective.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    tracks: Vec<Track>,
}

impl Tracker {
    /// Rings for `objectives`, whose counts start from zero at `start`.
    pub(crate) fn new(objectives: &[Objective], start: Instant) -> Self {
        let tracks = objectives
            .iter()
            .map(|o| {
                let mut t = Track {
                    objective: o.clone(),
                    windows: WINDOWS
                        .iter()
                        .map(|d| Ring::new(window(o.period, *d), 10, WINDOW_SLOTS, start))
                        .collect(),
                    period: Ring::new(o.period, 30, PERIOD_SLOTS, start),
                    started: start,
                    status: SloStatus {
                        slo: o.name.clone(),
                        declaration: o.to_string(),
                        objective: o.objective,
                        objective_text: percent(o.objective),
                        period_seconds: o.period.as_secs_f64(),
                        covered_seconds: 0.0,
                        events: 0,
                        bad: 0,
                        error_budget_remaining: 1.0,
                        windows: Vec::new(),
                        burning: Vec::new(),
                    },
                };
                t.status.windows = t.rates(Counts::default());
                t
            })
            .collect();
        Self { tracks }
    }

    /// Feeds every objective's cumulative counts at `now` (in the order of the
    /// objectives); returns each one's alert values. `min_samples` is the fewest
    /// events the long window of a pair needs (`MCP_ALERT_MIN_SAMPLES`, at least 1).
    pub(crate) fn observe(
        &mut self,
        now: Instant,
        counts: &[Counts],
        min_samples: u64,
    ) -> Vec<Burn> {
        self.tracks
            .iter_mut()
            .zip(counts)
            .map(|(t, c)| t.observe(now, *c, min_samples.max(1)))
            .collect()
    }

    /// Marks which alerts are pending or firing for each objective (for the page).
    pub(crate) fn set_burning(&mut self, burning: impl Fn(&str) -> Vec<&'static str>) {
        for t in &mut self.tracks {
            t.status.burning = burning(&t.objective.name);
        }
    }

    /// Every objective's state at the last evaluation.
    pub(crate) fn statuses(&self) -> Vec<SloStatus> {
        self.tracks.iter().map(|t| t.status.clone()).collect()
    }
}

impl Track {
    fn observe(&mut self, now: Instant, c: Counts, min_samples: u64) -> Burn {
        for r in &mut self.windows {
            r.push(now, c);
        }
        self.period.push(now, c);
        let budget = self.objective.error_budget();
        let over_period = self.period.over(c);
        let s = &mut self.status;
        s.covered_seconds = now
            .saturating_duration_since(self.started)
            .min(self.objective.period)
            .as_secs_f64();
        s.events = over_period.total;
        s.bad = over_period.bad;
        s.error_budget_remaining = if over_period.total == 0 {
            1.0
        } else {
            1.0 - (over_period.bad as f64 / over_period.total as f64) / budget
        };
        self.status.windows = self.rates(c);
        let mut burn = Burn::default();
        for p in PAIRS {
            let rate = |div: u32| {
                let i = WINDOWS
                    .iter()
                    .position(|d| *d == div)
                    .expect("a window of the table");
                self.windows[i].over(c)
            };
            let (long, short) = (rate(p.long), rate(p.short));
            if long.total < min_samples || short.total == 0 {
                continue;
            }
            let burn_of = |w: Counts| (w.bad as f64 / w.total as f64) / budget;
            let value = burn_of(long).min(burn_of(short)) / p.factor;
            let slot = match p.speed {
                Speed::Fast => &mut burn.fast,
                Speed::Slow => &mut burn.slow,
            };
            *slot = Some(slot.map_or(value, |v: f64| v.max(value)));
        }
        burn
    }

    fn rates(&self, c: Counts) -> Vec<WindowRate> {
        let budget = self.objective.error_budget();
        WINDOWS
            .iter()
            .zip(&self.windows)
            .map(|(d, r)| {
                let w = r.over(c);
                let width = window(self.objective.period, *d);
                WindowRate {
                    window: seconds(width.as_secs_f64()),
                    window_seconds: width.as_secs_f64(),
                    events: w.total,
                    bad: w.bad,
                    burn_rate: (w.total > 0).then(|| (w.bad as f64 / w.total as f64) / budget),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::objective::Target;

    fn objective(period: Duration) -> Objective {
        Objective::availability("api", Target::AllHttp, 0.99).over(period)
    }

    #[test]
    fn thirty_days_give_the_workbooks_windows() {
        let p = crate::slo::objective::DEFAULT_PERIOD;
        let got: Vec<String> = WINDOWS
            .iter()
            .map(|d| seconds(window(p, *d).as_secs_f64()))
            .collect();
        assert_eq!(got, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }

    #[test]
    fn a_ring_never_holds_more_than_its_cap() {
        let start = Instant::now();
        let mut r = Ring::new(Duration::from_secs(100), 10, WINDOW_SLOTS, start);
        for i in 1..=10_000u64 {
            let now = start + Duration::from_millis(i * 700);
            r.push(now, Counts { bad: 0, total: i });
            assert!(r.samples.len() <= WINDOW_SLOTS);
            // The window starts at or before now - 100 s (once that is after the start),
            // and at most a step (10 s) earlier.
            if i * 700 > 110_000 {
                let span = now - r.samples[0].0;
                assert!(
                    span >= Duration::from_secs(100) && span <= Duration::from_secs(111),
                    "{span:?}"
                );
            }
        }
        assert_eq!(std::mem::size_of::<(Instant, Counts)>(), 32);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_burn_a_slow_burn_and_a_healthy_service() {
        // A one-day period: windows 10 s / 2 min (fast), 48 min / 4 min (slow), ...
        let day = Duration::from_secs(86_400);
        let start = Instant::now();
        let mut t = Tracker::new(&[objective(day)], start);
        let mut c = Counts::default();
        let mut last = Burn::default();
        // Healthy: 0.5% errors (burn rate 0.5) for an hour, 100 events a second.
        for _ in 0..3600 {
            tokio::time::advance(Duration::from_secs(1)).await;
            c.total += 100;
            c.bad += if c.total % 200 == 0 { 1 } else { 0 };
            last = t.observe(Instant::now(), &[c], 20)[0];
        }
        assert!(
            last.fast.unwrap() < 1.0 && last.slow.unwrap() < 1.0,
            "{last:?}"
        );
        let s = &t.statuses()[0];
        assert!((s.error_budget_remaining - 0.5).abs() < 0.01, "{s:?}");
        // Slow: 4% errors (burn rate 4) for long enough: the slow pair (3x) fires, the
        // fast one (6x, 14.4x) does not.
        for _ in 0..3600 {
            tokio::time::advance(Duration::from_secs(1)).await;
            c.total += 100;
            c.bad += 4;
            last = t.observe(Instant::now(), &[c], 20)[0];
        }
        assert!(
            last.slow.unwrap() > 1.0 && last.fast.unwrap() < 1.0,
            "{last:?}"
        );
        // Fast: everything fails.
        for _ in 0..20 {
            tokio::time::advance(Duration::from_secs(1)).await;
            c.total += 100;
            c.bad += 100;
            last = t.observe(Instant::now(), &[c], 20)[0];
        }
        assert!(last.fast.unwrap() > 1.0, "{last:?}");
        // Too few events in the long window: no value at all.
        let mut quiet = Tracker::new(&[objective(day)], Instant::now());
        tokio::time::advance(Duration::from_secs(1)).await;
        let b = quiet.observe(Instant::now(), &[Counts { bad: 1, total: 1 }], 20)[0];
        assert_eq!(b, Burn::default());
    }
}
