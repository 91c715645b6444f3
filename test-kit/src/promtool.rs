//! `promtool`, the checker that ships with Prometheus: expositions (`check metrics`),
//! rules (`check rules`) and rule unit tests (`test rules`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// The `promtool` binary.
#[derive(Debug, Clone)]
pub struct Promtool(PathBuf);

/// What one run of promtool said.
#[derive(Debug)]
pub struct Run {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Run {
    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Standard output then standard error.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Whether it exited with 0 and printed nothing (no lint warning either).
    pub fn clean(&self) -> bool {
        self.success() && self.stdout.trim().is_empty() && self.stderr.trim().is_empty()
    }
}

impl Promtool {
    /// `promtool` on `PATH`; if it is not there, see [`crate::missing`].
    #[track_caller]
    pub fn find() -> Option<Self> {
        crate::external_tool("promtool").map(Self)
    }

    /// `promtool <args>` run in `dir` (the current directory if `None`), with `stdin`
    /// on its standard input.
    pub fn run(&self, args: &[&str], dir: Option<&Path>, stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(&self.0);
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("run promtool {args:?}: {e}"));
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write to promtool");
        }
        let out = child.wait_with_output().expect("promtool's output");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `promtool check metrics` with `text` on its standard input.
    pub fn check_metrics(&self, text: &str) -> Run {
        self.run(&["check", "metrics"], None, Some(text))
    }

    /// `promtool check rules <path>`.
    pub fn check_rules(&self, path: &Path) -> Run {
        self.run(&["check", "rules", &path.to_string_lossy()], None, None)
    }

    /// `promtool test rules <path>`, run in the test file's directory (a test file
    /// names its rule files relative to itself or to the current directory).
    pub fn test_rules(&self, path: &Path, dir: Option<&Path>) -> Run {
        self.run(&["test", "rules", &path.to_string_lossy()], dir, None)
    }
}
