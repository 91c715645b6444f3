//! The page at `GET /metrics/ui` and the history document it draws.
//!
//! The page is three files compiled into the crate (`ui/page.html`, `ui/page.css`,
//! `ui/page.js`), served with a Content-Security-Policy that lets it talk to its own
//! origin only: no CDN, nothing off-host, so it works on an air-gapped machine. The
//! page holds no data: its script reads the JSON endpoints (with the bearer token the
//! person types, kept in the tab's `sessionStorage`) and
//! `GET /api/v1/metrics/history` for the charts.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::alerts::levels::AlertType;
use crate::alerts::levels::Levels;
use crate::reading::Reading;
use crate::settings::Settings;

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_CSS: &str = include_str!("page.css");
const PAGE_JS: &str = include_str!("page.js");

/// Only this origin, no inline script or style, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// A weak validator for the three files: FNV-1a of their text (they change only with
/// the crate).
fn etag() -> &'static HeaderValue {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    ETAG.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [PAGE_HTML, PAGE_CSS, PAGE_JS]
            .iter()
            .flat_map(|s| s.bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        HeaderValue::from_str(&format!("W/\"{h:016x}\""))
            .unwrap_or(HeaderValue::from_static("W/\"0\""))
    })
}

fn asset(headers: &HeaderMap, content_type: &'static str, body: &'static str) -> Response {
    let etag = etag();
    let headers_out = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
    ];
    if headers.get(header::IF_NONE_MATCH) == Some(etag) {
        return (StatusCode::NOT_MODIFIED, headers_out).into_response();
    }
    (headers_out, body).into_response()
}

/// `GET /metrics/ui`: the page.
pub(crate) async fn page(headers: HeaderMap) -> Response {
    asset(&headers, "text/html; charset=utf-8", PAGE_HTML)
}

/// The page's style sheet.
pub(crate) async fn css(headers: HeaderMap) -> Response {
    asset(&headers, "text/css; charset=utf-8", PAGE_CSS)
}

/// The page's script.
pub(crate) async fn js(headers: HeaderMap) -> Response {
    asset(&headers, "text/javascript; charset=utf-8", PAGE_JS)
}

/// `GET /api/v1/metrics/history`: one point per summary tick over the window, the
/// peaks since reset, the alert thresholds the charts draw, and what names the
/// instance. `admin` says whether the caller presented the admin token.
pub(crate) fn history_document(r: &Reading, s: &Settings, admin: bool) -> serde_json::Value {
    let (points, peaks) = &r.history;
    let threshold = |t: AlertType| Levels::of(t, s).warning;
    let mut doc = serde_json::json!({
        "generated_at": crate::base::format::now_rfc3339(),
        "instance": s.instance,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": r.uptime.as_secs_f64(),
        "since_reset_seconds": r.since_reset().as_secs_f64(),
        "window_seconds": s.metrics_window.as_secs_f64(),
        "interval_seconds": r.tick_interval.as_secs_f64(),
        "refresh_seconds": REFRESH_SECONDS,
        "admin": admin,
        "reset_enabled": s.admin_token.is_some(),
        "profiling": crate::output::profile::AVAILABLE && s.admin_token.is_some(),
        "profile_max_seconds": s.profile_max_seconds,
        "thresholds": {
            "request_latency_seconds": threshold(AlertType::HighRequestLatency),
            "error_rate": threshold(AlertType::HighErrorRate),
            "memory": threshold(AlertType::HighMemoryUsage),
            "cpu": threshold(AlertType::HighCpuUsage),
            "cache_hit_ratio": threshold(AlertType::LowCacheHitRatio),
            "db_pool": threshold(AlertType::HighDbPoolUtilization),
            "system_load": threshold(AlertType::HighSystemLoad),
        },
        "points": points,
        "peaks": peaks,
        "runtime": r.runtime().map(|rt| {
            rt.samples
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "t": r.unix_ms - (p.ago_s * 1000.0).round() as i64,
                        "busy_ratio": p.busy_ratio,
                        "global_queue_depth": p.global_queue_depth,
                    })
                })
                .collect::<Vec<_>>()
        }),
        // Refused token checks since start (`mcp_http_auth_failures_total`).
        "auth_failures": r.http.auth_failures.iter().map(|(path, reason, count)| {
            serde_json::json!({ "path": path, "reason": reason, "count": count })
        }).collect::<Vec<_>>(),
    });
    crate::base::format::round_json(&mut doc);
    doc
}

/// How often the page refreshes while visible, seconds.
const REFRESH_SECONDS: f64 = 5.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::Monitor;

    #[test]
    fn the_page_names_only_its_own_files() {
        // Every URL in the page is relative (its own origin): no CDN, no other host.
        for text in [PAGE_HTML, PAGE_CSS, PAGE_JS] {
            // The SVG namespace is a name, never fetched.
            let text = text.replace("\"http://www.w3.org/2000/svg\"", "");
            for scheme in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(scheme), "{scheme} in the page");
            }
        }
        assert!(PAGE_HTML.contains("src=\"ui/page.js\""));
        assert!(PAGE_HTML.contains("href=\"ui/page.css\""));
    }

    #[tokio::test]
    async fn history_lists_ticks_and_thresholds() {
        let m = Monitor::builder()
            .configure(|s| s.cpu_threshold = 0.7)
            .build()
            .unwrap();
        m.tick();
        m.tick();
        let h = history_document(&m.read(), m.settings(), false);
        assert_eq!(h["points"].as_array().map(Vec::len), Some(2));
        assert_eq!(h["thresholds"]["cpu"], 0.7);
        assert_eq!(h["points"][0]["requests"], 0);
        assert!(h["instance"].as_str().is_some_and(|s| !s.is_empty()));
        m.reset();
        assert_eq!(
            history_document(&m.read(), m.settings(), false)["points"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
    }
}
