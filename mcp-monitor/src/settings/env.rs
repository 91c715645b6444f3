//! Reading the settings from the environment: [`Settings::from_env`] parses every
//! `MCP_*` variable that is set over the defaults, then [`validates`](Settings::validate)
//! the result.

use std::time::Duration;

use super::parse::{
    invalid, parse_base_url, parse_buckets, parse_count, parse_duration, parse_labels,
    parse_number, parse_path, parse_ratio, without_password,
};
use super::tokens::token_from;
use super::Settings;
use crate::base::diagnostic::diagnostic;
use crate::base::error::Error;

/// A value that must come from the environment in production but is fixed in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The variables whose value an error must never show.
const SECRETS: [&str; 2] = ["MCP_ADMIN_TOKEN", "MCP_METRICS_TOKEN"];

impl Settings {
    /// The defaults overridden by every `MCP_*` variable that is set, then
    /// [validated](Self::validate). An `MCP_*` variable that nothing reads (a typo such
    /// as `MCP_CPU_TRESHOLD`) is reported naming the closest known variable, through
    /// `tracing` as a warning or, with no subscriber installed, once on stderr; see
    /// [`unknown_variables`](Self::unknown_variables). A near miss of a token variable
    /// (`MCP_METRIC_TOKEN`, `MCP_ADMIN_TOKN_FILE`) is an error instead: it would
    /// leave the endpoints open.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used (a
    /// value that is not Unicode included); [`Error::TokenFile`] when a token file cannot
    /// be read; [`Error::MisspelledVariable`] for a near miss of a token variable.
    pub fn from_env() -> Result<Self, Error> {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        Self::check_names(&names)?;
        Self::from_lookup(&|name| match std::env::var(name) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            // Not Unicode: passed on so that it is refused by name below, not ignored.
            Err(std::env::VarError::NotUnicode(v)) => Some(v.to_string_lossy().into_owned()),
        })
    }

    /// Reports the `MCP_*` variables among `names` that nothing reads (see
    /// [`diagnostic`](crate::base::diagnostic): through `tracing`, or once to stderr),
    /// and refuses a near miss of a token variable: `MCP_METRIC_TOKEN=x` must not leave
    /// `/metrics` open without a word.
    pub(super) fn check_names<S: AsRef<str>>(names: &[S]) -> Result<(), Error> {
        let unknown = Self::unknown_variables(names);
        if let Some((name, suggestion)) = unknown.iter().find_map(|u| {
            u.suggestion
                .filter(|s| s.contains("TOKEN"))
                .map(|s| (&u.name, s))
        }) {
            return Err(Error::MisspelledVariable {
                name: name.clone(),
                suggestion,
            });
        }
        for u in unknown {
            let name = u.name.as_str();
            match u.suggestion {
                Some(s) => diagnostic!(variable = name, suggestion = s;
                    "unknown setting {name} is ignored; did you mean {s}?"),
                None => diagnostic!(variable = name; "unknown setting {name} is ignored"),
            }
        }
        Ok(())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    ///
    /// Besides the syntax of each value, two guards apply to the environment only,
    /// because they catch a slip in a deployment's configuration rather than a value
    /// that does not work: the floors of the periods (`MCP_RESOURCE_INTERVAL` under
    /// `sysinfo`'s CPU interval, `MCP_ALERT_EVALUATION_INTERVAL` under 100 ms,
    /// `MCP_METRICS_WINDOW`, `MCP_METRICS_RETENTION` and `MCP_ALERT_RESEND_DELAY` under
    /// 1 s, a timeout or latency under 1 ms: `5ms` written for `5s`), and
    /// `MCP_ALERT_MIN_SAMPLES=0`, which is written `1` (a rate needs one sample, so the
    /// engine and the rules treat 0 as 1). Code may set them on purpose (tests tick fast,
    /// and set no sample minimum), and [`validate`](Self::validate) lets it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used, with
    /// the value as written in the environment.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, Error> {
        let s = Self::parse(lookup)?;
        s.validate().map_err(|e| match e {
            // Show the value as the variable wrote it (`150%`, not `1.5`).
            Error::InvalidSetting {
                variable,
                value,
                reason,
            } => Error::InvalidSetting {
                variable,
                value: lookup(variable)
                    .filter(|_| !SECRETS.contains(&variable))
                    .map_or(value, |v| without_password(v.trim())),
                reason,
            },
            other => other,
        })?;
        Ok(s)
    }

    /// The defaults overridden by every variable that is set, each parsed by its syntax.
    fn parse(lookup: Lookup<'_>) -> Result<Self, Error> {
        let mut s = Self::default();
        let get = |name: &'static str| lookup(name).map(|v| (name, v.trim().to_owned()));
        for (name, field) in [
            ("MCP_ERROR_RATE_THRESHOLD", &mut s.error_rate_threshold),
            ("MCP_MEMORY_THRESHOLD", &mut s.memory_threshold),
            ("MCP_CPU_THRESHOLD", &mut s.cpu_threshold),
            (
                "MCP_CACHE_HIT_RATIO_THRESHOLD",
                &mut s.cache_hit_ratio_threshold,
            ),
            ("MCP_DB_POOL_THRESHOLD", &mut s.db_pool_threshold),
        ] {
            if let Some((n, v)) = get(name) {
                *field = parse_ratio(&v).map_err(|r| invalid(n, &v, r))?;
            }
        }
        for (name, field) in [
            ("MCP_SYSTEM_LOAD_THRESHOLD", &mut s.system_load_threshold),
            ("MCP_ALERT_CRITICAL_FACTOR", &mut s.alert_critical_factor),
        ] {
            if let Some((n, v)) = get(name) {
                *field = parse_number(&v).map_err(|r| invalid(n, &v, r))?;
            }
        }
        // Durations: one rule (`250ms`, `1s`, `5m`, `24h`, `1d`, or a bare number of
        // seconds), and a floor for every period (see `minimum`).
        for (name, field) in [
            (
                "MCP_REQUEST_LATENCY_THRESHOLD",
                &mut s.request_latency_threshold,
            ),
            ("MCP_METRICS_WINDOW", &mut s.metrics_window),
            (
                "MCP_ALERT_EVALUATION_INTERVAL",
                &mut s.alert_evaluation_interval,
            ),
            ("MCP_RESOURCE_INTERVAL", &mut s.resource_interval),
            ("MCP_HTTP_HEADER_TIMEOUT", &mut s.http_header_timeout),
            ("MCP_HTTP_BODY_TIMEOUT", &mut s.http_body_timeout),
            ("MCP_HTTP_IDLE_TIMEOUT", &mut s.http_idle_timeout),
            ("MCP_SHUTDOWN_TIMEOUT", &mut s.shutdown_timeout),
            ("MCP_ALERT_RESEND_DELAY", &mut s.alert_resend_delay),
        ] {
            if let Some((n, v)) = get(name) {
                *field = period(n, &v)?;
            }
        }
        if let Some((n, v)) = get("MCP_ALERT_FOR") {
            s.alert_for = parse_duration(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_METRICS_RETENTION") {
            let d = period(n, &v)?;
            s.metrics_retention = (!d.is_zero()).then_some(d);
        }
        if let Some((n, v)) = get("MCP_ALERT_MIN_SAMPLES") {
            // Environment only: see `from_lookup`.
            match parse_count(&v) {
                Ok(0) | Err(_) => {
                    return Err(invalid(
                        n,
                        &v,
                        "expected a whole number greater than zero".into(),
                    ))
                }
                Ok(c) => s.alert_min_samples = c as u64,
            }
        }
        if let Some((n, v)) = get("MCP_ALERT_HISTORY_LIMIT") {
            s.alert_history_limit = parse_count(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_HTTP_MAX_SERIES") {
            s.http_max_series = parse_count(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_PROFILE_MAX_SECONDS") {
            s.profile_max_seconds = parse_count(&v).map_err(|r| invalid(n, &v, r))? as u64;
        }
        if let Some((n, v)) = get("MCP_METRIC_MAX_SERIES") {
            s.metric_max_series = parse_count(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_NATIVE_HISTOGRAM_SCHEMA") {
            s.native_histogram_schema = v
                .parse::<u8>()
                .ok()
                .filter(|&x| x <= 8)
                .ok_or_else(|| invalid(n, &v, "expected a whole number from 0 to 8".into()))?;
        }
        for (name, file_name, field) in [
            (
                "MCP_ADMIN_TOKEN",
                "MCP_ADMIN_TOKEN_FILE",
                &mut s.admin_token,
            ),
            (
                "MCP_METRICS_TOKEN",
                "MCP_METRICS_TOKEN_FILE",
                &mut s.metrics_token,
            ),
        ] {
            *field = token_from(name, lookup(name), file_name, lookup(file_name))?;
        }
        for (name, field) in [
            ("MCP_HTTP_BUCKETS", &mut s.http_buckets),
            ("MCP_DB_BUCKETS", &mut s.db_buckets),
            ("MCP_WORKFLOW_BUCKETS", &mut s.workflow_buckets),
        ] {
            if let Some((n, v)) = get(name) {
                *field = parse_buckets(&v).map_err(|r| invalid(n, &v, r))?;
            }
        }
        if let Some((n, v)) = get("MCP_ALERTMANAGER_URL") {
            s.alertmanager_urls = v
                .split(',')
                .map(|u| parse_base_url(u.trim()).map_err(|r| invalid(n, &without_password(&v), r)))
                .collect::<Result<_, _>>()?;
        }
        if let Some((_, v)) = get("MCP_INSTANCE") {
            s.instance = v;
        }
        if let Some((n, v)) = get("MCP_ALERT_LABELS") {
            s.alert_labels = parse_labels(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_EXTERNAL_URL") {
            s.external_url = Some(parse_base_url(&v).map_err(|r| invalid(n, &v, r))?);
        }
        for (name, field) in [
            ("MCP_ALERTMANAGER_CA_FILE", &mut s.alertmanager_ca_file),
            ("MCP_ALERTMANAGER_CERT_FILE", &mut s.alertmanager_cert_file),
            ("MCP_ALERTMANAGER_KEY_FILE", &mut s.alertmanager_key_file),
            (
                "MCP_ALERTMANAGER_BEARER_TOKEN_FILE",
                &mut s.alertmanager_bearer_token_file,
            ),
        ] {
            // What the file holds is checked when the notifier is built (start-up).
            if let Some((n, v)) = get(name) {
                *field = Some(parse_path(&v).map_err(|r| invalid(n, &v, r))?);
            }
        }
        if let Some((n, v)) = get("MCP_SLOS") {
            s.slos = super::slos::parse_objectives(&v).map_err(|r| invalid(n, &v, r))?;
        }
        s.otlp = super::otlp::parse(lookup)?;
        Ok(s)
    }
}

/// A period from the environment: a duration (zero is refused by the validation, as
/// "greater than zero", or means "off" where the variable says so) no shorter than the
/// variable's floor.
fn period(variable: &'static str, v: &str) -> Result<Duration, Error> {
    let d = parse_duration(v).map_err(|r| invalid(variable, v, r))?;
    let floor = minimum(variable);
    if !d.is_zero() && d < floor {
        return Err(invalid(
            variable,
            v,
            format!(
                "must be at least {} (or a duration such as 250ms, 1s, 5m or 24h; a bare number is seconds)",
                super::validate::env_duration(floor)
            ),
        ));
    }
    Ok(d)
}

/// The shortest period the environment may set for `variable`: CPU use cannot be
/// measured over less than `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`; a window, a
/// retention (a reset of the store) or a resend more often than every second only burns
/// CPU and floods the log; periods of the background tasks under 100 ms likewise; a
/// timeout or latency under 1 ms is a slip (`5ms` written for `5s`).
fn minimum(variable: &str) -> Duration {
    match variable {
        "MCP_RESOURCE_INTERVAL" => {
            sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(100))
        }
        "MCP_METRICS_WINDOW" | "MCP_METRICS_RETENTION" | "MCP_ALERT_RESEND_DELAY" => {
            Duration::from_secs(1)
        }
        "MCP_ALERT_EVALUATION_INTERVAL" => Duration::from_millis(100),
        _ => Duration::from_millis(1),
    }
}
