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
//!   with the strict parser of the text format 0.0.4 that every test uses (the test
//!   kit's `Exposition`, the rules of Prometheus' own `expfmt` parser), with each label
//!   value as given and no series twice. The corpus test also hands every corpus input's
//!   exposition to the real one, `promtool check metrics`, where it is installed.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use mcp_monitor::settings::VARIABLES;
use mcp_monitor::{Monitor, PoolStats, ResourceSample, Settings};
use mcp_monitor_test_kit::Exposition;
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
    let parsed = Exposition::try_parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut series = 0;
    for sample in &parsed.samples {
        if sample.name != "mcp_http_requests_total" {
            continue;
        }
        series += 1;
        let labels = &sample.labels;
        let get = |k: &str| {
            labels
                .get(k)
                .map(String::as_str)
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
    let parsed = Exposition::try_parse(&text)
        .unwrap_or_else(|e| panic!("the exposition does not parse: {e}\n{text}"));
    let mut seen = HashSet::new();
    let mut label_values: HashSet<(String, String)> = HashSet::new();
    for sample in &parsed.samples {
        let (name, labels) = (&sample.name, &sample.labels);
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
