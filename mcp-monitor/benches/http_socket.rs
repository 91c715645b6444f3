//! Throughput and latency over a real socket: `bare`, `mcp_monitor`,
//! `axum_prometheus` and `noop_layer` (see `http_common`), served by one process on one core and
//! loaded by `wrk` on another.
//!
//! The process pins itself (every thread) to `--server-cpu` with `taskset` and serves
//! each variant on its own free port of 127.0.0.1, from its own Tokio runtime with one
//! worker thread (`--current-thread`: a current-thread runtime). `wrk` runs under
//! `taskset -c <load-cpu>`: `wrk -t1 -c<connections> -d<duration>s --latency
//! http://127.0.0.1:PORT/users/42`. After a warm-up, `--rounds` rounds:
//!
//! * by default (sequential), each round loads every variant in turn (the order
//!   rotates) for `--duration` seconds, so each has the server core to itself:
//!   throughput at saturation and latency percentiles;
//! * with `--concurrent`, each round loads the variants at once, with one `wrk`
//!   each: the scheduler shares the server core between the servers, so their
//!   throughputs compare their CPU cost per request under exactly the same machine
//!   conditions (immune to the machine getting faster or slower between runs), but
//!   the latencies then include waiting for the other servers' time slices.
//!
//! Reported: requests/s and latency percentiles per run, the per-round throughput
//! ratio and p99 difference against `bare`, and the share of a core the server
//! process used (from `/proc/self/stat`). A round in which the server process kept
//! its core less than `--min-server-cpu` busy (default 0.9) was disturbed (another
//! process ran on the server's core, or the load tool could not keep up): it is shown,
//! discarded and repeated.
//!
//! With `--think-ms MS` every connection waits `MS` milliseconds after each response
//! before sending its next request (a `wrk` script with `delay()`): a fixed, moderate
//! load instead of saturation, so that the latencies are those of a server with spare
//! capacity rather than queueing time (which at saturation follows throughput). Every
//! round then counts, whatever the server's CPU.
//!
//! Needs Linux, `taskset` and `wrk` (`scripts/bench-http-socket.sh` installs it):
//! `cargo bench -p mcp-monitor --bench http_socket -- [--rounds 10] [--duration 5]
//! [--warmup 2] [--connections 32] [--server-cpu 1] [--load-cpu 0]
//! [--min-server-cpu 0.9] [--current-thread] [--concurrent] [--think-ms 0]`.
//! See `docs/benchmarks.md`.

mod http_common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_common::{install_monitor, median, router, URI};
use mcp_monitor::Monitor;

/// `*_served` variants are the same routers served by `mcp_monitor::serve` with its
/// default timeouts (head, body and idle deadlines on every connection) instead of
/// `axum::serve`.
const SOCKET_VARIANTS: [&str; 6] = [
    "bare",
    "mcp_monitor",
    "axum_prometheus",
    "noop_layer",
    "bare_served",
    "mcp_monitor_served",
];

#[derive(Debug, Clone)]
struct Opts {
    rounds: usize,
    duration: u64,
    warmup: u64,
    connections: u32,
    server_cpu: String,
    load_cpu: String,
    /// A round in which the server used less of its core than this is repeated.
    min_cpu: f64,
    /// Serve from current-thread runtimes instead of one-worker multi-thread ones.
    current_thread: bool,
    /// Load the variants at once instead of in turn.
    concurrent: bool,
    /// Milliseconds each connection waits after a response before its next request
    /// (0: none, the server is saturated).
    think_ms: u32,
    /// The `wrk` script that makes connections wait `think_ms`.
    script: Option<std::path::PathBuf>,
}

impl Opts {
    fn parse() -> Self {
        let mut o = Self {
            rounds: 10,
            duration: 5,
            warmup: 2,
            connections: 32,
            server_cpu: "1".into(),
            load_cpu: "0".into(),
            min_cpu: 0.9,
            current_thread: false,
            concurrent: false,
            think_ms: 0,
            script: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
            match a.as_str() {
                "--rounds" => o.rounds = value().parse().expect("--rounds"),
                "--duration" => o.duration = value().parse().expect("--duration"),
                "--warmup" => o.warmup = value().parse().expect("--warmup"),
                "--connections" => o.connections = value().parse().expect("--connections"),
                "--server-cpu" => o.server_cpu = value(),
                "--load-cpu" => o.load_cpu = value(),
                "--min-server-cpu" => o.min_cpu = value().parse().expect("--min-server-cpu"),
                "--current-thread" => o.current_thread = true,
                "--concurrent" => o.concurrent = true,
                "--think-ms" => o.think_ms = value().parse().expect("--think-ms"),
                _ => {} // `--bench` from cargo, and anything else: ignored
            }
        }
        if o.think_ms > 0 {
            o.script = Some(think_script(o.think_ms));
        }
        o
    }
}

/// What one `wrk` run reported.
#[derive(Debug, Clone, Default)]
struct Run {
    rps: f64,
    /// Latency percentiles in microseconds.
    p50: f64,
    p90: f64,
    p99: f64,
    errors: String,
    /// Share of one core the server process used during the run.
    server_cpu: f64,
}

fn micros(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v,
        "ms" => v * 1e3,
        "s" => v * 1e6,
        "m" => v * 60e6,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> Run {
    let mut r = Run::default();
    let mut errors = Vec::new();
    for line in out.lines() {
        let t = line.trim();
        let mut words = t.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => r.rps = v.parse().unwrap_or(0.0),
            (Some("50%"), Some(v)) => r.p50 = micros(v).unwrap_or(f64::NAN),
            (Some("90%"), Some(v)) => r.p90 = micros(v).unwrap_or(f64::NAN),
            (Some("99%"), Some(v)) => r.p99 = micros(v).unwrap_or(f64::NAN),
            _ => {}
        }
        if t.starts_with("Non-2xx") || t.starts_with("Socket errors") {
            errors.push(t.to_owned());
        }
    }
    r.errors = errors.join("; ");
    r
}

/// CPU time of this process (user + system) in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A `wrk` script whose `delay()` makes each connection wait `ms` milliseconds after
/// each response; returns its path.
fn think_script(ms: u32) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("mcp-monitor-wrk-think-{}.lua", std::process::id()));
    std::fs::write(&path, format!("function delay()\n  return {ms}\nend\n"))
        .expect("write the wrk script");
    path
}

/// Starts `wrk` on the load CPU against `port`.
fn spawn_wrk(o: &Opts, port: u16, seconds: u64) -> Child {
    let url = format!("http://127.0.0.1:{port}{URI}");
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &o.load_cpu, "wrk", "-t1"])
        .arg(format!("-c{}", o.connections))
        .arg(format!("-d{seconds}s"));
    if let Some(script) = &o.script {
        cmd.arg("-s").arg(script);
    }
    cmd.args(["--latency", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run `taskset -c N wrk`: are taskset and wrk installed?")
}

/// Waits for `wrk` and parses its report.
fn finish_wrk(child: Child) -> Run {
    let out = child.wait_with_output().expect("wait for wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrk(&text)
}

/// Loads the variants `which` (indexes into `ports`) at once for `seconds`; the
/// server CPU of every run is that of the whole server process.
fn load(o: &Opts, ports: &[u16], which: &[usize], seconds: u64, hz: f64) -> Vec<Run> {
    let before = (cpu_ticks(), Instant::now());
    let children: Vec<Child> = which
        .iter()
        .map(|&i| spawn_wrk(o, ports[i], seconds))
        .collect();
    let mut runs: Vec<Run> = children.into_iter().map(finish_wrk).collect();
    let cpu = (cpu_ticks() - before.0) as f64 / hz / before.1.elapsed().as_secs_f64();
    for r in &mut runs {
        r.server_cpu = cpu;
    }
    runs
}

fn pin_self(cpu: &str) {
    let pid = std::process::id().to_string();
    match Command::new("taskset")
        .args(["-a", "-p", "-c", cpu, &pid])
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => eprintln!(
            "warning: could not pin the server to CPU {cpu}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => eprintln!("warning: could not run taskset: {e}"),
    }
}

/// Serves every variant on its own port of 127.0.0.1, each from a runtime on a
/// thread of its own; returns the ports.
fn start_servers(current_thread: bool, monitor: &Monitor) -> Vec<u16> {
    SOCKET_VARIANTS
        .iter()
        .map(|v| {
            let (tx, rx) = std::sync::mpsc::channel();
            let served = v.ends_with("_served");
            let app = router(v.trim_end_matches("_served"), monitor);
            std::thread::spawn(move || {
                let mut builder = if current_thread {
                    tokio::runtime::Builder::new_current_thread()
                } else {
                    let mut b = tokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(1);
                    b
                };
                let rt = builder.enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    tx.send(listener.local_addr().expect("addr").port())
                        .expect("send the port");
                    if served {
                        let timeouts = mcp_monitor::ServerTimeouts::default();
                        mcp_monitor::serve(listener, app, timeouts, std::future::pending()).await;
                        Ok(())
                    } else {
                        axum::serve(listener, app).await
                    }
                })
            });
            rx.recv().expect("the server started")
        })
        .collect()
}

fn main() {
    let o = Opts::parse();
    // Pin before the runtime starts its threads: they inherit the affinity.
    pin_self(&o.server_cpu);
    let hz = clock_ticks_per_second();

    // The global recorder (its background tasks run on a thread of their own).
    let monitor = install_monitor();
    let ports = start_servers(o.current_thread, &monitor);
    // With think time the server is not saturated: its CPU says nothing about
    // disturbance, so every round counts.
    let min_cpu = if o.think_ms > 0 { 0.0 } else { o.min_cpu };
    println!(
        "server on CPU {}, wrk on CPU {}: {} rounds x {} variants x {} s, {} connections{}{}, {} runtimes",
        o.server_cpu,
        o.load_cpu,
        o.rounds,
        SOCKET_VARIANTS.len(),
        o.duration,
        o.connections,
        if o.concurrent {
            " per variant, variants loaded at once"
        } else {
            ", variants loaded in turn"
        },
        if o.think_ms > 0 {
            format!(", each waiting {} ms between requests", o.think_ms)
        } else {
            String::new()
        },
        if o.current_thread {
            "current-thread"
        } else {
            "one-worker multi-thread"
        }
    );
    for (i, v) in SOCKET_VARIANTS.iter().enumerate() {
        let w = load(&o, &ports, &[i], o.warmup, hz).remove(0);
        println!(
            "warm-up {v}: {:.0} req/s, server CPU {:.0}%",
            w.rps,
            w.server_cpu * 100.0
        );
    }
    std::thread::sleep(Duration::from_millis(500));

    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); SOCKET_VARIANTS.len()];
    let mut discarded = 0;
    println!("\n| round | variant | req/s | p50 µs | p90 µs | p99 µs | server CPU | errors |");
    println!("|---:|---|---:|---:|---:|---:|---:|---|");
    let mut r = 0;
    while r < o.rounds {
        let mut round = vec![Run::default(); SOCKET_VARIANTS.len()];
        let order: Vec<usize> = (0..SOCKET_VARIANTS.len())
            .map(|k| (r + discarded + k) % SOCKET_VARIANTS.len())
            .collect();
        let runs_of_round: Vec<(usize, Run)> = if o.concurrent {
            order
                .iter()
                .copied()
                .zip(load(&o, &ports, &order, o.duration, hz))
                .collect()
        } else {
            order
                .iter()
                .map(|&i| (i, load(&o, &ports, &[i], o.duration, hz).remove(0)))
                .collect()
        };
        for (i, run) in runs_of_round {
            println!(
                "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0}% | {} |",
                r + 1,
                SOCKET_VARIANTS[i],
                run.rps,
                run.p50,
                run.p90,
                run.p99,
                run.server_cpu * 100.0,
                run.errors
            );
            round[i] = run;
        }
        // The server had its core to itself and was the bottleneck only if it kept
        // the core busy; otherwise something else ran there (or wrk could not keep
        // up), and the round says nothing about the middleware.
        let low = round
            .iter()
            .map(|r| r.server_cpu)
            .fold(f64::INFINITY, f64::min);
        if low < min_cpu {
            discarded += 1;
            println!(
                "| {} | disturbed: server CPU {:.0}% < {:.0}%, round repeated | | | | | | |",
                r + 1,
                low * 100.0,
                min_cpu * 100.0
            );
            assert!(
                discarded <= 10 * o.rounds,
                "too many disturbed rounds: is the machine busy?"
            );
            continue;
        }
        for (i, run) in round.into_iter().enumerate() {
            runs[i].push(run);
        }
        r += 1;
    }

    println!(
        "\nSummary of {} rounds ({discarded} disturbed rounds repeated): medians over rounds; ratios and differences are per round, against the bare run of the same round\n",
        o.rounds
    );
    println!(
        "| variant | req/s | throughput vs bare | p50 µs | p99 µs | p99 vs bare | server CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let bare = runs[0].clone();
    for (i, name) in SOCKET_VARIANTS.iter().enumerate() {
        let col = |f: fn(&Run) -> f64| median(&mut runs[i].iter().map(f).collect::<Vec<_>>());
        let (rps, p50, p99, cpu) = (
            col(|r| r.rps),
            col(|r| r.p50),
            col(|r| r.p99),
            col(|r| r.server_cpu),
        );
        let mut ratios: Vec<f64> = runs[i]
            .iter()
            .zip(&bare)
            .map(|(a, b)| a.rps / b.rps)
            .collect();
        let mut p99s: Vec<f64> = runs[i]
            .iter()
            .zip(&bare)
            .map(|(a, b)| a.p99 / b.p99 - 1.0)
            .collect();
        let (ratio, p99d) = (median(&mut ratios), median(&mut p99s));
        let (rlo, rhi) = (ratios[0], ratios[ratios.len() - 1]);
        if i == 0 {
            println!(
                "| {name} | {rps:.0} | 100% | {p50:.0} | {p99:.0} | - | {:.0}% |",
                cpu * 100.0
            );
        } else {
            println!(
                "| {name} | {rps:.0} | {:.1}% ({:.1}..{:.1}) | {p50:.0} | {p99:.0} | {:+.1}% | {:.0}% |",
                ratio * 100.0,
                rlo * 100.0,
                rhi * 100.0,
                p99d * 100.0,
                cpu * 100.0
            );
        }
    }
    if let Some(script) = &o.script {
        let _ = std::fs::remove_file(script);
    }
}
