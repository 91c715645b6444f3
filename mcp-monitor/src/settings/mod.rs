//! Settings: read from the environment (`MCP_*`) or set in code.
//!
//! Every value is validated; a bad one is an [`Error::InvalidSetting`] naming the
//! variable and the value, never a silent fallback to the default.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::base::error::Error;
use crate::base::histogram::Buckets;

/// A value that must come from the environment in production but is fixed in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Every setting of the monitor. [`Settings::default`] is the documented defaults;
/// [`Settings::from_env`] reads the `MCP_*` variables over them.
///
/// Each field names its variable. Set fields in code through
/// [`MonitorBuilder::configure`](crate::MonitorBuilder::configure), or change a value
/// read from the environment before handing it to
/// [`MonitorBuilder::with_settings`](crate::MonitorBuilder::with_settings):
///
/// ```
/// use std::time::Duration;
/// use mcp_monitor::{Buckets, Settings};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // What `MCP_CPU_THRESHOLD=90%` and `MCP_METRICS_WINDOW=1m` would give.
/// let env = |name: &str| match name {
///     "MCP_CPU_THRESHOLD" => Some("90%".to_owned()),
///     "MCP_METRICS_WINDOW" => Some("1m".to_owned()),
///     _ => None,
/// };
/// let mut settings = Settings::from_lookup(&env)?; // or Settings::from_env()?
/// assert_eq!(settings.cpu_threshold, 0.9);
/// assert_eq!(settings.metrics_window, Duration::from_secs(60));
///
/// settings.http_buckets = Buckets::from_seconds(&[0.01, 0.1, 1.0])?;
/// let monitor = mcp_monitor::Monitor::builder().with_settings(settings).build()?;
/// assert_eq!(monitor.settings().error_rate_threshold, 0.05); // a default
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// `MCP_REQUEST_LATENCY_THRESHOLD`: p95 request latency over the window above which
    /// `HIGH_REQUEST_LATENCY` fires. Default 1 s.
    pub request_latency_threshold: Duration,
    /// `MCP_ERROR_RATE_THRESHOLD`: share of failures above which `HIGH_ERROR_RATE` fires. Default 5%.
    pub error_rate_threshold: f64,
    /// `MCP_MEMORY_THRESHOLD`: memory use above which `HIGH_MEMORY_USAGE` fires. Default 80%.
    pub memory_threshold: f64,
    /// `MCP_CPU_THRESHOLD`: CPU use above which `HIGH_CPU_USAGE` fires. Default 80%.
    pub cpu_threshold: f64,
    /// `MCP_CACHE_HIT_RATIO_THRESHOLD`: hit ratio below which `LOW_CACHE_HIT_RATIO` fires. Default 80%.
    pub cache_hit_ratio_threshold: f64,
    /// `MCP_DB_POOL_THRESHOLD`: pool use above which `HIGH_DB_POOL_UTILIZATION` fires. Default 90%.
    pub db_pool_threshold: f64,
    /// `MCP_SYSTEM_LOAD_THRESHOLD`: 1-minute load average per core above which
    /// `HIGH_SYSTEM_LOAD` fires. Default 1.0.
    pub system_load_threshold: f64,
    /// `MCP_ALERT_CRITICAL_FACTOR`: an alert is `critical` rather than `warning` when its
    /// value passes the threshold by this factor (above it for "high" alerts, below
    /// threshold ÷ factor for `LOW_CACHE_HIT_RATIO`). Default 1.2.
    pub alert_critical_factor: f64,
    /// `MCP_METRICS_WINDOW`: the sliding window for rates, means and p95. Default 5 min.
    pub metrics_window: Duration,
    /// `MCP_ALERT_EVALUATION_INTERVAL`: how often alerts are evaluated. Default 15 s.
    pub alert_evaluation_interval: Duration,
    /// `MCP_ALERT_FOR`: how long a condition must hold before its alert fires. Default 1 min.
    pub alert_for: Duration,
    /// `MCP_ALERT_MIN_SAMPLES`: fewest samples in the window for a rate or latency alert. Default 20.
    pub alert_min_samples: u64,
    /// `MCP_ALERT_HISTORY_LIMIT`: alerts kept in the history. Default 1000.
    pub alert_history_limit: usize,
    /// `MCP_METRICS_RETENTION`: period of the automatic reset of the summary store and
    /// alerts; `None` (`0`) turns it off. Default 24 h.
    pub metrics_retention: Option<Duration>,
    /// `MCP_RESOURCE_INTERVAL`: how often CPU, memory, load and pools are sampled. Default 5 s.
    pub resource_interval: Duration,
    /// `MCP_ADMIN_TOKEN`: bearer token for `POST /api/v1/metrics/reset`; unset refuses every caller.
    pub admin_token: Option<String>,
    /// `MCP_METRICS_TOKEN`: bearer token required to read `/metrics` and the JSON endpoints.
    pub metrics_token: Option<String>,
    /// `MCP_ADDR`: the address [`http::bind`](crate::http::bind) listens on. Default
    /// `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `MCP_HTTP_BUCKETS`: comma-separated bucket bounds in seconds for HTTP latency.
    pub http_buckets: Buckets,
    /// `MCP_DB_BUCKETS`: comma-separated bucket bounds in seconds for database operations.
    pub db_buckets: Buckets,
    /// `MCP_WORKFLOW_BUCKETS`: comma-separated bucket bounds in seconds for workflow steps and runs.
    pub workflow_buckets: Buckets,
    /// `MCP_HTTP_MAX_SERIES`: most HTTP label sets kept; later ones are counted under
    /// `path="overflow"`. Default 10 000.
    pub http_max_series: usize,
    /// `MCP_ALERTMANAGER_URL`: Alertmanager base URLs (comma-separated in the variable);
    /// firing and resolved alerts are pushed to `POST <url>/api/v2/alerts` of each.
    /// Empty (unset): no push.
    pub alertmanager_urls: Vec<String>,
    /// `MCP_ALERT_RESEND_DELAY`: how often a still-firing alert is sent again. Default 1 min.
    pub alert_resend_delay: Duration,
    /// `MCP_INSTANCE`: the `instance` label of pushed alerts and the instance named in
    /// logs, report and dashboard. Default: the host name.
    pub instance: String,
    /// `MCP_ALERT_LABELS`: static labels added to every pushed alert (`team=payments,env=prod`).
    pub alert_labels: Vec<(String, String)>,
    /// `MCP_EXTERNAL_URL`: this instance's own base URL, for the `generatorURL` of pushed alerts.
    pub external_url: Option<String>,
    /// `MCP_HTTP_HEADER_TIMEOUT`: longest time a client may take to send a request head,
    /// from its first byte. Default 10 s.
    pub http_header_timeout: Duration,
    /// `MCP_HTTP_BODY_TIMEOUT`: longest time a client may take to send a request body,
    /// from the end of its head. Default 30 s.
    pub http_body_timeout: Duration,
    /// `MCP_HTTP_IDLE_TIMEOUT`: longest time a connection may sit without a request
    /// (after it is accepted, or between keep-alive requests). Default 75 s, longer than
    /// the usual 60 s of a load balancer in front, so that the balancer closes first.
    pub http_idle_timeout: Duration,
    /// `MCP_SHUTDOWN_TIMEOUT`: longest graceful drain after a shutdown signal; whatever
    /// is still open then is closed. Default 10 s.
    pub shutdown_timeout: Duration,
}

/// Every `MCP_*` variable [`Settings::from_env`] reads; any other `MCP_*` variable is
/// reported at start-up, with the closest of these.
pub const VARIABLES: &[&str] = &[
    "MCP_REQUEST_LATENCY_THRESHOLD",
    "MCP_ERROR_RATE_THRESHOLD",
    "MCP_MEMORY_THRESHOLD",
    "MCP_CPU_THRESHOLD",
    "MCP_CACHE_HIT_RATIO_THRESHOLD",
    "MCP_DB_POOL_THRESHOLD",
    "MCP_SYSTEM_LOAD_THRESHOLD",
    "MCP_ALERT_CRITICAL_FACTOR",
    "MCP_METRICS_WINDOW",
    "MCP_ALERT_EVALUATION_INTERVAL",
    "MCP_ALERT_FOR",
    "MCP_ALERT_MIN_SAMPLES",
    "MCP_ALERT_HISTORY_LIMIT",
    "MCP_METRICS_RETENTION",
    "MCP_RESOURCE_INTERVAL",
    "MCP_ADMIN_TOKEN",
    "MCP_ADMIN_TOKEN_FILE",
    "MCP_METRICS_TOKEN",
    "MCP_METRICS_TOKEN_FILE",
    "MCP_ADDR",
    "MCP_HTTP_BUCKETS",
    "MCP_DB_BUCKETS",
    "MCP_WORKFLOW_BUCKETS",
    "MCP_HTTP_MAX_SERIES",
    "MCP_HTTP_HEADER_TIMEOUT",
    "MCP_HTTP_BODY_TIMEOUT",
    "MCP_HTTP_IDLE_TIMEOUT",
    "MCP_SHUTDOWN_TIMEOUT",
    "MCP_ALERTMANAGER_URL",
    "MCP_ALERT_RESEND_DELAY",
    "MCP_INSTANCE",
    "MCP_ALERT_LABELS",
    "MCP_EXTERNAL_URL",
];

/// An `MCP_*` variable that no part of the monitor reads, found by
/// [`Settings::unknown_variables`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The variable as set.
    pub name: String,
    /// The known variable closest to it, if one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown variable {}", self.name)?;
        if let Some(s) = self.suggestion {
            write!(f, " (did you mean {s}?)")?;
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            request_latency_threshold: Duration::from_secs(1),
            error_rate_threshold: 0.05,
            memory_threshold: 0.80,
            cpu_threshold: 0.80,
            cache_hit_ratio_threshold: 0.80,
            db_pool_threshold: 0.90,
            system_load_threshold: 1.0,
            alert_critical_factor: 1.2,
            metrics_window: Duration::from_secs(300),
            alert_evaluation_interval: Duration::from_secs(15),
            alert_for: Duration::from_secs(60),
            alert_min_samples: 20,
            alert_history_limit: 1000,
            metrics_retention: Some(Duration::from_secs(24 * 3600)),
            resource_interval: Duration::from_secs(5),
            admin_token: None,
            metrics_token: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            http_buckets: Buckets::http_default(),
            db_buckets: Buckets::db_default(),
            workflow_buckets: Buckets::workflow_default(),
            http_max_series: 10_000,
            alertmanager_urls: Vec::new(),
            alert_resend_delay: Duration::from_secs(60),
            instance: default_instance(),
            alert_labels: Vec::new(),
            external_url: None,
            http_header_timeout: Duration::from_secs(10),
            http_body_timeout: Duration::from_secs(30),
            http_idle_timeout: Duration::from_secs(75),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl Settings {
    /// The defaults overridden by every `MCP_*` variable that is set. An `MCP_*`
    /// variable that nothing reads (a typo such as `MCP_CPU_TRESHOLD`) is logged as a
    /// warning naming the closest known variable; see [`unknown_variables`](Self::unknown_variables).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used (a
    /// value that is not Unicode included); [`Error::TokenFile`] when a token file cannot
    /// be read.
    pub fn from_env() -> Result<Self, Error> {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        for unknown in Self::unknown_variables(&names) {
            match unknown.suggestion {
                Some(s) => tracing::warn!(
                    variable = %unknown.name,
                    suggestion = s,
                    "unknown setting {} is ignored; did you mean {s}?",
                    unknown.name
                ),
                None => tracing::warn!(
                    variable = %unknown.name,
                    "unknown setting {} is ignored",
                    unknown.name
                ),
            }
        }
        Self::from_lookup(&|name| match std::env::var(name) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            // Not Unicode: passed on so that it is refused by name below, not ignored.
            Err(std::env::VarError::NotUnicode(v)) => Some(v.to_string_lossy().into_owned()),
        })
    }

    /// The names among `names` that start with `MCP_` but are none of [`VARIABLES`],
    /// each with the closest known name when it is likely a typo.
    pub fn unknown_variables<S: AsRef<str>>(names: &[S]) -> Vec<UnknownVariable> {
        let mut out: Vec<UnknownVariable> = names
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| n.starts_with("MCP_") && !VARIABLES.contains(n))
            .map(|n| UnknownVariable {
                name: n.to_owned(),
                suggestion: closest(n),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, Error> {
        let mut s = Self::default();
        let get = |name: &'static str| lookup(name).map(|v| (name, v.trim().to_owned()));
        if let Some((n, v)) = get("MCP_REQUEST_LATENCY_THRESHOLD") {
            s.request_latency_threshold = positive(n, &v, parse_latency(&v))?;
        }
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
        if let Some((n, v)) = get("MCP_SYSTEM_LOAD_THRESHOLD") {
            s.system_load_threshold = parse_positive_f64(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_ALERT_CRITICAL_FACTOR") {
            let f = parse_positive_f64(&v).map_err(|r| invalid(n, &v, r))?;
            if f < 1.0 {
                return Err(invalid(n, &v, "must be at least 1".into()));
            }
            s.alert_critical_factor = f;
        }
        for (name, field) in [
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
        ] {
            if let Some((n, v)) = get(name) {
                let d = positive(n, &v, parse_duration(&v))?;
                let floor = minimum(n);
                if d < floor {
                    return Err(invalid(n, &v, format!("must be at least {floor:?}")));
                }
                *field = d;
            }
        }
        if let Some((n, v)) = get("MCP_ALERT_FOR") {
            s.alert_for = parse_duration(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_METRICS_RETENTION") {
            let d = parse_duration(&v).map_err(|r| invalid(n, &v, r))?;
            s.metrics_retention = (!d.is_zero()).then_some(d);
        }
        if let Some((n, v)) = get("MCP_ALERT_MIN_SAMPLES") {
            s.alert_min_samples = parse_count(&v).map_err(|r| invalid(n, &v, r))? as u64;
        }
        if let Some((n, v)) = get("MCP_ALERT_HISTORY_LIMIT") {
            s.alert_history_limit = parse_count(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_HTTP_MAX_SERIES") {
            s.http_max_series = parse_count(&v).map_err(|r| invalid(n, &v, r))?;
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
        if let Some((n, v)) = get("MCP_ADDR") {
            s.addr = v
                .parse()
                .map_err(|_| invalid(n, &v, "expected an address such as 127.0.0.1:8080".into()))?;
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
                .map(|u| parse_base_url(u.trim()).map_err(|r| invalid(n, &v, r)))
                .collect::<Result<_, _>>()?;
        }
        if let Some((n, v)) = get("MCP_ALERT_RESEND_DELAY") {
            s.alert_resend_delay = positive(n, &v, parse_duration(&v))?;
        }
        if let Some((n, v)) = get("MCP_INSTANCE") {
            if v.is_empty() {
                return Err(invalid(
                    n,
                    &v,
                    "must not be empty; unset it for the host name".into(),
                ));
            }
            s.instance = v;
        }
        if let Some((n, v)) = get("MCP_ALERT_LABELS") {
            s.alert_labels = parse_labels(&v).map_err(|r| invalid(n, &v, r))?;
        }
        if let Some((n, v)) = get("MCP_EXTERNAL_URL") {
            s.external_url = Some(parse_base_url(&v).map_err(|r| invalid(n, &v, r))?);
        }
        if s.alert_evaluation_interval > s.metrics_window {
            return Err(invalid(
                "MCP_ALERT_EVALUATION_INTERVAL",
                &format!("{:?}", s.alert_evaluation_interval),
                format!(
                    "must not be longer than MCP_METRICS_WINDOW ({:?})",
                    s.metrics_window
                ),
            ));
        }
        Ok(s)
    }
}

/// The shortest period that works for `variable`: CPU use cannot be measured over less
/// than `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`, and periods of the background tasks
/// under 100 ms (or timeouts under 1 ms) only burn CPU.
fn minimum(variable: &str) -> Duration {
    match variable {
        "MCP_RESOURCE_INTERVAL" => {
            sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(100))
        }
        "MCP_METRICS_WINDOW" => Duration::from_secs(1),
        "MCP_ALERT_EVALUATION_INTERVAL" => Duration::from_millis(100),
        _ => Duration::from_millis(1),
    }
}

/// The known variable within a few edits of `name`, if any.
fn closest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|known| (strsim::damerau_levenshtein(name, known), *known))
        .filter(|(distance, known)| *distance <= 3.max(known.len() / 5))
        .min()
        .map(|(_, known)| known)
}

/// A token from `MCP_X_TOKEN` or from the file named by `MCP_X_TOKEN_FILE` (not both).
fn token_from(
    name: &'static str,
    value: Option<String>,
    file_name: &'static str,
    file: Option<String>,
) -> Result<Option<String>, Error> {
    match (value, file) {
        (None, None) => Ok(None),
        (Some(_), Some(path)) => Err(invalid(
            file_name,
            &path,
            format!("{name} is set too; set only one of the two"),
        )),
        (Some(token), None) => check_token(name, &token).map(|()| Some(token)),
        (None, Some(path)) => {
            if path.is_empty() {
                return Err(invalid(file_name, "", "expected the path of a file".into()));
            }
            let token = read_token_file(file_name, Path::new(&path))?;
            check_token(name, &token).map_err(|e| match e {
                Error::InvalidSetting { reason, .. } => Error::InvalidSetting {
                    variable: file_name,
                    value: path.clone(),
                    reason: format!("the token in the file {reason}"),
                },
                other => other,
            })?;
            Ok(Some(token))
        }
    }
}

/// The longest token file read; anything longer is not a token (and `/dev/zero` must
/// not take the process's memory).
const TOKEN_FILE_LIMIT: u64 = 4096;

/// Reads a token file, dropping one trailing newline (`\n` or `\r\n`).
fn read_token_file(variable: &'static str, path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let error = |source| Error::TokenFile {
        variable,
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(TOKEN_FILE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(error)?;
    if bytes.len() as u64 > TOKEN_FILE_LIMIT {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than {TOKEN_FILE_LIMIT} bytes: not a token"),
        )));
    }
    let mut token = String::from_utf8(bytes).map_err(|_| {
        error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8: not a token",
        ))
    })?;
    if token.ends_with('\n') {
        token.pop();
        if token.ends_with('\r') {
            token.pop();
        }
    }
    Ok(token)
}

/// Refuses a token that no `Authorization: Bearer` header can carry: empty, or with
/// anything but visible ASCII (whitespace and control characters, a trailing newline
/// included). The error shows where the bad character is, never the token.
pub(crate) fn check_token(variable: &'static str, token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid(
            variable,
            "",
            "a token must not be empty; unset the variable instead".into(),
        ));
    }
    if let Some((at, c)) = token.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        let what = match c {
            '\n' | '\r' => "a line break (a trailing newline from a file?)",
            c if c.is_whitespace() => "whitespace",
            c if c.is_control() => "a control character",
            _ => "a character outside visible ASCII",
        };
        return Err(Error::InvalidSetting {
            variable,
            value: format!("<{} characters, not shown>", token.chars().count()),
            reason: format!(
                "contains {what} ({c:?}) at byte {at}; a bearer token is visible ASCII only, so it could never match"
            ),
        });
    }
    Ok(())
}

fn invalid(variable: &'static str, value: &str, reason: String) -> Error {
    Error::InvalidSetting {
        variable,
        value: value.to_owned(),
        reason,
    }
}

fn positive(
    name: &'static str,
    value: &str,
    parsed: Result<Duration, String>,
) -> Result<Duration, Error> {
    let d = parsed.map_err(|r| invalid(name, value, r))?;
    if d.is_zero() {
        return Err(invalid(name, value, "must be greater than zero".into()));
    }
    Ok(d)
}

/// Parses `80%` or `0.8` into `0.8`; the result must lie in `0..=1`.
pub(crate) fn parse_ratio(v: &str) -> Result<f64, String> {
    let (number, scale) = match v.strip_suffix('%') {
        Some(p) => (p.trim(), 100.0),
        None => (v, 1.0),
    };
    let x: f64 = number
        .parse()
        .map_err(|_| "expected a percentage such as 80% or a ratio such as 0.8".to_owned())?;
    let r = x / scale;
    if !(0.0..=1.0).contains(&r) || !r.is_finite() {
        return Err("must be between 0% and 100%".into());
    }
    Ok(r)
}

fn parse_positive_f64(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err("expected a positive number".into()),
    }
}

fn parse_count(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number greater than zero".into()),
    }
}

/// Parses `250ms`, `1s`, `1.5s`, `5m`, `24h`, `1d` (and `0`).
pub(crate) fn parse_duration(v: &str) -> Result<Duration, String> {
    const HELP: &str = "expected a duration such as 250ms, 1s, 5m or 24h";
    if v == "0" {
        return Ok(Duration::ZERO);
    }
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| HELP.to_owned())?;
    let (number, unit) = v.split_at(split);
    let x: f64 = number.parse().map_err(|_| HELP.to_owned())?;
    let secs = match unit.trim() {
        "ms" => x / 1000.0,
        "s" => x,
        "m" => x * 60.0,
        "h" => x * 3600.0,
        "d" => x * 86400.0,
        _ => return Err(HELP.into()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| HELP.to_owned())
}

/// A latency: a duration, or a bare number of seconds (`1.0`, as the seed writes it).
fn parse_latency(v: &str) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(x) => Duration::try_from_secs_f64(x)
            .map_err(|_| "expected a non-negative number of seconds".to_owned()),
        Err(_) => parse_duration(v),
    }
}

fn parse_buckets(v: &str) -> Result<Buckets, String> {
    let bounds = v
        .split(',')
        .map(|b| {
            let b = b.trim();
            b.parse::<f64>()
                .or_else(|_| parse_duration(b).map(|d| d.as_secs_f64()))
                .map_err(|_| format!("bucket bound {b:?} is not a number of seconds"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Buckets::from_seconds(&bounds).map_err(|e| e.to_string())
}

/// The host name, or `localhost` when the system does not tell.
fn default_instance() -> String {
    sysinfo::System::host_name()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// An `http` or `https` base URL with a host, without its trailing `/`.
fn parse_base_url(v: &str) -> Result<String, String> {
    const HELP: &str = "expected a base URL such as http://alertmanager:9093";
    let uri: http::Uri = v.parse().map_err(|_| HELP.to_owned())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(HELP.into());
    }
    Ok(v.trim_end_matches('/').to_owned())
}

/// Parses `k=v,k=v` into label pairs; names must be valid Prometheus label names and
/// must not be one of the labels every pushed alert sets.
fn parse_labels(v: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, val) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not of the form name=value"))?;
        let (k, val) = (k.trim(), val.trim());
        let valid = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || k.starts_with("__") {
            return Err(format!("{k:?} is not a valid label name"));
        }
        if ["alertname", "severity", "component", "instance"].contains(&k) {
            return Err(format!(
                "{k:?} is set by the monitor and cannot be overridden"
            ));
        }
        if val.is_empty() {
            return Err(format!("label {k:?} has an empty value"));
        }
        if out.iter().any(|(o, _)| o == k) {
            return Err(format!("label {k:?} is given twice"));
        }
        out.push((k.to_owned(), val.to_owned()));
    }
    if out.is_empty() {
        return Err("expected labels such as team=payments,env=prod".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(&move |k| map.get(k).cloned())
    }

    fn err(vars: &[(&str, &str)]) -> String {
        with(vars).unwrap_err().to_string()
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = with(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.request_latency_threshold, Duration::from_secs(1));
        assert_eq!(s.error_rate_threshold, 0.05);
        assert_eq!(s.metrics_window, Duration::from_secs(300));
        assert_eq!(s.alert_for, Duration::from_secs(60));
        assert_eq!(s.alert_min_samples, 20);
        assert_eq!(s.metrics_retention, Some(Duration::from_secs(86400)));
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn every_value_form_parses() {
        let s = with(&[
            ("MCP_REQUEST_LATENCY_THRESHOLD", "1.5"),
            ("MCP_ERROR_RATE_THRESHOLD", "2%"),
            ("MCP_CPU_THRESHOLD", "0.9"),
            ("MCP_MEMORY_THRESHOLD", " 75% "),
            ("MCP_METRICS_WINDOW", "10m"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "250ms"),
            ("MCP_ALERT_FOR", "0"),
            ("MCP_METRICS_RETENTION", "0"),
            ("MCP_RESOURCE_INTERVAL", "1s"),
            ("MCP_ADMIN_TOKEN", "secret"),
            ("MCP_ADDR", "0.0.0.0:9000"),
            ("MCP_DB_BUCKETS", "0.001, 0.01,1"),
            ("MCP_HTTP_BUCKETS", "5ms,1s"),
        ])
        .unwrap();
        assert_eq!(s.request_latency_threshold, Duration::from_millis(1500));
        assert!((s.error_rate_threshold - 0.02).abs() < 1e-12);
        assert_eq!(s.cpu_threshold, 0.9);
        assert_eq!(s.memory_threshold, 0.75);
        assert_eq!(s.metrics_window, Duration::from_secs(600));
        assert_eq!(s.alert_evaluation_interval, Duration::from_millis(250));
        assert_eq!(s.alert_for, Duration::ZERO);
        assert_eq!(s.metrics_retention, None);
        assert_eq!(s.admin_token.as_deref(), Some("secret"));
        assert_eq!(s.addr.port(), 9000);
        assert_eq!(s.db_buckets.bounds(), &[0.001, 0.01, 1.0]);
        assert_eq!(s.http_buckets.bounds(), &[0.005, 1.0]);
        assert_eq!(
            with(&[("MCP_REQUEST_LATENCY_THRESHOLD", "250ms")])
                .unwrap()
                .request_latency_threshold,
            Duration::from_millis(250)
        );
    }

    #[test]
    fn every_bad_value_names_its_variable_and_value() {
        let cases: &[(&str, &str)] = &[
            ("MCP_REQUEST_LATENCY_THRESHOLD", "fast"),
            ("MCP_REQUEST_LATENCY_THRESHOLD", "0"),
            ("MCP_ERROR_RATE_THRESHOLD", "150%"),
            ("MCP_ERROR_RATE_THRESHOLD", "-0.1"),
            ("MCP_MEMORY_THRESHOLD", "lots"),
            ("MCP_CPU_THRESHOLD", "1.5"),
            ("MCP_CACHE_HIT_RATIO_THRESHOLD", "80%%"),
            ("MCP_DB_POOL_THRESHOLD", ""),
            ("MCP_SYSTEM_LOAD_THRESHOLD", "-1"),
            ("MCP_ALERT_CRITICAL_FACTOR", "0.5"),
            ("MCP_METRICS_WINDOW", "5 minutes"),
            ("MCP_METRICS_WINDOW", "0"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "15x"),
            ("MCP_ALERT_FOR", "soon"),
            ("MCP_ALERT_MIN_SAMPLES", "-3"),
            ("MCP_ALERT_MIN_SAMPLES", "0"),
            ("MCP_RESOURCE_INTERVAL", "0.000001ms"),
            ("MCP_RESOURCE_INTERVAL", "100ms"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "1ms"),
            ("MCP_METRICS_WINDOW", "10ms"),
            ("MCP_HTTP_HEADER_TIMEOUT", "0"),
            ("MCP_HTTP_BODY_TIMEOUT", "soon"),
            ("MCP_HTTP_IDLE_TIMEOUT", "1ns"),
            ("MCP_SHUTDOWN_TIMEOUT", "0"),
            ("MCP_HTTP_BUCKETS", "1e20"),
            ("MCP_HTTP_BUCKETS", "2e19"),
            ("MCP_DB_BUCKETS", "1e300"),
            ("MCP_WORKFLOW_BUCKETS", "0.1,1e-300"),
            ("MCP_ALERT_HISTORY_LIMIT", "0"),
            ("MCP_METRICS_RETENTION", "daily"),
            ("MCP_RESOURCE_INTERVAL", "5"),
            ("MCP_ADMIN_TOKEN", ""),
            ("MCP_METRICS_TOKEN", ""),
            ("MCP_ADDR", "localhost"),
            ("MCP_HTTP_BUCKETS", "1,0.5"),
            ("MCP_DB_BUCKETS", "a,b"),
            ("MCP_WORKFLOW_BUCKETS", ""),
            ("MCP_HTTP_MAX_SERIES", "many"),
            ("MCP_ALERTMANAGER_URL", "alertmanager:9093"),
            ("MCP_ALERTMANAGER_URL", "http://am:9093,ftp://am"),
            ("MCP_ALERTMANAGER_URL", ""),
            ("MCP_ALERT_RESEND_DELAY", "0"),
            ("MCP_ALERT_RESEND_DELAY", "often"),
            ("MCP_INSTANCE", " "),
            ("MCP_ALERT_LABELS", "team"),
            ("MCP_ALERT_LABELS", "severity=page"),
            ("MCP_ALERT_LABELS", "1team=x"),
            ("MCP_ALERT_LABELS", "team=a,team=b"),
            ("MCP_ALERT_LABELS", "team="),
            ("MCP_EXTERNAL_URL", "/dashboard"),
        ];
        for (name, value) in cases {
            let msg = err(&[(name, value)]);
            assert!(msg.contains(name), "{name}={value:?}: {msg}");
            assert!(
                msg.contains(&format!("{:?}", value.trim())),
                "{name}={value:?}: {msg}"
            );
        }
    }

    #[test]
    fn receiver_settings_parse() {
        let s = with(&[]).unwrap();
        assert!(s.alertmanager_urls.is_empty() && s.alert_labels.is_empty());
        assert_eq!(s.alert_resend_delay, Duration::from_secs(60));
        assert!(!s.instance.is_empty());
        let s = with(&[
            (
                "MCP_ALERTMANAGER_URL",
                "http://am-1:9093/, https://am-2.example.com",
            ),
            ("MCP_ALERT_RESEND_DELAY", "30s"),
            ("MCP_INSTANCE", "api-7"),
            ("MCP_ALERT_LABELS", "team=payments, env=prod"),
            ("MCP_EXTERNAL_URL", "https://api-7.example.com/"),
        ])
        .unwrap();
        assert_eq!(
            s.alertmanager_urls,
            ["http://am-1:9093", "https://am-2.example.com"]
        );
        assert_eq!(s.alert_resend_delay, Duration::from_secs(30));
        assert_eq!(s.instance, "api-7");
        assert_eq!(
            s.alert_labels,
            [
                ("team".to_owned(), "payments".to_owned()),
                ("env".to_owned(), "prod".to_owned())
            ]
        );
        assert_eq!(s.external_url.as_deref(), Some("https://api-7.example.com"));
    }

    #[test]
    fn tokens_that_a_header_cannot_carry_are_refused_without_being_shown() {
        for (name, token) in [
            ("MCP_METRICS_TOKEN", "s3cret\n"),
            ("MCP_METRICS_TOKEN", " adm1n"),
            ("MCP_ADMIN_TOKEN", "adm1n "),
            ("MCP_ADMIN_TOKEN", "qwz rty"),
            ("MCP_ADMIN_TOKEN", "xqj\tvvk"),
            ("MCP_ADMIN_TOKEN", "bzzt\u{7}"),
            ("MCP_ADMIN_TOKEN", "caf\u{e9}"),
        ] {
            let msg = err(&[(name, token)]);
            assert!(msg.contains(name), "{token:?}: {msg}");
            assert!(msg.contains("not shown"), "{token:?}: {msg}");
            let word = token
                .trim()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap();
            assert!(
                !msg.contains(word),
                "{token:?}: the token leaked into {msg}"
            );
        }
        let ok = with(&[("MCP_ADMIN_TOKEN", "Zm9v-bar_baz~+/=")]).unwrap();
        assert_eq!(ok.admin_token.as_deref(), Some("Zm9v-bar_baz~+/="));
    }

    fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("mcp-settings-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn token_files_drop_one_trailing_newline() {
        for (contents, token) in [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret", "s3cret"),
        ] {
            let path = temp_file("ok", contents);
            let p = path.to_str().unwrap();
            let s = with(&[("MCP_METRICS_TOKEN_FILE", p), ("MCP_ADMIN_TOKEN_FILE", p)]).unwrap();
            assert_eq!(s.metrics_token.as_deref(), Some(token), "{contents:?}");
            assert_eq!(s.admin_token.as_deref(), Some(token), "{contents:?}");
            std::fs::remove_file(path).unwrap();
        }
        // Two newlines: the second is part of the token, which is refused.
        let path = temp_file("two", "s3cret\n\n");
        let p = path.to_str().unwrap();
        let msg = err(&[("MCP_ADMIN_TOKEN_FILE", p)]);
        assert!(
            msg.contains("MCP_ADMIN_TOKEN_FILE") && msg.contains(p),
            "{msg}"
        );
        assert!(
            msg.contains("line break") && !msg.contains("s3cret"),
            "{msg}"
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_token_file_that_cannot_be_read_is_named_with_its_error() {
        let missing = std::env::temp_dir().join("mcp-settings-no-such-file");
        let p = missing.to_str().unwrap();
        let e = with(&[("MCP_METRICS_TOKEN_FILE", p)]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TokenFile {
                    variable: "MCP_METRICS_TOKEN_FILE",
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("MCP_METRICS_TOKEN_FILE") && msg.contains(p),
            "{msg}"
        );
        assert!(std::error::Error::source(&e).is_some());
        // Endless, or too long to be a token: refused after reading a few KiB.
        let msg = err(&[("MCP_METRICS_TOKEN_FILE", "/dev/zero")]);
        assert!(
            msg.contains("/dev/zero") && msg.contains("longer than"),
            "{msg}"
        );
        // A variable and its file together: ambiguous.
        let path = temp_file("both", "x");
        let msg = err(&[
            ("MCP_ADMIN_TOKEN", "x"),
            ("MCP_ADMIN_TOKEN_FILE", path.to_str().unwrap()),
        ]);
        assert!(
            msg.contains("MCP_ADMIN_TOKEN_FILE") && msg.contains("only one"),
            "{msg}"
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn unknown_variables_are_found_with_the_closest_known_name() {
        let found = Settings::unknown_variables(&[
            "MCP_CPU_TRESHOLD",
            "MCP_CPU_THRESHOLD",
            "PATH",
            "MCP_ADMIN_TOKEN_FLIE",
            "MCP_SOMETHING_ELSE_ENTIRELY",
            "MCP_METRIC_WINDOW",
        ]);
        let pairs: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|u| (u.name.as_str(), u.suggestion))
            .collect();
        assert_eq!(
            pairs,
            [
                ("MCP_ADMIN_TOKEN_FLIE", Some("MCP_ADMIN_TOKEN_FILE")),
                ("MCP_CPU_TRESHOLD", Some("MCP_CPU_THRESHOLD")),
                ("MCP_METRIC_WINDOW", Some("MCP_METRICS_WINDOW")),
                ("MCP_SOMETHING_ELSE_ENTIRELY", None),
            ]
        );
        assert_eq!(
            found[1].to_string(),
            "unknown variable MCP_CPU_TRESHOLD (did you mean MCP_CPU_THRESHOLD?)"
        );
        assert!(Settings::unknown_variables(VARIABLES).is_empty());
    }

    #[test]
    fn timeouts_parse() {
        let s = with(&[
            ("MCP_HTTP_HEADER_TIMEOUT", "2s"),
            ("MCP_HTTP_BODY_TIMEOUT", "1m"),
            ("MCP_HTTP_IDLE_TIMEOUT", "500ms"),
            ("MCP_SHUTDOWN_TIMEOUT", "3s"),
        ])
        .unwrap();
        assert_eq!(s.http_header_timeout, Duration::from_secs(2));
        assert_eq!(s.http_body_timeout, Duration::from_secs(60));
        assert_eq!(s.http_idle_timeout, Duration::from_millis(500));
        assert_eq!(s.shutdown_timeout, Duration::from_secs(3));
        let d = Settings::default();
        assert_eq!(d.shutdown_timeout, Duration::from_secs(10));
        assert_eq!(d.http_header_timeout, Duration::from_secs(10));
    }

    #[test]
    fn evaluation_interval_must_fit_in_the_window() {
        let msg = err(&[
            ("MCP_METRICS_WINDOW", "10s"),
            ("MCP_ALERT_EVALUATION_INTERVAL", "1m"),
        ]);
        assert!(msg.contains("MCP_ALERT_EVALUATION_INTERVAL"), "{msg}");
    }
}
