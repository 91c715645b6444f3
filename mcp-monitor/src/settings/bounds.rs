//! What one value must be, whichever way it was set: the checks the rows of the
//! settings table apply (`table`), and how a duration is written back in an error.

use std::time::Duration;

use super::parse::invalid;
use crate::base::error::Error;

/// The labels every pushed alert sets, which `MCP_ALERT_LABELS` cannot override.
const RESERVED_LABELS: [&str; 4] = ["alertname", "severity", "component", "instance"];

/// What a ratio out of range was likely meant as: `90` is `90%` or `0.9`.
pub(super) fn ratio_hint(ratio: f64) -> String {
    if ratio > 1.0 && ratio <= 100.0 {
        format!(": write {ratio}% or {}", ratio / 100.0)
    } else {
        " (write a percentage such as 80% or a ratio such as 0.8)".into()
    }
}

/// Refuses a zero duration.
pub(super) fn positive(variable: &'static str, d: Duration) -> Result<(), Error> {
    if d.is_zero() {
        return Err(invalid(
            variable,
            &env_duration(d),
            "must be greater than zero".into(),
        ));
    }
    Ok(())
}

/// `MCP_INSTANCE`: not empty, no control character (it is written into log lines and
/// labels).
pub(super) fn check_instance(variable: &'static str, instance: &str) -> Result<(), Error> {
    if instance.trim().is_empty() {
        return Err(invalid(
            variable,
            instance,
            "must not be empty; unset it for the host name".into(),
        ));
    }
    if let Some(c) = instance.chars().find(|c| c.is_control()) {
        return Err(invalid(
            variable,
            instance,
            format!(
                "contains a control character ({c:?}); it is written into log lines and labels"
            ),
        ));
    }
    Ok(())
}

/// Label names must be valid Prometheus label names, not reserved (`__*`) and not one of
/// the labels every pushed alert sets; values must not be empty; no name twice.
pub(super) fn check_labels(labels: &[(String, String)]) -> Result<(), String> {
    for (i, (k, v)) in labels.iter().enumerate() {
        let valid = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || k.starts_with("__") {
            return Err(format!("{k:?} is not a valid label name"));
        }
        if RESERVED_LABELS.contains(&k.as_str()) {
            return Err(format!(
                "{k:?} is set by the monitor and cannot be overridden"
            ));
        }
        if v.is_empty() {
            return Err(format!("label {k:?} has an empty value"));
        }
        if let Some(c) = v.chars().find(|c| c.is_control()) {
            return Err(format!(
                "label {k:?} has a control character ({c:?}) in its value"
            ));
        }
        if labels[..i].iter().any(|(o, _)| o == k) {
            return Err(format!("label {k:?} is given twice"));
        }
    }
    Ok(())
}

/// A duration as a variable would write it, in the largest unit that keeps it whole:
/// `0`, `1500ms`, `15s`, `5m`, `24h`; under a millisecond, seconds with a fraction
/// (`0.0015s`).
pub(super) fn env_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let (ms, s) = (1_000_000, 1_000_000_000);
    if ns == 0 {
        "0".to_owned()
    } else if ns % (3600 * s) == 0 {
        format!("{}h", ns / (3600 * s))
    } else if ns % (60 * s) == 0 {
        format!("{}m", ns / (60 * s))
    } else if ns % s == 0 {
        format!("{}s", ns / s)
    } else if ns % ms == 0 {
        format!("{}ms", ns / ms)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}
