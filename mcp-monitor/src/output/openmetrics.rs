//! OpenMetrics 1.0 text: content negotiation, and the conversion of a Prometheus
//! text 0.0.4 exposition (ours, with exemplars already appended to its samples, and
//! the application's facade metrics) into OpenMetrics.
//!
//! What changes between the formats, for the families we and the `metrics` exporter
//! write: a counter's family is named without `_total` (its samples keep it, and a
//! counter sample without it gains it); `untyped` is `unknown`; `"` is escaped in
//! `HELP`; a family whose name ends in `_seconds` or `_bytes` declares its `UNIT`; the
//! exposition ends with `# EOF`. Exemplars (` # {trace_id="..",span_id=".."} v ts`
//! after a bucket or counter sample) exist only in OpenMetrics.

use std::collections::HashSet;
use std::fmt::Write as _;

/// The `Content-Type` of the OpenMetrics exposition.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether an `Accept` header value prefers OpenMetrics 1.0.0 text over Prometheus
/// text: an `application/openmetrics-text` range (version `1.0.0` or unspecified)
/// with a weight above zero and at least that of `text/plain` (Prometheus sends
/// `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5`).
pub(crate) fn prefers_openmetrics(accept: &str) -> bool {
    let mut om = 0.0f64;
    let mut text = 0.0f64;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut q, mut version) = (1.0f64, None);
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "version" => version = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if version.as_deref().is_none_or(|v| v == "1.0.0") => {
                om = om.max(q);
            }
            "text/plain" => text = text.max(q),
            _ => {}
        }
    }
    om > 0.0 && om >= text
}

/// Appends ` # {trace_id="..",span_id=".."} value timestamp` to the sample line that
/// `out` ends with (replacing its newline).
pub(crate) fn append_exemplar(
    out: &mut String,
    trace_id: &str,
    span_id: &str,
    value: f64,
    unix_ms: u64,
) {
    if out.ends_with('\n') {
        out.pop();
    }
    let secs = unix_ms / 1000;
    let millis = unix_ms % 1000;
    let _ = writeln!(
        out,
        " # {{trace_id=\"{trace_id}\",span_id=\"{span_id}\"}} {value} {secs}.{millis:03}"
    );
}

/// Converts a Prometheus text 0.0.4 exposition into OpenMetrics 1.0 text, appended
/// to `out`, ending with `# EOF`.
pub(crate) fn from_text(text: &str, out: &mut String) {
    // Counter families, by the name the text format gave them.
    let counters: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, kind)| kind.trim() == "counter")
        .map(|(name, _)| name)
        .collect();
    let family = |name: &str| -> String {
        if counters.contains(name) {
            name.strip_suffix("_total").unwrap_or(name).to_owned()
        } else {
            name.to_owned()
        }
    };
    out.reserve(text.len() + 64);
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let _ = writeln!(out, "# HELP {} {}", family(name), help.replace('"', "\\\""));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let kind = match kind.trim() {
                "untyped" => "unknown",
                k => k,
            };
            let fam = family(name);
            let _ = writeln!(out, "# TYPE {fam} {kind}");
            if let Some(unit) = ["seconds", "bytes"]
                .into_iter()
                .find(|u| fam.ends_with(&format!("_{u}")))
            {
                let _ = writeln!(out, "# UNIT {fam} {unit}");
            }
        } else if line.starts_with('#') {
            // Other comments have no place in OpenMetrics.
        } else {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let name = &line[..end];
            if counters.contains(name) && !name.ends_with("_total") {
                out.push_str(name);
                out.push_str("_total");
                out.push_str(&line[end..]);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_accept_header_chooses_openmetrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(prefers_openmetrics(prometheus));
        assert!(prefers_openmetrics("application/openmetrics-text"));
        assert!(!prefers_openmetrics("text/plain;version=0.0.4"));
        assert!(!prefers_openmetrics("*/*"));
        assert!(!prefers_openmetrics(""));
        assert!(!prefers_openmetrics("application/openmetrics-text;q=0"));
        assert!(!prefers_openmetrics(
            "application/openmetrics-text;version=0.0.1"
        ));
        assert!(!prefers_openmetrics(
            "application/openmetrics-text;q=0.2,text/plain;q=0.9"
        ));
    }

    #[test]
    fn converts_counters_units_help_and_ends_with_eof() {
        let text = "# HELP a_total Things \"quoted\".\n# TYPE a_total counter\na_total{x=\"1\"} 3 # {trace_id=\"ab\",span_id=\"cd\"} 1 1.000\n\
# HELP b Facade counter without suffix.\n# TYPE b counter\nb 2\n\
# TYPE d_seconds histogram\nd_seconds_bucket{le=\"+Inf\"} 1\nd_seconds_sum 0.5\nd_seconds_count 1\n\
# TYPE u untyped\nu 1\n";
        let mut out = String::new();
        from_text(text, &mut out);
        assert_eq!(
            out,
            "# HELP a Things \\\"quoted\\\".\n# TYPE a counter\na_total{x=\"1\"} 3 # {trace_id=\"ab\",span_id=\"cd\"} 1 1.000\n\
# HELP b Facade counter without suffix.\n# TYPE b counter\nb_total 2\n\
# TYPE d_seconds histogram\n# UNIT d_seconds seconds\nd_seconds_bucket{le=\"+Inf\"} 1\nd_seconds_sum 0.5\nd_seconds_count 1\n\
# TYPE u unknown\nu 1\n# EOF\n"
        );
    }

    #[test]
    fn exemplars_replace_the_newline() {
        let mut out = "x_bucket{le=\"1\"} 2\n".to_owned();
        append_exemplar(&mut out, "0af7", "b7ad", 0.25, 1_733_097_600_123);
        assert_eq!(
            out,
            "x_bucket{le=\"1\"} 2 # {trace_id=\"0af7\",span_id=\"b7ad\"} 0.25 1733097600.123\n"
        );
    }
}
