//! [`Settings::validate`]: every range and cross-field check of the settings, whether
//! they come from the environment ([`Settings::from_env`] calls it after parsing) or
//! from code ([`MonitorBuilder`](crate::MonitorBuilder) calls it before building).

use super::bounds::env_duration;
use super::parse::invalid;
use super::table::TABLE;
use super::Settings;
use crate::base::error::Error;

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
        // Each variable against its bounds (its row of the table), then how they relate.
        for v in TABLE {
            v.check(self)?;
        }
        if self.long_poll_threshold < crate::base::clock::MIN_TICK {
            return Err(invalid(
                "MCP_LONG_POLL_THRESHOLD",
                &env_duration(self.long_poll_threshold),
                "must be at least 1ms, the finest tick of the clock that times polls".into(),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

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
            |s| s.long_poll_threshold = Duration::from_micros(500),
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
