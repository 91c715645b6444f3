//! The JSON documents served by the endpoints: summary, report and dashboard.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::alerts::engine::Alert;
use crate::base::format::{hit_ratio, latency, percent, uptime};
use crate::base::names::OpKind;
use crate::reading::{Agg, MetricValue, OpPart, Reading, Stats};
use crate::settings::Settings;

/// A refusal or failure as the endpoints answer it: `status` with `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[derive(Debug, Serialize)]
struct HttpEntry {
    method: &'static str,
    path: String,
    status: String,
    total: Stats,
    window: Stats,
}

#[derive(Debug, Serialize)]
struct OpEntry {
    #[serde(flatten)]
    labels: serde_json::Map<String, serde_json::Value>,
    success: u64,
    cancelled: u64,
    total: Stats,
    window: Stats,
}

#[derive(Debug, Serialize)]
struct CacheEntry {
    cache: String,
    hits: u64,
    misses: u64,
    hit_ratio: Option<f64>,
    window_hit_ratio: Option<f64>,
}

/// The application's own `metrics` series: every name with its label sets; counters
/// and gauges with their value, histograms with count, sum, mean and quantiles
/// (interpolated in their bucket: the error is at most the bucket's width, and `null`
/// above the largest bound).
fn metrics_document(r: &Reading) -> serde_json::Value {
    let families: Vec<_> = r
        .metrics()
        .iter()
        .map(|f| {
            let series: Vec<_> = f
                .series
                .iter()
                .map(|s| {
                    let labels: serde_json::Map<_, _> = s
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone().into()))
                        .collect();
                    match &s.value {
                        MetricValue::Counter(v) => {
                            serde_json::json!({"labels": labels, "value": v})
                        }
                        MetricValue::Gauge(v) => serde_json::json!({"labels": labels, "value": v}),
                        MetricValue::Histogram(h) => serde_json::json!({
                            "labels": labels,
                            "count": h.count(),
                            "sum": h.sum,
                            "mean": h.mean(),
                            "p50": h.quantile(0.5),
                            "p95": h.quantile(0.95),
                            "p99": h.quantile(0.99),
                        }),
                    }
                })
                .collect();
            serde_json::json!({
                "name": f.name,
                "kind": f.kind.as_str(),
                "help": f.help,
                "label_sets": f.label_sets,
                "overflowed": f.overflowed,
                "series": series,
            })
        })
        .collect();
    families.into()
}

/// The Tokio runtime watched, or `null` when there is none (absent, not zero).
fn runtime_document(r: &Reading) -> serde_json::Value {
    let Some(rt) = r.runtime() else {
        return serde_json::Value::Null;
    };
    serde_json::json!({
        "flavor": rt.now.flavor,
        "workers": rt.now.workers,
        "alive_tasks": rt.now.alive_tasks,
        "global_queue_depth": rt.now.global_queue_depth,
        "busy_seconds_total": rt.now.busy.as_secs_f64(),
        "parks_total": rt.now.parks,
        "window": {
            "busy_ratio": rt.busy_ratio,
            "max_global_queue_depth": rt.max_global_queue_depth,
        },
    })
}

/// The calls with a poll longer than `MCP_LONG_POLL_THRESHOLD` (a blocked executor):
/// each with its count and longest poll, since start.
fn long_polls_document(r: &Reading, s: &Settings) -> serde_json::Value {
    let sites: Vec<_> = r
        .long_polls()
        .iter()
        .map(|p| {
            serde_json::json!({
                "kind": p.kind,
                "name": p.name,
                "count": p.count,
                "longest_seconds": p.longest.as_secs_f64(),
            })
        })
        .collect();
    serde_json::json!({
        "threshold_seconds": s.long_poll_threshold.as_secs_f64(),
        "sites": sites,
    })
}

fn op_entries(r: &Reading, kind: OpKind, keys: &[&str]) -> Vec<OpEntry> {
    r.ops(kind)
        .iter()
        .map(|p: &OpPart| {
            let total = r.op_since(p, &r.reset);
            let window = r.op_since(p, &r.window);
            OpEntry {
                labels: keys
                    .iter()
                    .zip(p.series.labels)
                    .map(|(k, v)| ((*k).to_owned(), v.into()))
                    .collect(),
                success: total.statuses[0],
                cancelled: total.statuses[2],
                total: Agg::of_op(&total).into(),
                window: Agg::of_op(&window).into(),
            }
        })
        .collect()
}

/// `GET /metrics/summary`: every label set with its counts, failures, error rate, and
/// latency (mean and p95), since the last reset (`total`) and over the window (`window`).
pub(crate) fn summary_document(r: &Reading, s: &Settings) -> serde_json::Value {
    let http: Vec<_> = r
        .http_series()
        .iter()
        .map(|s| {
            let stats = |h: &crate::base::histogram::HistogramSnapshot| {
                let count = h.count();
                Stats::from(Agg {
                    count,
                    failures: if s.status >= 500 { count } else { 0 },
                    mean_seconds: h.mean_seconds(),
                    p95_seconds: h.quantile(0.95),
                })
            };
            HttpEntry {
                method: s.method.as_str(),
                path: s.path.to_string(),
                status: s.status.to_string(),
                total: stats(&r.http_since(s.index, &r.reset)),
                window: stats(&r.http_since(s.index, &r.window)),
            }
        })
        .collect();
    let caches: Vec<_> = r
        .caches
        .iter()
        .map(|(name, key)| {
            let total = r.cache_since(*key, &r.reset);
            let window = r.cache_since(*key, &r.window);
            CacheEntry {
                cache: name.to_string(),
                hits: total[0],
                misses: total[1],
                hit_ratio: hit_ratio(total[0], total[1]),
                window_hit_ratio: hit_ratio(window[0], window[1]),
            }
        })
        .collect();
    let active: serde_json::Map<_, _> = r
        .active
        .iter()
        .map(|(w, n)| ((*w).to_owned(), (*n).into()))
        .collect();
    let mut doc = serde_json::json!({
        "uptime_seconds": r.uptime.as_secs_f64(),
        "since_reset_seconds": r.since_reset().as_secs_f64(),
        "window_seconds": r.window_span().as_secs_f64(),
        "http": {
            "total": Stats::from(r.http_agg(&r.reset)),
            "window": Stats::from(r.http_agg(&r.window)),
            "in_flight": r.http.in_flight,
            "overflowed_requests": r.http.overflowed,
            "label_sets": r.http.label_sets,
            "series": http,
        },
        "grpc": grpc_document(r),
        "db": op_entries(r, OpKind::Db, &["operation", "table"]),
        "workflow_steps": op_entries(r, OpKind::Step, &["workflow", "step"]),
        "workflow_runs": op_entries(r, OpKind::Run, &["workflow"]),
        "active_workflows": active,
        "caches": caches,
        "runtime": runtime_document(r),
        "long_polls": long_polls_document(r, s),
        "metrics": metrics_document(r),
    });
    crate::base::format::round_json(&mut doc);
    doc
}

/// The gRPC calls of the summary: all calls and the server's failures since reset and
/// over the window, and per method its calls by code (since reset) and, since reset
/// and over the window, the figures of a route's row (`count`, `failures`: the
/// server's errors, `error_rate`, `mean_seconds`; `p95_seconds` is `null`, the ring
/// keeps no gRPC buckets).
fn grpc_document(r: &Reading) -> serde_json::Value {
    use crate::reading::GrpcMethodTotals;
    let totals = |origin| {
        let (calls, server_errors) = r.grpc_totals(origin);
        serde_json::json!({
            "count": calls,
            "failures": server_errors,
            "error_rate": (calls > 0).then(|| server_errors as f64 / calls as f64),
        })
    };
    let stats = |m: Option<&GrpcMethodTotals>| {
        serde_json::json!({
            "count": m.map_or(0, |m| m.calls),
            "failures": m.map_or(0, |m| m.server_errors),
            "error_rate": m.and_then(GrpcMethodTotals::error_rate),
            "mean_seconds": m.and_then(GrpcMethodTotals::mean_seconds),
            "p95_seconds": null,
        })
    };
    let window = r.grpc_methods(&r.window);
    let methods: Vec<_> = r
        .grpc_methods(&r.reset)
        .iter()
        .map(|m| {
            let w = window
                .iter()
                .find(|w| w.service == m.service && w.method == m.method);
            let codes: serde_json::Map<_, _> = m
                .codes
                .iter()
                .map(|(c, n)| ((*c).to_owned(), (*n).into()))
                .collect();
            serde_json::json!({
                "service": &*m.service,
                "method": &*m.method,
                "codes": codes,
                "total": stats(Some(m)),
                "window": stats(w),
            })
        })
        .collect();
    let in_flight: Vec<_> = r
        .grpc
        .in_flight
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(m, n)| serde_json::json!({ "service": &*m.service, "method": &*m.method, "in_flight": n }))
        .collect();
    serde_json::json!({
        "total": totals(&r.reset),
        "window": totals(&r.window),
        "methods": methods,
        "in_flight": in_flight,
    })
}

/// `GET /api/v1/metrics/report`: key metrics over the window and since the last
/// reset, resources, pools, and the active alerts.
pub(crate) fn report_document(r: &Reading, s: &Settings) -> serde_json::Value {
    let res = &r.resources;
    let pools: Vec<_> = r
        .pools
        .iter()
        .map(|p| {
            serde_json::json!({
                "pool": p.name, "in_use": p.in_use, "idle": p.idle, "max_size": p.max_size,
                "utilization": p.utilization(),
            })
        })
        .collect();
    let (reset, window) = (&r.reset, &r.window);
    let mut doc = serde_json::json!({
        "generated_at": crate::base::format::now_rfc3339(),
        "instance": s.instance,
        "uptime_seconds": r.uptime.as_secs_f64(),
        "since_reset_seconds": r.since_reset().as_secs_f64(),
        "window_seconds": r.window_span().as_secs_f64(),
        "requests": {
            "total": Stats::from(r.http_agg(reset)),
            "window": Stats::from(r.http_agg(window)),
        },
        "grpc": {
            "calls": r.grpc_totals(reset).0,
            "server_errors": r.grpc_totals(reset).1,
            "window_calls": r.grpc_totals(window).0,
            "window_server_errors": r.grpc_totals(window).1,
        },
        "database": {
            "total": Stats::from(r.ops_agg(OpKind::Db, reset)),
            "window": Stats::from(r.ops_agg(OpKind::Db, window)),
            "pools": pools,
        },
        "workflows": {
            "active": r.active_total(),
            "steps": Stats::from(r.ops_agg(OpKind::Step, reset)),
            "runs": Stats::from(r.ops_agg(OpKind::Run, reset)),
        },
        "resources": {
            "cpu": res.cpu,
            "memory": res.memory,
            "load_per_core": res.load_per_core,
            "process_resident_bytes": res.process_resident_bytes,
            "process_cpu": res.process_cpu,
            "cache_hit_ratio": r.cache_hit_ratio(reset),
        },
        "runtime": runtime_document(r),
        "long_polls": long_polls_document(r, s),
        "metrics": metrics_document(r),
        "alerts": {
            "active_count": r.alerts.active.len(),
            "active": r.alerts.active,
            "history_size": r.alerts.history.len(),
        },
        // Each objective of MCP_SLOS: its budget left and burn rates, as of the last
        // alert evaluation.
        "objectives": r.slos,
    });
    crate::base::format::round_json(&mut doc);
    doc
}

fn opt_percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), percent)
}

fn opt_latency(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), latency)
}

/// The dashboard document, in the original Python service's shape and string formats.
#[derive(Debug, Serialize)]
struct Dashboard {
    /// `MCP_INSTANCE`.
    instance: String,
    system: serde_json::Value,
    workflows: serde_json::Value,
    database: serde_json::Value,
    alerts: DashboardAlerts,
}

#[derive(Debug, Serialize)]
struct DashboardAlerts {
    active: Vec<Alert>,
    history: Vec<Alert>,
}

/// `GET /api/v1/metrics/dashboard`. Counts are since the last reset; a value with no
/// data yet reads `"n/a"`; numbers keep what is meaningful, as in the other documents.
pub(crate) fn dashboard_document(r: &Reading, s: &Settings) -> serde_json::Value {
    let mut doc = serde_json::to_value(dashboard(r, s)).unwrap_or_default();
    crate::base::format::round_json(&mut doc);
    doc
}

fn dashboard(r: &Reading, s: &Settings) -> Dashboard {
    let res = &r.resources;
    let reset = &r.reset;
    let http = r.http_agg(reset);
    let wf = r.workflow_agg(reset);
    let db = r.ops_agg(OpKind::Db, reset);
    let completion = (wf.count > 0).then(|| 1.0 - wf.failures as f64 / wf.count as f64);
    Dashboard {
        instance: s.instance.clone(),
        system: serde_json::json!({
            "uptime": uptime(r.uptime),
            "requests": {
                "total": http.count,
                "errors": http.failures,
                "average_latency": opt_latency(http.mean_seconds),
            },
            "resources": {
                "memory": opt_percent(res.memory),
                "cpu": opt_percent(res.cpu),
                "cache_hit_ratio": opt_percent(r.cache_hit_ratio(reset)),
            },
            "runtime": match r.runtime() {
                Some(rt) => serde_json::json!({
                    "workers": rt.now.workers,
                    "busy": opt_percent(rt.busy_ratio),
                    "global_queue_depth": rt.now.global_queue_depth,
                }),
                None => serde_json::Value::Null,
            },
        }),
        workflows: serde_json::json!({
            "active": r.active_total(),
            "completion_rate": opt_percent(completion),
            "average_execution_time": opt_latency(wf.mean_seconds),
            "error_rate": opt_percent(wf.error_rate()),
        }),
        database: serde_json::json!({
            "operations": db.count,
            "errors": db.failures,
            "average_latency": opt_latency(db.mean_seconds),
            "pool_utilization": opt_percent(r.pool_utilization()),
        }),
        alerts: DashboardAlerts {
            active: r.alerts.active.clone(),
            history: r.alerts.history.clone(),
        },
    }
}
