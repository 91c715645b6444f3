//! What the end-to-end tests share beyond the test kit: the demo served in this
//! process on a real socket and its client, the fleet tests' Alertmanager configuration,
//! HTTP by hand (`raw_http`), and checks of the dashboard's formats. The kit's parts the
//! tests use most are re-exported here.

// Used by `alertmanager` and `fleet`, each in a process of its own (`tests/e2e/alone/`).
#[allow(dead_code)]
pub(crate) mod fleet;
pub(crate) mod raw_http;

use std::time::Duration;

use mcp_monitor::{Monitor, MonitorBuilder};
pub(crate) use mcp_monitor_test_kit::{eventually, external_tool, Exposition, DEADLINE};
use serde_json::Value;

/// The demo app served on `127.0.0.1:0` in this process.
pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) port: u16,
    pub(crate) monitor: Monitor,
    pub(crate) client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Builds a monitor from `builder` (never installed: one global recorder per process),
/// starts its background tasks, serves the demo with it and waits until it answers.
pub(crate) async fn start(builder: MonitorBuilder) -> TestServer {
    let monitor = builder.build().expect("monitor");
    monitor.spawn_tasks();
    let app = mcp_monitor_e2e::demo::app(&monitor)
        .await
        .expect("demo app");
    let listener = mcp_monitor_test_kit::ports::listener().await;
    let port = listener.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let server = TestServer {
        base: format!("http://127.0.0.1:{port}"),
        port,
        monitor,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        task,
    };
    // Any answer will do (with a metrics token, a 401); the monitor's own endpoints
    // are not counted, so this leaves the request counts at zero.
    let url = server.url("/metrics");
    let client = server.client.clone();
    eventually("the demo to answer", || {
        let (client, url) = (client.clone(), url.clone());
        async move { client.get(url).send().await.ok().map(|_| ()) }
    })
    .await;
    server
}

impl TestServer {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// `POST path` with `body` sent as is, labelled `application/json`.
    pub(crate) async fn post_raw(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST")
    }

    /// `GET path`, expecting 200 and JSON.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("JSON")
    }

    /// `GET /metrics`, parsed.
    pub(crate) async fn metrics(&self) -> Exposition {
        self.metrics_with(None).await
    }

    /// `GET /metrics` with an optional bearer token, parsed.
    pub(crate) async fn metrics_with(&self, token: Option<&str>) -> Exposition {
        let mut req = self.client.get(self.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("GET /metrics");
        assert_eq!(res.status(), 200, "GET /metrics");
        Exposition::parse(&res.text().await.expect("body"))
    }

    /// Creates a user, expecting 201; returns its id.
    /// Runs the `data_processing` workflow once on `records` (must succeed, 200) and once
    /// on an empty list (must fail validation, 422).
    pub(crate) async fn run_workflow_ok_and_invalid(&self, records: Value) {
        let ok = serde_json::json!({ "records": records });
        let res = self.post_json("/workflows/data_processing", &ok).await;
        assert_eq!(res.status(), 200);
        let bad = serde_json::json!({ "records": [] });
        let res = self.post_json("/workflows/data_processing", &bad).await;
        assert_eq!(res.status(), 422);
    }

    pub(crate) async fn create_user(&self, name: &str, email: &str) -> i64 {
        let res = self
            .post_json("/users", &serde_json::json!({"name": name, "email": email}))
            .await;
        assert_eq!(res.status(), 201, "POST /users {email}");
        let body: Value = res.json().await.expect("JSON");
        body["id"].as_i64().expect("id")
    }
}

/// Asserts that `v` is an object with exactly the keys `keys`.
#[track_caller]
pub(crate) fn assert_keys(v: &Value, keys: &[&str]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {v}"));
    let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "keys of {v}");
}

/// Asserts that the body of an error response is `{"error": "<non-empty>"}`.
pub(crate) async fn assert_json_error(res: reqwest::Response, status: u16, what: &str) {
    assert_eq!(res.status(), status, "{what}");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: content-type {content_type:?}"
    );
    let body: Value = res.json().await.expect("JSON error body");
    assert_keys(&body, &["error"]);
    assert!(
        body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{what}: {body}"
    );
}

/// Checks the dashboard's latency format: `"123ms"`, `"4.2ms"`, `"12.50s"`, or `"n/a"`.
pub(crate) fn is_latency(s: &str) -> bool {
    if s == "n/a" {
        return true;
    }
    if let Some(ms) = s.strip_suffix("ms") {
        return match ms.split_once('.') {
            // `{:.1}` under 10 ms; 9.96 ms rounds up to "10.0ms".
            Some((int, frac)) => digits(int) && int.len() <= 2 && frac.len() == 1 && digits(frac),
            None => digits(ms) && ms.len() >= 2,
        };
    }
    if let Some(secs) = s.strip_suffix('s') {
        return secs.split_once('.').is_some_and(|(int, frac)| {
            digits(int) && int.len() >= 2 && frac.len() == 2 && digits(frac)
        });
    }
    false
}

/// Checks the dashboard's percentage format: `"65%"`, `"2.5%"` (under 10%), or `"n/a"`.
pub(crate) fn is_percent(s: &str) -> bool {
    if s == "n/a" {
        return true;
    }
    let Some(p) = s.strip_suffix('%') else {
        return false;
    };
    match p.split_once('.') {
        // One decimal under 10%; 9.96% rounds up to "10.0%".
        Some((int, frac)) => int.len() <= 2 && digits(int) && frac.len() == 1 && digits(frac),
        None => digits(p) && p.parse::<u32>().is_ok_and(|n| n <= 100),
    }
}

/// Checks the dashboard's uptime format: `"12h 34m"`.
pub(crate) fn is_uptime(s: &str) -> bool {
    s.strip_suffix('m')
        .and_then(|r| r.split_once("h "))
        .is_some_and(|(h, m)| digits(h) && digits(m) && m.parse::<u32>().is_ok_and(|m| m < 60))
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks an RFC 3339 timestamp with an explicit offset: `2025-06-07T15:57:04-04:00`.
pub(crate) fn is_rfc3339_with_offset(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 25 {
        return false;
    }
    let (date_time, offset) = s.split_at(s.len() - 6);
    let ob = offset.as_bytes();
    let offset_ok = (ob[0] == b'+' || ob[0] == b'-')
        && digits(&offset[1..3])
        && ob[3] == b':'
        && digits(&offset[4..6]);
    let dt = date_time.as_bytes();
    let dt_ok = dt.len() >= 19
        && digits(&date_time[0..4])
        && dt[4] == b'-'
        && digits(&date_time[5..7])
        && dt[7] == b'-'
        && digits(&date_time[8..10])
        && dt[10] == b'T'
        && digits(&date_time[11..13])
        && dt[13] == b':'
        && digits(&date_time[14..16])
        && dt[16] == b':'
        && digits(&date_time[17..19]);
    offset_ok && dt_ok
}
