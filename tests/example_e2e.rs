//! The demo as a user runs it: the `service` example's binary, configured through the
//! environment. A bad `MCP_*` value stops it with an error naming the variable; a good
//! configuration serves, prints where to look, and stops cleanly on SIGTERM.
//!
//! `cargo test` builds the examples before running the tests; this test runs the
//! binary it built (`target/<profile>/examples/service`). Under CI a missing binary
//! fails the test; elsewhere (`cargo test --test example_e2e` does not build examples)
//! the test is skipped with a notice.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::DEADLINE;

fn example_binary() -> Option<PathBuf> {
    // This test runs as target/<profile>/deps/example_e2e-<hash>.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir
        .join("examples")
        .join(format!("service{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !common::under_ci(),
        "{} is missing under CI: run the tests with `cargo test --workspace --all-features`, which builds it",
        path.display()
    );
    eprintln!(
        "NOTICE: skipping: {} is not built (run `cargo test` without --test, or `cargo build --example service`)",
        path.display()
    );
    None
}

/// The example with a clean `MCP_*` environment plus `vars`.
fn command(binary: &PathBuf, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary);
    for (k, _) in std::env::vars() {
        if k.starts_with("MCP_") || k == "DEMO_SCHEDULER" {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Kills the child if the test fails before it exits.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Guard {
    /// Everything the exited child wrote on stdout and stderr.
    fn output(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(mut o) = self.0.stdout.take() {
            o.read_to_string(&mut s).expect("stdout");
        }
        if let Some(mut e) = self.0.stderr.take() {
            e.read_to_string(&mut s).expect("stderr");
        }
        s
    }

    fn wait_with_deadline(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the service did not exit within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Sends every line the child writes on `stream` to a channel.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    let Some(binary) = example_binary() else {
        return;
    };
    for (var, value) in [
        ("MCP_CPU_THRESHOLD", "lots"),
        ("MCP_METRICS_WINDOW", "5 minutes"),
        ("MCP_ADDR", "localhost"),
    ] {
        let mut child = Guard(command(&binary, &[(var, value)]).spawn().expect("spawn"));
        let status = child.wait_with_deadline();
        let out = child.output();
        assert!(!status.success(), "{var}={value:?} must stop start-up");
        assert!(
            out.contains(var) && out.contains(value),
            "{var}={value:?}: the error must name the variable and the value; got:\n{out}"
        );
    }
}

#[test]
fn the_service_serves_prints_its_urls_and_stops_on_sigterm() {
    let Some(binary) = example_binary() else {
        return;
    };
    let mut child = Guard(
        command(
            &binary,
            &[
                ("MCP_ADDR", "127.0.0.1:0"),
                ("MCP_METRICS_TOKEN", "env-token"),
                ("DEMO_SCHEDULER", "1"),
            ],
        )
        .spawn()
        .expect("spawn"),
    );
    let stdout = lines(child.0.stdout.take().unwrap());
    let stderr = lines(child.0.stderr.take().unwrap());

    // The start-up lines: where it listens, and the URLs to open.
    let start = Instant::now();
    let mut printed = Vec::new();
    while !printed.iter().any(|l: &String| l.starts_with("Ctrl-C")) {
        let left = DEADLINE.saturating_sub(start.elapsed());
        match stdout.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(e) => panic!(
                "no start-up lines ({e}); stdout so far: {printed:?}; stderr: {:?}",
                stderr.try_iter().collect::<Vec<_>>()
            ),
        }
    }
    let text = printed.join("\n");
    let base = printed[0]
        .split_once("listening on ")
        .map(|(_, url)| url.trim().to_owned())
        .unwrap_or_else(|| panic!("no listen address in {text}"));
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );
    for path in [
        "/metrics",
        "/metrics/summary",
        "/api/v1/metrics/dashboard",
        "/api/v1/metrics/report",
    ] {
        assert!(
            text.contains(&format!("{base}{path}")),
            "{path} not printed:\n{text}"
        );
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let res = client.get(format!("{base}/users")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        // MCP_METRICS_TOKEN was read from the environment.
        let res = client.get(format!("{base}/metrics")).send().await.unwrap();
        assert_eq!(res.status(), 401);
        // The scheduler (DEMO_SCHEDULER=1) runs the workflow in the background.
        common::eventually("the scheduler to run the workflow", || {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let res = client
                    .get(format!("{base}/api/v1/metrics/dashboard"))
                    .bearer_auth("env-token")
                    .send()
                    .await
                    .ok()?;
                let v: serde_json::Value = res.json().await.ok()?;
                (v["workflows"]["completion_rate"] != "n/a").then_some(())
            }
        })
        .await;
    });

    let pid = child.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait_with_deadline();
    assert!(
        status.success(),
        "SIGTERM must stop the service cleanly: {status}"
    );
}
