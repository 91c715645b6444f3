//! `docs/grafana/mcp-monitor.json` is what `grafana_dashboard` renders from the default
//! settings, and it and `docs/prometheus/alerts.yml` query only series that the service
//! exposes.
//!
//! The set of exposed series is taken from a real render of `/metrics` after a monitor
//! has seen every kind of traffic: HTTP requests through the layer, macro-annotated db
//! operations, workflow steps and runs, a cache, a pool, a resource sample and an alert.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::Exposition;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use mcp_monitor::fleet::grafana_dashboard;
use mcp_monitor::{
    monitor_db_operation, monitor_workflow, monitor_workflow_step, Monitor, PoolStats, Settings,
};
use mcp_monitor_test_kit::promtool::Promtool;
use serde_json::Value;
use tower::ServiceExt as _;

/// Labels every scrape adds, and `le` of histogram buckets.
const TARGET_LABELS: [&str; 3] = ["instance", "job", "le"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

// ------------------------------------------------------------------ exposed series

#[monitor_db_operation("select", "users")]
fn select_user(id: u32) -> Result<u32, String> {
    if id == 0 {
        Err("no such user".into())
    } else {
        Ok(id)
    }
}

#[monitor_workflow_step("dashboard_test", "validation")]
async fn validate(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[monitor_workflow("dashboard_test")]
async fn run_workflow(n: u32) -> Result<u32, String> {
    validate(n).await
}

struct FixedPool;

impl PoolStats for FixedPool {
    fn in_use(&self) -> u32 {
        9
    }
    fn idle(&self) -> u32 {
        1
    }
    fn max_size(&self) -> u32 {
        10
    }
}

/// Every `mcp_` family of a real `/metrics` render, with its type and label names.
#[derive(Debug, Default)]
struct Exposed {
    types: BTreeMap<String, String>,
    labels: BTreeMap<String, BTreeSet<String>>,
}

impl Exposed {
    /// The family a series name in a query belongs to: itself (a histogram's own name
    /// being its native series), or for `_bucket`, `_sum` and `_count` the histogram it
    /// is part of. `None` if nothing exposes it.
    fn family<'a>(&self, name: &'a str) -> Option<&'a str> {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if self.types.get(base).map(String::as_str) == Some("histogram") {
                    return Some(base);
                }
            }
        }
        // A histogram's own name is the series of its native histogram, which
        // Prometheus stores when it scrapes the protobuf exposition with native
        // histograms on (the latency queries read it first, the `_bucket` series else).
        self.types.get(name).map(|_| name)
    }

    fn all_labels(&self) -> BTreeSet<String> {
        self.labels
            .values()
            .flatten()
            .cloned()
            .chain(TARGET_LABELS.map(str::to_owned))
            .collect()
    }
}

async fn exposed() -> Exposed {
    let monitor = Monitor::builder()
        .configure(|s| {
            // Memory in use is above 0%: an alert, so that `mcp_alerts` is rendered.
            s.memory_threshold = 0.0;
            s.alert_for = Duration::ZERO;
        })
        .build()
        .expect("monitor");
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/users/{id}",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .layer(monitor.layer());
    for uri in ["/ok", "/users/1", "/nowhere"] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        drop(response);
    }
    // One gRPC call (a trailers-only INTERNAL), so that the gRPC families are exposed.
    let grpc = tower::Layer::layer(
        &monitor.grpc_layer().service("demo.S", &["M"]),
        tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(
                axum::http::Response::builder()
                    .header("grpc-status", "13")
                    .body(Body::empty())
                    .expect("response"),
            )
        }),
    );
    let request = Request::post("/demo.S/M")
        .header("content-type", "application/grpc")
        .body(Body::empty())
        .expect("request");
    drop(grpc.oneshot(request).await.expect("gRPC response"));
    let _ = select_user(1);
    let _ = select_user(0);
    run_workflow(3).await.expect("workflow");
    let cache = monitor.cache("c");
    cache.hit();
    cache.miss();
    monitor.register_pool("main", FixedPool);

    // CPU figures need two samples some time apart.
    monitor.sample_resources();
    tokio::time::sleep(Duration::from_millis(300)).await;
    monitor.sample_resources();
    // Where the platform has no figure, fill one in: the names are what matter here.
    let mut sample = monitor.resources();
    sample.cpu.get_or_insert(0.5);
    sample.memory.get_or_insert(0.5);
    sample.load_per_core.get_or_insert(0.5);
    sample.process_cpu.get_or_insert(0.5);
    sample.process_resident_bytes.get_or_insert(1);
    monitor.observe_resources(sample);
    monitor.evaluate_alerts();

    let text = monitor.render();
    let exposed = parse_exposition(&text);
    for family in [
        "mcp_http_requests_total",
        "mcp_http_request_duration_seconds",
        "mcp_db_operations_total",
        "mcp_workflow_steps_total",
        "mcp_workflow_runs_total",
        "mcp_active_workflows",
        "mcp_cache_hits_total",
        "mcp_db_pool_utilization_ratio",
        "mcp_system_cpu_usage_ratio",
        "mcp_alerts",
    ] {
        assert!(
            exposed.types.contains_key(family),
            "the render lacks {family}; the test exercised too little:\n{text}"
        );
    }
    exposed
}

/// The `mcp_` families of `text`, read with the kit's strict parser: their types, and
/// the label names of their samples.
fn parse_exposition(text: &str) -> Exposed {
    let parsed = Exposition::parse(text);
    let mut out = Exposed::default();
    for (name, kind) in &parsed.types {
        if name.starts_with("mcp_") {
            out.types.insert(name.clone(), kind.clone());
        }
    }
    for sample in parsed.samples.iter().filter(|s| s.name.starts_with("mcp_")) {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                sample
                    .name
                    .strip_suffix(s)
                    .filter(|b| out.types.get(*b).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(&sample.name)
            .to_owned();
        out.labels
            .entry(family)
            .or_default()
            .extend(sample.labels.keys().cloned());
    }
    out
}

// ------------------------------------------------------------------ PromQL scanning

/// Parses `k="v", k2=~"v2"}` (after the opening brace): the label names and values,
/// and how many bytes were consumed including the closing brace.
fn parse_matchers(s: &str) -> (Vec<(String, String)>, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            panic!("unterminated label set in {s:?}");
        }
        if b[i] == b'}' {
            return (out, i + 1);
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = s[start..i].to_owned();
        while i < b.len() && matches!(b[i], b'=' | b'!' | b'~' | b' ') {
            i += 1;
        }
        assert_eq!(b.get(i), Some(&b'"'), "expected a quoted value in {s:?}");
        i += 1;
        let vstart = i;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        out.push((name, s[vstart..i].to_owned()));
        i += 1;
    }
}

/// What a PromQL expression refers to: each `mcp_` series with the label names of its
/// selector, and the label names of every `by (...)` / `without (...)` clause.
#[derive(Debug, Default)]
struct Refs {
    series: Vec<(String, Vec<String>)>,
    grouping: Vec<String>,
}

fn scan(expr: &str) -> Refs {
    let mut refs = Refs::default();
    let b = expr.as_bytes();
    let mut i = 0;
    let mut prev_word = String::new();
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            // A string literal outside a selector (a label_replace argument, say).
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == b'[' {
            // A range or subquery: `[5m]`, `[$__rate_interval]`.
            i += expr[i..].find(']').expect("unterminated range") + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b':' | b'$'))
            {
                i += 1;
            }
            let word = &expr[start..i];
            let rest = expr[i..].trim_start();
            if (word == "by" || word == "without") && rest.starts_with('(') {
                let open = expr.len() - rest.len();
                let close = open + rest.find(')').expect("unterminated grouping");
                refs.grouping.extend(
                    expr[open + 1..close]
                        .split(',')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                );
                i = close + 1;
            } else if word.starts_with("mcp_") {
                let mut labels = Vec::new();
                if rest.starts_with('{') {
                    let open = expr.len() - rest.len();
                    let (matchers, used) = parse_matchers(&expr[open + 1..]);
                    labels = matchers.into_iter().map(|(k, _)| k).collect();
                    i = open + 1 + used;
                }
                refs.series.push((word.to_owned(), labels));
            } else if rest.starts_with('{') {
                // A series Prometheus makes (`up`, `ALERTS`): skip its selector.
                let open = expr.len() - rest.len();
                i = open + 1 + parse_matchers(&expr[open + 1..]).1;
            }
            prev_word = word.to_owned();
        } else if c == b'{' {
            // A selector without a metric name: `{__name__=~"..."}`.
            panic!("selector without a metric name in {expr:?} (after {prev_word:?})");
        } else {
            i += 1;
        }
    }
    refs
}

/// Every problem with `expr`: series that nothing exposes, label names a series does
/// not have, grouping labels that no series has.
fn problems(exposed: &Exposed, what: &str, expr: &str) -> Vec<String> {
    let refs = scan(expr);
    let mut out = Vec::new();
    let all = exposed.all_labels();
    for (name, labels) in &refs.series {
        let Some(family) = exposed.family(name) else {
            out.push(format!(
                "{what}: `{name}` is not a series the service exposes"
            ));
            continue;
        };
        let has = &exposed.labels[family];
        for l in labels {
            if !has.contains(l) && !TARGET_LABELS.contains(&l.as_str()) {
                out.push(format!(
                    "{what}: `{name}` has no label `{l}` (it has {has:?})"
                ));
            }
        }
    }
    for l in &refs.grouping {
        if !all.contains(l) {
            out.push(format!("{what}: no series has the grouping label `{l}`"));
        }
    }
    out
}

#[test]
fn the_scanner_finds_series_labels_and_groupings() {
    let refs = scan(concat!(
        "histogram_quantile(0.95, sum by (path, le) (rate(mcp_x_bucket",
        "{job=~\"$job\", path!=\"mcp_not_a_series\"}[$__rate_interval])))\n/ on() mcp_y",
    ));
    assert_eq!(
        refs.series,
        vec![
            (
                "mcp_x_bucket".to_owned(),
                vec!["job".to_owned(), "path".to_owned()]
            ),
            ("mcp_y".to_owned(), vec![]),
        ]
    );
    assert_eq!(refs.grouping, ["path", "le"]);
}

// ------------------------------------------------------------------ the dashboard

const DASHBOARD: &str = "docs/grafana/mcp-monitor.json";

#[test]
fn the_committed_dashboard_is_the_default_settings_rendered() {
    let committed = read(DASHBOARD);
    let rendered = grafana_dashboard(&Settings::default());
    assert!(
        committed == rendered,
        "{DASHBOARD} is out of date; regenerate it with\n  \
         cargo run --example grafana-dashboard > {DASHBOARD}\n(with no MCP_* variable set)"
    );
    // The thresholds are the settings': the CPU panel's warning and critical steps.
    let dashboard: Value = serde_json::from_str(&committed).expect("valid JSON");
    let cpu = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .find(|p| p["title"] == "CPU")
        .expect("a CPU panel");
    let steps = &cpu["fieldConfig"]["defaults"]["thresholds"]["steps"];
    assert_eq!(steps[1]["value"], 0.8, "{steps}");
    assert_eq!(steps[2]["value"], 0.96, "{steps}");
}

/// Every PromQL query of the dashboard: panel targets (nested rows included) and
/// templating queries, with where it comes from.
fn dashboard_queries(dashboard: &Value) -> Vec<(String, String)> {
    fn panels(list: &Value, out: &mut Vec<(String, String)>) {
        for p in list.as_array().into_iter().flatten() {
            let title = p["title"].as_str().unwrap_or("?");
            for t in p["targets"].as_array().into_iter().flatten() {
                let expr = t["expr"]
                    .as_str()
                    .unwrap_or_else(|| panic!("panel {title:?}: a target without a PromQL `expr`"));
                out.push((format!("panel {title:?}"), expr.to_owned()));
            }
            panels(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    panels(&dashboard["panels"], &mut out);
    for v in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if v["type"] == "query" {
            let q = v["query"]["query"]
                .as_str()
                .or_else(|| v["query"].as_str())
                .expect("variable query");
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .and_then(|q| q.rsplit_once(','))
                .map_or(q, |(selector, _)| selector);
            out.push((format!("variable {}", v["name"]), inner.to_owned()));
        }
    }
    out
}

#[tokio::test]
async fn the_dashboard_is_valid_and_queries_only_exposed_series() {
    let text = read(DASHBOARD);
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    assert_eq!(dashboard["uid"], "mcp-monitor");
    assert!(dashboard["schemaVersion"].as_u64().expect("schemaVersion") >= 36);
    let vars: Vec<_> = dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default())
        .collect();
    assert!(vars.contains(&"datasource"), "{vars:?}");

    // Every panel reads the data source variable; ids are unique.
    let mut ids = BTreeSet::new();
    let mut titles = Vec::new();
    for p in dashboard["panels"].as_array().expect("panels") {
        assert!(
            ids.insert(p["id"].as_u64().expect("panel id")),
            "duplicate id"
        );
        if p["type"] != "row" {
            assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
            titles.push(p["title"].as_str().expect("title").to_owned());
        }
    }

    let queries = dashboard_queries(&dashboard);
    let exposed = exposed().await;
    let mut used = BTreeSet::new();
    let mut bad = Vec::new();
    for (what, expr) in &queries {
        bad.extend(problems(&exposed, what, expr));
        for (name, _) in scan(expr).series {
            if let Some(f) = exposed.family(&name) {
                used.insert(f.to_owned());
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    // The panels the dashboard promises.
    for family in [
        "mcp_http_requests_total",
        "mcp_http_request_duration_seconds",
        "mcp_http_requests_in_flight",
        "mcp_grpc_requests_total",
        "mcp_grpc_request_duration_seconds",
        "mcp_grpc_requests_in_flight",
        "mcp_db_operations_total",
        "mcp_db_operation_duration_seconds",
        "mcp_workflow_steps_total",
        "mcp_workflow_step_duration_seconds",
        "mcp_workflow_runs_total",
        "mcp_active_workflows",
        "mcp_cache_hits_total",
        "mcp_cache_misses_total",
        "mcp_db_pool_utilization_ratio",
        "mcp_system_cpu_usage_ratio",
        "mcp_system_memory_usage_ratio",
        "mcp_system_load1_per_core",
        "mcp_alerts",
    ] {
        assert!(used.contains(family), "no panel queries {family}");
    }
    for q in [
        "histogram_quantile(0.5,",
        "histogram_quantile(0.95,",
        "histogram_quantile(0.99,",
    ] {
        assert!(queries.iter().any(|(_, e)| e.contains(q)), "no {q} query");
    }

    promql_is_valid(&queries);
}

/// Runs every query through `promtool check rules` (as alert expressions, with the
/// Grafana variables replaced), when promtool is installed.
fn promql_is_valid(queries: &[(String, String)]) {
    let Some(promtool) = Promtool::find() else {
        return;
    };
    let mut yaml = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr)) in queries.iter().enumerate() {
        let expr = expr
            .replace("$__rate_interval", "5m")
            .replace("$job", ".+")
            .replace("$instance", ".+");
        yaml.push_str(&format!("      - alert: query_{i}\n        expr: |-\n"));
        for line in expr.lines() {
            yaml.push_str(&format!("          {line}\n"));
        }
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grafana-queries.rules.yml");
    std::fs::write(&path, yaml).expect("write the queries");
    let out = promtool.check_rules(&path);
    assert!(
        out.success(),
        "a dashboard query is not valid PromQL:\n{}\n(queries: {queries:#?})",
        out.text()
    );
}

// ------------------------------------------------------------------ the alert rules

/// The `expr` block scalars of a rules file written by `prometheus_rules`.
fn rule_exprs(yaml: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut alert = String::new();
    let mut in_expr = false;
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(name) = trimmed.strip_prefix("- alert: ") {
            alert = name.to_owned();
            in_expr = false;
        } else if trimmed == "expr: |-" || trimmed == "expr: |" {
            in_expr = true;
            out.push((format!("rule {alert} #{}", out.len()), String::new()));
        } else if in_expr && indent >= 10 {
            let e = &mut out.last_mut().expect("expr").1;
            e.push_str(trimmed);
            e.push('\n');
        } else {
            in_expr = false;
            if let Some(e) = trimmed.strip_prefix("expr: ") {
                out.push((format!("rule {alert} #{}", out.len()), e.to_owned()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_alert_rules_query_only_exposed_series() {
    let yaml = read("docs/prometheus/alerts.yml");
    let exprs = rule_exprs(&yaml);
    assert_eq!(
        exprs.len(),
        yaml.matches("- alert: ").count() + yaml.matches("- record: ").count(),
        "every rule has an expr"
    );
    // What the file's own recording rules (the objectives') record is a series too.
    let recorded: Vec<String> = yaml
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- record: "))
        .map(|n| format!("`{n}`"))
        .collect();
    let exposed = exposed().await;
    let mut bad = Vec::new();
    for (what, expr) in &exprs {
        assert!(!scan(expr).series.is_empty(), "{what} reads no mcp_ series");
        bad.extend(problems(&exposed, what, expr).into_iter().filter(|p| {
            !recorded
                .iter()
                .any(|r| p.contains(&format!("{r} is not a series")))
        }));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
