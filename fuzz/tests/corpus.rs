//! Every input of `corpus/<target>/` (seeds, and what fuzzing kept) and of
//! `regressions/<target>/` (inputs that once failed) through its target's checks, as an
//! ordinary test: the fuzz targets' smoke pass where `cargo fuzz` is not installed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            out.extend(entries.map(|e| e.expect("corpus entry").path()));
        }
    }
    out.sort();
    out
}

fn run(target: &str, check: fn(&[u8])) {
    let paths = inputs(target);
    let n = paths.len();
    for path in paths {
        let data = std::fs::read(&path).expect("read input");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    assert!(
        n > 0,
        "{target}: no inputs in corpus/{target} or regressions/{target}"
    );
    eprintln!("{target}: {n} inputs");
}

#[test]
fn settings() {
    run("settings", mcp_monitor_fuzz::settings);
}

#[test]
fn http_labels() {
    run("http_labels", mcp_monitor_fuzz::http_labels);
}

#[test]
fn token() {
    run("token", mcp_monitor_fuzz::token);
}

#[test]
fn exposition() {
    run("exposition", mcp_monitor_fuzz::exposition);
}

/// The real parser: `promtool check metrics` on the exposition of every input of the
/// `exposition` corpus (skipped with a notice where promtool is not installed, except
/// under CI).
#[test]
fn exposition_passes_promtool() {
    if Command::new("promtool").arg("--version").output().is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
        assert!(!ci, "promtool is missing under CI");
        eprintln!("NOTICE: skipping: promtool is not installed");
        return;
    }
    for path in inputs("exposition") {
        let data = std::fs::read(&path).expect("read input");
        let (text, _, _) = mcp_monitor_fuzz::exposition_text(&data);
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run promtool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write to promtool");
        let out = child.wait_with_output().expect("promtool");
        assert!(
            out.status.success(),
            "promtool refuses the exposition of {}: {}{}\n{text}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
