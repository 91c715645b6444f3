//! The settings table: one row per variable (its name, its kind with the field it
//! sets and the bounds it must keep, its default, one line of doc). Parsing
//! ([`Settings::from_env`]), the per-variable checks of [`Settings::validate`], the list
//! of known variables ([`VARIABLES`], which the unknown-variable check reads) and the
//! table of `docs/settings.md` ([`markdown`]) all come from it. Adding a variable is a
//! field of [`Settings`] (and its default) and one row here.

use std::path::PathBuf;
use std::time::Duration;

use super::bounds::{check_instance, check_labels, env_duration, positive, ratio_hint};
use super::parse::{
    invalid, parse_base_url, parse_buckets, parse_count, parse_duration, parse_labels,
    parse_number, parse_path, parse_ratio, without_password,
};
use super::tokens::{check_token, token_from};
use super::Settings;
use crate::base::error::Error;
use crate::base::histogram::Buckets;

/// A field of [`Settings`], read and written.
pub(crate) struct At<T: 'static> {
    get: fn(&Settings) -> &T,
    set: fn(&mut Settings) -> &mut T,
}

macro_rules! at {
    ($field:ident) => {
        At {
            get: |s| &s.$field,
            set: |s| &mut s.$field,
        }
    };
}

/// What a variable holds, the field it sets, and the bounds its value keeps.
pub(crate) enum Kind {
    /// `80%` or `0.8`, from 0% to 100%.
    Ratio(At<f64>),
    /// A number greater than `above` (`at_least`: or equal).
    Number {
        at: At<f64>,
        min: f64,
        inclusive: bool,
    },
    /// A duration greater than zero; from the environment, at least `floor`.
    Period { at: At<Duration>, floor: Duration },
    /// A duration, zero included.
    Hold(At<Duration>),
    /// A period whose `0` turns the thing off (`None`); from the environment, at least
    /// 1 s otherwise.
    Retention(At<Option<Duration>>),
    /// A whole number greater than zero.
    Count(At<usize>),
    /// A whole number of seconds greater than zero.
    Seconds(At<u64>),
    /// A whole number greater than zero from the environment (code may set 0).
    MinSamples(At<u64>),
    /// A whole number from 0 to `max`.
    Small { at: At<u8>, max: u8 },
    /// A bearer token, or the file holding it (the row of `file`).
    Token {
        at: At<Option<String>>,
        file: &'static str,
    },
    /// The file of a token: read with its token's row.
    TokenFile,
    /// Histogram bounds in seconds, comma-separated.
    Buckets(At<Buckets>),
    /// Base URLs (`http`/`https`), comma-separated.
    Urls(At<Vec<String>>),
    /// One base URL.
    Url(At<Option<String>>),
    /// Text without control characters, not empty.
    Text(At<String>),
    /// `k=v,k=v`.
    Labels(At<Vec<(String, String)>>),
    /// A path.
    Path(At<Option<PathBuf>>),
    /// Service-level objectives (`MCP_SLOS`).
    Objectives,
    /// Read by the demo service, not by [`Settings`].
    Demo,
}

/// How the default is shown: from [`Settings::default`] through the kind, or as text.
pub(crate) enum Default {
    Shown,
    Text(&'static str),
}

/// One variable.
pub(crate) struct Variable {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) default: Default,
    pub(crate) doc: &'static str,
}

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
/// `sysinfo` cannot measure CPU use over less (its `MINIMUM_CPU_UPDATE_INTERVAL` on
/// Linux; a test keeps the two together).
pub(super) const CPU_FLOOR: Duration = Duration::from_millis(200);

macro_rules! table {
    ($($id:ident = $name:literal, $kind:expr, $default:expr, $doc:literal;)*) => {
        /// The variables' names, for the parts that name one (errors, the fleet's
        /// rules, the notifier): `var::CPU_THRESHOLD` is `"MCP_CPU_THRESHOLD"`.
        #[allow(dead_code)] // not every variable is named outside its row
        pub(crate) mod var {
            $(#[doc = $name] pub(crate) const $id: &str = $name;)*
        }

        /// Every `MCP_*` variable the monitor and the demo read; any other `MCP_*`
        /// variable is reported at start-up by [`Settings::from_env`]. `MCP_ADDR`, the
        /// demo service's listen address, is read by the demo, not by [`Settings`]; it
        /// is listed so that setting it is never reported.
        pub const VARIABLES: &[&str] = &[$($name),*];

        /// The rows, in the order of [`VARIABLES`].
        pub(crate) const TABLE: &[Variable] = &[$(Variable {
            name: $name,
            kind: $kind,
            default: $default,
            doc: $doc,
        }),*];
    };
}

use Default::{Shown, Text};

table! {
    REQUEST_LATENCY_THRESHOLD = "MCP_REQUEST_LATENCY_THRESHOLD", Kind::Period { at: at!(request_latency_threshold), floor: MS }, Shown,
        "p95 latency threshold (`1.0`, `250ms`, `2s`)";
    ERROR_RATE_THRESHOLD = "MCP_ERROR_RATE_THRESHOLD", Kind::Ratio(at!(error_rate_threshold)), Shown,
        "failure share threshold (`5%` or `0.05`)";
    MEMORY_THRESHOLD = "MCP_MEMORY_THRESHOLD", Kind::Ratio(at!(memory_threshold)), Shown, "memory use threshold";
    CPU_THRESHOLD = "MCP_CPU_THRESHOLD", Kind::Ratio(at!(cpu_threshold)), Shown, "CPU use threshold";
    CACHE_HIT_RATIO_THRESHOLD = "MCP_CACHE_HIT_RATIO_THRESHOLD", Kind::Ratio(at!(cache_hit_ratio_threshold)), Shown,
        "hit ratio threshold (fires below)";
    DB_POOL_THRESHOLD = "MCP_DB_POOL_THRESHOLD", Kind::Ratio(at!(db_pool_threshold)), Shown, "pool use threshold";
    SYSTEM_LOAD_THRESHOLD = "MCP_SYSTEM_LOAD_THRESHOLD", Kind::Number { at: at!(system_load_threshold), min: 0.0, inclusive: false }, Shown,
        "1-minute load per core threshold";
    ALERT_CRITICAL_FACTOR = "MCP_ALERT_CRITICAL_FACTOR", Kind::Number { at: at!(alert_critical_factor), min: 1.0, inclusive: true }, Shown,
        "`critical` past threshold × factor";
    METRICS_WINDOW = "MCP_METRICS_WINDOW", Kind::Period { at: at!(metrics_window), floor: SECOND }, Shown,
        "sliding window for rates, means, p95";
    ALERT_EVALUATION_INTERVAL = "MCP_ALERT_EVALUATION_INTERVAL", Kind::Period { at: at!(alert_evaluation_interval), floor: Duration::from_millis(100) }, Shown,
        "alert evaluation period (≤ window)";
    ALERT_FOR = "MCP_ALERT_FOR", Kind::Hold(at!(alert_for)), Shown, "how long a condition holds before firing";
    ALERT_MIN_SAMPLES = "MCP_ALERT_MIN_SAMPLES", Kind::MinSamples(at!(alert_min_samples)), Shown,
        "fewest samples for a rate or latency alert";
    ALERT_HISTORY_LIMIT = "MCP_ALERT_HISTORY_LIMIT", Kind::Count(at!(alert_history_limit)), Shown, "alerts kept in history";
    METRICS_RETENTION = "MCP_METRICS_RETENTION", Kind::Retention(at!(metrics_retention)), Shown, "automatic reset period; `0` = off";
    RESOURCE_INTERVAL = "MCP_RESOURCE_INTERVAL", Kind::Period { at: at!(resource_interval), floor: CPU_FLOOR }, Shown,
        "CPU, memory, load and pool sampling period";
    ADMIN_TOKEN = "MCP_ADMIN_TOKEN", Kind::Token { at: at!(admin_token), file: var::ADMIN_TOKEN_FILE }, Text("unset"),
        "bearer token for reset; unset = reset refused";
    ADMIN_TOKEN_FILE = "MCP_ADMIN_TOKEN_FILE", Kind::TokenFile, Text("unset"),
        "read the admin token from this file (one trailing newline dropped); not with `MCP_ADMIN_TOKEN`";
    METRICS_TOKEN = "MCP_METRICS_TOKEN", Kind::Token { at: at!(metrics_token), file: var::METRICS_TOKEN_FILE }, Text("unset"),
        "bearer token for reads";
    METRICS_TOKEN_FILE = "MCP_METRICS_TOKEN_FILE", Kind::TokenFile, Text("unset"),
        "read the metrics token from this file (one trailing newline dropped); not with `MCP_METRICS_TOKEN`";
    ADDR = "MCP_ADDR", Kind::Demo, Text("`127.0.0.1:8080`"),
        "demo service listen address (read by the demo, not by `Settings`)";
    GRPC_ADDR = "MCP_GRPC_ADDR", Kind::Demo, Text("`127.0.0.1:50051`"),
        "demo service gRPC listen address: `grpc.health.v1.Health` and the users service (read by the demo, not by `Settings`)";
    HTTP_BUCKETS = "MCP_HTTP_BUCKETS", Kind::Buckets(at!(http_buckets)), Text("`0.001,…,10`"),
        "HTTP histogram bounds in seconds, comma-separated";
    DB_BUCKETS = "MCP_DB_BUCKETS", Kind::Buckets(at!(db_buckets)), Text("`0.0001,…,5`"), "database histogram bounds";
    WORKFLOW_BUCKETS = "MCP_WORKFLOW_BUCKETS", Kind::Buckets(at!(workflow_buckets)), Text("`0.001,…,120`"), "workflow histogram bounds";
    HTTP_MAX_SERIES = "MCP_HTTP_MAX_SERIES", Kind::Count(at!(http_max_series)), Shown, "HTTP label-set cap before `overflow`";
    METRIC_MAX_SERIES = "MCP_METRIC_MAX_SERIES", Kind::Count(at!(metric_max_series)), Shown,
        "label sets per name of the application's `metrics` series before `overflow`";
    PROFILE_MAX_SECONDS = "MCP_PROFILE_MAX_SECONDS", Kind::Seconds(at!(profile_max_seconds)), Shown,
        "longest CPU profile of `/debug/pprof/*`, in seconds (feature `profiling`)";
    NATIVE_HISTOGRAM_SCHEMA = "MCP_NATIVE_HISTOGRAM_SCHEMA", Kind::Small { at: at!(native_histogram_schema), max: 8 }, Shown,
        "resolution of the native histograms (`2^schema` buckets per power of two; quantiles within `2^(2^-(schema+1)) - 1`: 4.4% at 3, 2.2% at 4)";
    HTTP_HEADER_TIMEOUT = "MCP_HTTP_HEADER_TIMEOUT", Kind::Period { at: at!(http_header_timeout), floor: MS }, Shown,
        "longest time a client may take to send a request head, from its first byte";
    HTTP_BODY_TIMEOUT = "MCP_HTTP_BODY_TIMEOUT", Kind::Period { at: at!(http_body_timeout), floor: MS }, Shown,
        "longest time a client may take to send a request body, after its head";
    HTTP_IDLE_TIMEOUT = "MCP_HTTP_IDLE_TIMEOUT", Kind::Period { at: at!(http_idle_timeout), floor: MS }, Shown,
        "longest time a connection may wait for its first or next request (keep-alive)";
    SHUTDOWN_TIMEOUT = "MCP_SHUTDOWN_TIMEOUT", Kind::Period { at: at!(shutdown_timeout), floor: MS }, Shown,
        "longest graceful drain after SIGTERM / Ctrl-C; what is still open then is closed";
    LONG_POLL_THRESHOLD = "MCP_LONG_POLL_THRESHOLD", Kind::Period { at: at!(long_poll_threshold), floor: MS }, Shown,
        "a poll of a monitored call (macro or request) holding its thread longer than this is counted in `mcp_long_polls_total{kind,name}` (a blocked executor); at least `1ms`";
    ALERTMANAGER_URL = "MCP_ALERTMANAGER_URL", Kind::Urls(at!(alertmanager_urls)), Text("unset: no push"),
        "Alertmanager base URLs, comma-separated";
    ALERT_RESEND_DELAY = "MCP_ALERT_RESEND_DELAY", Kind::Period { at: at!(alert_resend_delay), floor: SECOND }, Shown,
        "re-send period of a firing alert (resolved: for 15 min)";
    INSTANCE = "MCP_INSTANCE", Kind::Text(at!(instance)), Text("the host name"),
        "`instance` of pushed alerts, logs, report, dashboard";
    ALERT_LABELS = "MCP_ALERT_LABELS", Kind::Labels(at!(alert_labels)), Text("none"),
        "static labels of pushed alerts (not `alertname`, `severity`, `component`, `instance`)";
    EXTERNAL_URL = "MCP_EXTERNAL_URL", Kind::Url(at!(external_url)), Text("unset"), "this instance's base URL, for `generatorURL`";
    ALERTMANAGER_CA_FILE = "MCP_ALERTMANAGER_CA_FILE", Kind::Path(at!(alertmanager_ca_file)), Text("unset: the public roots"),
        "PEM certificate authorities that sign the Alertmanagers' certificates; with it, `https` Alertmanagers are trusted through these only (as Prometheus' `tls_config.ca_file`)";
    ALERTMANAGER_CERT_FILE = "MCP_ALERTMANAGER_CERT_FILE", Kind::Path(at!(alertmanager_cert_file)), Text("unset"),
        "PEM client certificate (its chain may follow) for mutual TLS; with `MCP_ALERTMANAGER_KEY_FILE`";
    ALERTMANAGER_KEY_FILE = "MCP_ALERTMANAGER_KEY_FILE", Kind::Path(at!(alertmanager_key_file)), Text("unset"),
        "PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1); with `MCP_ALERTMANAGER_CERT_FILE`";
    ALERTMANAGER_BEARER_TOKEN_FILE = "MCP_ALERTMANAGER_BEARER_TOKEN_FILE", Kind::Path(at!(alertmanager_bearer_token_file)), Text("unset"),
        "file holding the bearer token sent to every Alertmanager (one trailing newline dropped), read again before each send so that a rotated token is used; not with basic auth";
    SLOS = "MCP_SLOS", Kind::Objectives, Text("none (the demo: its own)"),
        "service-level objectives, `;`-separated: `api = http * availability 99.5%; lookup = http GET /users/{id} latency 99% within 100ms over 7d` (grammar in `alerts.md`)";
}

/// A value looked up by variable name.
pub(super) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Variable {
    /// Sets this variable's field of `s` from `lookup`, if it is set there.
    pub(super) fn parse(&self, s: &mut Settings, lookup: Lookup<'_>) -> Result<(), Error> {
        let n = self.name;
        if let Kind::Token { at, file } = &self.kind {
            *(at.set)(s) = token_from(n, lookup(n), file, lookup(file))?;
            return Ok(());
        }
        let Some(v) = lookup(n).map(|v| v.trim().to_owned()) else {
            return Ok(());
        };
        let bad = |r: String| invalid(n, &v, r);
        match &self.kind {
            Kind::Ratio(at) => *(at.set)(s) = parse_ratio(&v).map_err(bad)?,
            Kind::Number { at, .. } => *(at.set)(s) = parse_number(&v).map_err(bad)?,
            Kind::Period { at, floor } => *(at.set)(s) = period(n, &v, *floor)?,
            Kind::Hold(at) => *(at.set)(s) = parse_duration(&v).map_err(bad)?,
            Kind::Retention(at) => {
                let d = period(n, &v, SECOND)?;
                *(at.set)(s) = (!d.is_zero()).then_some(d);
            }
            Kind::Count(at) => *(at.set)(s) = parse_count(&v).map_err(bad)?,
            Kind::Seconds(at) => *(at.set)(s) = parse_count(&v).map_err(bad)? as u64,
            // Environment only: see `Settings::from_lookup`.
            Kind::MinSamples(at) => match parse_count(&v) {
                Ok(0) | Err(_) => {
                    return Err(bad("expected a whole number greater than zero".into()))
                }
                Ok(c) => *(at.set)(s) = c as u64,
            },
            Kind::Small { at, max } => {
                *(at.set)(s) = v
                    .parse::<u8>()
                    .ok()
                    .filter(|x| x <= max)
                    .ok_or_else(|| bad(format!("expected a whole number from 0 to {max}")))?;
            }
            Kind::Buckets(at) => *(at.set)(s) = parse_buckets(&v).map_err(bad)?,
            Kind::Urls(at) => {
                *(at.set)(s) = v
                    .split(',')
                    .map(|u| {
                        parse_base_url(u.trim()).map_err(|r| invalid(n, &without_password(&v), r))
                    })
                    .collect::<Result<_, _>>()?;
            }
            Kind::Url(at) => *(at.set)(s) = Some(parse_base_url(&v).map_err(bad)?),
            Kind::Text(at) => *(at.set)(s) = v,
            Kind::Labels(at) => *(at.set)(s) = parse_labels(&v).map_err(bad)?,
            // What the file holds is checked when the notifier is built (start-up).
            Kind::Path(at) => *(at.set)(s) = Some(parse_path(&v).map_err(bad)?),
            Kind::Objectives => s.slos = super::slos::parse_objectives(&v).map_err(bad)?,
            Kind::Token { .. } | Kind::TokenFile | Kind::Demo => {}
        }
        Ok(())
    }

    /// Checks this variable's field of `s` against its bounds (the checks between
    /// variables are [`Settings::validate`]'s).
    pub(super) fn check(&self, s: &Settings) -> Result<(), Error> {
        let n = self.name;
        match &self.kind {
            Kind::Ratio(at) => {
                let ratio = *(at.get)(s);
                if !(0.0..=1.0).contains(&ratio) {
                    return Err(invalid(
                        n,
                        &ratio.to_string(),
                        format!("must be between 0% and 100%{}", ratio_hint(ratio)),
                    ));
                }
            }
            Kind::Number { at, min, inclusive } => {
                let x = *(at.get)(s);
                let ok = x.is_finite() && if *inclusive { x >= *min } else { x > *min };
                if !ok {
                    let reason = if *inclusive {
                        format!("must be at least {min}")
                    } else {
                        "expected a positive number".into()
                    };
                    return Err(invalid(n, &x.to_string(), reason));
                }
            }
            Kind::Period { at, .. } => positive(n, *(at.get)(s))?,
            Kind::Retention(at) => {
                if (at.get)(s).is_some_and(|d| d.is_zero()) {
                    return Err(invalid(
                        n,
                        "0",
                        "must be greater than zero; no retention (None) turns the reset off".into(),
                    ));
                }
            }
            Kind::Count(at) => zero_count(n, *(at.get)(s) == 0)?,
            Kind::Seconds(at) => zero_count(n, *(at.get)(s) == 0)?,
            Kind::Small { at, max } => {
                let x = *(at.get)(s);
                if x > *max {
                    return Err(invalid(
                        n,
                        &x.to_string(),
                        format!("expected a whole number from 0 to {max}"),
                    ));
                }
            }
            Kind::Token { at, .. } => {
                if let Some(t) = (at.get)(s) {
                    check_token(n, t)?;
                }
            }
            Kind::Text(at) => check_instance(n, (at.get)(s))?,
            Kind::Labels(at) => {
                let labels = (at.get)(s);
                check_labels(labels).map_err(|reason| {
                    let written: Vec<String> =
                        labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    invalid(n, &written.join(","), reason)
                })?;
            }
            Kind::Hold(_)
            | Kind::MinSamples(_)
            | Kind::TokenFile
            | Kind::Buckets(_)
            | Kind::Urls(_)
            | Kind::Url(_)
            | Kind::Path(_)
            | Kind::Objectives
            | Kind::Demo => {}
        }
        Ok(())
    }

    /// What the variable accepts, for the docs.
    fn accepts(&self) -> String {
        match &self.kind {
            Kind::Ratio(_) => "a percentage (`80%`) or a ratio (`0.8`), 0% to 100%".into(),
            Kind::Number { min, inclusive, .. } => {
                if *inclusive {
                    format!("a number ≥ {min}")
                } else {
                    format!("a number > {min}")
                }
            }
            Kind::Period { floor, .. } => {
                format!(
                    "a duration > 0; ≥ `{}` from the environment",
                    env_duration(*floor)
                )
            }
            Kind::Hold(_) => "a duration, `0` included".into(),
            Kind::Retention(_) => "a duration ≥ `1s`, or `0`".into(),
            Kind::Count(_) | Kind::Seconds(_) | Kind::MinSamples(_) => "a whole number > 0".into(),
            Kind::Small { max, .. } => format!("a whole number, 0 to {max}"),
            Kind::Token { .. } => "a token without whitespace or control characters".into(),
            Kind::TokenFile | Kind::Path(_) => "a path".into(),
            Kind::Buckets(_) => "seconds, comma-separated, increasing".into(),
            Kind::Urls(_) => "`http`/`https` base URLs, comma-separated".into(),
            Kind::Url(_) => "an `http`/`https` base URL".into(),
            Kind::Text(_) => "text without control characters".into(),
            Kind::Labels(_) => "`k=v,k=v`".into(),
            Kind::Objectives => "objectives (`alerts.md`)".into(),
            Kind::Demo => "`host:port`".into(),
        }
    }

    /// The default, as a variable would write it.
    fn default_text(&self) -> String {
        if let Default::Text(t) = self.default {
            return t.to_owned();
        }
        let d = Settings::default();
        let shown = match &self.kind {
            Kind::Ratio(at) => format!("{}%", ((at.get)(&d) * 1000.0).round() / 10.0),
            Kind::Number { at, .. } => {
                let x = *(at.get)(&d);
                if x.fract() == 0.0 {
                    format!("{x:.1}")
                } else {
                    x.to_string()
                }
            }
            Kind::Period { at, .. } | Kind::Hold(at) => env_duration(*(at.get)(&d)),
            Kind::Retention(at) => (at.get)(&d).map_or("0".into(), env_duration),
            Kind::Count(at) => (at.get)(&d).to_string(),
            Kind::Seconds(at) | Kind::MinSamples(at) => (at.get)(&d).to_string(),
            Kind::Small { at, .. } => (at.get)(&d).to_string(),
            _ => return "unset".into(),
        };
        format!("`{shown}`")
    }
}

/// A count of zero refused.
fn zero_count(variable: &'static str, zero: bool) -> Result<(), Error> {
    if zero {
        return Err(invalid(
            variable,
            "0",
            "expected a whole number greater than zero".into(),
        ));
    }
    Ok(())
}

/// A period from the environment: a duration (zero is refused by the validation, as
/// "greater than zero", or means "off" where the variable says so) no shorter than
/// `floor`: CPU use cannot be measured over less than `sysinfo`'s interval; a window, a
/// retention or a resend more often than every second only burns CPU and floods the
/// log; the alert evaluation under 100 ms likewise; a timeout or latency under 1 ms is a
/// slip (`5ms` written for `5s`).
fn period(variable: &'static str, v: &str, floor: Duration) -> Result<Duration, Error> {
    let d = parse_duration(v).map_err(|r| invalid(variable, v, r))?;
    if !d.is_zero() && d < floor {
        return Err(invalid(
            variable,
            v,
            format!(
                "must be at least {} (or a duration such as 250ms, 1s, 5m or 24h; a bare number is seconds)",
                env_duration(floor)
            ),
        ));
    }
    Ok(d)
}

/// The settings table of `docs/settings.md` as Markdown: one row per variable, with
/// what it means, what it accepts and its default (a test keeps the docs equal to it).
///
/// ```
/// let table = mcp_monitor::settings::markdown_table();
/// assert!(table.contains("| `MCP_CPU_THRESHOLD` |"));
/// ```
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | meaning | accepts | default |\n|---|---|---|---|\n");
    for v in TABLE {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            v.name,
            v.doc,
            v.accepts(),
            v.default_text()
        ));
    }
    out
}
