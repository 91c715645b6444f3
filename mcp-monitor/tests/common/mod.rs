//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

/// The value of the first exposition line that starts with `prefix` (name and labels).
pub fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
