//! Headless Chromium for the page's browser tests, driven by `playwright-core` from npm
//! under `node --test` (no browser download: Debian's Chromium).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{missing, on_path};

/// Chromium: `$CHROMIUM`, Debian's `/usr/bin/chromium`, or `chromium` on `PATH`; if
/// none, see [`missing`].
#[track_caller]
pub fn chromium() -> Option<PathBuf> {
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

/// What runs the browser tests: `node`, and the npm packages of `dir` (installed with
/// `npm ci` from its lock file when missing). `None` (see [`missing`]) without them.
#[track_caller]
pub fn node_with_packages(dir: &Path) -> Option<PathBuf> {
    let node = on_path("node").or_else(|| missing("`node` is not installed"))?;
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some(node);
    }
    let npm = on_path("npm").or_else(|| missing("`npm` is not installed"))?;
    let status = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => Some(node),
        other => missing(&format!("`npm ci` in {} failed: {other:?}", dir.display())),
    }
}
