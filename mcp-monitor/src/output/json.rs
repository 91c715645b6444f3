//! The JSON documents served by the endpoints: summary, report and dashboard.

use serde::Serialize;

use crate::alerts::engine::Alert;
use crate::base::format::{latency, percent, uptime};
use crate::calls::registry::registry;
use crate::monitor::Monitor;
use crate::summary::store::{Agg, OpRow, View};

/// Counts and latency of a group of calls.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// Calls (requests, operations).
    pub count: u64,
    /// Failed calls: 5xx responses, `Err` returns or panics.
    pub failures: u64,
    /// `failures / count`, `null` without calls.
    pub error_rate: Option<f64>,
    /// Mean latency in seconds, `null` without calls.
    pub mean_seconds: Option<f64>,
    /// 95th percentile latency in seconds (interpolated within histogram buckets),
    /// `null` without calls.
    pub p95_seconds: Option<f64>,
}

impl From<Agg> for Stats {
    fn from(a: Agg) -> Self {
        Self {
            count: a.count,
            failures: a.failures,
            error_rate: a.error_rate(),
            mean_seconds: a.mean_seconds,
            p95_seconds: a.p95_seconds,
        }
    }
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

fn op_entries(rows: &[OpRow], keys: &[&str]) -> Vec<OpEntry> {
    rows.iter()
        .map(|r| OpEntry {
            labels: keys
                .iter()
                .zip(r.labels)
                .map(|(k, v)| ((*k).to_owned(), v.into()))
                .collect(),
            success: r.total.statuses[0],
            cancelled: r.total.statuses[2],
            total: Agg::of_op(&r.total, &r.buckets).into(),
            window: Agg::of_op(&r.window, &r.buckets).into(),
        })
        .collect()
}

/// `GET /metrics/summary`: every label set with its counts, failures, error rate, and
/// latency (mean and p95), since the last reset (`total`) and over the window (`window`).
pub(crate) fn summary(m: &Monitor) -> serde_json::Value {
    let view = m.view();
    let http: Vec<_> = view
        .http
        .iter()
        .map(|r| {
            let fail = |h: &crate::base::histogram::HistogramSnapshot| {
                if r.is_error() {
                    h.count()
                } else {
                    0
                }
            };
            let stats = |h: &crate::base::histogram::HistogramSnapshot| {
                let mut a = Agg {
                    count: h.count(),
                    failures: fail(h),
                    mean_seconds: h.mean_seconds(),
                    p95_seconds: h.quantile_seconds(&view.http_buckets, 0.95),
                };
                a.failures = a.failures.min(a.count);
                Stats::from(a)
            };
            HttpEntry {
                method: r.series.method.as_str(),
                path: r.series.path.to_string(),
                status: r.series.status.to_string(),
                total: stats(&r.total),
                window: stats(&r.window),
            }
        })
        .collect();
    let caches: Vec<_> = view
        .caches
        .iter()
        .map(|c| {
            let ratio = |v: [u64; 2]| (v[0] + v[1] > 0).then(|| v[0] as f64 / (v[0] + v[1]) as f64);
            CacheEntry {
                cache: c.name.clone(),
                hits: c.total[0],
                misses: c.total[1],
                hit_ratio: ratio(c.total),
                window_hit_ratio: ratio(c.window),
            }
        })
        .collect();
    let active: serde_json::Map<_, _> = registry()
        .active_gauges()
        .iter()
        .map(|g| (g.workflow.to_owned(), g.get().into()))
        .collect();
    serde_json::json!({
        "uptime_seconds": m.uptime().as_secs_f64(),
        "since_reset_seconds": view.since_reset.as_secs_f64(),
        "window_seconds": view.window.as_secs_f64(),
        "http": {
            "total": Stats::from(view.http_agg(false)),
            "window": Stats::from(view.http_agg(true)),
            "in_flight": m.inner_http().in_flight(),
            "overflowed_requests": m.inner_http().overflowed(),
            "label_sets": m.inner_http().len(),
            "series": http,
        },
        "db": op_entries(&view.db, &["operation", "table"]),
        "workflow_steps": op_entries(&view.steps, &["workflow", "step"]),
        "workflow_runs": op_entries(&view.runs, &["workflow"]),
        "active_workflows": active,
        "caches": caches,
    })
}

fn active_total() -> i64 {
    registry().active_gauges().iter().map(|g| g.get()).sum()
}

/// Workflow figures from runs when the application marks runs, from steps otherwise.
fn workflow_agg(view: &View) -> Agg {
    if view.runs.iter().any(|r| r.total.total() > 0) {
        View::ops_agg(&view.runs, false)
    } else {
        View::ops_agg(&view.steps, false)
    }
}

/// `GET /api/v1/metrics/report`: key metrics over the window and since the last
/// reset, resources, pools, and the active alerts.
pub(crate) fn report(m: &Monitor) -> serde_json::Value {
    let view = m.view();
    let res = m.resources();
    let pools: Vec<_> = m
        .pool_samples()
        .into_iter()
        .map(|p| {
            serde_json::json!({
                "pool": p.name, "in_use": p.in_use, "idle": p.idle, "max_size": p.max_size,
                "utilization": p.utilization(),
            })
        })
        .collect();
    let active = m.active_alerts();
    serde_json::json!({
        "generated_at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "instance": m.settings().instance,
        "uptime_seconds": m.uptime().as_secs_f64(),
        "since_reset_seconds": view.since_reset.as_secs_f64(),
        "window_seconds": view.window.as_secs_f64(),
        "requests": {
            "total": Stats::from(view.http_agg(false)),
            "window": Stats::from(view.http_agg(true)),
        },
        "database": {
            "total": Stats::from(View::ops_agg(&view.db, false)),
            "window": Stats::from(View::ops_agg(&view.db, true)),
            "pools": pools,
        },
        "workflows": {
            "active": active_total(),
            "steps": Stats::from(View::ops_agg(&view.steps, false)),
            "runs": Stats::from(View::ops_agg(&view.runs, false)),
        },
        "resources": {
            "cpu": res.cpu,
            "memory": res.memory,
            "load_per_core": res.load_per_core,
            "process_resident_bytes": res.process_resident_bytes,
            "process_cpu": res.process_cpu,
            "cache_hit_ratio": view.cache_hit_ratio(false),
        },
        "alerts": {
            "active_count": active.len(),
            "active": active,
            "history_size": m.alert_history().len(),
        },
    })
}

fn opt_percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), percent)
}

fn opt_latency(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), latency)
}

/// The dashboard document, in the seed's shape and string formats.
#[derive(Debug, Serialize)]
pub(crate) struct Dashboard {
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
/// data yet reads `"n/a"`.
pub(crate) fn dashboard(m: &Monitor) -> Dashboard {
    let view = m.view();
    let res = m.resources();
    let http = view.http_agg(false);
    let wf = workflow_agg(&view);
    let db = View::ops_agg(&view.db, false);
    let pools = m.pool_samples();
    let (in_use, max) = pools.iter().fold((0u64, 0u64), |(u, x), p| {
        (u + u64::from(p.in_use), x + u64::from(p.max_size))
    });
    let completion = (wf.count > 0).then(|| 1.0 - wf.failures as f64 / wf.count as f64);
    Dashboard {
        instance: m.settings().instance.clone(),
        system: serde_json::json!({
            "uptime": uptime(m.uptime()),
            "requests": {
                "total": http.count,
                "errors": http.failures,
                "average_latency": opt_latency(http.mean_seconds),
            },
            "resources": {
                "memory": opt_percent(res.memory),
                "cpu": opt_percent(res.cpu),
                "cache_hit_ratio": opt_percent(view.cache_hit_ratio(false)),
            },
        }),
        workflows: serde_json::json!({
            "active": active_total(),
            "completion_rate": opt_percent(completion),
            "average_execution_time": opt_latency(wf.mean_seconds),
            "error_rate": opt_percent(wf.error_rate()),
        }),
        database: serde_json::json!({
            "operations": db.count,
            "errors": db.failures,
            "average_latency": opt_latency(db.mean_seconds),
            "pool_utilization": opt_percent((max > 0).then(|| in_use as f64 / max as f64)),
        }),
        alerts: DashboardAlerts {
            active: m.active_alerts(),
            history: m.alert_history(),
        },
    }
}
