//! The OTLP push's settings: the standard OpenTelemetry variables (`OTEL_*`), as the
//! OpenTelemetry specification defines them for a metrics exporter over OTLP/HTTP
//! protobuf.

use std::time::Duration;

use super::parse::invalid;
use crate::base::error::Error;

/// A value that must come from the environment in production but is fixed in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The `OTEL_*` variables the OTLP push reads (they are not reported as unknown, being
/// outside `MCP_*`; listed for the documentation and the tests).
pub const OTEL_VARIABLES: &[&str] = &[
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
];

/// The aggregation temporality asked for by
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Temporality {
    /// Every point counts from the start (the default).
    #[default]
    Cumulative,
    /// Counters and histograms count from the previous export.
    Delta,
    /// Counters recorded at the call and histograms as deltas; counters read from a
    /// source (the Tokio runtime, the notifier) cumulative, as the specification's
    /// `lowmemory` does for asynchronous counters.
    LowMemory,
}

/// Where and how the OTLP push sends: see `docs/settings.md`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpSettings {
    /// The full URL points are posted to: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as
    /// written, or `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/metrics` appended.
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS`: headers of every request
    /// (`api-key=secret,tenant=a`, percent-decoded). Never shown in errors or `Debug`.
    pub headers: Vec<(String, String)>,
    /// `OTEL_METRIC_EXPORT_INTERVAL`: time between two exports. Default 60 s.
    pub interval: Duration,
    /// `OTEL_METRIC_EXPORT_TIMEOUT`: longest time one request may take. Default 30 s.
    pub timeout: Duration,
    /// `OTEL_SERVICE_NAME` (else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else
    /// `unknown_service:<executable>`).
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`: the resource's other attributes (percent-decoded).
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. Default cumulative.
    pub temporality: Temporality,
    /// `OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION=gzip`: gzip the bodies. Default none.
    pub gzip: bool,
}

impl std::fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpSettings")
            .field("endpoint", &self.endpoint)
            .field("headers", &header_names)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("temporality", &self.temporality)
            .field("gzip", &self.gzip)
            .finish()
    }
}

impl OtlpSettings {
    /// Pushing to `endpoint` (the full URL, `.../v1/metrics`) with every other value
    /// at its default.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            service_name: default_service_name(),
            resource_attributes: Vec::new(),
            temporality: Temporality::Cumulative,
            gzip: false,
        }
    }
}

/// `unknown_service:<executable name>`, as the specification names a service that
/// did not say.
fn default_service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    match exe {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".to_owned(),
    }
}

/// The OTLP settings from `lookup`: `None` when no endpoint is set (no push) or
/// `OTEL_SDK_DISABLED=true`.
pub(super) fn parse(lookup: Lookup<'_>) -> Result<Option<OtlpSettings>, Error> {
    let get = |name: &'static str| {
        lookup(name)
            .map(|v| (name, v.trim().to_owned()))
            .filter(|(_, v)| !v.is_empty())
    };
    if let Some((n, v)) = get("OTEL_SDK_DISABLED") {
        match v.to_ascii_lowercase().as_str() {
            "true" => return Ok(None),
            "false" => {}
            _ => return Err(invalid(n, &v, "expected true or false".into())),
        }
    }
    let endpoint = if let Some((n, v)) = get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") {
        check_url(&v).map_err(|r| invalid(n, &v, r))?;
        v
    } else if let Some((n, v)) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
        check_url(&v).map_err(|r| invalid(n, &v, r))?;
        format!("{}/v1/metrics", v.trim_end_matches('/'))
    } else {
        return Ok(None);
    };
    let mut s = OtlpSettings::new(endpoint);
    for name in [
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ] {
        if let Some((n, v)) = get(name) {
            // The values are secrets (API keys): the error shows the variable only.
            s.headers = parse_pairs(&v, true).map_err(|r| invalid(n, "(not shown)", r))?;
            break;
        }
    }
    for (name, field) in [
        ("OTEL_METRIC_EXPORT_INTERVAL", &mut s.interval),
        ("OTEL_METRIC_EXPORT_TIMEOUT", &mut s.timeout),
    ] {
        if let Some((n, v)) = get(name) {
            *field = parse_millis(&v).map_err(|r| invalid(n, &v, r))?;
        }
    }
    if let Some((n, v)) = get("OTEL_RESOURCE_ATTRIBUTES") {
        let mut pairs = parse_pairs(&v, false).map_err(|r| invalid(n, &v, r))?;
        if let Some(i) = pairs.iter().position(|(k, _)| k == "service.name") {
            s.service_name = pairs.remove(i).1;
        }
        s.resource_attributes = pairs;
    }
    if let Some((_, v)) = get("OTEL_SERVICE_NAME") {
        s.service_name = v;
    }
    if let Some((n, v)) = get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE") {
        s.temporality = match v.to_ascii_lowercase().as_str() {
            "cumulative" => Temporality::Cumulative,
            "delta" => Temporality::Delta,
            "lowmemory" => Temporality::LowMemory,
            _ => {
                return Err(invalid(
                    n,
                    &v,
                    "expected cumulative, delta or lowmemory".into(),
                ))
            }
        };
    }
    for name in [
        "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
    ] {
        if let Some((n, v)) = get(name) {
            s.gzip = match v.to_ascii_lowercase().as_str() {
                "gzip" => true,
                "none" => false,
                _ => return Err(invalid(n, &v, "expected gzip or none".into())),
            };
            break;
        }
    }
    Ok(Some(s))
}

/// An `http` or `https` URL with a host and no query.
fn check_url(v: &str) -> Result<(), String> {
    const HELP: &str = "expected an http or https URL such as http://localhost:4318";
    let uri: http::Uri = v.parse().map_err(|_| HELP.to_owned())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(HELP.into());
    }
    Ok(())
}

/// A number of milliseconds greater than zero.
fn parse_millis(v: &str) -> Result<Duration, String> {
    match v.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err("expected a whole number of milliseconds greater than zero, such as 60000".into()),
    }
}

/// `key=value,key2=value2` (the W3C baggage form the specification uses for headers
/// and resource attributes), keys and values percent-decoded and trimmed. `secret`:
/// the reason never quotes a value.
fn parse_pairs(v: &str, secret: bool) -> Result<Vec<(String, String)>, String> {
    let forms = "expected key=value pairs separated by commas, such as api-key=secret,tenant=a (values percent-encoded)";
    let mut out = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, val)) = pair.split_once('=') else {
            let shown = if secret { "an entry" } else { pair };
            return Err(format!("{shown:?} has no `=`: {forms}"));
        };
        let decode = |x: &str| percent_decode(x).map_err(|r| format!("{r}: {forms}"));
        let key = decode(k.trim())?;
        if key.is_empty() {
            return Err(format!("an entry has an empty key: {forms}"));
        }
        out.push((key, decode(val.trim())?));
    }
    if out.is_empty() {
        return Err(forms.into());
    }
    Ok(out)
}

/// `%XX` escapes decoded; an incomplete escape or bytes that are not UTF-8 are refused.
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
            match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => return Err("a `%` not followed by two hexadecimal digits".into()),
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "a percent-encoded value that is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Option<OtlpSettings>, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        parse(&|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn refused(vars: &[(&str, &str)]) -> (&'static str, String, String) {
        match from(vars) {
            Err(Error::InvalidSetting {
                variable,
                value,
                reason,
            }) => (variable, value, reason),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_endpoint_is_no_push_and_the_defaults_are_the_specifications() {
        assert_eq!(from(&[]).unwrap(), None);
        let s = from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])
            .unwrap()
            .unwrap();
        assert_eq!(s.endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(s.interval, Duration::from_secs(60));
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert_eq!(s.temporality, Temporality::Cumulative);
        assert!(s.service_name.starts_with("unknown_service"), "{s:?}");
        assert!(!s.gzip);
        let disabled = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(disabled.unwrap(), None);
    }

    #[test]
    fn the_metrics_endpoint_is_used_as_written_and_wins() {
        let s = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "https://b/custom/path",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.endpoint, "https://b/custom/path");
    }

    #[test]
    fn every_variable_is_read() {
        let s = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=s%3Dcr%2Cet, tenant = a b ",
            ),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "250"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,deployment.environment=prod%20eu",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            s.headers,
            [
                ("api-key".to_owned(), "s=cr,et".to_owned()),
                ("tenant".to_owned(), "a b".to_owned())
            ]
        );
        assert_eq!(s.interval, Duration::from_millis(1500));
        assert_eq!(s.timeout, Duration::from_millis(250));
        assert_eq!(s.service_name, "from-attrs");
        assert_eq!(
            s.resource_attributes,
            [("deployment.environment".to_owned(), "prod eu".to_owned())]
        );
        assert_eq!(s.temporality, Temporality::Delta);
        assert!(s.gzip);
        assert!(!format!("{s:?}").contains("cr,et"), "{s:?}");
        let named = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
            ("OTEL_SERVICE_NAME", "checkout"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "lowmemory",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(named.service_name, "checkout");
        assert_eq!(named.temporality, Temporality::LowMemory);
    }

    #[test]
    fn bad_values_name_the_variable_the_value_and_the_accepted_forms() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318");
        for (vars, variable, value, forms) in [
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "collector:4318",
                "http://localhost:4318",
            ),
            (
                vec![endpoint, ("OTEL_METRIC_EXPORT_INTERVAL", "60s")],
                "OTEL_METRIC_EXPORT_INTERVAL",
                "60s",
                "milliseconds",
            ),
            (
                vec![endpoint, ("OTEL_METRIC_EXPORT_TIMEOUT", "0")],
                "OTEL_METRIC_EXPORT_TIMEOUT",
                "0",
                "greater than zero",
            ),
            (
                vec![
                    endpoint,
                    (
                        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                        "deltas",
                    ),
                ],
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "deltas",
                "cumulative, delta or lowmemory",
            ),
            (
                vec![endpoint, ("OTEL_RESOURCE_ATTRIBUTES", "team")],
                "OTEL_RESOURCE_ATTRIBUTES",
                "team",
                "key=value",
            ),
            (
                vec![endpoint, ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
                "OTEL_EXPORTER_OTLP_COMPRESSION",
                "zstd",
                "gzip or none",
            ),
            (
                vec![endpoint, ("OTEL_SDK_DISABLED", "yes")],
                "OTEL_SDK_DISABLED",
                "yes",
                "true or false",
            ),
        ] {
            let (v, shown, reason) = refused(&vars);
            assert_eq!((v, shown.as_str()), (variable, value));
            assert!(reason.contains(forms), "{variable}: {reason}");
        }
        let (v, shown, reason) =
            refused(&[endpoint, ("OTEL_EXPORTER_OTLP_HEADERS", "key=%zzhunter2")]);
        assert_eq!(v, "OTEL_EXPORTER_OTLP_HEADERS");
        assert!(
            !shown.contains("hunter2") && !reason.contains("hunter2"),
            "{shown} {reason}"
        );
        assert!(reason.contains("key=value"), "{reason}");
    }
}
