//! The page's routes on a real socket: the page and its files, their headers, and the
//! history document, with and without tokens. (The page itself is driven in a browser
//! by `browser.rs`.)

use std::time::Duration;

use crate::common::{assert_json_error, eventually, start};
use mcp_monitor::Monitor;

#[tokio::test]
async fn the_page_and_its_files_are_served_from_the_crate_with_a_same_origin_policy() {
    let s = start(Monitor::builder().with_metrics_token("read")).await;
    for (path, kind) in [
        ("/metrics/ui", "text/html"),
        ("/api/v1/metrics/ui", "text/html"),
        ("/metrics/ui/page.css", "text/css"),
        ("/api/v1/metrics/ui/page.js", "text/javascript"),
        ("/metrics/ui/format.js", "text/javascript"),
        ("/api/v1/metrics/ui/tables.js", "text/javascript"),
    ] {
        // Public: the page holds no data and asks for the token itself.
        let res = s.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        let etag = h["etag"].clone();
        let body = res.text().await.unwrap();
        assert!(body.len() > 1000, "{path}: {} bytes", body.len());
        let again = s
            .client
            .get(s.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    assert_json_error(s.get("/metrics/ui/nothing.js").await, 404, "no such file").await;
    let html = s.get("/metrics/ui").await.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="ui/page.js"></script>"#));
    // The page's own requests are not counted as traffic.
    let summary = s
        .client
        .get(s.url("/metrics/summary"))
        .bearer_auth("read")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(summary["http"]["total"]["count"], 0, "{summary}");
}

#[tokio::test]
async fn history_needs_the_metrics_or_the_admin_token_and_says_which() {
    let s = start(
        Monitor::builder()
            .with_metrics_token("read")
            .with_admin_token("admin"),
    )
    .await;
    let get = |token: Option<&'static str>| {
        let mut req = s.client.get(s.url("/api/v1/metrics/history"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_json_error(get(None).await.unwrap(), 401, "no token").await;
    assert_json_error(get(Some("nope")).await.unwrap(), 401, "wrong token").await;
    let read: serde_json::Value = get(Some("read")).await.unwrap().json().await.unwrap();
    assert_eq!(read["admin"], false);
    assert_eq!(read["reset_enabled"], true);
    let admin: serde_json::Value = get(Some("admin")).await.unwrap().json().await.unwrap();
    assert_eq!(admin["admin"], true);
    // The page's document, one reading per refresh, is read the same way.
    let page = |token: Option<&'static str>| {
        let mut req = s.client.get(s.url("/api/v1/metrics/page"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_json_error(page(None).await.unwrap(), 401, "no token").await;
    let doc: serde_json::Value = page(Some("read")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["history"]["admin"], false);
    for part in ["summary", "report", "dashboard", "history"] {
        assert!(doc[part].is_object(), "{part}: {doc}");
    }
    let doc: serde_json::Value = page(Some("admin")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["history"]["admin"], true);
}

#[tokio::test]
async fn history_has_one_point_per_tick_over_the_window() {
    let s = start(
        Monitor::builder()
            .with_window(Duration::from_secs(2))
            .configure(|c| {
                c.request_latency_threshold = Duration::from_millis(250);
                c.resource_interval = Duration::from_millis(100);
                c.alert_evaluation_interval = Duration::from_millis(500);
            }),
    )
    .await;
    for _ in 0..5 {
        assert_eq!(s.get("/users/424242").await.status(), 404);
    }
    // The tick is window / 10 = 200 ms: points with the requests, then a full window.
    let h = eventually("a point with the 5 requests", || async {
        let h = s.get_json("/api/v1/metrics/history").await;
        let total: u64 = h["points"]
            .as_array()?
            .iter()
            .map(|p| p["requests"].as_u64().unwrap_or(0))
            .sum();
        (total == 5).then_some(h)
    })
    .await;
    assert_eq!(h["thresholds"]["request_latency_seconds"], 0.25);
    assert_eq!(h["window_seconds"], 2.0);
    assert!((h["interval_seconds"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    let point = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["requests"] == 5)
        .expect("the 5 requests fell in one interval")
        .clone();
    assert_eq!(point["errors"], 0);
    assert_eq!(point["error_rate"], 0.0);
    assert!(point["p95_seconds"].as_f64().unwrap() > 0.0);
    let rate = point["request_rate"].as_f64().unwrap();
    let interval = point["interval_seconds"].as_f64().unwrap();
    // Both are written to 6 significant digits (half a millionth each, relative).
    assert!((rate * interval - 5.0).abs() < 1e-4, "{point}");
    assert_eq!(h["peaks"]["request_rate"]["value"], rate);
    // Bounded: never more than a window's ticks (and one to spare).
    let h = eventually("a full window of points", || async {
        let h = s.get_json("/api/v1/metrics/history").await;
        (h["points"].as_array()?.len() >= 10).then_some(h)
    })
    .await;
    assert!(h["points"].as_array().unwrap().len() <= 12, "{h}");
}
