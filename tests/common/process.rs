//! The `service` example as a child process: finding its binary, a clean `MCP_*`
//! environment, a guard that kills it, its output line by line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::DEADLINE;

pub(crate) fn example_binary() -> Option<PathBuf> {
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
        !super::under_ci(),
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
pub(crate) fn command(binary: &PathBuf, vars: &[(&str, &str)]) -> Command {
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

/// Kills the child if the test fails before it exits.
pub(crate) struct Guard(pub(crate) Child);

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
    pub(crate) fn output(&mut self) -> String {
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

    pub(crate) fn wait_with_deadline(&mut self) -> std::process::ExitStatus {
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
pub(crate) fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
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

/// A running demo: the child, its address and its output.
pub(crate) struct Demo {
    pub(crate) child: Guard,
    /// `127.0.0.1:<port>`.
    pub(crate) addr: std::net::SocketAddr,
    /// When it printed its address.
    pub(crate) listening_at: Instant,
    pub(crate) stdout: mpsc::Receiver<String>,
    pub(crate) stderr: mpsc::Receiver<String>,
}

impl Demo {
    /// Starts the demo on a free port with `vars`, and waits until it prints where it
    /// listens.
    pub(crate) fn start(binary: &PathBuf, vars: &[(&str, &str)]) -> Self {
        Self::start_command(command(binary, vars).env("MCP_ADDR", "127.0.0.1:0"))
    }

    /// Like [`start`](Self::start), with a command of the caller's.
    pub(crate) fn start_command(cmd: &mut Command) -> Self {
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

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let pid = self.child.0.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(killed.success(), "kill -TERM {pid}");
    }

    /// Waits for a stderr line containing `needle`, and returns it.
    pub(crate) fn wait_for_log(&self, needle: &str, within: Duration) -> String {
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
