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
