//! The checks behind the fuzz targets, as plain functions: `cargo fuzz run <name>` feeds
//! them coverage-guided input, and `cargo test` (in this directory) feeds them every file
//! of `corpus/<name>/` and `regressions/<name>/`. Each panics when a property fails.
//!
//! - [`settings`]: any set of `MCP_*` values is a [`Settings`] that works, or an error
//!   naming a variable; never a panic.
//! - [`http_labels`]: any method and path give labels from a bounded set: a standard
//!   method or `OTHER`, a route template, `unmatched` or `overflow`.
//! - [`token`]: a bearer token is accepted exactly when the header carries it; a token
//!   that no header can carry is refused when the monitor is built.
//! - [`exposition`]: for any cache and pool names and any numbers, `/metrics` parses back
//!   with a strict parser of the text format 0.0.4 ([`parse_exposition`], the rules of
//!   Prometheus' own `expfmt` parser), with each label value as given and no series
//!   twice. The corpus test also hands every corpus input's exposition to the real one,
//!   `promtool check metrics`, where it is installed.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use mcp_monitor::settings::VARIABLES;
use mcp_monitor::{Monitor, PoolStats, ResourceSample, Settings};
use tower::ServiceExt;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

/// Lines `<k><value>`: the first character `k` picks one of [`VARIABLES`] (the file
/// variables excepted: they would read the fuzzing machine's files).
pub fn settings(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let names: Vec<&str> = VARIABLES
        .iter()
        .copied()
        .filter(|n| !n.ends_with("_FILE"))
        .collect();
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    for line in text.split('\n') {
        let mut chars = line.chars();
        let Some(k) = chars.next() else { continue };
        vars.insert(names[k as usize % names.len()], chars.as_str().to_owned());
    }
    match Settings::from_lookup(&|name| vars.get(name).cloned()) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("MCP_"), "an error names no variable: {msg}");
        }
        Ok(s) => {
            for r in [
                s.error_rate_threshold,
                s.memory_threshold,
                s.cpu_threshold,
                s.cache_hit_ratio_threshold,
                s.db_pool_threshold,
            ] {
                assert!((0.0..=1.0).contains(&r), "ratio {r}");
            }
            assert!(s.system_load_threshold.is_finite() && s.system_load_threshold > 0.0);
            assert!(s.alert_critical_factor.is_finite() && s.alert_critical_factor >= 1.0);
            assert!(s.alert_min_samples >= 1);
            assert!(s.alert_evaluation_interval <= s.metrics_window);
            assert!(s.resource_interval.as_millis() >= 200);
            for b in [&s.http_buckets, &s.db_buckets, &s.workflow_buckets] {
                let bounds = b.bounds();
                assert!(!bounds.is_empty());
                assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
                assert!(bounds.iter().all(|b| b.is_finite() && *b > 0.0));
            }
            for t in [&s.admin_token, &s.metrics_token].into_iter().flatten() {
                assert!(
                    !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()),
                    "{t:?}"
                );
            }
            // What the settings feed must take them.
            let _ = mcp_monitor::fleet::prometheus_rules(&s);
            let _ = mcp_monitor::fleet::grafana_dashboard(&s);
            if let Err(e) = Monitor::builder().with_settings(s).build() {
                panic!("settings accepted, monitor refused: {e}");
            }
        }
    }
}

/// Routes of the label check; every `path` label must be one of these templates,
/// `unmatched` or `overflow`.
const TEMPLATES: &[&str] = &["/users", "/users/{id}", "/files/{*rest}", "/a/b/c"];
const MAX_SERIES: usize = 64;

fn label_app() -> &'static (Monitor, Router) {
    static APP: OnceLock<(Monitor, Router)> = OnceLock::new();
    APP.get_or_init(|| {
        let monitor = Monitor::builder()
            .configure(|s| s.http_max_series = MAX_SERIES)
            .build()
            .expect("monitor");
        let mut app = Router::new();
        for t in TEMPLATES {
            app = app.route(t, get(|| async { "ok" }).post(|| async { "posted" }));
        }
        let app = app.layer(monitor.layer());
        (monitor, app)
    })
}

/// `<method> <path>`: a request with that method and path through a router under the
/// monitor's layer; then every HTTP series' labels are checked.
pub fn http_labels(data: &[u8]) {
    let Some(space) = data.iter().position(|b| *b == b' ') else {
        return;
    };
    let (method, path) = (&data[..space], &data[space + 1..]);
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let Ok(uri) = Uri::try_from(path) else {
        return;
    };
    let (monitor, app) = label_app();
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let res = runtime()
        .block_on(app.clone().oneshot(req))
        .expect("infallible");
    let _ = res.status();

    let text = monitor.render();
    let samples = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut series = 0;
    for (name, labels, _) in &samples {
        if name != "mcp_http_requests_total" {
            continue;
        }
        series += 1;
        let get = |k: &str| {
            labels
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {k} label: {labels:?}"))
        };
        let method = get("method");
        assert!(
            [
                "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
                "OTHER"
            ]
            .contains(&method),
            "method label {method:?}"
        );
        let path = get("path");
        assert!(
            TEMPLATES.contains(&path) || path == "unmatched" || path == "overflow",
            "path label {path:?}"
        );
        let status = get("status");
        assert!(
            status.len() == 3 && status.parse::<u16>().is_ok(),
            "status label {status:?}"
        );
    }
    // A label set per method, template and status at most; past the cap, one more
    // (`overflow`) per method and status.
    assert!(series <= MAX_SERIES + 10 * 8, "{series} HTTP series");
}

/// What a server that follows RFC 6750 and RFC 7235 finds in an `Authorization` header:
/// the bearer token, if the scheme is `Bearer` in any case and one token follows.
fn bearer(header: &HeaderValue) -> Option<&str> {
    let ows = |c: char| c == ' ' || c == '\t';
    let v = header.to_str().ok()?.trim_matches(ows);
    let (scheme, rest) = v.split_once(ows)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_matches(ows);
    (!token.is_empty() && !token.contains(ows)).then_some(token)
}

/// `<token>\0<Authorization header>`: the monitor's `/metrics` behind the token, asked
/// with the header.
pub fn token(data: &[u8]) {
    let Some(nul) = data.iter().position(|b| *b == 0) else {
        return;
    };
    let (token, header) = (&data[..nul], &data[nul + 1..]);
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let built = Monitor::builder().with_metrics_token(token).build();
    let carriable = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
    let monitor = match built {
        Ok(m) => {
            assert!(
                carriable,
                "token {token:?} that no header can carry was accepted"
            );
            m
        }
        Err(e) => {
            assert!(!carriable, "token {token:?} refused: {e}");
            return;
        }
    };
    let Ok(header) = HeaderValue::from_bytes(header) else {
        return;
    };
    let expected = bearer(&header).map(|t| t == token);
    let req = Request::builder()
        .uri("/metrics")
        .header(header::AUTHORIZATION, header.clone())
        .body(Body::empty())
        .expect("request");
    let router: Router = monitor.router();
    let res = runtime().block_on(router.oneshot(req)).expect("infallible");
    let status = res.status();
    match expected {
        Some(true) => assert_eq!(status, StatusCode::OK, "{header:?}"),
        Some(false) => assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}"),
        None => {
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
                "{header:?}: {status}"
            );
        }
    }
    if status != StatusCode::OK {
        let challenge = res.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .expect("ASCII challenge");
        assert!(
            challenge.starts_with("Bearer realm=\"mcp-monitor\""),
            "{challenge}"
        );
    }
}

struct FixedPool(u32, u32, u32);

impl PoolStats for FixedPool {
    fn in_use(&self) -> u32 {
        self.0
    }
    fn idle(&self) -> u32 {
        self.1
    }
    fn max_size(&self) -> u32 {
        self.2
    }
}

/// Takes `n` bytes from the front of `data`.
fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let n = n.min(data.len());
    let (head, tail) = data.split_at(n);
    *data = tail;
    (n > 0).then_some(head)
}

fn f64_from(bytes: Option<&[u8]>) -> Option<f64> {
    let b = bytes?;
    let mut raw = [0u8; 8];
    raw[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    Some(f64::from_le_bytes(raw))
}

/// One sample of an exposition: its name, its labels (sorted) and its value.
pub type ParsedSample = (String, Vec<(String, String)>, f64);

/// Parses the Prometheus text format 0.0.4 as strictly as Prometheus does (`expfmt`):
/// metric and label names, label values with only `\\`, `\"` and `\n` escapes, a label
/// at most once per sample, a float value (`NaN`, `+Inf`, `-Inf` included), an optional
/// integer timestamp, and `# HELP` / `# TYPE` lines (a `TYPE` at most once per family,
/// before its samples).
///
/// # Errors
///
/// The first line that breaks a rule, with the rule.
pub fn parse_exposition(text: &str) -> Result<Vec<ParsedSample>, String> {
    fn is_name(s: &str, colon: bool) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    }
    fn value(v: &str) -> Option<f64> {
        match v {
            "NaN" => Some(f64::NAN),
            "+Inf" | "Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            v => v.parse().ok(),
        }
    }
    let mut out = Vec::new();
    let mut typed = HashSet::new();
    let mut sampled = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let err = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match words.next() {
                Some("TYPE") => {
                    let name = words.next().ok_or_else(|| err("TYPE without a name"))?;
                    let kind = words.next().ok_or_else(|| err("TYPE without a type"))?;
                    if !is_name(name, true) {
                        return Err(err("bad metric name"));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(err("unknown type"));
                    }
                    if !typed.insert(name.to_owned()) {
                        return Err(err("second TYPE line for the family"));
                    }
                    if sampled.contains(name) {
                        return Err(err("TYPE after the family's samples"));
                    }
                }
                Some("HELP") => {
                    let name = words.next().ok_or_else(|| err("HELP without a name"))?;
                    if !is_name(name, true) {
                        return Err(err("bad metric name"));
                    }
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| err("no value"))?;
        let name = &line[..name_end];
        if !is_name(name, true) {
            return Err(err("bad metric name"));
        }
        let mut rest = &line[name_end..];
        let mut labels: Vec<(String, String)> = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let mut chars = after.char_indices().peekable();
            loop {
                // A label name, or the end.
                let start = match chars.peek() {
                    Some((_, '}')) => {
                        let (i, _) = chars.next().expect("peeked");
                        rest = &after[i + 1..];
                        break;
                    }
                    Some((i, _)) => *i,
                    None => return Err(err("unterminated label set")),
                };
                let eq = after[start..]
                    .find('=')
                    .ok_or_else(|| err("label without ="))?
                    + start;
                let lname = &after[start..eq];
                if !is_name(lname, false) {
                    return Err(err("bad label name"));
                }
                while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                    chars.next();
                }
                if chars.next().map(|(_, c)| c) != Some('"') {
                    return Err(err("label value not quoted"));
                }
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => v.push('\\'),
                            Some((_, '"')) => v.push('"'),
                            Some((_, 'n')) => v.push('\n'),
                            _ => return Err(err("invalid escape in a label value")),
                        },
                        Some((_, c)) => v.push(c),
                        None => return Err(err("unterminated label value")),
                    }
                }
                if labels.iter().any(|(k, _)| k == lname) {
                    return Err(err("label twice"));
                }
                labels.push((lname.to_owned(), v));
                match chars.next() {
                    Some((_, ',')) => {}
                    Some((i, '}')) => {
                        rest = &after[i + 1..];
                        break;
                    }
                    _ => return Err(err("expected , or } after a label")),
                }
            }
        }
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before the value"))?
            .split(' ');
        let v = fields
            .next()
            .and_then(value)
            .ok_or_else(|| err("bad value"))?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| err("bad timestamp"))?;
        }
        if fields.next().is_some() {
            return Err(err("text after the timestamp"));
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        sampled.insert(family.to_owned());
        labels.sort();
        out.push((name.to_owned(), labels, v));
    }
    Ok(out)
}

/// The exposition of a monitor built from `data`: records `<kind><len><name
/// bytes><numbers>` repeated, where kind 0 is a cache (hits, misses), 1 a pool (in
/// use, idle, size), 2 a resource sample (five numbers). Also the names of the caches
/// and pools it made.
pub fn exposition_text(mut data: &[u8]) -> (String, Vec<String>, Vec<String>) {
    let monitor = Monitor::builder().build().expect("monitor");
    let mut caches: Vec<String> = Vec::new();
    let mut pools: Vec<String> = Vec::new();
    while let Some(kind) = take(&mut data, 1) {
        match kind[0] % 3 {
            0 | 1 => {
                let Some(len) = take(&mut data, 1) else { break };
                let name = take(&mut data, usize::from(len[0] % 24)).unwrap_or(b"");
                let name = String::from_utf8_lossy(name).into_owned();
                let n = take(&mut data, 2).unwrap_or(&[0, 0]).to_vec();
                let (a, b) = (n[0], n.get(1).copied().unwrap_or(0));
                if kind[0] % 3 == 0 {
                    let cache = monitor.cache(&name);
                    for _ in 0..a {
                        cache.hit();
                    }
                    for _ in 0..b {
                        cache.miss();
                    }
                    caches.push(name);
                } else {
                    let size = take(&mut data, 1).map_or(0, |s| u32::from(s[0]));
                    let in_use = u32::from(a) * 16_777_216;
                    monitor.register_pool(&name, FixedPool(in_use, u32::from(b), size));
                    pools.push(name);
                }
            }
            _ => {
                let sample = ResourceSample {
                    cpu: f64_from(take(&mut data, 8)),
                    memory: f64_from(take(&mut data, 8)),
                    load_per_core: f64_from(take(&mut data, 8)),
                    process_cpu: f64_from(take(&mut data, 8)),
                    process_resident_bytes: take(&mut data, 8)
                        .map(|b| b.iter().fold(0u64, |a, x| a << 8 | u64::from(*x))),
                };
                monitor.observe_resources(sample);
            }
        }
    }
    (monitor.render(), caches, pools)
}

/// See [`exposition_text`] for the input, and the crate docs for the checks.
pub fn exposition(data: &[u8]) {
    let (text, caches, pools) = exposition_text(data);
    let samples = parse_exposition(&text)
        .unwrap_or_else(|e| panic!("the exposition does not parse: {e}\n{text}"));
    let mut seen = HashSet::new();
    let mut label_values: HashSet<(String, String)> = HashSet::new();
    for (name, labels, _) in &samples {
        for (k, v) in labels {
            label_values.insert((k.clone(), v.clone()));
        }
        assert!(
            seen.insert((name.clone(), labels.clone())),
            "series twice: {name} {labels:?}\n{text}"
        );
    }
    for (kind, names) in [("cache", &caches), ("pool", &pools)] {
        for name in names {
            assert!(
                label_values.contains(&(kind.to_owned(), name.clone())),
                "{kind} {name:?} does not read back\n{text}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_is_strict() {
        let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\\\\ \\\" \\n}\",j=\"\"} 1\nb NaN 123\n";
        let parsed = parse_exposition(ok).unwrap();
        assert_eq!(
            parsed[0].1,
            [("j".into(), "".into()), ("k".into(), "v\\ \" \n}".into())]
        );
        for bad in [
            "a{k=\"v\\x\"} 1",
            "a{k=\"v\"} one",
            "a{k=\"v\",k=\"w\"} 1",
            "a{k=v} 1",
            "1a 1",
            "a{k=\"v\"",
            "a 1 2 3",
            "# TYPE a counter\n# TYPE a gauge",
            "a 1\n# TYPE a gauge",
        ] {
            assert!(parse_exposition(bad).is_err(), "{bad:?}");
        }
    }
}
