//! The demo process (`examples/service.rs`) under faults: SIGTERM under keep-alive load,
//! slow clients at shutdown, the file descriptor limit, and what it says at start-up
//! (CPU on the first dashboard read, bad and unknown settings, secrets, the bind error).
//!
//! Like `example`, these run the example binary that `cargo test` builds, and are
//! skipped with a notice when it is missing outside CI.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::raw_http::RawConn;
use mcp_monitor_test_kit::process::{command, example_binary, Demo, Guard};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[derive(Default)]
struct Counts {
    /// Requests written whose response came back whole.
    answered: AtomicU64,
    /// Requests written whose connection closed before their response: lost.
    lost: AtomicU64,
    /// Responses that said `Connection: close`.
    closing: AtomicU64,
    /// Connection attempts refused (after shutdown began).
    refused: AtomicU64,
}

/// One keep-alive client: requests back to back until a response closes the connection
/// and reconnecting is refused.
async fn client(addr: std::net::SocketAddr, counts: Arc<Counts>, n: usize) {
    let mut conn = RawConn::connect(addr).await.expect("first connect");
    let mut i = 0usize;
    loop {
        i += 1;
        // Reads and writes alike: a list, a lookup (404 or 200), a creation.
        let request = match i % 3 {
            0 => "GET /users HTTP/1.1\r\nHost: test\r\n\r\n".to_owned(),
            1 => format!("GET /users/{} HTTP/1.1\r\nHost: test\r\n\r\n", i % 7 + 1),
            _ => {
                let body = format!(r#"{{"name":"u{n}-{i}","email":"u{n}-{i}@example.com"}}"#);
                format!(
                    "POST /users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        if conn.send(request.as_bytes()).await.is_err() {
            // Could not even write: the server had closed before this request; it
            // was never sent, so it is not lost, but a server that closes without
            // `Connection: close` is what this test is about: count it.
            counts.lost.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match conn.response().await {
            Ok(res) => {
                assert!(matches!(res.status, 200 | 201 | 404), "unexpected {res:?}");
                counts.answered.fetch_add(1, Ordering::Relaxed);
                if res.closes() {
                    counts.closing.fetch_add(1, Ordering::Relaxed);
                    match RawConn::connect(addr).await {
                        Ok(c) => conn = c,
                        Err(_) => {
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            }
            Err(_) => {
                counts.lost.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

#[test]
fn sigterm_under_keep_alive_load_loses_no_request() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    let demo = Demo::start(&binary, &[("MCP_SHUTDOWN_TIMEOUT", "10s")]);
    let counts = Arc::new(Counts::default());
    const CONNECTIONS: usize = 64;
    let rt = runtime();
    let started = Instant::now();
    rt.block_on(async {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|n| tokio::spawn(client(demo.addr, counts.clone(), n)))
            .collect();
        // Under load for a while: every connection has been served a few times.
        while counts.answered.load(Ordering::Relaxed) < 20 * CONNECTIONS as u64 {
            assert!(started.elapsed() < common::DEADLINE, "no load");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        demo.terminate();
        for c in clients {
            tokio::time::timeout(common::DEADLINE, c)
                .await
                .expect("clients finish")
                .expect("client panicked");
        }
    });
    let mut demo = demo;
    let status = demo.child.wait_with_deadline();
    let (answered, lost, closing, refused) = (
        counts.answered.load(Ordering::Relaxed),
        counts.lost.load(Ordering::Relaxed),
        counts.closing.load(Ordering::Relaxed),
        counts.refused.load(Ordering::Relaxed),
    );
    eprintln!("answered {answered}, lost {lost}, Connection: close {closing}, refused {refused}");
    assert_eq!(lost, 0, "requests lost at shutdown");
    assert_eq!(
        closing, CONNECTIONS as u64,
        "every connection was closed by a response that said so"
    );
    assert_eq!(
        refused, CONNECTIONS as u64,
        "reconnecting after shutdown is refused"
    );
    assert!(status.success(), "{status}");
}

#[test]
fn a_slow_client_does_not_keep_the_demo_alive_after_sigterm() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    // A head timeout far longer than the shutdown deadline: only the deadline ends it.
    let mut demo = Demo::start(
        &binary,
        &[
            ("MCP_SHUTDOWN_TIMEOUT", "1s"),
            ("MCP_HTTP_HEADER_TIMEOUT", "10m"),
            ("MCP_HTTP_IDLE_TIMEOUT", "10m"),
        ],
    );
    let rt = runtime();
    let _held = rt.block_on(async {
        let mut conns = Vec::new();
        for i in 0..8 {
            let mut c = RawConn::connect(demo.addr).await.unwrap();
            if i % 2 == 0 {
                c.send(b"GET /users HTTP/1.1\r\nHost: slo").await.unwrap();
            } else {
                c.send(b"POST /users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"na")
                    .await
                    .unwrap();
            }
            conns.push(c);
        }
        conns
    });
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    demo.terminate();
    let status = demo.child.wait_with_deadline();
    let took = start.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(3),
        "exited {took:?} after SIGTERM, MCP_SHUTDOWN_TIMEOUT=1s"
    );
    demo.wait_for_log("still open after", Duration::from_secs(5));
}

#[test]
fn the_file_descriptor_limit_is_logged_and_the_demo_recovers() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    // The demo under `ulimit -n 64`, as the shell runs it.
    let cmd = command(&binary, &[("MCP_ADDR", "127.0.0.1:0")]);
    let program = cmd.get_program().to_owned();
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\"")
        .arg(program)
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("MCP_ADDR")
        .env("MCP_ADDR", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in cmd.get_envs() {
        if v.is_none() {
            shell.env_remove(k);
        }
    }
    let demo = Demo::start_command(&mut shell);
    let rt = runtime();
    rt.block_on(async {
        // More connections than descriptors: they sit in the backlog once the demo
        // cannot accept any more.
        let mut held = Vec::new();
        for _ in 0..100 {
            held.push(RawConn::connect(demo.addr).await.unwrap());
        }
        let line = demo.wait_for_log("cannot accept connections", Duration::from_secs(10));
        assert!(line.contains("file descriptor limit"), "{line}");
        drop(held);
        // Recovered: a new client is served.
        common::eventually("the demo to serve again", || async {
            let mut c = RawConn::connect(demo.addr).await.ok()?;
            let res = c.get("/users").await.ok()?;
            (res.status == 200).then_some(())
        })
        .await;
    });
    demo.wait_for_log("accepting connections again", Duration::from_secs(10));
    demo.terminate();
}

#[test]
fn the_dashboard_shows_cpu_within_a_second_of_start() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    let demo = Demo::start(&binary, &[]);
    let rt = runtime();
    let (cpu, after) = rt.block_on(async {
        loop {
            let mut c = RawConn::connect(demo.addr).await.unwrap();
            let res = c.get("/api/v1/metrics/dashboard").await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
            let cpu = v["system"]["resources"]["cpu"].as_str().unwrap().to_owned();
            if cpu != "n/a" {
                return (cpu, demo.listening_at.elapsed());
            }
            assert!(
                demo.listening_at.elapsed() < Duration::from_secs(5),
                "CPU still n/a"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert!(cpu.ends_with('%'), "{cpu}");
    assert!(
        after < Duration::from_secs(1),
        "CPU shown {after:?} after start"
    );
    demo.terminate();
}

#[test]
fn settings_that_cannot_work_stop_start_up_with_an_error_not_a_panic() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    let dir = std::env::temp_dir();
    let token_file = dir.join(format!("mcp-fault-token-{}", std::process::id()));
    std::fs::write(&token_file, "s3cret\n\n").unwrap();
    let missing = dir.join("mcp-fault-no-such-token-file");
    let token_file = token_file.to_str().unwrap().to_owned();
    let missing = missing.to_str().unwrap().to_owned();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    for (var, value, shown) in [
        ("MCP_HTTP_BUCKETS", "1e20", "1e20"),
        ("MCP_HTTP_BUCKETS", "2e19", "2e19"),
        ("MCP_DB_BUCKETS", "1e300", "1e300"),
        ("MCP_ALERT_MIN_SAMPLES", "0", "0"),
        ("MCP_RESOURCE_INTERVAL", "0.000001ms", "0.000001ms"),
        ("MCP_SHUTDOWN_TIMEOUT", "never", "never"),
        ("MCP_METRICS_TOKEN", "s3cret\n", "not shown"),
        ("MCP_ADMIN_TOKEN", " adm1n", "not shown"),
        (
            "MCP_ADMIN_TOKEN_FILE",
            token_file.as_str(),
            token_file.as_str(),
        ),
        ("MCP_METRICS_TOKEN_FILE", missing.as_str(), missing.as_str()),
        ("MCP_ADDR", taken_addr.as_str(), taken_addr.as_str()),
    ] {
        let mut child = Guard(command(&binary, &[(var, value)]).spawn().expect("spawn"));
        let status = child.wait_with_deadline();
        let out = child.output();
        assert_eq!(status.code(), Some(1), "{var}={value:?}: {status}\n{out}");
        assert!(
            !out.contains("panicked"),
            "{var}={value:?} panicked:\n{out}"
        );
        assert!(
            out.contains(var) && out.contains(shown),
            "{var}={value:?}: the error must name the variable and {shown:?}; got:\n{out}"
        );
        assert!(
            !out.contains("s3cret") && !out.contains("adm1n"),
            "a secret leaked:\n{out}"
        );
    }
    drop(taken);
    std::fs::remove_file(token_file).unwrap();
}

#[test]
fn a_token_file_works_and_an_unknown_variable_is_reported_with_the_closest_name() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    let token_file =
        std::env::temp_dir().join(format!("mcp-fault-ok-token-{}", std::process::id()));
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let demo = Demo::start(
        &binary,
        &[
            ("MCP_METRICS_TOKEN_FILE", token_file.to_str().unwrap()),
            ("MCP_CPU_TRESHOLD", "90%"),
        ],
    );
    let line = demo.wait_for_log("MCP_CPU_TRESHOLD", Duration::from_secs(5));
    assert!(line.contains("did you mean MCP_CPU_THRESHOLD"), "{line}");
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawConn::connect(demo.addr).await.unwrap();
        let res = c.get("/metrics").await.unwrap();
        assert_eq!(res.status, 401);
        c.send(b"GET /metrics HTTP/1.1\r\nHost: test\r\nAuthorization: BEARER s3cret\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(c.response().await.unwrap().status, 200);
    });
    demo.terminate();
    std::fs::remove_file(token_file).unwrap();
}

#[test]
fn resets_under_load_keep_metrics_monotonic_and_counts_exact() {
    let Some(binary) = example_binary("service") else {
        return;
    };
    let demo = Demo::start(&binary, &[("MCP_ADMIN_TOKEN", "adm1n")]);
    const CLIENTS: usize = 16;
    const PER_CLIENT: usize = 150;
    let rt = runtime();
    rt.block_on(async {
        let addr = demo.addr;
        let load: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut c = RawConn::connect(addr).await.unwrap();
                    for _ in 0..PER_CLIENT {
                        assert_eq!(c.get("/users").await.unwrap().status, 200);
                    }
                })
            })
            .collect();
        // Meanwhile: resets, and scrapes whose counters must never go down.
        let mut admin = RawConn::connect(addr).await.unwrap();
        let mut scraper = RawConn::connect(addr).await.unwrap();
        let reset = b"POST /api/v1/metrics/reset HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer adm1n\r\nContent-Length: 0\r\n\r\n";
        let mut previous: Option<common::Exposition> = None;
        let (mut resets, mut scrapes) = (0, 0);
        while !load.iter().all(|t| t.is_finished()) {
            admin.send(reset).await.unwrap();
            assert_eq!(admin.response().await.unwrap().status, 200);
            resets += 1;
            let res = scraper.get("/metrics").await.unwrap();
            let now = common::Exposition::parse(&String::from_utf8(res.body).unwrap());
            if let Some(before) = &previous {
                for s in before.samples.iter().filter(|s| {
                    s.name.ends_with("_total") || s.name.ends_with("_count") || s.name.ends_with("_bucket")
                }) {
                    let labels: Vec<(&str, &str)> =
                        s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let after = now.value(&s.name, &labels);
                    assert!(after >= s.value, "{} {labels:?} went down: {} -> {after}", s.name, s.value);
                }
            }
            previous = Some(now);
            scrapes += 1;
        }
        for t in load {
            t.await.unwrap();
        }
        assert!(resets > 1 && scrapes > 1, "{resets} resets, {scrapes} scrapes");
        let res = scraper.get("/metrics").await.unwrap();
        let m = common::Exposition::parse(&String::from_utf8(res.body).unwrap());
        let counted = m.value(
            "mcp_http_requests_total",
            &[("method", "GET"), ("path", "/users"), ("status", "200")],
        );
        assert_eq!(counted, (CLIENTS * PER_CLIENT) as f64, "every request counted once, resets or not");
    });
    demo.terminate();
}
