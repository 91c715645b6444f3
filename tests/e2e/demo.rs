//! The demo's own routes on a real socket: every status code, the JSON bodies, and
//! what the macros, the cache and the middleware record for them on `/metrics`.
//!
//! The `mcp_db_*` and `mcp_workflow_*` series are process-wide (call sites are
//! static) and the tests of this binary run in parallel, so their counts are checked
//! as lower bounds; HTTP and cache series belong to each test's own monitor and are
//! checked exactly.

use crate::common;
use crate::common::{assert_json_error, assert_keys, eventually, start};
use mcp_monitor::Monitor;
use serde_json::{json, Value};

#[tokio::test]
async fn user_routes_answer_with_the_right_status_and_json() {
    let s = start(Monitor::builder()).await;

    // GET /users on an empty database.
    let list = s.get_json("/users").await;
    assert_eq!(list, json!({"users": []}));

    // POST /users: 201, Location, the stored user.
    let res = s
        .post_json(
            "/users",
            &json!({"name": " Ada ", "email": "ada@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let ada: Value = res.json().await.unwrap();
    assert_keys(&ada, &["id", "name", "email", "created_at"]);
    assert_eq!(ada["name"], "Ada", "names are trimmed");
    assert_eq!(ada["email"], "ada@example.com");
    let id = ada["id"].as_i64().unwrap();
    assert_eq!(location, format!("/users/{id}"));

    // GET /users/{id}: 200 twice (a cache miss, then a hit), 404 when absent.
    for _ in 0..2 {
        assert_eq!(s.get_json(&location).await, ada);
    }
    assert_json_error(s.get("/users/999999").await, 404, "absent user").await;
    assert_json_error(s.get("/users/abc").await, 400, "non-numeric id").await;

    // GET /users lists it.
    assert_eq!(s.get_json("/users").await, json!({"users": [ada]}));

    // Validation: 422 with a JSON error.
    for (body, what) in [
        (json!({"name": "", "email": "x@example.com"}), "empty name"),
        (
            json!({"name": "   ", "email": "x@example.com"}),
            "blank name",
        ),
        (json!({"name": "X", "email": ""}), "empty email"),
        (
            json!({"name": "X", "email": "not-an-email"}),
            "email without @",
        ),
    ] {
        assert_json_error(s.post_json("/users", &body).await, 422, what).await;
    }
    // The same email again, in other case: 409.
    let dup = json!({"name": "Ada II", "email": "ADA@example.com"});
    assert_json_error(s.post_json("/users", &dup).await, 409, "duplicate email").await;

    // Unknown route and wrong method: JSON 404 and 405 (with Allow).
    assert_json_error(s.get("/nope").await, 404, "unknown route").await;
    let res = s.client.delete(s.url("/users")).send().await.unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_json_error(res, 405, "DELETE /users").await;

    // What the middleware recorded: route templates, never raw paths.
    let m = s.metrics().await;
    let requests = |method, path, status| {
        m.value(
            "mcp_http_requests_total",
            &[("method", method), ("path", path), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/users", "200"), 2.0);
    assert_eq!(requests("POST", "/users", "201"), 1.0);
    assert_eq!(requests("POST", "/users", "422"), 4.0);
    assert_eq!(requests("POST", "/users", "409"), 1.0);
    assert_eq!(requests("DELETE", "/users", "405"), 1.0);
    assert_eq!(requests("GET", "/users/{id}", "200"), 2.0);
    assert_eq!(requests("GET", "/users/{id}", "404"), 1.0);
    assert_eq!(requests("GET", "/users/{id}", "400"), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    assert_eq!(m.sum("mcp_http_requests_total", &[]), 14.0);
    assert!(!m.text.contains("/users/999999") && !m.text.contains("/nope"));
    assert_eq!(
        m.sum(
            "mcp_http_request_duration_seconds_count",
            &[("path", "/users/{id}")]
        ),
        4.0
    );

    // The cache in front of get_user: a miss and a hit for the found user, a miss for
    // the absent one.
    assert_eq!(m.value("mcp_cache_hits_total", &[("cache", "users")]), 1.0);
    assert_eq!(
        m.value("mcp_cache_misses_total", &[("cache", "users")]),
        2.0
    );

    // The macros: selects, inserts, through `DbResult`. The duplicate e-mail is the
    // client's mistake (a 409), and `DbError`'s `MonitoredError` says so: a success.
    let db = |op, status| {
        m.value(
            "mcp_db_operations_total",
            &[("operation", op), ("table", "users"), ("status", status)],
        )
    };
    assert!(db("select", "success") >= 4.0, "2 lists, 2 gets");
    assert!(
        db("insert", "success") >= 2.0,
        "the insert and the duplicate email"
    );
    assert!(m.has_type("mcp_db_operation_duration_seconds", "histogram"));

    // The pool, registered as `sqlite`.
    assert_eq!(
        m.value(
            "mcp_db_pool_connections",
            &[("pool", "sqlite"), ("state", "max")]
        ),
        f64::from(mcp_monitor_e2e::demo::POOL_SIZE)
    );
}

#[tokio::test]
async fn the_workflow_route_runs_both_steps_and_refuses_bad_input() {
    let s = start(Monitor::builder()).await;
    // Counted as lower bounds: the series are process-wide (see the module docs).
    let before = s.metrics().await;
    let steps = |m: &common::Exposition, step, status| {
        m.sum(
            "mcp_workflow_steps_total",
            &[
                ("workflow", "data_processing"),
                ("step", step),
                ("status", status),
            ],
        )
    };

    let res = s
        .post_json(
            "/workflows/data_processing",
            &json!({"records": [1, "  two ", {"three": 3, "gone": null}, [true], {"n": {"s": " x "}}]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_keys(
        &report,
        &["workflow", "status", "records", "by_type", "output"],
    );
    assert_eq!(report["workflow"], "data_processing");
    assert_eq!(report["status"], "completed");
    assert_eq!(report["records"], 5);
    assert_eq!(
        report["by_type"],
        json!({"number": 1, "string": 1, "object": 2, "array": 1})
    );
    assert_eq!(
        report["output"],
        json!([1, "two", {"three": 3}, [true], {"n": {"s": "x"}}])
    );

    // Validation failures: 422.
    for (body, what) in [
        (json!({"records": []}), "no records"),
        (json!({"records": [1, null]}), "a null record"),
    ] {
        assert_json_error(
            s.post_json("/workflows/data_processing", &body).await,
            422,
            what,
        )
        .await;
    }

    let m = s.metrics().await;
    let at_least = |step, status, n: f64| {
        let (was, now) = (steps(&before, step, status), steps(&m, step, status));
        assert!(now >= was + n, "{step} {status}: {was} -> {now}");
    };
    at_least("validation", "success", 1.0);
    at_least("validation", "failure", 2.0);
    at_least("transformation", "success", 1.0);
    assert!(
        m.value(
            "mcp_workflow_runs_total",
            &[("workflow", "data_processing"), ("status", "failure")]
        ) >= 2.0
    );
    assert!(m.has_type("mcp_workflow_step_duration_seconds", "histogram"));
    assert_eq!(
        m.value(
            "mcp_http_requests_total",
            &[
                ("method", "POST"),
                ("path", "/workflows/data_processing"),
                ("status", "422")
            ]
        ),
        2.0
    );
    // Every run raised the gauge and brought it down again (the other tests of this
    // binary may be running one right now, hence the wait).
    eventually("mcp_active_workflows to come back to 0", || async {
        let m = s.metrics().await;
        (m.value("mcp_active_workflows", &[("workflow", "data_processing")]) == 0.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_get_a_json_4xx_never_a_500() {
    let s = start(Monitor::builder()).await;
    let cases: &[(&str, &str, u16)] = &[
        ("{", "truncated JSON", 400),
        ("", "empty body", 400),
        ("not json", "not JSON", 400),
        ("[]", "an array", 422),
        ("null", "null", 422),
        ("{\"name\": 1, \"email\": 2}", "wrong types", 422),
        ("{\"name\": \"x\"}", "a missing field", 422),
        ("{\"records\": 5}", "records not a list", 422),
    ];
    for path in ["/users", "/workflows/data_processing"] {
        for (body, what, status) in cases {
            assert_json_error(
                s.post_raw(path, body).await,
                *status,
                &format!("{path}: {what}"),
            )
            .await;
        }
        // Without a JSON content type: 415.
        let res = s.client.post(s.url(path)).body("{}").send().await.unwrap();
        assert_json_error(res, 415, &format!("{path}: no content type")).await;
    }
    let m = s.metrics().await;
    let server_errors: f64 = m
        .matching("mcp_http_requests_total", &[])
        .filter(|s| s.labels["status"].starts_with('5'))
        .map(|s| s.value)
        .sum();
    assert_eq!(server_errors, 0.0);
    let dashboard = s.get_json("/api/v1/metrics/dashboard").await;
    assert_eq!(dashboard["system"]["requests"]["errors"], 0);
    assert_eq!(
        dashboard["system"]["requests"]["total"],
        2 * (cases.len() + 1)
    );
}

#[tokio::test]
async fn concurrent_requests_share_the_pool_without_errors() {
    let s = start(Monitor::builder()).await;
    let n = 40;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, base) = (s.client.clone(), s.base.clone());
            tokio::spawn(async move {
                let res = client
                    .post(format!("{base}/users"))
                    .json(
                        &json!({"name": format!("user {i}"), "email": format!("u{i}@example.com")}),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
                for _ in 0..2 {
                    let res = client
                        .get(format!("{base}/users/{id}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                }
                let res = client.get(format!("{base}/users")).send().await.unwrap();
                assert_eq!(res.status(), 200);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let list = s.get_json("/users").await;
    assert_eq!(list["users"].as_array().unwrap().len(), n);
    let m = s.metrics().await;
    assert_eq!(m.sum("mcp_http_requests_total", &[]), (4 * n + 1) as f64);
    assert_eq!(
        m.sum("mcp_http_requests_total", &[("status", "201")]),
        n as f64
    );
    assert_eq!(
        m.value("mcp_cache_hits_total", &[("cache", "users")]),
        n as f64
    );
    assert_eq!(
        m.value("mcp_cache_misses_total", &[("cache", "users")]),
        n as f64
    );
    assert_eq!(m.value("mcp_http_requests_in_flight", &[]), 0.0);
}

/// `pprof`'s own `profile.proto`, from the `pprof` crate's sources in Cargo's
/// registry (the crate the `profiling` feature uses), for the decoder.
fn pprof_proto() -> std::path::PathBuf {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"),
        std::path::PathBuf::from,
    );
    let registry = home.join("registry/src");
    std::fs::read_dir(&registry)
        .expect("Cargo's registry sources")
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|c| c.file_name().to_string_lossy().starts_with("pprof-0."))
        .map(|c| c.path().join("proto/profile.proto"))
        .find(|p| p.is_file())
        .expect("pprof's profile.proto in Cargo's registry")
}

/// A CPU profile while `GET /reports/digest` keeps a worker busy: admin token only, one
/// at a time (409), decoded by Python's `protobuf` with pprof's `profile.proto`, and
/// naming the demo's hot function; the flame graph is an SVG naming it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_profile_names_the_hot_function() {
    let Some(python) = common::external_tool("python3") else {
        return;
    };
    let s = start(Monitor::builder().with_admin_token("admin-secret")).await;
    let get = |path: &str, token: Option<&str>| {
        let mut req = s.client.get(s.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(
        get("/debug/pprof/profile?seconds=1", None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        get("/debug/pprof/profile?seconds=1", Some("wrong"))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        get("/debug/pprof/profile?seconds=x", Some("admin-secret"))
            .await
            .unwrap()
            .status(),
        400
    );

    // CPU load on the demo's hot function while the profile runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, url, stop) = (
            s.client.clone(),
            s.url("/reports/digest?ms=50"),
            stop.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client.get(&url).send().await.unwrap();
                assert_eq!(res.status(), 200);
            }
        })
    };
    let profile = tokio::spawn(get("/debug/pprof/profile?seconds=4", Some("admin-secret")));
    // While it runs, a second one is refused (409 comes before the parameters are
    // checked: until the first one starts, this probe is a 400 that takes no slot).
    loop {
        let res = get("/debug/pprof/flamegraph?seconds=0", Some("admin-secret"))
            .await
            .unwrap();
        if res.status() == 409 {
            break;
        }
        assert_eq!(res.status(), 400, "before the first one started");
        assert!(
            !profile.is_finished(),
            "never saw a 409 while a profile ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let res = profile.await.unwrap().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-profile-seconds"], "4");
    let body = res.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzipped");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let decoded = std::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/pprof_decode.py"
        ))
        .arg(pprof_proto())
        .arg(file.path())
        .output()
        .expect("run the decoder");
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let decoded: Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert!(decoded["samples"].as_u64().unwrap() > 0, "{decoded}");
    let functions = decoded["functions"].as_array().unwrap();
    assert!(
        functions
            .iter()
            .any(|f| f.as_str().unwrap().contains("digest_spin")),
        "the hot function is named: {decoded}"
    );

    let svg = get("/debug/pprof/flamegraph?seconds=2", Some("admin-secret"))
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{}",
        &svg[..200.min(svg.len())]
    );
    assert!(
        svg.contains("digest_spin"),
        "the flame graph names the hot function"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.await.unwrap();

    // Without an admin token nobody may profile.
    let open = start(Monitor::builder()).await;
    let res = open
        .client
        .get(open.url("/debug/pprof/profile?seconds=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// Under a load that keeps a worker blocked from the demo's `GET /reports/blocking`
/// (a blocking `std::thread::sleep` inside an async handler), the long-poll counter
/// names that route, on `/metrics` and in the summary, and the runtime's busy time and
/// busy ratio over the window rise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_route_is_named_by_the_long_poll_counter_and_busies_the_runtime() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    use std::sync::Arc;
    use std::time::Duration;

    let s =
        start(Monitor::builder().configure(|c| c.resource_interval = Duration::from_millis(100)))
            .await;
    let runtime = |summary: &Value| summary["runtime"].clone();
    // The busy ratio needs a first mark of the window (the first resource sample).
    let before = eventually("a busy ratio over the window", || {
        let get = s.get_json("/metrics/summary");
        async move {
            let rt = runtime(&get.await);
            rt["window"]["busy_ratio"].as_f64().map(|r| (r, rt))
        }
    })
    .await;
    let (ratio_before, busy_before) = (before.0, before.1["busy_seconds_total"].as_f64().unwrap());
    let m = s.metrics().await;
    assert!(m.has_type("mcp_long_polls_total", "counter"));
    assert!(
        m.matching("mcp_long_polls_total", &[]).next().is_none(),
        "none yet"
    );

    // Blocking requests, one after another, until stopped.
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let blocked_ms = 50;
    let load = {
        let (client, url) = (
            s.client.clone(),
            s.url(&format!("/reports/blocking?ms={blocked_ms}")),
        );
        let (stop, served) = (stop.clone(), served.clone());
        tokio::spawn(async move {
            while !stop.load(Relaxed) {
                let res = client.get(&url).send().await.unwrap();
                assert_eq!(res.status(), 200);
                served.fetch_add(1, Relaxed);
            }
        })
    };
    let labels = [("kind", "http"), ("name", "GET /reports/blocking")];
    let counted = eventually("the long-poll counter to name the route", || {
        let m = s.metrics();
        async move {
            let m = m.await;
            let value = m
                .matching("mcp_long_polls_total", &labels)
                .next()
                .map(|s| s.value);
            value
        }
    })
    .await;
    assert!(counted >= 1.0);
    // The busy ratio over the window rises while a worker is kept blocked.
    let after = eventually("the busy ratio to rise", || {
        let get = s.get_json("/metrics/summary");
        async move {
            let doc = get.await;
            let ratio = doc["runtime"]["window"]["busy_ratio"].as_f64()?;
            (ratio > ratio_before).then_some((ratio, doc))
        }
    })
    .await;
    stop.store(true, Relaxed);
    load.await.unwrap();
    let n = served.load(Relaxed);

    // Every served request blocked its worker for 50 ms, which Tokio counts as busy.
    let busy_after = eventually("the workers' busy time to be published", || {
        let get = s.get_json("/metrics/summary");
        async move {
            let busy = get.await["runtime"]["busy_seconds_total"].as_f64()?;
            (busy - busy_before >= n as f64 * blocked_ms as f64 / 1e3).then_some(busy)
        }
    })
    .await;
    assert!(busy_after > busy_before);
    assert!(
        after.0 > ratio_before && after.0 <= 1.0,
        "{} -> {}",
        ratio_before,
        after.0
    );

    // The summary lists the route with its count and longest poll; nothing else of
    // the demo blocked.
    let doc = s.get_json("/metrics/summary").await;
    let lp = &doc["long_polls"];
    assert_keys(lp, &["threshold_seconds", "sites"]);
    assert_eq!(lp["threshold_seconds"], 0.01);
    let sites = lp["sites"].as_array().unwrap();
    let site = sites
        .iter()
        .find(|p| p["kind"] == "http" && p["name"] == "GET /reports/blocking")
        .unwrap_or_else(|| panic!("the route in {lp}"));
    assert_keys(site, &["kind", "name", "count", "longest_seconds"]);
    assert!(site["count"].as_u64().unwrap() <= n, "{site} of {n}");
    assert!(site["longest_seconds"].as_f64().unwrap() > 0.01, "{site}");
    assert!(
        sites
            .iter()
            .all(|p| p["kind"] != "http" || p["name"] == "GET /reports/blocking"),
        "{lp}"
    );
    let report = s.get_json("/api/v1/metrics/report").await;
    assert_eq!(report["long_polls"], doc["long_polls"]);
}
