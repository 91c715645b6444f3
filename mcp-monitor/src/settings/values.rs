//! The [`Settings`] struct: every setting, its variable, and its documented default.

use std::path::PathBuf;
use std::time::Duration;

use crate::base::histogram::Buckets;
use crate::slo::Objective;

/// Every setting of the monitor. [`Settings::default`] is the documented defaults;
/// [`Settings::from_env`] reads the `MCP_*` variables over them; [`Settings::validate`]
/// checks them, for the environment and the builder alike.
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
    /// `MCP_HTTP_BUCKETS`: comma-separated bucket bounds in seconds for HTTP latency.
    pub http_buckets: Buckets,
    /// `MCP_DB_BUCKETS`: comma-separated bucket bounds in seconds for database operations.
    pub db_buckets: Buckets,
    /// `MCP_WORKFLOW_BUCKETS`: comma-separated bucket bounds in seconds for workflow steps and runs.
    pub workflow_buckets: Buckets,
    /// `MCP_HTTP_MAX_SERIES`: most HTTP label sets kept; later ones are counted under
    /// `path="overflow"`. Default 10 000.
    pub http_max_series: usize,
    /// `MCP_METRIC_MAX_SERIES`: most label sets per metric name of the application's
    /// own `metrics` series; later ones are recorded into one series whose label values
    /// are all `overflow`. Default 1 000.
    pub metric_max_series: usize,
    /// `MCP_PROFILE_MAX_SECONDS`: the longest CPU profile `/debug/pprof/*` records, in
    /// seconds (a longer request is cut to it). Default 60.
    pub profile_max_seconds: u64,
    /// `MCP_LONG_POLL_THRESHOLD`: a poll of a monitored call (a macro call, an HTTP
    /// request) that holds its thread longer than this is a long poll, counted in
    /// `mcp_long_polls_total{kind,name}` (a blocked executor). At least 1 ms, the
    /// finest tick of the clock that times polls. The macro sites are process-wide, so
    /// they count against the threshold of the monitor built last. Default 10 ms.
    pub long_poll_threshold: Duration,
    /// `MCP_NATIVE_HISTOGRAM_SCHEMA`: the resolution of the native histograms kept
    /// beside the classic buckets (what quantiles are read from and Prometheus scrapes
    /// over protobuf), 0 to 8: `2^schema` buckets per power of two, a quantile within
    /// `2^(2^-(schema+1)) - 1` of the exact one. Default 3 (4.4%).
    pub native_histogram_schema: u8,
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
    /// `MCP_ALERTMANAGER_CA_FILE`: a PEM file of the certificate authorities that sign
    /// the Alertmanagers' certificates. With it, `https` Alertmanagers are trusted
    /// through these authorities only (as Prometheus' `tls_config.ca_file`); without it,
    /// through the public roots.
    pub alertmanager_ca_file: Option<PathBuf>,
    /// `MCP_ALERTMANAGER_CERT_FILE`: a PEM client certificate (its chain may follow)
    /// presented to `https` Alertmanagers that ask for one (mutual TLS). Set with
    /// `MCP_ALERTMANAGER_KEY_FILE`.
    pub alertmanager_cert_file: Option<PathBuf>,
    /// `MCP_ALERTMANAGER_KEY_FILE`: the PEM private key of the client certificate
    /// (PKCS#8, PKCS#1 or SEC1).
    pub alertmanager_key_file: Option<PathBuf>,
    /// `MCP_ALERTMANAGER_BEARER_TOKEN_FILE`: a file holding the bearer token sent to
    /// every Alertmanager (one trailing newline dropped). It is read at start-up (a bad
    /// file stops it) and again before each send, so that a rotated token is used. Not
    /// with user information in `MCP_ALERTMANAGER_URL` (basic auth).
    pub alertmanager_bearer_token_file: Option<PathBuf>,
    /// `MCP_SLOS`: the service-level objectives (grammar in `docs/alerts.md`); each gives
    /// the `SLO_BURN_RATE_FAST` and `SLO_BURN_RATE_SLOW` alerts and the `mcp_slo_*`
    /// gauges. Default none. Add one in code with
    /// [`MonitorBuilder::with_objective`](crate::MonitorBuilder::with_objective).
    pub slos: Vec<Objective>,
    /// The OTLP push (`OTEL_EXPORTER_OTLP_ENDPOINT` and the other standard `OTEL_*`
    /// variables, see [`OtlpSettings`](super::OtlpSettings)): every series over
    /// OTLP/HTTP protobuf. Default none (no push). Needs the feature `otlp`.
    pub otlp: Option<super::OtlpSettings>,
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
            http_buckets: Buckets::http_default(),
            db_buckets: Buckets::db_default(),
            workflow_buckets: Buckets::workflow_default(),
            http_max_series: 10_000,
            metric_max_series: 1_000,
            profile_max_seconds: 60,
            long_poll_threshold: Duration::from_millis(10),
            native_histogram_schema: 3,
            alertmanager_urls: Vec::new(),
            alert_resend_delay: Duration::from_secs(60),
            instance: default_instance(),
            alert_labels: Vec::new(),
            external_url: None,
            http_header_timeout: Duration::from_secs(10),
            http_body_timeout: Duration::from_secs(30),
            http_idle_timeout: Duration::from_secs(75),
            shutdown_timeout: Duration::from_secs(10),
            alertmanager_ca_file: None,
            alertmanager_cert_file: None,
            alertmanager_key_file: None,
            alertmanager_bearer_token_file: None,
            slos: Vec::new(),
            otlp: None,
        }
    }
}

/// The host name, or `localhost` when the system does not tell.
fn default_instance() -> String {
    sysinfo::System::host_name()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
