//! Child processes of the tests: a guard that stops one by its PID when dropped, its
//! output line by line, and the demo (the `service` example) as a child with a clean
//! `MCP_*` environment.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::DEADLINE;

/// `target/<profile>/`, from the running test binary (`target/<profile>/deps/<name>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors().nth(2).expect("profile dir").to_path_buf()
}

/// The binary of example `name`, built by `cargo test` beside the test binaries; if it
/// is not built, see [`crate::missing`].
#[track_caller]
pub fn example_binary(name: &str) -> Option<PathBuf> {
    let path = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        return Some(path);
    }
    crate::missing(&format!(
        "{} is not built (`cargo test` without --test builds it, or `cargo build --example {name}`)",
        path.display()
    ))
}

/// `binary` with a clean `MCP_*` environment (and no `DEMO_SCHEDULER`) plus `vars`,
/// `RUST_LOG=info` unless `vars` says otherwise, its output piped.
pub fn command(binary: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary);
    for (k, _) in std::env::vars() {
        if k.starts_with("MCP_") || k == "DEMO_SCHEDULER" {
            cmd.env_remove(k);
        }
    }
    // A free port for the gRPC listener too, so that demos run side by side.
    cmd.env("RUST_LOG", "info")
        .env("MCP_GRPC_ADDR", "127.0.0.1:0")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A child process, killed (by its PID) and reaped when dropped if it still runs.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Guard {
    /// Everything the exited child wrote on stdout and stderr (those not taken).
    pub fn output(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut o) = self.0.stdout.take() {
            o.read_to_string(&mut s).expect("stdout");
        }
        if let Some(mut e) = self.0.stderr.take() {
            e.read_to_string(&mut s).expect("stderr");
        }
        s
    }

    /// Waits for the child to exit, at most [`DEADLINE`].
    pub fn wait_with_deadline(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the child did not exit within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM to the child (by its PID).
    pub fn terminate(&self) {
        let pid = self.0.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(killed.success(), "kill -TERM {pid}");
    }
}

/// Sends every line the child writes on `stream` to a channel; keeps reading after the
/// receiver is gone, so that the child never blocks on a full pipe.
pub fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    rx
}

/// A running demo: the child, its address and its output.
#[derive(Debug)]
pub struct Demo {
    /// The child.
    pub child: Guard,
    /// `127.0.0.1:<port>`.
    pub addr: std::net::SocketAddr,
    /// When it printed its address.
    pub listening_at: Instant,
    /// Its standard output, line by line.
    pub stdout: mpsc::Receiver<String>,
    /// Its standard error, line by line.
    pub stderr: mpsc::Receiver<String>,
}

impl Demo {
    /// Starts `binary` (the `service` example) on `127.0.0.1:0` with [`command`]'s
    /// environment plus `vars`; waits until it prints where it listens.
    pub fn start(binary: &Path, vars: &[(&str, &str)]) -> Self {
        Self::start_command(command(binary, vars).env("MCP_ADDR", "127.0.0.1:0"))
    }

    /// Like [`start`](Self::start), with a command of the caller's (output piped).
    pub fn start_command(cmd: &mut Command) -> Self {
        let mut child = Guard(cmd.spawn().expect("spawn the demo"));
        let stdout = lines(child.0.stdout.take().expect("stdout"));
        let stderr = lines(child.0.stderr.take().expect("stderr"));
        let start = Instant::now();
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            let line = match stdout.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => panic!(
                    "the demo printed no address ({e}); stderr: {:?}",
                    stderr.try_iter().collect::<Vec<_>>()
                ),
            };
            if let Some((_, url)) = line.split_once("listening on http://") {
                let addr = url.trim().parse().expect("listen address");
                return Self {
                    child,
                    addr,
                    listening_at: Instant::now(),
                    stdout,
                    stderr,
                };
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.child.terminate();
    }

    /// Waits for a stderr line containing `needle`, and returns it.
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> String {
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let left = within.saturating_sub(start.elapsed());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no log line with {needle:?} within {within:?}; got: {seen:#?}"),
            }
        }
    }
}
