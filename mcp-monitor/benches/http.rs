//! Cost of the HTTP middleware per request, and of `/metrics` and `/metrics/summary`
//! at scale.
//!
//! * `http/oneshot/{bare,mcp_monitor,axum_prometheus,from_fn_facade,from_fn_empty}`:
//!   one `GET /users/42` through `Router::oneshot` (body collected), driven by a
//!   current-thread Tokio runtime; see `http_common` for the variants. Our monitor is
//!   installed once in `main` as the global recorder, so the facade variants record
//!   into a real (bucketed) Prometheus recorder too.
//! * `http/render/{1k,10k,100k}`: `Monitor::render()` with that many HTTP label sets.
//! * `http/summary/{1k,10k,100k}`: `GET /metrics/summary` through `monitor.router()`,
//!   body collected.
//! * `http/render_exporter/{1k,10k,100k}`: the peer, `metrics-exporter-prometheus`
//!   rendering as many bucketed histograms (same buckets, same three labels).
//! * `http/render_openmetrics/{1k,10k,100k}`: `Monitor::render_openmetrics()`, the same
//!   series as OpenMetrics text (the reading then also gathers the exemplars).
//! * `http/render_protobuf/{1k,10k,100k}`: `Monitor::render_protobuf()`, the same
//!   series as delimited `MetricFamily` protobuf with native and classic buckets.
//! * `http/render_prometheus_client/{..}` (its Prometheus text 0.0.4 encoder),
//!   `http/render_prometheus_client_protobuf/{..}` (its delimited `MetricFamily`
//!   protobuf encoder) and `http/render_fastmetrics/{..}` (its text 0.0.4 profile): the
//!   other peers, as many histograms with the same buckets and labels.
//! * `http/gzip/{1k,10k,100k}`: compressing our text as `/metrics` does for
//!   `Accept-Encoding: gzip`.
//! * `http/otlp/{render_text,render_protobuf,encode,encode_gzip}/{1k,10k}`: one OTLP
//!   export's request (`Monitor::otlp_request`), plain and gzipped, beside the text
//!   render and the protobuf exposition of the same monitor.
//!
//! Each scale also prints the bytes per label set of our text, of its gzip, of our
//! OpenMetrics, of our protobuf (and its gzip), and of `prometheus-client`'s protobuf.
//!
//! Before the benchmarks it prints the memory per label set, each part in a fresh
//! child process: ours (the slope of resident memory over five checkpoints while
//! 100k label sets are created), what the summary ring adds once full, and the
//! exporter's bucketed histograms (same slope).
//! Label sets are made through the public API only: a router of `n / 20` routes
//! (`/api/v1/resource_NNNNN/{code}`), each requested with two methods and ten
//! statuses.
//!
//! Run with `cargo bench -p mcp-monitor --bench http`; the interleaved comparison is
//! `--bench http_interleaved`. See `docs/benchmarks.md`.

mod http_common;

use std::hint::black_box;
use std::ops::Range;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::middleware;
use axum::routing::any;
use axum::Router;
use criterion::{BenchmarkId, Criterion};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use mcp_monitor::{Buckets, Monitor};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use prometheus_client::metrics::family::Family as PcFamily;
use prometheus_client::metrics::histogram::Histogram as PcHistogram;
use tower::ServiceExt;

use http_common::{
    facade_middleware, install_monitor, one_request, one_traced_request, router, rss_bytes,
    runtime, VARIANTS,
};

const STATUSES: [u16; 10] = [200, 201, 204, 301, 304, 400, 404, 409, 500, 503];
const METHODS: [Method; 2] = [Method::GET, Method::POST];
/// Label sets per route: every method with every status.
const PER_ROUTE: usize = STATUSES.len() * METHODS.len();
const SCALES: [(&str, usize); 3] = [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)];

async fn status_of(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

fn route_path(i: usize) -> String {
    format!("/api/v1/resource_{i:05}")
}

/// A router of `label_sets / 20` routes, without middleware.
fn scale_routes(label_sets: usize) -> Router {
    let mut app = Router::new();
    for i in 0..label_sets / PER_ROUTE {
        app = app.route(&format!("{}/{{code}}", route_path(i)), any(status_of));
    }
    app
}

/// A monitor (not installed) and a router of `label_sets / 20` routes behind its layer.
fn scale_router(label_sets: usize) -> (Monitor, Router) {
    let monitor = Monitor::builder()
        .configure(|s| s.http_max_series = 200_000)
        .build()
        .expect("monitor");
    let app = scale_routes(label_sets).layer(monitor.layer());
    (monitor, app)
}

/// Sends one request per label set.
fn drive_all(rt: &tokio::runtime::Runtime, app: &Router, label_sets: usize) {
    drive_routes(rt, app, 0..label_sets / PER_ROUTE);
}

/// Sends one request per label set of the routes in `routes`.
fn drive_routes(rt: &tokio::runtime::Runtime, app: &Router, routes: Range<usize>) {
    rt.block_on(async {
        for i in routes {
            let base = route_path(i);
            for m in &METHODS {
                for s in STATUSES {
                    let req = Request::builder()
                        .method(m.clone())
                        .uri(format!("{base}/{s}"))
                        .body(Body::empty())
                        .expect("request");
                    let res = app.clone().oneshot(req).await.expect("infallible");
                    assert_eq!(res.status().as_u16(), s);
                }
            }
        }
    });
}

/// `GET /metrics/summary`, body collected; returns the body length.
async fn summary_request(endpoints: &Router) -> usize {
    let req = Request::get("/metrics/summary")
        .body(Body::empty())
        .expect("request");
    let res = endpoints.clone().oneshot(req).await.expect("infallible");
    assert!(res.status().is_success());
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

fn label_sets_of(rt: &tokio::runtime::Runtime, monitor: &Monitor) -> u64 {
    let endpoints: Router = monitor.router();
    let req = Request::get("/metrics/summary")
        .body(Body::empty())
        .expect("request");
    let body = rt.block_on(async {
        let res = endpoints.oneshot(req).await.expect("infallible");
        res.into_body().collect().await.expect("body").to_bytes()
    });
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v["http"]["label_sets"].as_u64().expect("label_sets")
}

/// The peer: `metrics-exporter-prometheus` with `n` bucketed histograms.
fn exporter_with(n: usize) -> PrometheusHandle {
    let recorder = exporter();
    exporter_record(&recorder, 0..n / PER_ROUTE);
    let handle = recorder.handle();
    handle.run_upkeep();
    handle
}

/// A `metrics-exporter-prometheus` recorder with our HTTP buckets for every histogram.
fn exporter() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets(Buckets::http_default().bounds())
        .expect("buckets")
        .build_recorder()
}

/// Records one sample into the histogram of every label set of the routes in `routes`.
fn exporter_record(recorder: &PrometheusRecorder, routes: Range<usize>) {
    metrics::with_local_recorder(recorder, || {
        for i in routes {
            let path = format!("{}/{{code}}", route_path(i));
            for m in &METHODS {
                for s in STATUSES {
                    let labels = [
                        ("method", m.as_str().to_owned()),
                        ("path", path.clone()),
                        ("status", s.to_string()),
                    ];
                    metrics::histogram!("http_request_duration_seconds", &labels).record(0.003);
                }
            }
        }
    });
}

/// Every label set of `routes`, as (method, path, status) strings.
fn label_sets(routes: Range<usize>) -> impl Iterator<Item = [String; 3]> {
    routes.flat_map(|i| {
        let path = format!("{}/{{code}}", route_path(i));
        METHODS.iter().flat_map(move |m| {
            let path = path.clone();
            STATUSES
                .iter()
                .map(move |s| [m.as_str().to_owned(), path.clone(), s.to_string()])
        })
    })
}

/// The peer `prometheus-client`: a registry with one histogram family of `n` label
/// sets, each with one sample, our buckets.
fn prometheus_client_with(n: usize) -> prometheus_client::registry::Registry {
    type Labels = Vec<(&'static str, String)>;
    let bounds: Vec<f64> = Buckets::http_default().bounds().to_vec();
    let family: PcFamily<Labels, PcHistogram, _> =
        PcFamily::new_with_constructor(move || PcHistogram::new(bounds.iter().copied()));
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register(
        "http_request_duration_seconds",
        "HTTP request latency.",
        family.clone(),
    );
    for [method, path, status] in label_sets(0..n / PER_ROUTE) {
        let labels = vec![("method", method), ("path", path), ("status", status)];
        family.get_or_create(&labels).observe(0.003);
    }
    registry
}

/// The label set of the `fastmetrics` peer.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FmLabels([String; 3]);

impl fastmetrics::raw::LabelSetSchema for FmLabels {
    fn names() -> Option<&'static [&'static str]> {
        Some(&["method", "path", "status"])
    }
}

impl fastmetrics::encoder::EncodeLabelSet for FmLabels {
    fn encode(
        &self,
        encoder: &mut dyn fastmetrics::encoder::LabelSetEncoder,
    ) -> fastmetrics::error::Result<()> {
        encoder.encode(&("method", &self.0[0]))?;
        encoder.encode(&("path", &self.0[1]))?;
        encoder.encode(&("status", &self.0[2]))?;
        Ok(())
    }
}

/// The peer `fastmetrics`: a registry with one histogram family of `n` label sets,
/// each with one sample, our buckets.
fn fastmetrics_with(n: usize) -> fastmetrics::registry::Registry {
    use fastmetrics::metrics::{family::Family, histogram::Histogram};
    let bounds: Vec<f64> = Buckets::http_default().bounds().to_vec();
    let family: Family<FmLabels, Histogram> =
        Family::new(move || Histogram::new(bounds.iter().copied()));
    let mut registry = fastmetrics::registry::Registry::default();
    registry
        .register(
            "http_request_duration_seconds",
            "HTTP request latency.",
            family.clone(),
        )
        .expect("register");
    for labels in label_sets(0..n / PER_ROUTE) {
        family.with_or_new(&FmLabels(labels), |h| h.observe(0.003));
    }
    registry
}

fn fastmetrics_text(registry: &fastmetrics::registry::Registry) -> String {
    let mut out = String::new();
    fastmetrics::format::text::encode(
        &mut out,
        registry,
        fastmetrics::format::text::TextProfile::PrometheusV0_0_4,
    )
    .expect("fastmetrics text");
    out
}

fn prometheus_client_text(registry: &prometheus_client::registry::Registry) -> String {
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, registry)
        .expect("prometheus-client text");
    out
}

fn prometheus_client_protobuf(registry: &prometheus_client::registry::Registry) -> Vec<u8> {
    prometheus_client::encoding::prometheus_protobuf::encode_to_vec(registry)
        .expect("prometheus-client protobuf")
}

/// `data` gzipped as `/metrics` does it (flate2, fastest level).
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 8),
        flate2::Compression::fast(),
    );
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Label sets created for the memory figures.
const MEMORY_N: usize = 100_000;

/// Checkpoints at which resident memory is read while the label sets are created.
const CHECKPOINTS: usize = 5;

/// Least-squares slope of resident memory against label sets: bytes per label set.
/// Resident memory moves in steps (allocator arenas, pages), so one before/after
/// difference can be off by tens of MiB; the slope over several checkpoints is not.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    num / den
}

/// One part of the memory figures, in this (fresh) process: prints `name bytes` lines.
fn memory_part(part: &str, rt: &tokio::runtime::Runtime) {
    let routes = MEMORY_N / PER_ROUTE;
    let step = routes / CHECKPOINTS;
    let rss = || rss_bytes().unwrap_or(0) as f64;
    let mut points = Vec::new();
    match part {
        "mcp_monitor" => {
            let (monitor, app) = scale_router(MEMORY_N);
            // The first step also warms the runtime and the allocator: not a point.
            for c in 0..=CHECKPOINTS {
                let range = c.saturating_sub(1) * step..c * step;
                drive_routes(rt, &app, range);
                points.push(((c * step * PER_ROUTE) as f64, rss()));
            }
            let after = rss();
            // The summary store keeps up to 12 frames beside the baseline once the
            // upkeep task has run for a window: tick enough times to reach that state.
            for _ in 0..13 {
                monitor.tick();
            }
            let ticked = rss();
            assert_eq!(label_sets_of(rt, &monitor), MEMORY_N as u64);
            println!("store {:.0}", slope(&points[1..]));
            println!("ring {:.0}", (ticked - after) / MEMORY_N as f64);
        }
        "exporter" => {
            // The same requests through the hand-written facade middleware, recording
            // into a bucketed `metrics-exporter-prometheus` recorder.
            let app = scale_routes(MEMORY_N).layer(middleware::from_fn(facade_middleware));
            let recorder = exporter();
            let handle = recorder.handle();
            for c in 0..=CHECKPOINTS {
                let range = c.saturating_sub(1) * step..c * step;
                metrics::with_local_recorder(&recorder, || drive_routes(rt, &app, range));
                handle.run_upkeep();
                points.push(((c * step * PER_ROUTE) as f64, rss()));
            }
            let text = handle.render();
            assert!(!text.contains("quantile="), "the exporter made a summary");
            assert_eq!(text.matches("_count{").count(), MEMORY_N);
            println!("exporter {:.0}", slope(&points[1..]));
        }
        "bare" => {
            // The same requests without middleware: what creating label sets would
            // cost if they cost nothing (allocator noise; should be about zero).
            let app = scale_routes(MEMORY_N);
            for c in 0..=CHECKPOINTS {
                drive_routes(rt, &app, c.saturating_sub(1) * step..c * step);
                points.push(((c * step * PER_ROUTE) as f64, rss()));
            }
            println!("bare {:.0}", slope(&points[1..]));
        }
        other => panic!("unknown memory part {other}"),
    }
}

/// Resident memory per label set: ours (the store, then the summary ring once full)
/// and the exporter's bucketed histograms. Each part runs in a fresh child process
/// (this binary again), so that memory freed by one part cannot hide the next.
fn memory_per_series() {
    let mut figures = Vec::new();
    for part in ["bare", "mcp_monitor", "exporter"] {
        let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
            .env("MCP_BENCH_MEMORY_PART", part)
            .output()
            .expect("run the memory part");
        assert!(out.status.success(), "memory part {part} failed");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((k, v)) = line.split_once(' ') {
                figures.push((k.to_owned(), v.parse::<f64>().unwrap_or(f64::NAN)));
            }
        }
    }
    let get = |k: &str| {
        figures
            .iter()
            .find(|(n, _)| n == k)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    let total = |b: f64| b * MEMORY_N as f64 / (1024.0 * 1024.0);
    println!("memory per HTTP label set ({MEMORY_N} label sets, resident memory):");
    for (name, key) in [
        ("no middleware (allocator noise)", "bare"),
        ("mcp-monitor store", "store"),
        ("+ summary ring (12 frames, steady)", "ring"),
        ("from_fn facade + exporter histogram", "exporter"),
    ] {
        let b = get(key);
        println!("  {name:<40} {b:>7.0} B  ({:.1} MiB total)", total(b));
    }
}

fn bench_oneshot(c: &mut Criterion, monitor: &Monitor, rt: &tokio::runtime::Runtime) {
    let mut g = c.benchmark_group("http/oneshot");
    for name in VARIANTS {
        let app = router(name, monitor);
        // First request registers the facade series; not part of the measurement.
        rt.block_on(one_request(&app));
        if name == "mcp_monitor_traced" {
            g.bench_function(name, |b| {
                b.iter(|| rt.block_on(one_traced_request(black_box(&app))))
            });
        } else {
            g.bench_function(name, |b| {
                b.iter(|| rt.block_on(one_request(black_box(&app))))
            });
        }
    }
    g.finish();

    // Every facade histogram must be a bucketed histogram, never a summary.
    let text = monitor.render();
    for family in [
        "http_request_duration_seconds_bucket",
        "axum_http_requests_duration_seconds_bucket",
        "mcp_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(family), "{family} missing from /metrics");
    }
    assert!(
        !text.contains("quantile="),
        "a histogram fell back to a summary"
    );
}

fn bench_scale(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    for (label, n) in SCALES {
        let (monitor, app) = scale_router(n);
        drive_all(rt, &app, n);
        drop(app);
        assert_eq!(label_sets_of(rt, &monitor), n as u64);
        let endpoints: Router = monitor.router();
        println!(
            "{label}: /metrics {:.1} MiB, /metrics/summary {:.1} MiB",
            mib(monitor.render().len()),
            mib(rt.block_on(summary_request(&endpoints)))
        );

        let mut g = c.benchmark_group("http/render");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(monitor.render()).len())
        });
        g.finish();

        let mut g = c.benchmark_group("http/summary");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| rt.block_on(summary_request(black_box(&endpoints))))
        });
        g.finish();

        drop(endpoints);

        // The same series as OpenMetrics (timed, like the text, with no other copy of
        // the exposition held), and our text gzipped as `/metrics` sends it.
        let om_len = monitor.render_openmetrics().len();
        let mut g = c.benchmark_group("http/render_openmetrics");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(monitor.render_openmetrics()).len())
        });
        g.finish();
        // Our protobuf (delimited `MetricFamily`, classic and native buckets), as
        // `/metrics` answers Prometheus' proto-first `Accept`.
        let proto = monitor.render_protobuf();
        let mut g = c.benchmark_group("http/render_protobuf");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(monitor.render_protobuf()).len())
        });
        g.finish();
        let text = monitor.render();
        let zipped = gzip(text.as_bytes());
        let mut g = c.benchmark_group("http/gzip");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| gzip(black_box(text.as_bytes())).len())
        });
        g.finish();
        drop(monitor);

        let handle = exporter_with(n);
        let mut g = c.benchmark_group("http/render_exporter");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(handle.render()).len())
        });
        g.finish();
        drop(handle);

        let registry = prometheus_client_with(n);
        let pc_text = prometheus_client_text(&registry);
        let pc_proto = prometheus_client_protobuf(&registry);
        assert_eq!(pc_text.matches("_count{").count(), n);
        let mut g = c.benchmark_group("http/render_prometheus_client");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(prometheus_client_text(&registry)).len())
        });
        g.finish();
        let mut g = c.benchmark_group("http/render_prometheus_client_protobuf");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(prometheus_client_protobuf(&registry)).len())
        });
        g.finish();
        drop(registry);

        let registry = fastmetrics_with(n);
        let fm_text = fastmetrics_text(&registry);
        assert_eq!(fm_text.matches("_count{").count(), n);
        let mut g = c.benchmark_group("http/render_fastmetrics");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(fastmetrics_text(&registry)).len())
        });
        g.finish();
        drop(registry);

        let per = |bytes: usize| bytes as f64 / n as f64;
        println!(
            "{label} bytes per label set: ours text {:.0} (gzip {:.0}, {:.1}x), ours OpenMetrics {:.0}, \
             ours protobuf {:.0} (gzip {:.0}); \
             prometheus-client text {:.0} (gzip {:.0}), protobuf {:.0} (gzip {:.0}); fastmetrics text {:.0}",
            per(text.len()),
            per(zipped.len()),
            text.len() as f64 / zipped.len() as f64,
            per(om_len),
            per(proto.len()),
            per(gzip(&proto).len()),
            per(pc_text.len()),
            per(gzip(pc_text.as_bytes()).len()),
            per(pc_proto.len()),
            per(gzip(&pc_proto).len()),
            per(fm_text.len()),
        );
    }
}

/// One OTLP export at 1k and 10k label sets: the request encoded (what the export task
/// does every `OTEL_METRIC_EXPORT_INTERVAL`), and gzipped; against the text render and
/// the protobuf exposition (the same read-back of the text) of the same monitor, in the
/// same run.
fn bench_otlp(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    for (label, n) in &SCALES[..2] {
        let (monitor, app) = scale_router(*n);
        drive_all(rt, &app, *n);
        drop(app);
        assert_eq!(label_sets_of(rt, &monitor), *n as u64);
        let body = monitor.otlp_request();
        println!(
            "{label}: OTLP request {:.1} MiB ({:.0} bytes per label set), gzipped {:.2} MiB",
            mib(body.len()),
            body.len() as f64 / *n as f64,
            mib(gzip(&body).len())
        );
        let mut g = c.benchmark_group("http/otlp");
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        g.bench_function(BenchmarkId::new("render_text", label), |b| {
            b.iter(|| black_box(monitor.render()).len())
        });
        g.bench_function(BenchmarkId::new("render_protobuf", label), |b| {
            b.iter(|| black_box(monitor.render_protobuf()).len())
        });
        g.bench_function(BenchmarkId::new("encode", label), |b| {
            b.iter(|| black_box(monitor.otlp_request()).len())
        });
        g.bench_function(BenchmarkId::new("encode_gzip", label), |b| {
            b.iter(|| gzip(&black_box(monitor.otlp_request())).len())
        });
        g.finish();
    }
}

/// The benchmark filter given on the command line, if any (criterion's positional
/// argument), so that the costly set-up of the parts it excludes can be skipped.
fn filter() -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--output-format",
        "--format",
        "--color",
        "--profile-time",
        "--plotting-backend",
        "-b",
        "-s",
        "-c",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

fn main() {
    let filter = filter();
    let selected = |id: &str| {
        filter
            .as_deref()
            .is_none_or(|f| id.contains(f) || f.contains(id))
    };
    if let Ok(part) = std::env::var("MCP_BENCH_MEMORY_PART") {
        memory_part(&part, &runtime());
        return;
    }
    let monitor = install_monitor();
    let rt = runtime();
    let mut c = Criterion::default().configure_from_args();
    if selected("memory") {
        memory_per_series();
    }
    if selected("http/oneshot/") {
        bench_oneshot(&mut c, &monitor, &rt);
    }
    if [
        "http/render/",
        "http/summary/",
        "http/render_exporter/",
        "http/render_openmetrics/",
        "http/render_protobuf/",
        "http/render_prometheus_client/",
        "http/render_prometheus_client_protobuf/",
        "http/render_fastmetrics/",
        "http/gzip/",
    ]
    .iter()
    .any(|id| selected(id))
    {
        bench_scale(&mut c, &rt);
    }
    if selected("http/otlp/") {
        bench_otlp(&mut c, &rt);
    }
    c.final_summary();
}
