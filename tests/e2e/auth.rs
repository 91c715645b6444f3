//! Who may read and reset: `MCP_ADMIN_TOKEN` for `POST /api/v1/metrics/reset` (and its
//! alias), `MCP_METRICS_TOKEN` for `/metrics` and the JSON endpoints; and what a reset
//! does (the summary restarts, the Prometheus counters do not).

use crate::common;
use crate::common::{start, TestServer};
use mcp_monitor::Monitor;

const RESET_ROUTES: &[&str] = &["/api/v1/metrics/reset", "/metrics/reset"];
const READ_ROUTES: &[&str] = &[
    "/metrics",
    "/metrics/summary",
    "/api/v1/metrics/report",
    "/metrics/report",
    "/api/v1/metrics/dashboard",
    "/metrics/dashboard",
];

/// The challenge of a request without bearer credentials (RFC 6750 section 3).
const CHALLENGE: &str = r#"Bearer realm="mcp-monitor""#;

fn assert_invalid_token(res: &reqwest::Response, path: &str) {
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer realm="mcp-monitor", error="invalid_token""#),
        "{path}: {challenge}"
    );
}

async fn reset(s: &TestServer, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = s.client.post(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn dashboard_total(s: &TestServer) -> u64 {
    s.get_json("/api/v1/metrics/dashboard").await["system"]["requests"]["total"]
        .as_u64()
        .unwrap()
}

async fn some_requests(s: &TestServer, n: usize) {
    for _ in 0..n {
        assert_eq!(s.get("/users").await.status(), 200);
    }
}

#[tokio::test]
async fn reset_is_refused_to_everyone_without_an_admin_token() {
    let s = start(Monitor::builder()).await;
    some_requests(&s, 2).await;
    for path in RESET_ROUTES {
        for token in [None, Some("anything")] {
            common::assert_json_error(reset(&s, path, token).await, 403, path).await;
        }
    }
    assert_eq!(dashboard_total(&s).await, 2, "nothing was reset");
}

#[tokio::test]
async fn reset_needs_the_admin_token_and_keeps_prometheus_counters_monotonic() {
    let s = start(Monitor::builder().with_admin_token("admin-secret")).await;
    some_requests(&s, 5).await;
    assert_eq!(dashboard_total(&s).await, 5);

    for path in RESET_ROUTES {
        // No credentials: 401 with a Bearer challenge.
        let res = reset(&s, path, None).await;
        assert_eq!(res.headers()["www-authenticate"], CHALLENGE, "{path}");
        common::assert_json_error(res, 401, path).await;
        // Not a bearer token: 401 too.
        let res = s
            .client
            .post(s.url(path))
            .basic_auth("admin", Some("admin-secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], CHALLENGE, "{path}");
        common::assert_json_error(res, 401, path).await;
        // The wrong token: 401 with `error="invalid_token"` (RFC 6750).
        let res = reset(&s, path, Some("admin-secreT")).await;
        assert_invalid_token(&res, path);
        common::assert_json_error(res, 401, path).await;
        // GET is not the way.
        assert_eq!(s.get(path).await.status(), 405, "GET {path}");
    }
    assert_eq!(dashboard_total(&s).await, 5, "refused resets reset nothing");

    // The right token: 200, and the summary starts again from zero...
    let res = reset(&s, "/api/v1/metrics/reset", Some("admin-secret")).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    common::assert_keys(&body, &["status", "reset_at"]);
    assert_eq!(body["status"], "reset");
    assert!(common::is_rfc3339_with_offset(
        body["reset_at"].as_str().unwrap()
    ));
    assert_eq!(dashboard_total(&s).await, 0);
    let summary = s.get_json("/metrics/summary").await;
    assert_eq!(summary["http"]["total"]["count"], 0);

    // ...while /metrics keeps counting: counters never go back.
    let m = s.metrics().await;
    assert_eq!(m.sum("mcp_http_requests_total", &[]), 5.0);
    assert_eq!(m.sum("mcp_http_request_duration_seconds_count", &[]), 5.0);

    some_requests(&s, 3).await;
    assert_eq!(dashboard_total(&s).await, 3);
    assert_eq!(s.metrics().await.sum("mcp_http_requests_total", &[]), 8.0);

    // The alias resets as well.
    let res = reset(&s, "/metrics/reset", Some("admin-secret")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(dashboard_total(&s).await, 0);
    assert_eq!(s.metrics().await.sum("mcp_http_requests_total", &[]), 8.0);
}

#[tokio::test]
async fn a_metrics_token_protects_every_read_endpoint_and_nothing_else() {
    let s = start(Monitor::builder().with_metrics_token("read-secret")).await;
    // The application's routes stay open.
    some_requests(&s, 1).await;
    for path in READ_ROUTES {
        let res = s.get(path).await;
        assert_eq!(res.headers()["www-authenticate"], CHALLENGE, "{path}");
        common::assert_json_error(res, 401, path).await;

        let res = s
            .client
            .get(s.url(path))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_invalid_token(&res, path);
        common::assert_json_error(res, 401, path).await;

        let res = s
            .client
            .get(s.url(path))
            .bearer_auth("read-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let m = s.metrics_with(Some("read-secret")).await;
    assert_eq!(
        m.sum("mcp_http_requests_total", &[]),
        1.0,
        "refused reads are not counted"
    );
    // The metrics token does not open the reset.
    let res = reset(&s, "/api/v1/metrics/reset", Some("read-secret")).await;
    common::assert_json_error(res, 403, "reset with the metrics token").await;
}

#[tokio::test]
async fn the_scheme_is_case_insensitive_and_a_read_token_cannot_reset() {
    let s = start(
        Monitor::builder()
            .with_admin_token("admin-secret")
            .with_metrics_token("read-secret"),
    )
    .await;
    some_requests(&s, 3).await;
    let send = |path: &str, auth: &str| {
        s.client
            .request(
                if path.ends_with("reset") {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::GET
                },
                s.url(path),
            )
            .header("authorization", auth)
            .send()
    };
    // RFC 7235: the scheme is case-insensitive.
    for auth in [
        "BEARER read-secret",
        "bearer read-secret",
        "Bearer  read-secret",
    ] {
        let res = send("/metrics/summary", auth).await.unwrap();
        assert_eq!(res.status(), 200, "{auth:?}");
    }
    // The metrics token is valid, but not for a reset: 403 `insufficient_scope`.
    let res = send("/api/v1/metrics/reset", "Bearer read-secret")
        .await
        .unwrap();
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    common::assert_json_error(res, 403, "reset with the metrics token").await;
    // A malformed header: 400 `invalid_request`.
    let res = send("/metrics", "Bearer two words").await.unwrap();
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );
    common::assert_json_error(res, 400, "a malformed header").await;
    // Nothing was reset so far; the admin token in upper case resets.
    let res = send("/api/v1/metrics/reset", "BEARER admin-secret")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Finding 7: refused token checks are counted, by route and reason, on `/metrics` and
/// in the page's history document (token guessing is visible to the monitor itself).
#[tokio::test]
async fn refused_token_checks_are_counted_by_route_and_reason() {
    let s = start(
        Monitor::builder()
            .with_admin_token("admin-secret")
            .with_metrics_token("read-secret"),
    )
    .await;
    let send = |method: reqwest::Method, path: &str, auth: Option<&str>| {
        let mut req = s.client.request(method, s.url(path));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    for _ in 0..3 {
        assert_eq!(
            send(get.clone(), "/metrics", Some("Bearer guess"))
                .await
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(
        send(get.clone(), "/metrics/summary", None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        send(get.clone(), "/metrics", Some("Bearer a b"))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        send(
            post.clone(),
            "/api/v1/metrics/reset",
            Some("Bearer read-secret")
        )
        .await
        .unwrap()
        .status(),
        403
    );
    // Accepted checks are not counted.
    assert_eq!(
        send(get.clone(), "/metrics", Some("Bearer read-secret"))
            .await
            .unwrap()
            .status(),
        200
    );

    let res = send(get.clone(), "/metrics", Some("Bearer read-secret"))
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    let count = |labels: &str| {
        let line = format!("mcp_http_auth_failures_total{{{labels}}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    assert!(
        text.contains("# TYPE mcp_http_auth_failures_total counter"),
        "{text}"
    );
    assert_eq!(
        count(r#"path="/metrics",reason="invalid""#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        count(r#"path="/metrics/summary",reason="missing""#),
        Some(1.0)
    );
    assert_eq!(count(r#"path="/metrics",reason="malformed""#), Some(1.0));
    assert_eq!(
        count(r#"path="/api/v1/metrics/reset",reason="insufficient_scope""#),
        Some(1.0)
    );
    // (The test server's readiness probe may add a `missing` on /metrics.)
    let in_text: f64 = text
        .lines()
        .filter(|l| l.starts_with("mcp_http_auth_failures_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();

    // The page reads them from its history document.
    let history: serde_json::Value =
        send(get, "/api/v1/metrics/history", Some("Bearer read-secret"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let failures = history["auth_failures"].as_array().expect("auth_failures");
    let total: u64 = failures.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert_eq!(total as f64, in_text, "{failures:#?}");
    assert!(failures
        .iter()
        .any(|f| f["path"] == "/metrics" && f["reason"] == "invalid" && f["count"] == 3));
}
