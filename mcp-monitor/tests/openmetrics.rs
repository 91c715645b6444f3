//! `GET /metrics` in OpenMetrics 1.0 with exemplars, over a real socket: a request
//! with a sampled W3C `traceparent` lands its trace id on the HTTP and the db-operation
//! buckets and counters it fed; a request without one adds none; without the
//! OpenMetrics `Accept` the answer is text 0.0.4 with no exemplar. The output parses
//! with the strict OpenMetrics parser of the Python `prometheus_client` (required
//! under CI, skipped with a notice elsewhere). Its own binary: it installs the global
//! recorder, so that the application's facade metrics are converted too.

mod common;

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use axum::routing::get;
use axum::Router;
use common::serve;
use mcp_monitor::names::OPENMETRICS_CONTENT_TYPE;
use mcp_monitor::{monitor_db_operation, Monitor};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 2.42's `scrapeAcceptHeaderWithProtobuf` (scrape/scrape.go), verbatim.
const PROMETHEUS_2_PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 3's `acceptHeader` for its default and its proto-first scrape protocols
/// with `allow-utf-8` escaping, as its `TestAcceptHeader` (scrape/scrape_test.go,
/// v3.5 to v3.9) expects them, verbatim.
const PROMETHEUS_3_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
const PROMETHEUS_3_PROTO_FIRST_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

#[derive(Debug)]
struct DbError;

#[monitor_db_operation("select", "om_users")]
async fn load_user(id: u32) -> Result<String, DbError> {
    tokio::task::yield_now().await;
    Ok(format!("user {id}"))
}

async fn user(axum::extract::Path(id): axum::extract::Path<u32>) -> String {
    load_user(id).await.unwrap()
}

fn exemplar_lines<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(family) && l.contains(" # {"))
        .collect()
}

#[tokio::test]
async fn openmetrics_carries_the_requests_trace_on_http_and_db_series() {
    let monitor = Monitor::builder().install().unwrap();
    metrics::counter!("app_orders").increment(2);
    metrics::counter!("app_payments_total").increment(1);
    metrics::histogram!("app_payment_seconds").record(0.2);

    let addr = serve(monitor.instrument(Router::new().route("/users/{id}", get(user)))).await;
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://{addr}/users/7"))
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Untraced and unsampled requests add no exemplar.
    client
        .get(format!("http://{addr}/users/8"))
        .send()
        .await
        .unwrap();
    let unsampled = "00-11111111111111111111111111111111-2222222222222222-00";
    client
        .get(format!("http://{addr}/users/9"))
        .header("traceparent", unsampled)
        .send()
        .await
        .unwrap();
    // A traced gRPC call (a trailers-only NOT_FOUND) through the gRPC layer.
    let grpc = tower::Layer::layer(
        &monitor.grpc_layer().service("om.S", &["M"]),
        tower::service_fn(|_req: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header("grpc-status", "5")
                    .body(String::new())
                    .unwrap(),
            )
        }),
    );
    let call = http::Request::post("/om.S/M")
        .header("content-type", "application/grpc")
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .body(String::new())
        .unwrap();
    drop(tower::ServiceExt::oneshot(grpc, call).await.unwrap());

    let res = client
        .get(format!("http://{addr}/metrics"))
        .header("accept", PROMETHEUS_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], OPENMETRICS_CONTENT_TYPE);
    let om = res.text().await.unwrap();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE mcp_http_requests counter\n"), "{om}");
    assert!(
        om.contains("# UNIT mcp_http_request_duration_seconds seconds\n"),
        "{om}"
    );
    assert!(
        om.contains("# TYPE app_orders counter\n") && om.contains("\napp_orders_total 2"),
        "{om}"
    );

    let wanted = format!("# {{trace_id=\"{TRACE}\",span_id=\"{PARENT}\"}} ");
    for family in [
        "mcp_http_request_duration_seconds_bucket{",
        "mcp_http_requests_total{",
        "mcp_db_operation_duration_seconds_bucket{operation=\"select\",table=\"om_users\"",
        "mcp_db_operations_total{operation=\"select\",table=\"om_users\",status=\"success\"}",
        "mcp_grpc_requests_total{service=\"om.S\",method=\"M\",code=\"NOT_FOUND\"}",
        "mcp_grpc_request_duration_seconds_bucket{service=\"om.S\",method=\"M\",code=\"NOT_FOUND\"",
    ] {
        let lines = exemplar_lines(&om, family);
        assert_eq!(lines.len(), 1, "{family}: {lines:#?}\n{om}");
        assert!(lines[0].contains(&wanted), "{}", lines[0]);
    }
    assert!(
        !om.contains("11111111111111111111111111111111"),
        "unsampled trace"
    );
    // The exemplar's value fits its bucket: the request took less than its `le`.
    let bucket = exemplar_lines(&om, "mcp_http_request_duration_seconds_bucket{")[0];
    let le: f64 = bucket
        .split("le=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap_or(f64::INFINITY);
    let value: f64 = bucket.rsplit(' ').nth(1).unwrap().parse().unwrap();
    assert!(value <= le && value > 0.0, "{bucket}");
    check_with_python_parser(&om);

    // Without the OpenMetrics Accept: text 0.0.4, no exemplar, no EOF.
    let res = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"],
        mcp_monitor::names::PROMETHEUS_CONTENT_TYPE
    );
    let text = res.text().await.unwrap();
    assert!(!text.contains(" # {") && !text.contains("# EOF"), "{text}");
    assert!(text.contains("# TYPE mcp_http_requests_total counter"));

    // Prometheus 3, with and without protobuf first: OpenMetrics (protobuf is
    // answered where it is offered), its `escaping` echoed.
    for accept in [
        PROMETHEUS_3_ACCEPT,
        PROMETHEUS_3_PROTO_FIRST_ACCEPT,
        PROMETHEUS_2_PROTOBUF_ACCEPT,
    ] {
        let res = client
            .get(format!("http://{addr}/metrics"))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        if content_type.starts_with("application/vnd.google.protobuf") {
            continue;
        }
        assert!(
            content_type.starts_with(OPENMETRICS_CONTENT_TYPE),
            "{content_type}"
        );
        if accept != PROMETHEUS_2_PROTOBUF_ACCEPT {
            assert!(
                content_type.ends_with("; escaping=allow-utf-8"),
                "{content_type}"
            );
        }
        let om = res.text().await.unwrap();
        assert!(om.ends_with("# EOF\n"), "{om}");
        check_with_python_parser(&om);
    }
}

/// `GET` with `Accept-Encoding`, body decompressed if it came gzipped: (content
/// encoding, `Vary` values, body).
async fn fetch(url: &str, accept: &str, encoding: &str) -> (Option<String>, Vec<String>, String) {
    let res = reqwest::Client::new()
        .get(url)
        .header("accept", accept)
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{url}: {}", res.status());
    let coding = res
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let vary = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    let bytes = res.bytes().await.unwrap();
    let body = if coding.as_deref() == Some("gzip") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    (coding, vary, body)
}

/// gzip when `Accept-Encoding` allows it, for `/metrics` in each format, the JSON
/// documents and the page's files; the same bytes otherwise; `Vary: accept-encoding`
/// on each.
#[tokio::test]
async fn every_answer_is_gzipped_when_asked_and_only_then() {
    let monitor = Monitor::builder().build().unwrap();
    let addr = serve(monitor.instrument(Router::new().route("/users/{id}", get(user)))).await;
    reqwest::get(format!("http://{addr}/users/1"))
        .await
        .unwrap();
    for (path, accept) in [
        ("/metrics", "*/*"),
        ("/metrics", PROMETHEUS_ACCEPT),
        ("/metrics", PROMETHEUS_3_ACCEPT),
        ("/metrics/summary", "*/*"),
        ("/api/v1/metrics/report", "*/*"),
        ("/api/v1/metrics/dashboard", "*/*"),
        ("/api/v1/metrics/history", "*/*"),
        ("/metrics/ui", "*/*"),
        ("/metrics/ui/page.js", "*/*"),
        ("/metrics/ui/page.css", "*/*"),
        ("/metrics/ui/dom.js", "*/*"),
        ("/api/v1/metrics/page", "*/*"),
    ] {
        let url = format!("http://{addr}{path}");
        let (coding, vary, zipped) = fetch(&url, accept, "gzip, deflate, br, zstd").await;
        assert_eq!(coding.as_deref(), Some("gzip"), "{path} {accept}");
        assert!(
            vary.iter().any(|v| v.contains("accept-encoding")),
            "{path}: {vary:?}"
        );
        for encoding in ["identity", "gzip;q=0", "gzip;q=0.5, identity", "br"] {
            let (coding, vary, plain) = fetch(&url, accept, encoding).await;
            assert_eq!(coding, None, "{path} {encoding}");
            assert!(
                vary.iter().any(|v| v.contains("accept-encoding")),
                "{path}: {vary:?}"
            );
            if path.starts_with("/metrics/ui") {
                assert_eq!(plain, zipped, "{path} {encoding}");
            } else if path == "/metrics" {
                // The same document, from a later reading.
                assert_eq!(plain.lines().next(), zipped.lines().next(), "{path}");
            } else {
                let keys = |body: &str| -> Vec<String> {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    v.as_object().unwrap().keys().cloned().collect()
                };
                assert_eq!(keys(&plain), keys(&zipped), "{path} {encoding}");
            }
        }
    }
}

/// Parses `om` with `prometheus_client`'s OpenMetrics parser, which refuses anything
/// the format does not allow, and checks that it saw the exemplars.
fn check_with_python_parser(om: &str) {
    let script = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(sys.stdin.read()))
names = {f.name for f in families}
exemplars = sum(1 for f in families for s in f.samples if s.exemplar is not None)
print(len(families), exemplars, " ".join(sorted(names)))
"#;
    let available = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        mcp_monitor_test_kit::missing::<()>(
            "python3 with prometheus_client is not installed (pip install prometheus_client)",
        );
        return;
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(om.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused the exposition: {}\n{om}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fields = stdout.split_whitespace();
    let families: usize = fields.next().unwrap().parse().unwrap();
    let exemplars: usize = fields.next().unwrap().parse().unwrap();
    let names: Vec<&str> = fields.collect();
    assert!(families > 10, "{stdout}");
    // HTTP, db and gRPC: a counter and a bucket each.
    assert_eq!(exemplars, 6, "{stdout}");
    for n in [
        "mcp_http_requests",
        "mcp_db_operations",
        "app_orders",
        "app_payments",
        "app_payment_seconds",
    ] {
        assert!(names.contains(&n), "{n} missing: {stdout}");
    }
}
