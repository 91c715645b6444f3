//! What a running CPU profile costs the served throughput, over a real socket.
//!
//! The binary starts itself again as the server (`--serve`): the `mcp_monitor` variant
//! of `http_common` (`GET /users/{id}` under `monitor.layer()`) merged with the
//! monitor's routes, with an admin token, on 127.0.0.1, from a Tokio runtime with one
//! worker thread. This process is the load: `CONNECTIONS` keep-alive connections on a
//! one-worker runtime of its own, each sending `GET /users/42` as soon as the previous
//! answer is read (HTTP/1.1 written and parsed by hand, the least a client can cost).
//!
//! Each round measures `SECONDS` of load twice: with no profile, and while
//! `GET /debug/pprof/profile?seconds=SECONDS+2` runs in the server (the load starts once
//! the profile has begun, 1 s after the request, and ends before it does). The order
//! of the two alternates from round to round. Reported: the median requests/s of each,
//! and the median (min..max) of the per-round ratio profiled / not profiled.
//!
//! Run with `cargo bench -p mcp-monitor --features profiling --bench profile_socket
//! [-- ROUNDS SECONDS CONNECTIONS]` (defaults 6, 4 and 16). See `docs/benchmarks.md`.

mod http_common;

use std::io::{BufRead as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_common::{median, router, URI};
use mcp_monitor::Monitor;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

const TOKEN: &str = "bench-admin";

fn one_worker() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The server: prints its port, serves until stdin closes.
fn serve() {
    let rt = one_worker();
    rt.block_on(async {
        let monitor = Monitor::builder()
            .with_admin_token(TOKEN)
            .build()
            .expect("monitor");
        let app = router("mcp_monitor", &monitor).merge(monitor.router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        // The parent closes our stdin when done.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        })
        .await
        .expect("stdin");
    });
}

/// Sends `GET path` on `stream` and reads the whole answer; its status.
async fn request(stream: &mut BufReader<TcpStream>, head: &[u8]) -> u16 {
    stream.get_mut().write_all(head).await.expect("write");
    let mut line = String::new();
    stream.read_line(&mut line).await.expect("status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut length = 0usize;
    loop {
        line.clear();
        stream.read_line(&mut line).await.expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().expect("content-length");
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.expect("body");
    status
}

async fn connect(port: u16) -> BufReader<TcpStream> {
    BufReader::new(
        TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect"),
    )
}

/// Requests per second over `seconds` of load from `connections` connections.
async fn load(port: u16, connections: usize, seconds: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let head = format!("GET {URI} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (stop, done, head) = (stop.clone(), done.clone(), head.clone());
        let mut stream = connect(port).await;
        tasks.push(tokio::spawn(async move {
            while !stop.load(Relaxed) {
                assert_eq!(request(&mut stream, &head).await, 200);
                done.fetch_add(1, Relaxed);
            }
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let n = done.load(Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Relaxed);
    for t in tasks {
        t.await.expect("connection");
    }
    n as f64 / elapsed
}

/// Load while a profile runs in the server.
async fn load_profiled(port: u16, connections: usize, seconds: u64) -> f64 {
    let head = format!(
        "GET /debug/pprof/profile?seconds={} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n",
        seconds + 2
    )
    .into_bytes();
    let mut stream = connect(port).await;
    let profile = tokio::spawn(async move { request(&mut stream, &head).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rate = load(port, connections, seconds).await;
    assert_eq!(profile.await.expect("profile"), 200, "the profile ran");
    rate
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--serve") {
        return serve();
    }
    let positional: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rounds = positional.first().copied().unwrap_or(6) as usize;
    let seconds = positional.get(1).copied().unwrap_or(4);
    let connections = positional.get(2).copied().unwrap_or(16) as usize;

    let mut server = Command::new(std::env::current_exe().expect("this binary"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut port = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut port)
        .expect("the server's port");
    let port: u16 = port.trim().parse().expect("a port");

    let rt = one_worker();
    let (mut off, mut on, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        load(port, connections, 1).await; // warm-up
        for round in 0..rounds {
            let (a, b) = if round % 2 == 0 {
                let a = load(port, connections, seconds).await;
                (a, load_profiled(port, connections, seconds).await)
            } else {
                let b = load_profiled(port, connections, seconds).await;
                (load(port, connections, seconds).await, b)
            };
            println!("round {round}: no profile {a:.0} req/s, profile running {b:.0} req/s");
            off.push(a);
            on.push(b);
            ratio.push(b / a);
        }
    });
    drop(server.stdin.take());
    server.wait().expect("the server ends");
    let (lo, hi) = ratio
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
    println!(
        "\n{rounds} rounds of {seconds} s, {connections} connections: no profile {:.0} req/s, \
         profile running {:.0} req/s (medians); profiled / not profiled {:.3} \
         (median of rounds; {lo:.3}..{hi:.3})",
        median(&mut off),
        median(&mut on),
        median(&mut ratio),
    );
}
