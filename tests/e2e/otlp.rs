//! The OTLP push against a receiver on a real loopback socket that decodes with the
//! OpenTelemetry project's own protobuf definitions (`tests/support/otlp_receiver.py`,
//! PyPI `opentelemetry-proto`): every family arrives with its OTLP name, attributes and
//! temporality, with the values of the monitor's own reading (cumulative, and delta
//! over gzip); a receiver that answers 503 with `Retry-After: 1` is retried after the
//! second it asks, not sooner, and the export then succeeds.
//!
//! In a process of its own (`tests/e2e/alone/otlp.rs`): it compares the pushed values
//! with the monitor's reading, and the macro series are process-wide.
//!
//! Needs `python3` with `opentelemetry-proto` (which `.ci/run` installs): under CI its
//! absence fails the test; elsewhere the test is skipped with a notice.

use std::collections::BTreeMap;
use std::sync::mpsc;

use crate::common::{eventually, external_tool, DEADLINE};
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use mcp_monitor::{monitor_db_operation, monitor_workflow_step, Monitor, Settings, Status};
use mcp_monitor_test_kit::process::{lines, Guard};
use mcp_monitor_test_kit::under_ci;
use serde_json::Value;
use tower::ServiceExt;

/// The receiver: its port and the requests it decoded, one JSON line each.
struct Receiver {
    port: u16,
    lines: mpsc::Receiver<String>,
    _child: Guard,
}

impl Receiver {
    /// Starts the receiver with `args`; `None` (after a notice) when Python or
    /// `opentelemetry-proto` is missing outside CI.
    fn start(args: &[&str]) -> Option<Self> {
        let python = external_tool("python3")?;
        let ok = std::process::Command::new(&python)
            .args(["-c", "import opentelemetry.proto.collector.metrics.v1"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                !under_ci(),
                "opentelemetry-proto is not installed, and CI is set: .ci/run installs it"
            );
            eprintln!("NOTICE: skipping: pip install opentelemetry-proto; under CI this fails");
            return None;
        }
        let mut child = std::process::Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/otlp_receiver.py"
            ))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the receiver");
        let lines = lines(child.stdout.take().expect("stdout"));
        let first = lines.recv_timeout(DEADLINE).expect("the receiver's port");
        let port: Value = serde_json::from_str(&first).expect("JSON");
        Some(Self {
            port: port["port"].as_u64().expect("port") as u16,
            lines,
            _child: Guard(child),
        })
    }

    /// The next request received.
    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(DEADLINE)
            .expect("an export within the deadline");
        serde_json::from_str(&line).expect("JSON")
    }
}

/// Settings from the standard variables `vars`, pushing to `receiver`.
fn settings(receiver: &Receiver, vars: &[(&str, &str)]) -> Settings {
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let mut all: Vec<(String, String)> = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint),
        ("OTEL_METRIC_EXPORT_INTERVAL".into(), "200".into()),
    ];
    all.extend(vars.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    Settings::from_lookup(&|name| {
        all.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("settings")
}

/// A number the JSON mapping writes as a number or (64-bit integers) a string.
fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) => s.parse().expect("a number"),
        Value::Null => 0.0,
        other => panic!("not a number: {other}"),
    }
}

/// The metrics of a request.
fn metrics(request: &Value) -> &Vec<Value> {
    request["request"]["resource_metrics"][0]["scope_metrics"][0]["metrics"]
        .as_array()
        .expect("metrics")
}

/// The metric `name` of a request.
fn metric<'a>(request: &'a Value, name: &str) -> &'a Value {
    metrics(request)
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// Attributes as `key → value` (`"x"` for a string, `200` for an integer).
fn attributes(kvs: &Value) -> BTreeMap<String, String> {
    kvs.as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    let v = &kv["value"];
                    let v = v["string_value"]
                        .as_str()
                        .map_or_else(|| format!("int:{}", num(&v["int_value"])), str::to_owned);
                    (kv["key"].as_str().expect("key").to_owned(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The point of `metric` (of data kind `kind`) whose attributes include `want`.
fn point<'a>(metric: &'a Value, kind: &str, want: &[(&str, &str)]) -> &'a Value {
    metric[kind]["data_points"]
        .as_array()
        .unwrap_or_else(|| panic!("{} is no {kind}: {metric}", metric["name"]))
        .iter()
        .find(|p| {
            let a = attributes(&p["attributes"]);
            want.iter()
                .all(|(k, v)| a.get(*k).map(String::as_str) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no point {want:?} in {metric}"))
}

/// An exponential point's count, checked against its buckets.
fn exponential_count(p: &Value) -> u64 {
    let buckets: f64 = p["positive"]["bucket_counts"]
        .as_array()
        .map(|b| b.iter().map(num).sum())
        .unwrap_or(0.0);
    let count = num(&p["count"]);
    assert_eq!(count, buckets + num(&p["zero_count"]), "buckets of {p}");
    count as u64
}

/// The OTLP name of each family of the monitor (the contract of the push); `None` for
/// the application's own, which keep their recorded names.
fn otlp_name(prometheus: &str) -> Option<&'static str> {
    Some(match prometheus {
        "mcp_http_request_duration_seconds" => "http.server.request.duration",
        "mcp_http_requests_total" => "mcp.http.requests",
        "mcp_http_requests_in_flight" => "http.server.active_requests",
        "mcp_http_series_overflow_total" => "mcp.http.series.overflow",
        "mcp_http_auth_failures_total" => "mcp.http.auth.failures",
        "mcp_db_operation_duration_seconds" => "db.client.operation.duration",
        "mcp_db_operations_total" => "mcp.db.operations",
        "mcp_workflow_step_duration_seconds" => "mcp.step.duration",
        "mcp_workflow_steps_total" => "mcp.steps",
        "mcp_workflow_run_duration_seconds" => "mcp.run.duration",
        "mcp_workflow_runs_total" => "mcp.runs",
        "mcp_active_workflows" => "mcp.workflows.active",
        "mcp_build_info" => "mcp.build.info",
        "mcp_uptime_seconds" => "mcp.uptime",
        "mcp_cache_hits_total" => "mcp.cache.hits",
        "mcp_cache_misses_total" => "mcp.cache.misses",
        "mcp_system_cpu_usage_ratio" => "mcp.system.cpu.usage",
        "mcp_system_memory_usage_ratio" => "mcp.system.memory.usage",
        "mcp_system_load1_per_core" => "mcp.system.load1.per_core",
        "mcp_process_resident_memory_bytes" => "mcp.process.memory.resident",
        "mcp_process_cpu_usage_ratio" => "mcp.process.cpu.usage",
        "mcp_metric_overflow_total" => "mcp.metric.overflow",
        "mcp_runtime_workers" => "mcp.runtime.workers",
        "mcp_runtime_alive_tasks" => "mcp.runtime.alive_tasks",
        "mcp_runtime_global_queue_depth" => "mcp.runtime.global_queue.depth",
        "mcp_runtime_busy_seconds_total" => "mcp.runtime.busy",
        "mcp_runtime_parks_total" => "mcp.runtime.parks",
        "mcp_alerts" => "mcp.alerts",
        "mcp_alert_threshold" => "mcp.alert.threshold",
        "mcp_alert_min_samples" => "mcp.alert.min_samples",
        "mcp_otlp_exports_total" => "mcp.otlp.exports",
        "mcp_long_polls_total" => "mcp.long_polls",
        "mcp_grpc_request_duration_seconds" => "rpc.server.duration",
        "mcp_grpc_requests_total" => "mcp.grpc.requests",
        "mcp_grpc_requests_in_flight" => "mcp.grpc.active_requests",
        other => {
            assert!(
                !other.starts_with("mcp_"),
                "{other}: give it its OTLP name here"
            );
            return None;
        }
    })
}

#[monitor_db_operation("select", "otlp_e2e_users")]
async fn select_user(ok: bool) -> Result<u32, std::io::Error> {
    if ok {
        Ok(1)
    } else {
        Err(std::io::Error::other("no such user"))
    }
}

#[monitor_workflow_step("otlp_e2e", "charge")]
async fn charge() -> Result<(), std::io::Error> {
    Ok(())
}

#[monitor_db_operation("select", "otlp_e2e_delta")]
async fn select_delta() -> Result<(), std::io::Error> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_arrives_with_its_otlp_name_attributes_and_the_reading_s_values() {
    let Some(receiver) = Receiver::start(&[]) else {
        return;
    };
    let s = settings(
        &receiver,
        &[
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cr%20t"),
            ("OTEL_SERVICE_NAME", "otlp-e2e"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
        ],
    );
    let monitor = Monitor::builder()
        .with_settings(s)
        .build()
        .expect("monitor");
    for ok in [true, true, true, false] {
        let _ = select_user(ok).await;
    }
    charge().await.unwrap();
    charge().await.unwrap();
    let cache = monitor.cache("otlp_e2e");
    cache.hit();
    cache.hit();
    cache.miss();
    metrics::with_local_recorder(&monitor.recorder(), || {
        metrics::counter!("otlp_e2e_logins", "method" => "sso").increment(3);
        metrics::gauge!("otlp_e2e_queue_depth").set(4.5);
        metrics::histogram!("otlp_e2e_payload_seconds").record(0.02);
        metrics::histogram!("otlp_e2e_payload_seconds").record(0.3);
    });
    let app = monitor.instrument(Router::new().route("/users/{id}", get(|| async { "a user" })));
    for _ in 0..2 {
        let res = app
            .clone()
            .oneshot(Request::get("/users/7").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Every family the monitor holds before the push starts.
    let families: Vec<String> = monitor
        .render()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let reading = monitor.read();
    monitor.spawn_tasks();

    let export = receiver.next();
    assert_eq!(export["path"], "/v1/metrics");
    assert_eq!(export["status"], 200);
    assert_eq!(export["headers"]["x-api-key"], "s3cr t");
    assert_eq!(export["headers"]["content-type"], "application/x-protobuf");
    let resource = attributes(&export["request"]["resource_metrics"][0]["resource"]["attributes"]);
    assert_eq!(resource["service.name"], "otlp-e2e");
    assert_eq!(resource["deployment.environment"], "test");
    assert_eq!(resource["telemetry.sdk.name"], "mcp-monitor");

    let names: Vec<&str> = metrics(&export)
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for family in &families {
        let want = otlp_name(family).unwrap_or(family.as_str());
        assert!(names.contains(&want), "{family} → {want} not in {names:?}");
    }
    for name in [
        "otlp_e2e_logins",
        "otlp_e2e_queue_depth",
        "otlp_e2e_payload_seconds",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }

    // HTTP, with the semantic conventions' names and attributes.
    let route = reading.route("GET", "/users/{id}");
    let http = [
        ("http.request.method", "GET"),
        ("http.route", "/users/{id}"),
        ("http.response.status_code", "int:200"),
    ];
    let duration = metric(&export, "http.server.request.duration");
    assert_eq!(duration["unit"], "s");
    let h = &duration["exponential_histogram"];
    assert_eq!(
        h["aggregation_temporality"],
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    );
    let p = point(duration, "exponential_histogram", &http);
    assert_eq!(exponential_count(p), route.count(200));
    assert_eq!(route.count(200), 2);
    assert!(
        (num(&p["sum"]) - route.sum().as_secs_f64()).abs() < 1e-9,
        "{p}"
    );
    let requests = metric(&export, "mcp.http.requests");
    assert_eq!(requests["sum"]["is_monotonic"], true);
    assert_eq!(num(&point(requests, "sum", &http)["as_double"]), 2.0);

    // db, with the semantic conventions' names and attributes.
    let db = reading.db("select", "otlp_e2e_users");
    let attrs = [
        ("db.operation.name", "select"),
        ("db.collection.name", "otlp_e2e_users"),
    ];
    let duration = metric(&export, "db.client.operation.duration");
    let p = point(duration, "exponential_histogram", &attrs);
    assert_eq!(exponential_count(p), db.total());
    assert_eq!(db.total(), 4);
    assert!(
        (num(&p["sum"]) - db.sum().as_secs_f64()).abs() < 1e-9,
        "{p}"
    );
    assert!(
        (0..=8).contains(&p["scale"].as_i64().unwrap_or(0)),
        "the native schema: {p}"
    );
    for (status, n) in [(Status::Success, 3), (Status::Failure, 1)] {
        let with = [attrs[0], attrs[1], ("status", status.as_str())];
        assert_eq!(db.count(status), n);
        let ops = metric(&export, "mcp.db.operations");
        assert_eq!(num(&point(ops, "sum", &with)["as_double"]), n as f64);
    }

    // The other families under `mcp.`.
    let step = reading.step("otlp_e2e", "charge");
    let p = point(
        metric(&export, "mcp.step.duration"),
        "exponential_histogram",
        &[("workflow", "otlp_e2e"), ("step", "charge")],
    );
    assert_eq!(exponential_count(p), step.total());
    let hits = point(
        metric(&export, "mcp.cache.hits"),
        "sum",
        &[("cache", "otlp_e2e")],
    );
    assert_eq!(num(&hits["as_double"]), reading.cache("otlp_e2e").0 as f64);
    let build = point(metric(&export, "mcp.build.info"), "gauge", &[]);
    assert_eq!(num(&build["as_double"]), 1.0);

    // The application's own series, under their recorded names.
    let logins = point(
        metric(&export, "otlp_e2e_logins"),
        "sum",
        &[("method", "sso")],
    );
    assert_eq!(
        num(&logins["as_double"]),
        reading
            .counter("otlp_e2e_logins", &[("method", "sso")])
            .unwrap() as f64
    );
    let depth = point(metric(&export, "otlp_e2e_queue_depth"), "gauge", &[]);
    assert_eq!(
        num(&depth["as_double"]),
        reading.gauge("otlp_e2e_queue_depth", &[]).unwrap()
    );
    let want = reading.histogram("otlp_e2e_payload_seconds", &[]).unwrap();
    let p = point(
        metric(&export, "otlp_e2e_payload_seconds"),
        "histogram",
        &[],
    );
    assert_eq!(num(&p["count"]) as u64, want.count());
    let counts: Vec<u64> = p["bucket_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| num(c) as u64)
        .collect();
    assert_eq!(counts, want.counts);
    let bounds: Vec<f64> = p["explicit_bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(num)
        .collect();
    assert_eq!(bounds, want.bounds.to_vec());
    assert!((num(&p["sum"]) - want.sum).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_temporality_sends_differences_from_the_previous_export_over_gzip() {
    let Some(receiver) = Receiver::start(&[]) else {
        return;
    };
    let s = settings(
        &receiver,
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ],
    );
    let monitor = Monitor::builder()
        .with_settings(s)
        .build()
        .expect("monitor");
    for _ in 0..5 {
        select_delta().await.unwrap();
    }
    monitor.spawn_tasks();
    let with = [
        ("db.operation.name", "select"),
        ("db.collection.name", "otlp_e2e_delta"),
        ("status", "success"),
    ];
    // (sum point, histogram point) of the series in one export.
    let points = |export: &Value| {
        let ops = metric(export, "mcp.db.operations");
        assert_eq!(
            ops["sum"]["aggregation_temporality"],
            "AGGREGATION_TEMPORALITY_DELTA"
        );
        assert_eq!(ops["sum"]["is_monotonic"], true);
        let d = metric(export, "db.client.operation.duration");
        assert_eq!(
            d["exponential_histogram"]["aggregation_temporality"],
            "AGGREGATION_TEMPORALITY_DELTA"
        );
        (
            point(ops, "sum", &with).clone(),
            point(d, "exponential_histogram", &with[..2]).clone(),
        )
    };
    let first = receiver.next();
    assert_eq!(first["headers"]["content-encoding"], "gzip");
    let (sum, hist) = points(&first);
    assert_eq!(num(&sum["as_double"]), 5.0);
    assert_eq!(exponential_count(&hist), 5);
    // A gauge stays a gauge.
    assert!(metric(&first, "mcp.uptime")["gauge"].is_object());

    for _ in 0..3 {
        select_delta().await.unwrap();
    }
    // The three calls arrive in the exports that follow, each export starting where the
    // previous one ended; then the differences are zero.
    let (mut calls, mut counted) = (0.0, 0);
    let mut previous_end = num(&sum["time_unix_nano"]);
    let mut zero_after = false;
    while !zero_after {
        let export = receiver.next();
        let (sum, hist) = points(&export);
        assert_eq!(num(&sum["start_time_unix_nano"]), previous_end);
        assert_eq!(num(&hist["start_time_unix_nano"]), previous_end);
        previous_end = num(&sum["time_unix_nano"]);
        let n = num(&sum["as_double"]);
        if calls == 3.0 {
            assert_eq!(n, 0.0, "after the three calls: {sum}");
            assert_eq!(exponential_count(&hist), 0);
            zero_after = true;
        }
        calls += n;
        counted += exponential_count(&hist);
        assert!(calls <= 3.0, "more than three calls: {calls}");
    }
    assert_eq!((calls, counted), (3.0, 3));
    let total = monitor.read().db("select", "otlp_e2e_delta").total();
    assert_eq!(total, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_is_retried_after_the_wait_it_asks_then_succeeds() {
    let Some(receiver) = Receiver::start(&["--refuse", "1", "--retry-after", "1"]) else {
        return;
    };
    let monitor = Monitor::builder()
        .with_settings(settings(&receiver, &[]))
        .build()
        .expect("monitor");
    monitor.spawn_tasks();
    let refused = receiver.next();
    assert_eq!(refused["status"], 503);
    let retried = receiver.next();
    assert_eq!(retried["status"], 200);
    let waited = num(&retried["at"]) - num(&refused["at"]);
    assert!(
        waited >= 1.0,
        "retried after {waited:.3} s, sooner than the 1 s asked"
    );
    // The same export, sent again.
    let at = |e: &Value| point(metric(e, "mcp.uptime"), "gauge", &[])["time_unix_nano"].clone();
    assert_eq!(at(&refused), at(&retried));
    eventually("the export counted as sent", || async {
        let text = monitor.render();
        let sent = text.lines().any(|l| {
            l.starts_with("mcp_otlp_exports_total{outcome=\"sent\"}") && !l.ends_with(" 0")
        });
        sent.then_some(())
    })
    .await;
    let text = monitor.render();
    assert!(
        text.contains("mcp_otlp_exports_total{outcome=\"failed\"} 0"),
        "{text}"
    );
}
