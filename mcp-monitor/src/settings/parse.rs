//! The syntax of the values of `MCP_*` variables: percentages, durations, counts,
//! bucket lists, base URLs and label lists. What a value must be once parsed (its
//! range, how it relates to the others) is for [`Settings::validate`](super::Settings::validate).

use std::time::Duration;

use crate::base::error::Error;
use crate::base::histogram::Buckets;

/// The error of a refused value.
pub(super) fn invalid(variable: &'static str, value: &str, reason: String) -> Error {
    Error::InvalidSetting {
        variable,
        value: value.to_owned(),
        reason,
    }
}

/// Parses `80%` or `0.8` into `0.8` (its range is checked by the validation).
pub(super) fn parse_ratio(v: &str) -> Result<f64, String> {
    let (number, scale) = match v.strip_suffix('%') {
        Some(p) => (p.trim(), 100.0),
        None => (v, 1.0),
    };
    match number.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x / scale),
        _ => Err("expected a percentage such as 80% or a ratio such as 0.8".to_owned()),
    }
}

/// Parses a finite number (its range is checked by the validation).
pub(super) fn parse_number(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err("expected a positive number".into()),
    }
}

/// Parses a whole number, `0` included (whether `0` is allowed is checked by the
/// validation).
pub(super) fn parse_count(v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .map_err(|_| "expected a whole number greater than zero".to_owned())
}

/// The accepted forms of a duration, for errors.
pub(super) const DURATION_FORMS: &str =
    "expected a duration such as 250ms, 1s, 5m or 24h (a bare number is seconds)";

/// Parses a duration: `250ms`, `1s`, `1.5s`, `5m`, `24h`, `1d`, or a bare number of
/// seconds (`300`, `1.0`, `0`): one rule for every duration variable, as the original
/// Python settings write the latency threshold (`1.0`).
pub(super) fn parse_duration(v: &str) -> Result<Duration, String> {
    let help = || format!("{DURATION_FORMS}{}", duration_hint(v));
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let x: f64 = number.parse().map_err(|_| help())?;
    let secs = match unit.trim() {
        "" | "s" => x,
        "ms" => x / 1000.0,
        "m" => x * 60.0,
        "h" => x * 3600.0,
        "d" => x * 86400.0,
        _ => return Err(help()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| help())
}

/// A suggestion for a duration written with a unit we do not take (`5 min`, `2sec`).
fn duration_hint(v: &str) -> String {
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    if number.parse::<f64>().is_err() {
        return String::new();
    }
    let unit = unit.trim().to_ascii_lowercase();
    let short = match unit.as_str() {
        "msec" | "msecs" | "millis" | "millisecond" | "milliseconds" => "ms",
        "sec" | "secs" | "second" | "seconds" => "s",
        "min" | "mins" | "minute" | "minutes" => "m",
        "hr" | "hrs" | "hour" | "hours" => "h",
        "day" | "days" => "d",
        _ => return String::new(),
    };
    format!(": write {number}{short}")
}

/// Parses comma-separated bucket bounds, in seconds or as durations.
pub(super) fn parse_buckets(v: &str) -> Result<Buckets, String> {
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

/// An `http` or `https` base URL with a host, without its trailing `/`.
pub(super) fn parse_base_url(v: &str) -> Result<String, String> {
    const HELP: &str = "expected a base URL such as http://alertmanager:9093";
    let uri: http::Uri = v.parse().map_err(|_| HELP.to_owned())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(HELP.into());
    }
    Ok(v.trim_end_matches('/').to_owned())
}

/// Splits `k=v,k=v` into label pairs (what names and values are allowed is checked by
/// the validation).
pub(super) fn parse_labels(v: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, val) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not of the form name=value"))?;
        out.push((k.trim().to_owned(), val.trim().to_owned()));
    }
    if out.is_empty() {
        return Err("expected labels such as team=payments,env=prod".into());
    }
    Ok(out)
}

/// A file path: anything but empty (whether the file is good is checked when it is read).
pub(super) fn parse_path(v: &str) -> Result<std::path::PathBuf, String> {
    if v.is_empty() {
        return Err("expected the path of a file".into());
    }
    Ok(v.into())
}

/// `value` with the password of every URL in it replaced by `***` (`https://u:***@am`),
/// for errors and logs: a base URL may carry basic-auth credentials.
pub(crate) fn without_password(value: &str) -> String {
    value
        .split(',')
        .map(|u| {
            let Some((scheme, rest)) = u.split_once("://") else {
                return u.to_owned();
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    let hidden = if userinfo.contains(':') { ":***" } else { "" };
                    format!("{scheme}://{user}{hidden}@{host}{path}")
                }
                None => u.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
