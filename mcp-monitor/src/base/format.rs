//! Every format of a number or a time that more than one output writes: the
//! dashboard's strings (`"12h 34m"`, `"123ms"`, `"65%"`), the Prometheus float
//! (`0.005`, `1`), the time stamps (RFC 3339 with offset), and the cache hit ratio.

use std::time::Duration;

/// `"12h 34m"` (hours keep counting past a day).
pub(crate) fn uptime(d: Duration) -> String {
    let mins = d.as_secs() / 60;
    format!("{}h {}m", mins / 60, mins % 60)
}

/// Milliseconds: `"123ms"`, `"4.2ms"` under 10 ms, `"1.25s"` from 10 s.
pub(crate) fn latency(seconds: f64) -> String {
    // Round first, then pick the form, so that 9.96 ms reads "10ms", not "10.0ms".
    let tenths = (seconds * 10_000.0).round() / 10.0;
    if tenths >= 10_000.0 {
        format!("{seconds:.2}s")
    } else if tenths >= 10.0 {
        format!("{}ms", tenths.round())
    } else {
        format!("{tenths:.1}ms")
    }
}

/// `"65%"`; one decimal under 10% so that a small error rate does not read as zero.
pub(crate) fn percent(ratio: f64) -> String {
    let tenths = (ratio * 1000.0).round() / 10.0;
    if tenths > 0.0 && tenths < 10.0 {
        format!("{tenths:.1}%")
    } else {
        format!("{}%", tenths.round())
    }
}

/// Appends a float the way Prometheus clients write it, for every format that has
/// text numbers (Prometheus text, OpenMetrics, their `le` labels and exemplar values):
/// `0.005`, `1`, `2.5`, `1e-7`, `+Inf`, `-Inf`, `NaN`. Whole numbers below 2^53 are
/// written as integers (`1`, not `1.0`), others in the shortest form that reads back
/// exactly (`ryu`), so that a value and its parse are the same float.
pub(crate) fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        if v == 0.0 && v.is_sign_negative() {
            out.push_str("-0");
        } else {
            // Exact: the value is a whole number within i64's range.
            out.push_str(itoa::Buffer::new().format(v as i64));
        }
    } else {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        out.push_str(s.strip_suffix(".0").unwrap_or(s));
    }
}

/// Formats a float the way Prometheus clients do (see [`write_float`]).
pub(crate) fn format_float(v: f64) -> String {
    let mut s = String::new();
    write_float(&mut s, v);
    s
}

/// Now, in local time, as RFC 3339 with its offset and whole seconds
/// (`2024-05-01T12:34:56+02:00`): the time stamps of alerts, reports and resets.
pub(crate) fn now_rfc3339() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The significant digits a JSON document keeps of a fraction: more than any figure
/// here means (quantiles are within 5%, clocks read nanoseconds), few enough that a
/// reader sees `0.00048`, not `0.00047999999999999996`.
pub(crate) const JSON_SIGNIFICANT_DIGITS: usize = 6;

/// `v` rounded to [`JSON_SIGNIFICANT_DIGITS`] significant digits (what the JSON
/// documents write; whole numbers and non-finite values are kept).
pub(crate) fn meaningful(v: f64) -> f64 {
    if !v.is_finite() || v == v.trunc() {
        return v;
    }
    // Decimal rounding through the shortest text form: no binary artefacts.
    format!("{v:.*e}", JSON_SIGNIFICANT_DIGITS - 1)
        .parse()
        .unwrap_or(v)
}

/// Rounds every fractional number of a JSON document in place ([`meaningful`]): the
/// one formatter of the numbers of the JSON documents.
pub(crate) fn round_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(r) = n
                .as_f64()
                .map(meaningful)
                .and_then(serde_json::Number::from_f64)
            {
                *n = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(round_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(round_json),
        _ => {}
    }
}

/// Hits over lookups; `None` before the first lookup.
pub(crate) fn hit_ratio(hits: u64, misses: u64) -> Option<f64> {
    let lookups = hits + misses;
    (lookups > 0).then(|| hits as f64 / lookups as f64)
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
        assert_eq!(percent(0.0996), "10%");
        assert_eq!(percent(0.0994), "9.9%");
        assert_eq!(latency(0.00996), "10ms");
        assert_eq!(latency(0.00994), "9.9ms");
    }

    #[test]
    fn floats_time_stamps_and_ratios() {
        assert_eq!(format_float(0.005), "0.005");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(-3.0), "-3");
        assert_eq!(format_float(1e20), "1e20");
        assert_eq!(format_float(1e-7), "1e-7");
        // Bucket bounds read as they did with `{}` (the `le` label of a series must
        // not change), and every value reads back as the same float.
        for v in [
            0.0001,
            0.0005,
            0.001,
            0.0025,
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            0.5,
            0.75,
            1.0,
            2.5,
            5.0,
            7.5,
            10.0,
            30.0,
            60.0,
            120.0,
            0.123_456_789,
            1234.5678,
        ] {
            assert_eq!(format_float(v), format!("{v}"));
        }
        for v in [
            0.1 + 0.2,
            1e300,
            5e-324,
            123_456_789.123,
            9_007_199_254_740_993.0,
        ] {
            assert_eq!(format_float(v).parse::<f64>().unwrap(), v, "{v}");
        }
        let now = now_rfc3339();
        assert!(chrono::DateTime::parse_from_rfc3339(&now).is_ok(), "{now}");
        assert!(!now.contains('.'), "whole seconds: {now}");
        assert_eq!(hit_ratio(0, 0), None);
        assert_eq!(hit_ratio(3, 1), Some(0.75));
        assert_eq!(hit_ratio(0, 5), Some(0.0));
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_numbers_keep_what_is_meaningful() {
        // The float just below 0.00048, which prints as 0.00047999999999999996.
        let p95 = f64::from_bits(0.00048_f64.to_bits() - 1);
        assert_eq!(p95.to_string(), "0.00047999999999999996");
        assert_eq!(meaningful(p95), 0.00048);
        assert_eq!(meaningful(1_234.567_891_2), 1_234.57);
        assert_eq!(meaningful(300.0), 300.0);
        assert_eq!(meaningful(0.1 + 0.2), 0.3);
        let mut doc = serde_json::json!({
            "p95_seconds": p95,
            "count": 7,
            "series": [{"mean_seconds": 0.1 + 0.2}],
        });
        round_json(&mut doc);
        assert_eq!(
            doc.to_string(),
            r#"{"count":7,"p95_seconds":0.00048,"series":[{"mean_seconds":0.3}]}"#
        );
    }
}
