//! Every input of `corpus/<target>/` (seeds, and what fuzzing kept) and of
//! `regressions/<target>/` (inputs that once failed) through its target's checks, as an
//! ordinary test: the fuzz targets' smoke pass where `cargo fuzz` is not installed.

use std::path::{Path, PathBuf};

use mcp_monitor_test_kit::promtool::Promtool;

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
    let Some(promtool) = Promtool::find() else {
        return;
    };
    for path in inputs("exposition") {
        let data = std::fs::read(&path).expect("read input");
        let (text, _, _) = mcp_monitor_fuzz::exposition_text(&data);
        let out = promtool.check_metrics(&text);
        assert!(
            out.success(),
            "promtool refuses the exposition of {}: {}\n{text}",
            path.display(),
            out.text()
        );
    }
}
