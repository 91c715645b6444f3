//! [`Settings::validate`]: every range and cross-field check of the settings, whether
//! they come from the environment ([`Settings::from_env`] calls it after parsing) or
//! from code ([`MonitorBuilder`](crate::MonitorBuilder) calls it before building).

use std::time::Duration;

use super::parse::invalid;
use super::tokens::check_token;
use super::Settings;
use crate::base::error::Error;

/// The labels every pushed alert sets, which `MCP_ALERT_LABELS` cannot override.
const RESERVED_LABELS: [&str; 4] = ["alertname", "severity", "component", "instance"];

impl Settings {
    /// Checks every value and how the values relate: thresholds in range, periods and
    /// limits greater than zero, the evaluation interval within the window, tokens a
    /// header can carry, alert labels that are valid and not reserved.
    ///
    /// The builder and the environment go through this one check, so they refuse the
    /// same values with the same error. Two guards stay with the environment only (see
    /// [`from_lookup`](Self::from_lookup)): the floors of the periods and
    /// `MCP_ALERT_MIN_SAMPLES=0`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming the variable of the first bad value (its value as
    /// the variable would write it; a token is never shown) and why it is refused.
    pub fn validate(&self) -> Result<(), Error> {
        positive(
            "MCP_REQUEST_LATENCY_THRESHOLD",
            self.request_latency_threshold,
        )?;
        for (variable, ratio) in [
            ("MCP_ERROR_RATE_THRESHOLD", self.error_rate_threshold),
            ("MCP_MEMORY_THRESHOLD", self.memory_threshold),
            ("MCP_CPU_THRESHOLD", self.cpu_threshold),
            (
                "MCP_CACHE_HIT_RATIO_THRESHOLD",
                self.cache_hit_ratio_threshold,
            ),
            ("MCP_DB_POOL_THRESHOLD", self.db_pool_threshold),
        ] {
            if !(0.0..=1.0).contains(&ratio) {
                return Err(invalid(
                    variable,
                    &ratio.to_string(),
                    format!("must be between 0% and 100%{}", ratio_hint(ratio)),
                ));
            }
        }
        let load = self.system_load_threshold;
        if !(load.is_finite() && load > 0.0) {
            return Err(invalid(
                "MCP_SYSTEM_LOAD_THRESHOLD",
                &load.to_string(),
                "expected a positive number".into(),
            ));
        }
        let factor = self.alert_critical_factor;
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(invalid(
                "MCP_ALERT_CRITICAL_FACTOR",
                &factor.to_string(),
                "must be at least 1".into(),
            ));
        }
        for (variable, d) in [
            ("MCP_METRICS_WINDOW", self.metrics_window),
            (
                "MCP_ALERT_EVALUATION_INTERVAL",
                self.alert_evaluation_interval,
            ),
            ("MCP_RESOURCE_INTERVAL", self.resource_interval),
            ("MCP_HTTP_HEADER_TIMEOUT", self.http_header_timeout),
            ("MCP_HTTP_BODY_TIMEOUT", self.http_body_timeout),
            ("MCP_HTTP_IDLE_TIMEOUT", self.http_idle_timeout),
            ("MCP_SHUTDOWN_TIMEOUT", self.shutdown_timeout),
            ("MCP_ALERT_RESEND_DELAY", self.alert_resend_delay),
        ] {
            positive(variable, d)?;
        }
        if let Some(d) = self.metrics_retention {
            if d.is_zero() {
                return Err(invalid(
                    "MCP_METRICS_RETENTION",
                    "0",
                    "must be greater than zero; no retention (None) turns the reset off".into(),
                ));
            }
        }
        if self.alert_evaluation_interval > self.metrics_window {
            return Err(invalid(
                "MCP_ALERT_EVALUATION_INTERVAL",
                &env_duration(self.alert_evaluation_interval),
                format!(
                    "must not be longer than MCP_METRICS_WINDOW ({})",
                    env_duration(self.metrics_window)
                ),
            ));
        }
        for (variable, n) in [
            ("MCP_ALERT_HISTORY_LIMIT", self.alert_history_limit),
            ("MCP_HTTP_MAX_SERIES", self.http_max_series),
            ("MCP_METRIC_MAX_SERIES", self.metric_max_series),
            (
                "MCP_PROFILE_MAX_SECONDS",
                usize::try_from(self.profile_max_seconds).unwrap_or(usize::MAX),
            ),
        ] {
            if n == 0 {
                return Err(invalid(
                    variable,
                    "0",
                    "expected a whole number greater than zero".into(),
                ));
            }
        }
        if self.native_histogram_schema > 8 {
            return Err(invalid(
                "MCP_NATIVE_HISTOGRAM_SCHEMA",
                &self.native_histogram_schema.to_string(),
                "expected a whole number from 0 to 8".into(),
            ));
        }
        for (variable, token) in [
            ("MCP_ADMIN_TOKEN", &self.admin_token),
            ("MCP_METRICS_TOKEN", &self.metrics_token),
        ] {
            if let Some(t) = token {
                check_token(variable, t)?;
            }
        }
        if self.instance.trim().is_empty() {
            return Err(invalid(
                "MCP_INSTANCE",
                &self.instance,
                "must not be empty; unset it for the host name".into(),
            ));
        }
        if let Some(c) = self.instance.chars().find(|c| c.is_control()) {
            return Err(invalid(
                "MCP_INSTANCE",
                &self.instance,
                format!(
                    "contains a control character ({c:?}); it is written into log lines and labels"
                ),
            ));
        }
        check_labels(&self.alert_labels).map_err(|reason| {
            let written: Vec<String> = self
                .alert_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            invalid("MCP_ALERT_LABELS", &written.join(","), reason)
        })?;
        self.check_alertmanager_auth()?;
        self.check_slos()
    }

    /// A client certificate needs its key (and the reverse); a bearer token and basic
    /// auth (user information in a URL) exclude each other, as in Prometheus.
    fn check_alertmanager_auth(&self) -> Result<(), Error> {
        let shown = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        match (&self.alertmanager_cert_file, &self.alertmanager_key_file) {
            (Some(_), None) => {
                return Err(invalid(
                    "MCP_ALERTMANAGER_CERT_FILE",
                    &shown(&self.alertmanager_cert_file),
                    "needs MCP_ALERTMANAGER_KEY_FILE, the key of the certificate".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "MCP_ALERTMANAGER_KEY_FILE",
                    &shown(&self.alertmanager_key_file),
                    "needs MCP_ALERTMANAGER_CERT_FILE, the certificate of the key".into(),
                ))
            }
            _ => {}
        }
        let with_userinfo = self.alertmanager_urls.iter().any(|u| {
            u.split_once("://")
                .is_some_and(|(_, rest)| rest[..rest.find('/').unwrap_or(rest.len())].contains('@'))
        });
        if with_userinfo && self.alertmanager_bearer_token_file.is_some() {
            return Err(invalid(
                "MCP_ALERTMANAGER_BEARER_TOKEN_FILE",
                &shown(&self.alertmanager_bearer_token_file),
                "MCP_ALERTMANAGER_URL carries user information (basic auth) too; use one of the two".into(),
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// Each objective on its own (a latency threshold on a bound of its kind's
    /// buckets), and no name twice.
    fn check_slos(&self) -> Result<(), Error> {
        for (i, o) in self.slos.iter().enumerate() {
            let bounds = match o.target.kind() {
                // The gRPC layer records with the HTTP buckets.
                "http" | "grpc" => self.http_buckets.bounds(),
                "db" => self.db_buckets.bounds(),
                _ => self.workflow_buckets.bounds(),
            };
            let mut reason = o.check(bounds).err();
            if self.slos[..i].iter().any(|p| p.name == o.name) {
                reason = Some(format!("the name {:?} is given twice", o.name));
            }
            if let Some(r) = reason {
                return Err(invalid(
                    "MCP_SLOS",
                    &o.to_string(),
                    format!("objective {}: {r}", i + 1),
                ));
            }
        }
        Ok(())
    }
}

/// What a ratio out of range was likely meant as: `90` is `90%` or `0.9`.
fn ratio_hint(ratio: f64) -> String {
    if ratio > 1.0 && ratio <= 100.0 {
        format!(": write {ratio}% or {}", ratio / 100.0)
    } else {
        " (write a percentage such as 80% or a ratio such as 0.8)".into()
    }
}

/// Refuses a zero duration.
fn positive(variable: &'static str, d: Duration) -> Result<(), Error> {
    if d.is_zero() {
        return Err(invalid(
            variable,
            &env_duration(d),
            "must be greater than zero".into(),
        ));
    }
    Ok(())
}

/// Label names must be valid Prometheus label names, not reserved (`__*`) and not one of
/// the labels every pushed alert sets; values must not be empty; no name twice.
fn check_labels(labels: &[(String, String)]) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The error of the environment `vars` (parsed, then validated).
    fn from_env(vars: &[(&str, &str)]) -> Error {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        Settings::from_lookup(&move |k| map.get(k).map(|v| (*v).to_owned())).unwrap_err()
    }

    /// The error of the builder given `f`.
    fn from_builder(f: impl FnOnce(&mut Settings)) -> Error {
        crate::Monitor::builder().configure(f).build().unwrap_err()
    }

    fn same(a: &Error, b: &Error) {
        match (a, b) {
            (
                Error::InvalidSetting {
                    variable,
                    value,
                    reason,
                },
                Error::InvalidSetting {
                    variable: v2,
                    value: value2,
                    reason: r2,
                },
            ) => assert_eq!((variable, value, reason), (v2, value2, r2)),
            _ => panic!("not both InvalidSetting: {a:?} / {b:?}"),
        }
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn the_builder_and_the_environment_refuse_the_same_values_with_the_same_error() {
        let zero_window = from_env(&[("MCP_METRICS_WINDOW", "0")]);
        assert!(
            zero_window.to_string().contains("MCP_METRICS_WINDOW"),
            "{zero_window}"
        );
        same(
            &zero_window,
            &from_builder(|s| s.metrics_window = Duration::ZERO),
        );
        same(
            &zero_window,
            &crate::Monitor::builder()
                .with_window(Duration::ZERO)
                .build()
                .unwrap_err(),
        );

        let long_interval = from_env(&[
            ("MCP_METRICS_WINDOW", "10s"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "1m"),
        ]);
        assert!(
            long_interval
                .to_string()
                .contains("MCP_ALERT_EVALUATION_INTERVAL"),
            "{long_interval}"
        );
        same(
            &long_interval,
            &from_builder(|s| {
                s.metrics_window = Duration::from_secs(10);
                s.alert_evaluation_interval = Duration::from_secs(60);
            }),
        );

        for (env, set) in [
            (
                ("MCP_ALERT_CRITICAL_FACTOR", "0.5"),
                (|s: &mut Settings| s.alert_critical_factor = 0.5) as fn(&mut Settings),
            ),
            (("MCP_CPU_THRESHOLD", "1.5"), |s| s.cpu_threshold = 1.5),
            (("MCP_ALERT_HISTORY_LIMIT", "0"), |s| {
                s.alert_history_limit = 0;
            }),
            (("MCP_ALERT_RESEND_DELAY", "0"), |s| {
                s.alert_resend_delay = Duration::ZERO;
            }),
            (("MCP_ALERT_LABELS", "severity=page"), |s| {
                s.alert_labels = vec![("severity".into(), "page".into())];
            }),
            (("MCP_ADMIN_TOKEN", "adm1n "), |s| {
                s.admin_token = Some("adm1n ".into());
            }),
        ] {
            same(&from_env(&[env]), &from_builder(set));
        }
    }

    #[test]
    fn the_builder_refuses_what_only_the_environment_refused_before() {
        for set in [
            (|s: &mut Settings| s.error_rate_threshold = -0.1) as fn(&mut Settings),
            |s| s.system_load_threshold = f64::NAN,
            |s| s.metrics_retention = Some(Duration::ZERO),
            |s| s.http_max_series = 0,
            |s| s.native_histogram_schema = 9,
            |s| s.instance = " ".into(),
            |s| s.alert_labels = vec![("team".into(), String::new())],
            |s| s.http_idle_timeout = Duration::ZERO,
        ] {
            let mut settings = Settings::default();
            set(&mut settings);
            assert!(
                matches!(settings.validate(), Err(Error::InvalidSetting { .. })),
                "{settings:?}"
            );
        }
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn durations_are_shown_as_a_variable_writes_them() {
        for (d, shown) in [
            (Duration::ZERO, "0"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(15), "15s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(86400), "24h"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(1500), "0.0015s"),
        ] {
            assert_eq!(env_duration(d), shown);
            assert_eq!(super::super::parse::parse_duration(shown), Ok(d), "{shown}");
        }
    }
}
