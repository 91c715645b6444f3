//! The demo as a user runs it: the `service` example's binary, configured through the
//! environment. A bad `MCP_*` value stops it with an error naming the variable; a good
//! configuration serves, prints where to look, and stops cleanly on SIGTERM.
//!
//! `cargo test` builds the examples before running the tests; this test runs the
//! binary it built (`target/<profile>/examples/service`). Under CI a missing binary
//! fails the test; elsewhere (`cargo test --test e2e` does not build examples)
//! the test is skipped with a notice.

use std::process::Command;
use std::time::Instant;

use crate::common;
use crate::common::DEADLINE;
use mcp_monitor_test_kit::process::{command, example_binary, lines, Guard};

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    let Some(binary) = example_binary("service") else {
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
    let Some(binary) = example_binary("service") else {
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
