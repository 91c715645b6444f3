//! The dashboard's string formats: `"12h 34m"`, `"123ms"`, `"65%"`.

use std::time::Duration;

/// `"12h 34m"` (hours keep counting past a day).
pub(crate) fn uptime(d: Duration) -> String {
    let mins = d.as_secs() / 60;
    format!("{}h {}m", mins / 60, mins % 60)
}

/// Milliseconds: `"123ms"`, `"4.2ms"` under 10 ms, `"1.25s"` from 10 s.
pub(crate) fn latency(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms >= 10_000.0 {
        format!("{seconds:.2}s")
    } else if ms >= 10.0 {
        format!("{}ms", ms.round())
    } else {
        format!("{ms:.1}ms")
    }
}

/// `"65%"`; one decimal under 10% so that a small error rate does not read as zero.
pub(crate) fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p > 0.0 && p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{}%", p.round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_seed() {
        assert_eq!(
            uptime(Duration::from_secs(12 * 3600 + 34 * 60 + 59)),
            "12h 34m"
        );
        assert_eq!(uptime(Duration::from_secs(30)), "0h 0m");
        assert_eq!(latency(0.123), "123ms");
        assert_eq!(latency(0.0042), "4.2ms");
        assert_eq!(latency(12.5), "12.50s");
        assert_eq!(percent(0.65), "65%");
        assert_eq!(percent(0.02), "2.0%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
    }
}
