//! The page at `GET /metrics/ui`, the history document it draws, and the page
//! document it reads every refresh.
//!
//! The page is a few files compiled into the crate ([`FILES`]: the HTML shell, the
//! style sheet, and ES modules, one per concern and one per section; no build step,
//! no third-party code), served at `/metrics/ui/{file}` with a Content-Security-Policy
//! that lets it talk to its own origin only: no CDN, nothing off-host, so it works on
//! an air-gapped machine. The page holds no data: each refresh reads
//! `GET /api/v1/metrics/page` ([`page_document`]: the summary, report, dashboard and
//! history documents of ONE reading), with the bearer token the person types, kept in
//! the tab's `sessionStorage`.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::alerts::levels::AlertType;
use crate::alerts::levels::Levels;
use crate::output::json::error;
use crate::reading::Reading;
use crate::settings::Settings;

const PAGE_HTML: &str = include_str!("page.html");

/// A file of the page: its name under `/metrics/ui/`, its content type, its text.
type File = (&'static str, &'static str, &'static str);

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The page's files. A section of the page is one module here (and one line in
/// `page.js`'s list of sections).
pub(crate) const FILES: &[File] = &[
    ("page.css", CSS, include_str!("page.css")),
    ("page.js", JS, include_str!("page.js")),
    ("format.js", JS, include_str!("format.js")),
    ("dom.js", JS, include_str!("dom.js")),
    ("chart.js", JS, include_str!("chart.js")),
    ("widgets.js", JS, include_str!("widgets.js")),
    ("access.js", JS, include_str!("access.js")),
    ("alerts.js", JS, include_str!("alerts.js")),
    ("objectives.js", JS, include_str!("objectives.js")),
    ("traffic.js", JS, include_str!("traffic.js")),
    ("resources.js", JS, include_str!("resources.js")),
    ("runtime.js", JS, include_str!("runtime.js")),
    ("long_polls.js", JS, include_str!("long_polls.js")),
    ("app_metrics.js", JS, include_str!("app_metrics.js")),
    ("workflows.js", JS, include_str!("workflows.js")),
    ("profile.js", JS, include_str!("profile.js")),
    ("tables.js", JS, include_str!("tables.js")),
    ("report.js", JS, include_str!("report.js")),
];

/// Only this origin, no inline script or style, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// A weak validator for the page's files: FNV-1a of their text (they change only
/// with the crate).
fn etag() -> &'static HeaderValue {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    ETAG.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in std::iter::once(PAGE_HTML)
            .chain(FILES.iter().map(|(_, _, text)| *text))
            .flat_map(str::bytes)
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

/// `GET /metrics/ui/{file}`: one of the page's [`FILES`], or 404.
pub(crate) async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => asset(&headers, content_type, body),
        None => error(StatusCode::NOT_FOUND, "no such file of the page"),
    }
}

/// `GET /api/v1/metrics/page`: what the page shows, from ONE reading: the
/// `summary`, `report`, `dashboard` and `history` documents of the same moment, so
/// that no figure on the page disagrees with another.
pub(crate) fn page_document(r: &Reading, s: &Settings, admin: bool) -> serde_json::Value {
    serde_json::json!({
        "summary": crate::output::json::summary_document(r, s),
        "report": crate::output::json::report_document(r, s),
        "dashboard": crate::output::json::dashboard_document(r, s),
        "history": history_document(r, s, admin),
    })
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
        for text in std::iter::once(PAGE_HTML).chain(FILES.iter().map(|f| f.2)) {
            // The SVG namespace is a name, never fetched.
            let text = text.replace("\"http://www.w3.org/2000/svg\"", "");
            for scheme in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(scheme), "{scheme} in the page");
            }
        }
        assert!(PAGE_HTML.contains("<script type=\"module\" src=\"ui/page.js\">"));
        assert!(PAGE_HTML.contains("href=\"ui/page.css\""));
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        // `import ... from "./x.js"`: each x.js is one of FILES.
        for (name, _, text) in FILES {
            for part in text.split("from \"./").skip(1) {
                let imported = &part[..part.find('"').unwrap()];
                assert!(
                    FILES.iter().any(|f| f.0 == imported),
                    "{name} imports {imported}, which is not served"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_page_document_is_one_reading() {
        let m = Monitor::builder().build().unwrap();
        m.tick();
        let d = page_document(&m.read(), m.settings(), false);
        for part in ["summary", "report", "dashboard", "history"] {
            assert!(d[part].is_object(), "{part}");
        }
        assert_eq!(d["history"]["points"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            d["summary"]["since_reset_seconds"],
            d["report"]["since_reset_seconds"]
        );
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
