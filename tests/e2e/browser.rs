//! The page at `/metrics/ui` in a real browser: two demo services (the `service`
//! example's binary) on loopback ports, and `tests/browser/ui.test.mjs` driving
//! headless Chromium against them through `playwright-core` (`node --test`).
//!
//! Needs `node`, `npm` and Debian's `chromium` (`.ci/run` installs them). Without
//! them the test is skipped with a notice, except under CI, where it fails. The npm
//! packages are installed from `tests/browser/package-lock.json` when missing.
//! Screenshots of every view are written to `target/ui-screenshots/`.

use std::path::Path;
use std::process::Command;

use mcp_monitor_test_kit::browser::{chromium, node_with_packages};
use mcp_monitor_test_kit::process::{example_binary, profile_dir, Demo};

const METRICS_TOKEN: &str = "ui-test-read-token";
const ADMIN_TOKEN: &str = "ui-test-admin-token";

/// The demo on `127.0.0.1:0` with `vars`, its logs errors only.
fn start_demo(binary: &Path, vars: &[(&str, &str)]) -> Demo {
    let mut vars = vars.to_vec();
    vars.push(("RUST_LOG", "error"));
    Demo::start(binary, &vars)
}

#[test]
fn the_page_in_headless_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let Some(node) = node_with_packages(&dir) else {
        return;
    };
    let Some(chromium) = chromium() else { return };
    let Some(binary) = example_binary("service") else {
        return;
    };

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

    // `target/<profile>/` → `target/ui-screenshots/`.
    let shots = profile_dir()
        .parent()
        .expect("target dir")
        .join("ui-screenshots");
    let status = Command::new(node)
        .args(["--test", "--test-reporter=spec", "ui.test.mjs"])
        .current_dir(&dir)
        .env("MCP_UI_OPEN", open.base())
        .env("MCP_UI_LOCKED", locked.base())
        .env("MCP_UI_METRICS_TOKEN", METRICS_TOKEN)
        .env("MCP_UI_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("MCP_UI_SCREENSHOTS", &shots)
        .env("CHROMIUM", chromium)
        .status()
        .expect("run node --test");
    assert!(status.success(), "the browser tests failed: {status}");
    for name in [
        "live-wide",
        "live-375px",
        "live-dark",
        "report-wide",
        "token-prompt",
    ] {
        let shot = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{} missing or empty", shot.display());
    }
    eprintln!("screenshots: {}", shots.display());
}
