//! A real Prometheus server scrapes the demo every second: the request count it
//! sees equals the requests sent, `histogram_quantile` over the latency histogram is
//! a number, and the db, workflow and pool series are there. Then the same behind a
//! metrics token, scraped with `authorization: {type: Bearer}` (and a job with the
//! wrong token is down).
//!
//! Needs `prometheus` (Debian package `prometheus`, which `.ci/run` installs): under CI
//! its absence fails the test; elsewhere the test is skipped with a notice.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{eventually, TestServer};
use mcp_monitor::Monitor;
use serde_json::{json, Value};

/// A Prometheus server of our own; killed when dropped.
struct Prometheus {
    child: Child,
    base: String,
    client: reqwest::Client,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- prometheus log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Prometheus {
    /// Starts `binary` with `config` (YAML) and waits until it is ready.
    async fn start(binary: &Path, config: &str) -> Self {
        Self::start_with(binary, config, &[]).await
    }

    /// Starts `binary` with `config` (YAML) and the extra flags `args`, and waits until
    /// it is ready.
    async fn start_with(binary: &Path, config: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log = dir.path().join("prometheus.log");
        let log_file = File::create(&log).expect("log file");
        let port = common::free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .expect("start prometheus");
        let p = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            log,
            _dir: dir,
        };
        let ready = format!("{}/-/ready", p.base);
        eventually("prometheus to be ready", || {
            let (client, url) = (p.client.clone(), ready.clone());
            async move {
                let res = client.get(url).send().await.ok()?;
                res.status().is_success().then_some(())
            }
        })
        .await;
        p
    }

    /// The result vector of the instant query `q`.
    async fn query(&self, q: &str) -> Vec<Value> {
        let res = self
            .client
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", q)])
            .send()
            .await
            .expect("query prometheus");
        let body: Value = res.json().await.expect("JSON from prometheus");
        assert_eq!(body["status"], "success", "{q}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The value of the single-series result of `q`, once there is one.
    async fn scalar(&self, q: &str) -> Option<f64> {
        let result = self.query(q).await;
        let [one] = result.as_slice() else {
            return None;
        };
        one["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `q` evaluates to `want`.
    async fn wait_for(&self, q: &str, want: f64) {
        eventually(&format!("prometheus: {q} == {want}"), || async {
            (self.scalar(q).await == Some(want)).then_some(())
        })
        .await;
    }
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
    let prom = Prometheus::start(&binary, &config(s.port, token)).await;
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
    let prom = Prometheus::start_with(
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
    let native = Prometheus::start_with(
        &binary,
        &config(s.port, None),
        &["--enable-feature=native-histograms"],
    )
    .await;
    let classic = Prometheus::start(&binary, &config(s.port, None)).await;
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
