//! The page at `/metrics/ui` in a real browser: two demo services (the `service`
//! example's binary) on loopback ports, and `tests/browser/ui.test.mjs` driving
//! headless Chromium against them through `playwright-core` (`node --test`).
//!
//! Needs `node`, `npm` and Debian's `chromium` (`.ci/run` installs them). Without
//! them the test is skipped with a notice, except under CI, where it fails. The npm
//! packages are installed from `tests/browser/package-lock.json` when missing.
//! Screenshots of every view are written to `target/ui-screenshots/`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use common::{under_ci, DEADLINE};

const METRICS_TOKEN: &str = "ui-test-read-token";
const ADMIN_TOKEN: &str = "ui-test-admin-token";

/// Skips (or, under CI, fails) with `why`.
fn missing(why: &str) -> Option<PathBuf> {
    assert!(!under_ci(), "{why}, and CI is set: .ci/run installs it");
    eprintln!("NOTICE: skipping the browser tests: {why}; under CI this fails");
    None
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        return Some(p);
    }
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    on_path("chromium")
        .or_else(|| missing("`chromium` is not installed (apt-get install chromium)"))
}

/// `target/<profile>/deps/ui_browser-<hash>` → `target/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

fn example_binary() -> Option<PathBuf> {
    // `target/<profile>/examples/service`, built by `cargo test` with the examples.
    let exe = std::env::current_exe().expect("current exe");
    let path = exe
        .ancestors()
        .nth(2)
        .expect("profile dir")
        .join("examples")
        .join(format!("service{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else {
        missing(&format!(
            "{} is not built (`cargo test` without --test builds it; or `cargo build --example service`)",
            path.display()
        ))
    }
}

/// `tests/browser/node_modules`, installed from the lock file when missing.
fn node_modules(dir: &Path, npm: &Path) -> Option<()> {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some(());
    }
    let status = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => Some(()),
        other => missing(&format!("`npm ci` in {} failed: {other:?}", dir.display())).map(|_| ()),
    }
}

/// A demo service; killed when dropped.
struct Demo {
    child: Child,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo on `127.0.0.1:0` with a clean `MCP_*` environment plus `vars`, and
/// waits for the line that gives its address.
fn start_demo(binary: &Path, vars: &[(&str, &str)]) -> Demo {
    let mut cmd = Command::new(binary);
    for (k, _) in std::env::vars() {
        if k.starts_with("MCP_") || k == "DEMO_SCHEDULER" {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .env("MCP_ADDR", "127.0.0.1:0")
        .env("MCP_GRPC_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the demo");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Keep draining so that the demo never blocks on a full pipe.
                continue;
            }
        }
    });
    let mut demo = Demo {
        child,
        base: String::new(),
    };
    let start = Instant::now();
    while demo.base.is_empty() {
        let left = DEADLINE.saturating_sub(start.elapsed());
        let line = rx
            .recv_timeout(left)
            .expect("the demo did not print its address in time");
        if let Some(base) = line.strip_prefix("mcp-monitor demo listening on ") {
            demo.base = base.trim().to_owned();
        }
    }
    demo
}

#[test]
fn the_page_in_headless_chromium() {
    let Some(node) = on_path("node").or_else(|| missing("`node` is not installed")) else {
        return;
    };
    let Some(npm) = on_path("npm").or_else(|| missing("`npm` is not installed")) else {
        return;
    };
    let Some(chromium) = chromium() else { return };
    let Some(binary) = example_binary() else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if node_modules(&dir, &npm).is_none() {
        return;
    }

    // Short windows so that the history fills in seconds (a tick every window / 10).
    let common = [
        ("MCP_METRICS_WINDOW", "20s"),
        ("MCP_RESOURCE_INTERVAL", "1s"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1s"),
    ];
    let mut open_vars = common.to_vec();
    // Forced through the settings: any machine uses more than 1% of its memory.
    open_vars.extend([("MCP_MEMORY_THRESHOLD", "1%"), ("MCP_ALERT_FOR", "0s")]);
    let open = start_demo(&binary, &open_vars);
    let mut locked_vars = common.to_vec();
    locked_vars.extend([
        ("MCP_METRICS_TOKEN", METRICS_TOKEN),
        ("MCP_ADMIN_TOKEN", ADMIN_TOKEN),
    ]);
    let locked = start_demo(&binary, &locked_vars);

    let shots = target_dir().join("ui-screenshots");
    let status = Command::new(node)
        .args(["--test", "--test-reporter=spec", "ui.test.mjs"])
        .current_dir(&dir)
        .env("MCP_UI_OPEN", &open.base)
        .env("MCP_UI_LOCKED", &locked.base)
        .env("MCP_UI_METRICS_TOKEN", METRICS_TOKEN)
        .env("MCP_UI_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("MCP_UI_SCREENSHOTS", &shots)
        .env("CHROMIUM", chromium)
        .status()
        .expect("run node --test");
    assert!(status.success(), "the browser tests failed: {status}");
    for name in ["live-wide", "live-375px", "report-wide", "token-prompt"] {
        let shot = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{} missing or empty", shot.display());
    }
    eprintln!("screenshots: {}", shots.display());
}
