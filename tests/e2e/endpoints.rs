//! The monitor's JSON endpoints as the demo serves them: `/metrics/summary`,
//! `/api/v1/metrics/report` and `/api/v1/metrics/dashboard` key by key, their string
//! formats, their `/metrics/...` aliases, and an alert that fires through them.

use std::time::Duration;

use crate::common::{
    assert_keys, eventually, is_latency, is_percent, is_rfc3339_with_offset, is_uptime, start,
    Exposition, TestServer,
};
use mcp_monitor::Monitor;
use serde_json::{json, Value};

const STATS: &[&str] = &[
    "count",
    "failures",
    "error_rate",
    "mean_seconds",
    "p95_seconds",
];

#[track_caller]
fn assert_stats(v: &Value, count: Option<u64>) {
    assert_keys(v, STATS);
    if let Some(n) = count {
        assert_eq!(v["count"], n, "{v}");
    }
    let c = v["count"].as_u64().expect("count");
    assert!(v["failures"].as_u64().expect("failures") <= c);
    for k in ["error_rate", "mean_seconds", "p95_seconds"] {
        if c == 0 {
            assert!(v[k].is_null(), "{k} without calls: {v}");
        } else {
            let x = v[k].as_f64().unwrap_or_else(|| panic!("{k}: {v}"));
            assert!(x.is_finite() && x >= 0.0, "{k}: {v}");
        }
    }
}

/// Some traffic: 3 users created, 4 lookups (2 hits), a 404, a workflow run and a
/// failed one. 10 requests.
async fn traffic(s: &TestServer) {
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            s.create_user(&format!("u{i}"), &format!("u{i}@example.com"))
                .await,
        );
    }
    for id in [ids[0], ids[0], ids[1], ids[1]] {
        assert_eq!(s.get(&format!("/users/{id}")).await.status(), 200);
    }
    assert_eq!(s.get("/users/424242").await.status(), 404);
    s.run_workflow_ok_and_invalid(json!([{"a": 1}, "b"])).await;
}

#[tokio::test]
async fn summary_has_every_label_set_with_counts_errors_and_latency() {
    let s = start(Monitor::builder()).await;
    traffic(&s).await;
    let v = s.get_json("/metrics/summary").await;
    assert_keys(
        &v,
        &[
            "uptime_seconds",
            "since_reset_seconds",
            "window_seconds",
            "http",
            "grpc",
            "db",
            "workflow_steps",
            "workflow_runs",
            "active_workflows",
            "caches",
            "runtime",
            "long_polls",
            "metrics",
        ],
    );
    // The demo served on this test's Tokio runtime: its figures, not zeros.
    assert_keys(
        &v["runtime"],
        &[
            "flavor",
            "workers",
            "alive_tasks",
            "global_queue_depth",
            "busy_seconds_total",
            "parks_total",
            "window",
        ],
    );
    assert!(v["runtime"]["workers"].as_u64().is_some_and(|w| w >= 1));
    assert!(v["metrics"].is_array(), "{}", v["metrics"]);
    for k in ["uptime_seconds", "since_reset_seconds", "window_seconds"] {
        assert!(v[k].as_f64().is_some_and(|x| x >= 0.0), "{k}: {}", v[k]);
    }

    let http = &v["http"];
    assert_keys(
        http,
        &[
            "total",
            "window",
            "in_flight",
            "overflowed_requests",
            "label_sets",
            "series",
        ],
    );
    assert_stats(&http["total"], Some(10));
    assert_stats(&http["window"], Some(10));
    assert_eq!(http["total"]["failures"], 0, "no 5xx");
    assert_eq!(http["in_flight"], 0);
    assert_eq!(http["overflowed_requests"], 0);
    let series = http["series"].as_array().unwrap();
    assert_eq!(http["label_sets"], series.len());
    for e in series {
        assert_keys(e, &["method", "path", "status", "total", "window"]);
        assert_stats(&e["total"], None);
        assert_stats(&e["window"], None);
    }
    let find = |method: &str, path: &str, status: &str| {
        series
            .iter()
            .find(|e| e["method"] == method && e["path"] == path && e["status"] == status)
            .unwrap_or_else(|| panic!("no series {method} {path} {status} in {series:?}"))
    };
    assert_stats(&find("POST", "/users", "201")["total"], Some(3));
    assert_stats(&find("GET", "/users/{id}", "200")["total"], Some(4));
    assert_stats(&find("GET", "/users/{id}", "404")["total"], Some(1));
    assert_stats(
        &find("POST", "/workflows/data_processing", "422")["total"],
        Some(1),
    );

    let db = v["db"].as_array().unwrap();
    let select = db
        .iter()
        .find(|e| e["operation"] == "select" && e["table"] == "users")
        .expect("select users");
    assert_keys(
        select,
        &[
            "operation",
            "table",
            "success",
            "cancelled",
            "total",
            "window",
        ],
    );
    assert_stats(&select["total"], None);
    assert!(
        select["total"]["count"].as_u64().unwrap() >= 3,
        "3 cache misses"
    );

    let steps = v["workflow_steps"].as_array().unwrap();
    for step in ["validation", "transformation"] {
        let e = steps
            .iter()
            .find(|e| e["workflow"] == "data_processing" && e["step"] == step)
            .unwrap_or_else(|| panic!("step {step}"));
        assert_keys(
            e,
            &[
                "workflow",
                "step",
                "success",
                "cancelled",
                "total",
                "window",
            ],
        );
        assert_stats(&e["window"], None);
    }
    let runs = v["workflow_runs"].as_array().unwrap();
    let run = runs
        .iter()
        .find(|e| e["workflow"] == "data_processing")
        .expect("data_processing runs");
    assert_keys(
        run,
        &["workflow", "success", "cancelled", "total", "window"],
    );
    assert!(run["total"]["failures"].as_u64().unwrap() >= 1);

    assert!(v["active_workflows"]["data_processing"].is_i64());

    let caches = v["caches"].as_array().unwrap();
    assert_eq!(caches.len(), 1);
    let c = &caches[0];
    assert_keys(
        c,
        &["cache", "hits", "misses", "hit_ratio", "window_hit_ratio"],
    );
    assert_eq!(c["cache"], "users");
    assert_eq!(c["hits"], 2);
    assert_eq!(c["misses"], 3);
    assert_eq!(c["hit_ratio"], 0.4);
}

#[tokio::test]
async fn report_has_key_metrics_resources_pools_and_alerts() {
    let s = start(Monitor::builder()).await;
    traffic(&s).await;
    let v = s.get_json("/api/v1/metrics/report").await;
    assert_keys(
        &v,
        &[
            "generated_at",
            "instance",
            "uptime_seconds",
            "since_reset_seconds",
            "window_seconds",
            "requests",
            "grpc",
            "database",
            "workflows",
            "resources",
            "alerts",
            "objectives",
            "runtime",
            "long_polls",
            "metrics",
        ],
    );
    // No objective declared: an empty list.
    assert_eq!(v["objectives"], json!([]));
    assert_eq!(v["instance"], s.monitor.settings().instance);
    assert!(
        is_rfc3339_with_offset(v["generated_at"].as_str().unwrap()),
        "{}",
        v["generated_at"]
    );
    assert_keys(&v["requests"], &["total", "window"]);
    assert_stats(&v["requests"]["total"], Some(10));
    assert_stats(&v["requests"]["window"], Some(10));

    assert_keys(&v["database"], &["total", "window", "pools"]);
    assert_stats(&v["database"]["total"], None);
    let pools = v["database"]["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 1);
    assert_keys(
        &pools[0],
        &["pool", "in_use", "idle", "max_size", "utilization"],
    );
    assert_eq!(pools[0]["pool"], "sqlite");
    assert_eq!(pools[0]["max_size"], mcp_monitor_e2e::demo::POOL_SIZE);
    let u = pools[0]["utilization"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&u), "{u}");

    assert_keys(&v["workflows"], &["active", "steps", "runs"]);
    assert!(v["workflows"]["active"].is_i64());
    assert_stats(&v["workflows"]["steps"], None);
    assert_stats(&v["workflows"]["runs"], None);

    assert_keys(
        &v["resources"],
        &[
            "cpu",
            "memory",
            "load_per_core",
            "process_resident_bytes",
            "process_cpu",
            "cache_hit_ratio",
        ],
    );
    assert_eq!(v["resources"]["cache_hit_ratio"], 0.4);

    assert_keys(&v["alerts"], &["active_count", "active", "history_size"]);
    assert_eq!(
        v["alerts"]["active_count"],
        v["alerts"]["active"].as_array().unwrap().len()
    );

    // The alias serves the same document.
    let alias = s.get_json("/metrics/report").await;
    assert_keys(
        &alias,
        &v.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(alias["requests"], v["requests"]);
}

#[tokio::test]
async fn dashboard_has_the_seed_shape_and_formats() {
    let s =
        start(Monitor::builder().configure(|c| c.resource_interval = Duration::from_millis(250)))
            .await;
    // Before any traffic, latencies and ratios read "n/a".
    let v = s.get_json("/api/v1/metrics/dashboard").await;
    assert_eq!(
        v["system"]["requests"],
        json!({"total": 0, "errors": 0, "average_latency": "n/a"})
    );
    assert_eq!(v["system"]["resources"]["cache_hit_ratio"], "n/a");

    traffic(&s).await;
    // CPU needs two samples; wait for the sampler's second one.
    let v = eventually("the dashboard to show CPU and memory", || async {
        let v = s.get_json("/api/v1/metrics/dashboard").await;
        let r = &v["system"]["resources"];
        (r["cpu"] != "n/a" && r["memory"] != "n/a").then_some(v)
    })
    .await;

    assert_keys(
        &v,
        &["instance", "system", "workflows", "database", "alerts"],
    );
    assert_eq!(v["instance"], s.monitor.settings().instance);
    let sys = &v["system"];
    assert_keys(sys, &["uptime", "requests", "resources", "runtime"]);
    assert_keys(&sys["runtime"], &["workers", "busy", "global_queue_depth"]);
    assert!(
        is_uptime(sys["uptime"].as_str().unwrap()),
        "{}",
        sys["uptime"]
    );
    assert_eq!(sys["uptime"], "0h 0m");
    assert_keys(&sys["requests"], &["total", "errors", "average_latency"]);
    assert_eq!(sys["requests"]["total"], 10);
    assert_eq!(sys["requests"]["errors"], 0);
    let latency = sys["requests"]["average_latency"].as_str().unwrap();
    assert!(is_latency(latency) && latency != "n/a", "{latency}");
    assert_keys(&sys["resources"], &["memory", "cpu", "cache_hit_ratio"]);
    for k in ["memory", "cpu"] {
        let p = sys["resources"][k].as_str().unwrap();
        assert!(is_percent(p) && p != "n/a", "{k}: {p}");
    }
    assert_eq!(sys["resources"]["cache_hit_ratio"], "40%");

    let wf = &v["workflows"];
    assert_keys(
        wf,
        &[
            "active",
            "completion_rate",
            "average_execution_time",
            "error_rate",
        ],
    );
    assert!(wf["active"].is_i64());
    for k in ["completion_rate", "error_rate"] {
        let p = wf[k].as_str().unwrap();
        assert!(is_percent(p) && p != "n/a", "{k}: {p}");
    }
    let t = wf["average_execution_time"].as_str().unwrap();
    assert!(is_latency(t) && t != "n/a", "{t}");

    let db = &v["database"];
    assert_keys(
        db,
        &[
            "operations",
            "errors",
            "average_latency",
            "pool_utilization",
        ],
    );
    assert!(
        db["operations"].as_u64().unwrap() >= 6,
        "3 inserts, 3 selects"
    );
    assert!(db["errors"].is_u64());
    let l = db["average_latency"].as_str().unwrap();
    assert!(is_latency(l) && l != "n/a", "{l}");
    let p = db["pool_utilization"].as_str().unwrap();
    assert!(is_percent(p) && p != "n/a", "{p}");

    assert_keys(&v["alerts"], &["active", "history"]);
    assert!(v["alerts"]["active"].is_array() && v["alerts"]["history"].is_array());

    // The alias serves the same shape.
    let alias = s.get_json("/metrics/dashboard").await;
    assert_keys(
        &alias,
        &["instance", "system", "workflows", "database", "alerts"],
    );
    assert_eq!(alias["system"]["requests"], sys["requests"]);
}

#[tokio::test]
async fn an_alert_fires_and_is_listed_with_every_field() {
    // Fire fast and only on the cache: a hit ratio under 100% over one lookup.
    let s = start(Monitor::builder().configure(|c| {
        c.alert_for = Duration::ZERO;
        c.alert_min_samples = 1;
        c.alert_evaluation_interval = Duration::from_millis(100);
        c.cache_hit_ratio_threshold = 1.0;
        c.cpu_threshold = 1.0;
        c.memory_threshold = 1.0;
        c.system_load_threshold = 1e9;
    }))
    .await;
    let id = s.create_user("Grace", "grace@example.com").await;
    for _ in 0..2 {
        assert_eq!(s.get(&format!("/users/{id}")).await.status(), 200);
    }
    // One miss, one hit: 50%, under 100% / 1.2, so critical.
    let alert = eventually("LOW_CACHE_HIT_RATIO to fire", || async {
        let v = s.get_json("/api/v1/metrics/dashboard").await;
        v["alerts"]["active"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == "LOW_CACHE_HIT_RATIO")
            .cloned()
    })
    .await;
    assert_keys(
        &alert,
        &[
            "type",
            "severity",
            "current_value",
            "threshold",
            "timestamp",
            "components",
        ],
    );
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["current_value"], "50%");
    assert_eq!(alert["threshold"], "100%");
    assert_eq!(alert["components"], json!(["cache:users"]));
    assert!(
        is_rfc3339_with_offset(alert["timestamp"].as_str().unwrap()),
        "{alert}"
    );

    let v = s.get_json("/api/v1/metrics/dashboard").await;
    let history = v["alerts"]["history"].as_array().unwrap();
    assert!(
        history.iter().any(|a| a["type"] == "LOW_CACHE_HIT_RATIO"),
        "{v}"
    );
    let report = s.get_json("/api/v1/metrics/report").await;
    assert!(report["alerts"]["active_count"].as_u64().unwrap() >= 1);
    assert!(report["alerts"]["history_size"].as_u64().unwrap() >= 1);

    let m: Exposition = s.metrics().await;
    assert_eq!(
        m.value(
            "mcp_alerts",
            &[
                ("alertname", "LOW_CACHE_HIT_RATIO"),
                ("severity", "critical"),
                ("alertstate", "firing"),
                ("component", "cache:users"),
            ]
        ),
        1.0
    );
}

#[test]
fn format_checkers_accept_the_seed_and_refuse_the_rest() {
    for ok in ["123ms", "4.2ms", "12.50s", "n/a", "10ms"] {
        assert!(is_latency(ok), "{ok}");
    }
    for bad in ["123", "4.25ms", "0.123s", "ms", "12.5s"] {
        assert!(!is_latency(bad), "{bad}");
    }
    for ok in ["65%", "2.0%", "0%", "100%", "n/a"] {
        assert!(is_percent(ok), "{ok}");
    }
    for bad in ["65", "0.65", "123.5%", "101%"] {
        assert!(!is_percent(bad), "{bad}");
    }
    assert!(is_uptime("12h 34m") && is_uptime("0h 0m"));
    assert!(!is_uptime("12:34") && !is_uptime("1h 60m"));
    assert!(is_rfc3339_with_offset("2025-06-07T15:57:04-04:00"));
    assert!(is_rfc3339_with_offset("2025-06-07T15:57:04+00:00"));
    assert!(!is_rfc3339_with_offset("2025-06-07T15:57:04Z"));
    let e = Exposition::parse(
        "# TYPE a counter\na{x=\"1\",y=\"q\\\"uote\"} 3\nb 2.5\nc_bucket{le=\"+Inf\"} 7\n",
    );
    assert_eq!(e.value("a", &[("x", "1"), ("y", "q\"uote")]), 3.0);
    assert_eq!(e.value("b", &[]), 2.5);
    assert_eq!(e.sum("c_bucket", &[("le", "+Inf")]), 7.0);
    assert!(e.has_type("a", "counter"));
}
