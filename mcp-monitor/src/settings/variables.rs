//! The list of `MCP_*` variables, and the report of the ones nothing reads (with the
//! closest known name, for typos).

use super::Settings;

/// Every `MCP_*` variable the monitor and the demo read (the ones of the contract that
/// other parts read included); any other `MCP_*` variable is reported at start-up by
/// [`Settings::from_env`]. `MCP_ADDR`, the demo service's listen address, is read by the
/// demo, not by [`Settings`]; it is listed so that setting it is never reported.
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
    // Read by the demo service (its listen address), not by `Settings`.
    "MCP_ADDR",
    "MCP_HTTP_BUCKETS",
    "MCP_DB_BUCKETS",
    "MCP_WORKFLOW_BUCKETS",
    "MCP_HTTP_MAX_SERIES",
    "MCP_METRIC_MAX_SERIES",
    "MCP_PROFILE_MAX_SECONDS",
    "MCP_NATIVE_HISTOGRAM_SCHEMA",
    "MCP_HTTP_HEADER_TIMEOUT",
    "MCP_HTTP_BODY_TIMEOUT",
    "MCP_HTTP_IDLE_TIMEOUT",
    "MCP_SHUTDOWN_TIMEOUT",
    "MCP_ALERTMANAGER_URL",
    "MCP_ALERT_RESEND_DELAY",
    "MCP_INSTANCE",
    "MCP_ALERT_LABELS",
    "MCP_EXTERNAL_URL",
    "MCP_ALERTMANAGER_CA_FILE",
    "MCP_ALERTMANAGER_CERT_FILE",
    "MCP_ALERTMANAGER_KEY_FILE",
    "MCP_ALERTMANAGER_BEARER_TOKEN_FILE",
    "MCP_SLOS",
    // Read by the demo service (its gRPC listen address), not by `Settings`.
    "MCP_GRPC_ADDR",
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

impl Settings {
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
