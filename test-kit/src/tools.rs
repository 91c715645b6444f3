//! External programs, and the one rule for a test that needs one that is missing: a
//! notice and a skip on a developer's machine, a failure under CI (`.ci/run` installs
//! every tool, so its absence there is a bug, not a reason to skip).

use std::path::PathBuf;

/// Whether the tests run under CI: `CI` is set to anything but empty, `0` or `false`.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// What a test does when something it needs is missing (`why`): under CI it panics;
/// elsewhere it prints a notice and gives `None`, and the test returns.
#[track_caller]
pub fn missing<T>(why: &str) -> Option<T> {
    assert!(
        !under_ci(),
        "{why}, and CI is set: .ci/run installs it, so under CI this is a failure"
    );
    eprintln!("NOTICE: skipping: {why}; under CI this fails");
    None
}

/// The program `name` on `PATH`, if any (no notice).
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The program `name` on `PATH`; if it is not there, see [`missing`].
#[track_caller]
pub fn external_tool(name: &str) -> Option<PathBuf> {
    on_path(name).or_else(|| {
        missing(&format!(
            "`{name}` is not installed (.ci/run installs it: Debian packages `prometheus`, `prometheus-alertmanager`, `openssl`, `chromium`, `nodejs`, `npm`)"
        ))
    })
}
