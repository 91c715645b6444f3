//! The lexical pieces the fleet files share: YAML quoting and Prometheus durations.
//! Below `rules`, `slo_rules` and `slo_grafana`, importing none of them.

use std::time::Duration;

/// A YAML single-quoted scalar.
pub(super) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A duration in Prometheus' format: `0s`, `250ms`, `90s`, `5m`, `24h`. Sub-millisecond
/// parts, which Prometheus cannot express, are rounded up.
pub(super) fn prom_duration(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    if ms == 0 {
        "0s".to_owned()
    } else if ms % 1000 != 0 {
        format!("{ms}ms")
    } else {
        let secs = ms / 1000;
        if secs % 3600 == 0 {
            format!("{}h", secs / 3600)
        } else if secs % 60 == 0 {
            format!("{}m", secs / 60)
        } else {
            format!("{secs}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        assert_eq!(prom_duration(Duration::ZERO), "0s");
        assert_eq!(prom_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(prom_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(prom_duration(Duration::from_micros(1)), "1ms");
        assert_eq!(prom_duration(Duration::from_secs(90)), "90s");
        assert_eq!(prom_duration(Duration::from_secs(300)), "5m");
        assert_eq!(prom_duration(Duration::from_secs(86400)), "24h");
    }
}
