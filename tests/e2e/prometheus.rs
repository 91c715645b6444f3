//! A real Prometheus server scrapes the demo every second: the request count it
//! sees equals the requests sent, `histogram_quantile` over the latency histogram is
//! a number, and the db, workflow and pool series are there. Then the same behind a
//! metrics token, scraped with `authorization: {type: Bearer}` (and a job with the
//! wrong token is down).
//!
//! Then the shipped rules and dashboard against native histograms, classic buckets and
//! both ([`latency_expressions_work_on_native_classic_and_both`]).
//!
//! Needs `prometheus` (Debian package `prometheus`, which `.ci/run` installs): under CI
//! its absence fails the test; elsewhere the test is skipped with a notice.

use std::path::{Path, PathBuf};

use crate::common;
use crate::common::{eventually, TestServer};
use mcp_monitor::Monitor;
use mcp_monitor_test_kit::servers::{prometheus_with, Server};
use serde_json::{json, Value};

/// A Prometheus of our own (the kit's: loopback, stopped by PID) with `config` and the
/// extra flags `args`.
async fn prometheus(binary: &Path, config: &str, args: &[&str]) -> Server {
    prometheus_with(binary, &[("prometheus.yml", config)], args).await
}

fn config(demo_port: u16, token: Option<&str>) -> String {
    let target = format!("127.0.0.1:{demo_port}");
    let mut c = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: demo\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
    );
    if let Some(t) = token {
        c.push_str(&format!(
            "    authorization:\n      type: Bearer\n      credentials: '{t}'\n\
             \x20 - job_name: wrong_token\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n\
             \x20   authorization:\n      type: Bearer\n      credentials: 'not-the-token'\n"
        ));
    }
    c
}

/// One round of traffic: 8 requests of every kind, all counted.
async fn traffic(s: &TestServer, round: usize) -> usize {
    let id = s
        .create_user(
            &format!("user {round}"),
            &format!("user{round}@example.com"),
        )
        .await;
    for _ in 0..2 {
        assert_eq!(s.get(&format!("/users/{id}")).await.status(), 200);
    }
    assert_eq!(s.get("/users/0").await.status(), 404);
    assert_eq!(s.get("/users").await.status(), 200);
    s.run_workflow_ok_and_invalid(json!([round, "x"])).await;
    assert_eq!(s.get("/unknown").await.status(), 404);
    8
}

async fn scrape_and_check(token: Option<&str>) {
    let Some(binary) = common::external_tool("prometheus") else {
        return;
    };
    let mut builder = Monitor::builder();
    if let Some(t) = token {
        builder = builder.with_metrics_token(t);
    }
    let s = common::start(builder).await;
    let prom = prometheus(&binary, &config(s.port, token), &[]).await;
    prom.wait_for("up{job=\"demo\"}", 1.0).await;
    if token.is_some() {
        prom.wait_for("up{job=\"wrong_token\"}", 0.0).await;
    }

    // Two rounds, each seen by a scrape, so that rate() has an increase to work with.
    let mut sent = 0;
    for round in 0..2 {
        sent += traffic(&s, round).await;
        prom.wait_for("sum(mcp_http_requests_total)", sent as f64)
            .await;
    }

    let q = "histogram_quantile(0.95, sum by (le) (rate(mcp_http_request_duration_seconds_bucket[1m])))";
    let p95 = eventually("a p95 from prometheus", || async {
        prom.scalar(q).await.filter(|v| v.is_finite())
    })
    .await;
    assert!(p95 > 0.0, "p95 {p95}");

    for (q, at_least) in [
        ("sum(mcp_http_requests_total{path=\"/users/{id}\",status=\"200\"})", 4.0),
        ("sum(mcp_http_requests_total{path=\"unmatched\"})", 2.0),
        ("sum(mcp_db_operations_total{table=\"users\",operation=\"insert\",status=\"success\"})", 2.0),
        ("sum(mcp_db_operation_duration_seconds_count{table=\"users\"})", 4.0),
        ("sum(mcp_workflow_steps_total{workflow=\"data_processing\",step=\"validation\",status=\"failure\"})", 2.0),
        ("sum(mcp_workflow_steps_total{workflow=\"data_processing\",step=\"transformation\",status=\"success\"})", 2.0),
        ("sum(mcp_workflow_step_duration_seconds_count{workflow=\"data_processing\"})", 6.0),
        ("sum(mcp_cache_hits_total{cache=\"users\"})", 2.0),
        ("mcp_db_pool_connections{pool=\"sqlite\",state=\"max\"}", 5.0),
    ] {
        let v = prom.scalar(q).await;
        assert!(v.is_some_and(|v| v >= at_least), "{q}: {v:?}");
    }
    // (The other test of this binary may be running a workflow right now.)
    prom.wait_for("mcp_active_workflows{workflow=\"data_processing\"}", 0.0)
        .await;
    // The monitor's own endpoints (the scrapes included) are not counted.
    assert!(prom
        .query("mcp_http_requests_total{path=~\"/metrics.*\"}")
        .await
        .is_empty());
}

#[tokio::test]
async fn prometheus_scrapes_the_demo() {
    scrape_and_check(None).await;
}

#[tokio::test]
async fn prometheus_scrapes_the_demo_with_a_bearer_token() {
    scrape_and_check(Some("scrape-secret")).await;
}

/// Exemplars end to end: Prometheus (with `--enable-feature=exemplar-storage`) scrapes
/// the demo in OpenMetrics, and `/api/v1/query_exemplars` returns the trace id of a
/// request sent with a `traceparent` for both its HTTP and its db histogram.
#[tokio::test]
async fn prometheus_stores_the_exemplars_of_a_traced_request() {
    let Some(binary) = common::external_tool("prometheus") else {
        return;
    };
    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    const PARENT: &str = "b7ad6b7169203331";
    let s = common::start(Monitor::builder()).await;
    let prom = prometheus(
        &binary,
        &config(s.port, None),
        &["--enable-feature=exemplar-storage"],
    )
    .await;
    prom.wait_for("up{job=\"demo\"}", 1.0).await;

    // A user of its own, looked up once in the trace: a cache miss, so a db select.
    let id = s.create_user("Traced", "traced@example.com").await;
    let res = s
        .client
        .get(s.url(&format!("/users/{id}")))
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .send()
        .await
        .expect("traced request");
    assert_eq!(res.status(), 200);

    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 600;
    for query in [
        "mcp_http_request_duration_seconds_bucket{path=\"/users/{id}\"}",
        "mcp_db_operation_duration_seconds_bucket{operation=\"select\",table=\"users\"}",
        "mcp_http_requests_total{path=\"/users/{id}\",status=\"200\"}",
    ] {
        let found = eventually(&format!("an exemplar of {query}"), || {
            let (client, base) = (prom.client.clone(), prom.base.clone());
            async move {
                let end = start + 1200;
                let body: Value = client
                    .get(format!("{base}/api/v1/query_exemplars"))
                    .query(&[
                        ("query", query.to_owned()),
                        ("start", start.to_string()),
                        ("end", end.to_string()),
                    ])
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                let traces: Vec<String> = body["data"]
                    .as_array()?
                    .iter()
                    .flat_map(|series| series["exemplars"].as_array().cloned().unwrap_or_default())
                    .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_owned))
                    .collect();
                traces.iter().any(|t| t == TRACE).then_some(traces)
            }
        })
        .await;
        assert!(found.contains(&TRACE.to_owned()), "{query}: {found:?}");
    }
}

/// Native histograms end to end: one Prometheus with `--enable-feature=native-histograms`
/// scrapes the demo over protobuf and stores the latency histograms as native ones
/// (`histogram_count` counts every request; `histogram_quantile(0.95, ...)` agrees with
/// the crate's own p95 within 5%: both lie in the same bucket, ours at its geometric
/// middle); a second Prometheus without the feature scrapes text and stores the
/// classic `_bucket` series.
#[tokio::test]
async fn prometheus_scrapes_native_histograms_and_classic_buckets() {
    let Some(binary) = common::external_tool("prometheus") else {
        return;
    };
    let s = common::start(Monitor::builder()).await;
    let native = prometheus(
        &binary,
        &config(s.port, None),
        &["--enable-feature=native-histograms"],
    )
    .await;
    let classic = prometheus(&binary, &config(s.port, None), &[]).await;
    for p in [&native, &classic] {
        p.wait_for("up{job=\"demo\"}", 1.0).await;
    }
    let mut sent = 0;
    for round in 0..3 {
        sent += traffic(&s, round).await;
    }
    for p in [&native, &classic] {
        p.wait_for("sum(mcp_http_requests_total)", sent as f64)
            .await;
    }
    // The native series has every request, and no classic buckets beside it.
    native
        .wait_for(
            "histogram_count(sum(mcp_http_request_duration_seconds))",
            sent as f64,
        )
        .await;
    assert!(native
        .query("mcp_http_request_duration_seconds_bucket")
        .await
        .is_empty());
    native
        .wait_for(
            "histogram_count(sum(mcp_db_operation_duration_seconds{table=\"users\"})) > bool 0",
            1.0,
        )
        .await;
    let route = "{method=\"GET\",path=\"/users/{id}\"}";
    let theirs = eventually("a native p95 from prometheus", || async {
        native
            .scalar(&format!(
                "histogram_quantile(0.95, sum(mcp_http_request_duration_seconds{route}))"
            ))
            .await
            .filter(|v| v.is_finite())
    })
    .await;
    let ours = s
        .monitor
        .read()
        .route("GET", "/users/{id}")
        .p95()
        .expect("our p95")
        .as_secs_f64();
    assert!(
        (theirs / ours - 1.0).abs() <= 0.05,
        "prometheus p95 {theirs} s, ours {ours} s"
    );

    // Without the feature: text, classic buckets.
    classic
        .wait_for("sum(mcp_http_request_duration_seconds_count)", sent as f64)
        .await;
    let buckets = classic
        .query(&format!("mcp_http_request_duration_seconds_bucket{route}"))
        .await;
    assert!(buckets.len() >= 13, "{buckets:?}");
}

/// The latency target of [`latency_expressions_work_on_native_classic_and_both`]: the
/// four latency families (labels as ours), the request counter and the threshold
/// gauges, recorded by `prometheus-client` with classic and native buckets.
struct LatencyTarget {
    /// Everything: served as delimited protobuf (native and classic buckets) and as
    /// text (classic buckets only).
    all: prometheus_client::registry::Registry,
    /// The histograms only, as text: the classic half of the "both" scraper.
    histograms: prometheus_client::registry::Registry,
}

type PcLabels = Vec<(&'static str, &'static str)>;
type PcHistograms = prometheus_client::metrics::family::Family<
    PcLabels,
    prometheus_client::metrics::histogram::Histogram,
    fn() -> prometheus_client::metrics::histogram::Histogram,
>;

fn classic_and_native() -> prometheus_client::metrics::histogram::Histogram {
    use prometheus_client::metrics::histogram::{Histogram, NativeHistogramConfig};
    Histogram::new_classic_and_native(
        mcp_monitor::Buckets::http_default()
            .bounds()
            .iter()
            .copied(),
        NativeHistogramConfig::with_schema(3),
    )
}

impl LatencyTarget {
    /// The target, and a task that records 100 calls per latency family every 100 ms:
    /// 90 of 0.1 s, 5 of 0.8 s, 5 of 1.5 s.
    fn start() -> (Self, tokio::task::JoinHandle<()>) {
        use prometheus_client::metrics::counter::Counter;
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::Gauge;
        use prometheus_client::registry::Registry;
        use std::sync::atomic::AtomicU64;

        let families: [(&str, PcLabels); 5] = [
            (
                "mcp_http_request_duration_seconds",
                vec![
                    ("method", "GET"),
                    ("path", "/users/{id}"),
                    ("status", "200"),
                ],
            ),
            (
                "mcp_db_operation_duration_seconds",
                vec![("operation", "select"), ("table", "users")],
            ),
            (
                "mcp_workflow_step_duration_seconds",
                vec![("workflow", "w"), ("step", "s")],
            ),
            ("mcp_workflow_run_duration_seconds", vec![("workflow", "w")]),
            (
                "mcp_grpc_request_duration_seconds",
                vec![
                    ("service", "demo.users.v1.Users"),
                    ("method", "GetUser"),
                    ("code", "OK"),
                ],
            ),
        ];
        let (mut all, mut histograms) = (Registry::default(), Registry::default());
        let mut recorded = Vec::new();
        for (name, labels) in families {
            let f: PcHistograms = Family::new_with_constructor(classic_and_native);
            all.register(name, "Latency.", f.clone());
            histograms.register(name, "Latency.", f.clone());
            recorded.push((f, labels));
        }
        let requests = Family::<PcLabels, Counter>::default();
        all.register("mcp_http_requests", "Requests.", requests.clone());
        let thresholds = Family::<PcLabels, Gauge<f64, AtomicU64>>::default();
        all.register("mcp_alert_threshold", "Thresholds.", thresholds.clone());
        for (severity, v) in [("warning", 0.5), ("critical", 100.0)] {
            thresholds
                .get_or_create(&vec![
                    ("alertname", "HIGH_REQUEST_LATENCY"),
                    ("severity", severity),
                ])
                .set(v);
        }
        let min_samples = Gauge::<i64>::default();
        min_samples.set(1);
        all.register("mcp_alert_min_samples", "Fewest samples.", min_samples);
        let task = tokio::spawn(async move {
            let http_labels = recorded[0].1.clone();
            loop {
                for (f, labels) in &recorded {
                    let h = f.get_or_create(labels);
                    for (n, v) in [(90, 0.1), (5, 0.8), (5, 1.5)] {
                        for _ in 0..n {
                            h.observe(v);
                        }
                    }
                }
                requests.get_or_create(&http_labels).inc_by(100);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        (Self { all, histograms }, task)
    }
}

/// Serves `/proto` (everything, delimited protobuf), `/text` (everything, text 0.0.4)
/// and `/text/histograms` (the histograms, text 0.0.4) on a port of its own.
async fn serve_latency_target(target: LatencyTarget) -> u16 {
    use axum::http::header::CONTENT_TYPE;
    use axum::routing::get;
    use prometheus_client::encoding::{prometheus_protobuf, prometheus_text};
    use std::sync::Arc;

    let target = Arc::new(target);
    let text = |r: &prometheus_client::registry::Registry| {
        let mut out = String::new();
        prometheus_text::encode(&mut out, r).expect("text");
        (
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            out,
        )
    };
    let (t1, t2, t3) = (target.clone(), target.clone(), target);
    let app = axum::Router::new()
        .route(
            "/proto",
            get(move || async move {
                (
                    [(CONTENT_TYPE, "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")],
                    prometheus_protobuf::encode_to_vec(&t1.all).expect("protobuf"),
                )
            }),
        )
        .route("/text", get(move || async move { text(&t2.all) }))
        .route(
            "/text/histograms",
            get(move || async move { text(&t3.histograms) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    port
}

/// `expr` with the dashboard's variables given values: one job, every instance, a
/// one-minute rate window.
fn for_job(expr: &str, job: &str) -> String {
    expr.replace("$job", job)
        .replace("$instance", ".+")
        .replace("$__rate_interval", "1m")
}

/// The value of each series of `result`, by its labels.
fn by_labels(result: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = result
        .iter()
        .map(|s| (s["metric"].to_string(), s["value"][1].to_string()))
        .collect();
    v.sort();
    v
}

/// The shipped rules and dashboard read latency from native histograms, classic
/// buckets, or both, as Prometheus stores them. A real Prometheus with
/// `--enable-feature=native-histograms` scrapes one `prometheus-client` target (classic
/// and native buckets, the same data) three ways: job `native` over protobuf (Prometheus
/// 2.42 then stores the native histogram only), job `classic` as text (the `_bucket`
/// series only), and job `both` (the protobuf scrape and a text scrape of the
/// histograms, their samples relabelled into one job and instance: the native series
/// and the `_bucket` series of the same label sets, as Prometheus stores them when it
/// scrapes both kinds from one target). Each latency query of the dashboard gives
/// a value for each job, the native result where there is one (never a mix of the two
/// nor a sum of both), and the rules' `HIGH_REQUEST_LATENCY` fires for each job. A fifth
/// job scrapes our own monitor: its HTTP latency queries give a value too, from native
/// histograms when our `/metrics` answers the proto-first `Accept` with protobuf, from
/// classic buckets otherwise; whichever it is, the test checks that Prometheus stored it.
///
/// Prometheus 2.42's `promtool test rules` cannot express native histograms in
/// `input_series` (the `{{schema:...}}` notation came in 2.47), hence a real server.
#[tokio::test]
async fn latency_expressions_work_on_native_classic_and_both() {
    let Some(binary) = common::external_tool("prometheus") else {
        return;
    };
    let (target, _recording) = LatencyTarget::start();
    let port = serve_latency_target(target).await;
    // Our own monitor as a fourth target, job `ours`: scraped over protobuf (native
    // histograms) where this build offers it, as OpenMetrics (classic buckets) where not.
    let (ours, _traffic) = serve_own_monitor().await;
    let ours_protobuf = reqwest::Client::new()
        .get(format!("http://{ours}/metrics"))
        .header("accept", PROMETHEUS_2_42_PROTOBUF_ACCEPT)
        .send()
        .await
        .expect("our /metrics")
        .headers()["content-type"]
        .to_str()
        .expect("content type")
        .starts_with("application/vnd.google.protobuf");
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus/alerts.yml");
    // The two scrapes of `both` keep their own `up` (their own job); their samples are
    // relabelled into job `both`, as if one target had been scraped for both kinds.
    let job = |name: &str, path: &str, job: &str| {
        format!(
            "  - job_name: {name}\n    metrics_path: {path}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n\
             \x20   metric_relabel_configs:\n      - target_label: job\n        replacement: {job}\n"
        )
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files: ['{}']\nscrape_configs:\n{}{}{}{}",
        rules.display(),
        job("native", "/proto", "native"),
        job("classic", "/text", "classic"),
        job("both_native", "/proto", "both"),
        job("both_classic", "/text/histograms", "both"),
    ) + &format!(
        "  - job_name: ours\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{ours}']\n"
    );
    let prom = prometheus(&binary, &config, &["--enable-feature=native-histograms"]).await;
    for j in ["native", "classic", "both_native", "both_classic", "ours"] {
        prom.wait_for(&format!("up{{job=\"{j}\"}}"), 1.0).await;
    }
    // What each job stores: native series only, `_bucket` series only, or both.
    let stored = |q: String| {
        let prom = &prom;
        async move { !prom.query(&q).await.is_empty() }
    };
    let native = "mcp_http_request_duration_seconds";
    let classic = "mcp_http_request_duration_seconds_bucket";
    eventually("three scrapes of every job", || async {
        let q = "min(count_over_time(up[1m]))";
        (prom.scalar(q).await? >= 3.0).then_some(())
    })
    .await;
    for (job, has_native, has_classic) in [
        ("native", true, false),
        ("classic", false, true),
        ("both", true, true),
        ("ours", ours_protobuf, !ours_protobuf),
    ] {
        assert_eq!(
            stored(format!("histogram_count({native}{{job=\"{job}\"}})")).await,
            has_native,
            "{job}: native"
        );
        assert_eq!(
            stored(format!("{classic}{{job=\"{job}\"}}")).await,
            has_classic,
            "{job}: classic"
        );
    }

    // Every latency query of the dashboard, for each job, at one instant.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/mcp-monitor.json"),
        )
        .expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut exprs = Vec::new();
    collect_latency_exprs(&dashboard["panels"], &mut exprs);
    assert_eq!(exprs.len(), 9, "{exprs:?}");
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for expr in &exprs {
        // The two halves of the expression: the native query, then the classic one.
        let (native_half, classic_half) = expr.split_once(" or ").expect("native or classic");
        let ours = expr.contains("mcp_http_request_duration_seconds");
        for job in ["native", "classic", "both", "ours"] {
            if job == "ours" && !ours {
                // Our monitor serves HTTP only here: no db, step, run or gRPC series.
                continue;
            }
            let whole = prom.query_at(&for_job(expr, job), Some(at)).await;
            assert!(!whole.is_empty(), "{job}: no value for {expr}");
            for s in &whole {
                let v: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
                assert!(v.is_finite() && v > 0.0, "{job}: {v} from {expr}");
            }
            let classic_only = job == "classic" || (job == "ours" && !ours_protobuf);
            let half = if classic_only {
                classic_half
            } else {
                native_half
            };
            assert_eq!(
                by_labels(&whole),
                by_labels(&prom.query_at(&for_job(half, job), Some(at)).await),
                "{job}: {expr}"
            );
        }
    }

    // The rules: HIGH_REQUEST_LATENCY (p95 about 1 s, threshold 0.5 s) is pending or
    // firing for each job.
    for job in ["native", "classic", "both"] {
        let q = format!(
            "ALERTS{{alertname=\"HIGH_REQUEST_LATENCY\", severity=\"warning\", job=\"{job}\"}}"
        );
        eventually(&format!("HIGH_REQUEST_LATENCY for {job}"), || async {
            (!prom.query(&q).await.is_empty()).then_some(())
        })
        .await;
    }
}

/// Prometheus 2.42's `scrapeAcceptHeaderWithProtobuf` (scrape/scrape.go), verbatim.
const PROMETHEUS_2_42_PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// A monitor of our own on a port of its own, and a task sending it a request every
/// 50 ms.
async fn serve_own_monitor() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let monitor = Monitor::builder().build().expect("monitor");
    let app = monitor.instrument(
        axum::Router::new().route("/users/{id}", axum::routing::get(|| async { "user" })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let traffic = tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let _ = client.get(format!("http://{addr}/users/1")).send().await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    (addr, traffic)
}

/// The latency queries (`histogram_quantile`) of every panel, nested ones included.
fn collect_latency_exprs(panels: &Value, out: &mut Vec<String>) {
    for p in panels.as_array().into_iter().flatten() {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"]
                .as_str()
                .filter(|e| e.contains("histogram_quantile"))
            {
                out.push(e.to_owned());
            }
        }
        collect_latency_exprs(&p["panels"], out);
    }
}
