//! The alert types and their severities, and the levels of each, in one place: which
//! way it fires (above or below), its warning threshold and its critical level under
//! the settings, and what follows from them (the severity of a value, the PromQL comparison, the words of the
//! descriptions). The engine, the threshold gauges, the rules file, the Grafana
//! dashboard and the Alertmanager annotations all read them from here.

use std::fmt;

use serde::Serialize;

use crate::settings::Settings;

/// The kinds of threshold alert, each with its own `MCP_*` threshold setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertType {
    /// p95 request latency over the window above `MCP_REQUEST_LATENCY_THRESHOLD`.
    HighRequestLatency,
    /// Share of failures (5xx responses; failed db operations; failed workflow steps,
    /// each its own component) above `MCP_ERROR_RATE_THRESHOLD`.
    HighErrorRate,
    /// Memory use above `MCP_MEMORY_THRESHOLD`.
    HighMemoryUsage,
    /// CPU use above `MCP_CPU_THRESHOLD`.
    HighCpuUsage,
    /// Cache hit ratio over the window below `MCP_CACHE_HIT_RATIO_THRESHOLD`.
    LowCacheHitRatio,
    /// Connections in use over pool size above `MCP_DB_POOL_THRESHOLD`.
    HighDbPoolUtilization,
    /// 1-minute load average per core above `MCP_SYSTEM_LOAD_THRESHOLD`.
    HighSystemLoad,
    /// An objective of `MCP_SLOS` burns its error budget fast (14.4 times the
    /// sustainable rate over 1 h and 5 m, or 6 times over 6 h and 30 m, for a 30-day
    /// period): always `critical`. Not a threshold alert: not in [`AlertType::ALL`].
    SloBurnRateFast,
    /// An objective of `MCP_SLOS` burns its error budget slowly (3 times over 1 d and
    /// 2 h, or once over 3 d and 6 h, for a 30-day period): always `warning`.
    SloBurnRateSlow,
}

impl AlertType {
    /// Every type.
    pub const ALL: [AlertType; 7] = [
        AlertType::HighRequestLatency,
        AlertType::HighErrorRate,
        AlertType::HighMemoryUsage,
        AlertType::HighCpuUsage,
        AlertType::LowCacheHitRatio,
        AlertType::HighDbPoolUtilization,
        AlertType::HighSystemLoad,
    ];

    /// The name as it appears in JSON and in the `alertname` label.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertType::HighRequestLatency => "HIGH_REQUEST_LATENCY",
            AlertType::HighErrorRate => "HIGH_ERROR_RATE",
            AlertType::HighMemoryUsage => "HIGH_MEMORY_USAGE",
            AlertType::HighCpuUsage => "HIGH_CPU_USAGE",
            AlertType::LowCacheHitRatio => "LOW_CACHE_HIT_RATIO",
            AlertType::HighDbPoolUtilization => "HIGH_DB_POOL_UTILIZATION",
            AlertType::HighSystemLoad => "HIGH_SYSTEM_LOAD",
            AlertType::SloBurnRateFast => "SLO_BURN_RATE_FAST",
            AlertType::SloBurnRateSlow => "SLO_BURN_RATE_SLOW",
        }
    }

    /// Whether this is a burn-rate alert of a service-level objective (whose component
    /// is `slo:<name>`) rather than a threshold alert.
    pub const fn is_slo(self) -> bool {
        matches!(
            self,
            AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow
        )
    }

    /// Whether the alert fires below its threshold rather than above.
    pub const fn fires_below(self) -> bool {
        matches!(Direction::of(self), Direction::Below)
    }

    /// The threshold configured in `settings`.
    pub fn threshold(self, s: &Settings) -> f64 {
        Levels::of(self, s).warning
    }

    /// The level past which the alert is `critical`: the threshold times
    /// `MCP_ALERT_CRITICAL_FACTOR` (divided by it for an alert that fires below).
    /// `None` when the level is out of reach: a share above 100%.
    pub fn critical_threshold(self, s: &Settings) -> Option<f64> {
        Levels::of(self, s).critical
    }

    /// Formats a value of this alert's quantity: `1.25s`, `85%`, `1.50`.
    pub fn format_value(self, v: f64) -> String {
        match self {
            AlertType::HighRequestLatency => crate::base::format::latency(v),
            AlertType::HighSystemLoad => format!("{v:.2}"),
            // The burn rate as a multiple of the level of the pair of windows that
            // fires (14.4, 6, 3 or 1): above 1 fires.
            AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow => format!("{v:.2}×"),
            _ => crate::base::format::percent(v),
        }
    }
}

impl fmt::Display for AlertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The threshold is crossed.
    Warning,
    /// The threshold is crossed by `MCP_ALERT_CRITICAL_FACTOR`.
    Critical,
}

impl Severity {
    /// `warning` or `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Which side of its threshold an alert fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// High is bad: fires above the threshold, critical above threshold × factor.
    Above,
    /// Low is bad (`LOW_CACHE_HIT_RATIO`): fires below the threshold, critical below
    /// threshold ÷ factor.
    Below,
}

impl Direction {
    /// The direction of `kind`.
    pub(crate) const fn of(kind: AlertType) -> Self {
        match kind {
            AlertType::LowCacheHitRatio => Direction::Below,
            _ => Direction::Above,
        }
    }

    /// Whether `value` is past `level` in this direction (strictly: at the level is not
    /// past it).
    pub(crate) fn passes(self, value: f64, level: f64) -> bool {
        match self {
            Direction::Above => value > level,
            Direction::Below => value < level,
        }
    }

    /// The comparison operator, in PromQL as in Rust: `>` or `<`.
    pub(crate) const fn operator(self) -> &'static str {
        match self {
            Direction::Above => ">",
            Direction::Below => "<",
        }
    }

    /// `above` or `below`, for descriptions.
    pub(crate) const fn word(self) -> &'static str {
        match self {
            Direction::Above => "above",
            Direction::Below => "below",
        }
    }

    /// `×` or `÷`: how `MCP_ALERT_CRITICAL_FACTOR` makes the critical level from the
    /// threshold, for descriptions.
    pub(crate) const fn factor_symbol(self) -> &'static str {
        match self {
            Direction::Above => "×",
            Direction::Below => "÷",
        }
    }
}

/// An alert type's levels under some settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Levels {
    /// The alert type.
    pub(crate) kind: AlertType,
    /// Which side of the levels fires.
    pub(crate) direction: Direction,
    /// The threshold (`MCP_*_THRESHOLD`): past it, a `warning`.
    pub(crate) warning: f64,
    /// The critical level (threshold × or ÷ `MCP_ALERT_CRITICAL_FACTOR`): past it, a
    /// `critical`. `None` where the value can never reach it: a share above 100%.
    pub(crate) critical: Option<f64>,
}

impl Levels {
    /// The levels of `kind` under `s`.
    pub(crate) fn of(kind: AlertType, s: &Settings) -> Self {
        let warning = match kind {
            AlertType::HighRequestLatency => s.request_latency_threshold.as_secs_f64(),
            AlertType::HighErrorRate => s.error_rate_threshold,
            AlertType::HighMemoryUsage => s.memory_threshold,
            AlertType::HighCpuUsage => s.cpu_threshold,
            AlertType::LowCacheHitRatio => s.cache_hit_ratio_threshold,
            AlertType::HighDbPoolUtilization => s.db_pool_threshold,
            AlertType::HighSystemLoad => s.system_load_threshold,
            // Burn rates over their level: above 1 fires.
            AlertType::SloBurnRateFast | AlertType::SloBurnRateSlow => 1.0,
        };
        let direction = Direction::of(kind);
        let critical = match direction {
            // A fast burn is always critical, a slow one always a warning.
            _ if kind == AlertType::SloBurnRateFast => Some(warning),
            _ if kind == AlertType::SloBurnRateSlow => None,
            Direction::Below => Some(warning / s.alert_critical_factor),
            Direction::Above => {
                let critical = warning * s.alert_critical_factor;
                let is_share = !matches!(
                    kind,
                    AlertType::HighRequestLatency | AlertType::HighSystemLoad
                );
                (!(is_share && critical >= 1.0)).then_some(critical)
            }
        };
        Self {
            kind,
            direction,
            warning,
            critical,
        }
    }

    /// The level of `severity`: the threshold, or the critical level if reachable.
    pub(crate) fn level(&self, severity: Severity) -> Option<f64> {
        match severity {
            Severity::Warning => Some(self.warning),
            Severity::Critical => self.critical,
        }
    }

    /// The severity of an alert whose value is `value`: `None` when it does not pass
    /// the threshold.
    pub(crate) fn severity_of(&self, value: f64) -> Option<Severity> {
        if !self.direction.passes(value, self.warning) {
            return None;
        }
        let critical = self
            .critical
            .is_some_and(|c| self.direction.passes(value, c));
        Some(if critical {
            Severity::Critical
        } else {
            Severity::Warning
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_alerts_fire_above_and_low_ones_below() {
        let s = Settings::default();
        let cpu = Levels::of(AlertType::HighCpuUsage, &s);
        assert_eq!((cpu.warning, cpu.direction), (0.8, Direction::Above));
        assert_eq!(cpu.severity_of(0.8), None);
        assert_eq!(cpu.severity_of(0.85), Some(Severity::Warning));
        assert_eq!(cpu.severity_of(0.97), Some(Severity::Critical));
        let cache = Levels::of(AlertType::LowCacheHitRatio, &s);
        assert_eq!(cache.direction, Direction::Below);
        assert_eq!(cache.severity_of(0.9), None);
        assert_eq!(cache.severity_of(0.75), Some(Severity::Warning));
        assert_eq!(cache.severity_of(0.5), Some(Severity::Critical));
        assert_eq!(
            (cache.direction.operator(), cache.direction.word()),
            ("<", "below")
        );
        assert_eq!(cpu.direction.factor_symbol(), "×");
    }

    #[test]
    fn a_share_gets_no_critical_level_it_could_never_reach() {
        let s = Settings::default();
        // 90% × 1.2 passes 100%: no critical level; a pool at 100% is a warning.
        let pool = Levels::of(AlertType::HighDbPoolUtilization, &s);
        assert_eq!(pool.critical, None);
        assert_eq!(pool.level(Severity::Critical), None);
        assert_eq!(pool.severity_of(1.0), Some(Severity::Warning));
        // Latency and load are no shares: their critical level has no ceiling.
        let latency = Levels::of(AlertType::HighRequestLatency, &s);
        assert_eq!(latency.level(Severity::Critical), Some(1.2));
        assert_eq!(latency.level(Severity::Warning), Some(1.0));
    }
}
