//! Real Alertmanager and Prometheus servers for the fleet tests: each on a free loopback
//! port with its own temp dir, stopped by PID when dropped (with its log's tail
//! printed if the test failed). Alertmanager runs with its cluster listener disabled.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::eventually;

/// A server process of our own.
pub(crate) struct Server {
    what: &'static str,
    child: Option<Child>,
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    log: PathBuf,
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- {} log (last lines) ---", self.what);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Server {
    /// Starts `binary` with `args(dir, port)` and waits until `GET /-/ready` succeeds.
    async fn start(
        what: &'static str,
        binary: &Path,
        files: &[(&str, &str)],
        args: impl FnOnce(&Path, u16) -> Vec<String>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write config");
        }
        let log = dir.path().join(format!("{what}.log"));
        let log_file = File::create(&log).expect("log file");
        let port = super::free_port();
        let child = Command::new(binary)
            .args(args(dir.path(), port))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let s = Self {
            what,
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            log,
            dir,
        };
        let ready = format!("{}/-/ready", s.base);
        eventually(&format!("{what} to be ready"), || {
            let (client, url) = (s.client.clone(), ready.clone());
            async move {
                let res = client.get(url).send().await.ok()?;
                res.status().is_success().then_some(())
            }
        })
        .await;
        s
    }

    /// Kills the process (by its PID) and waits for it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `GET path`, as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// `GET /metrics`, parsed.
    pub(crate) async fn metrics(&self) -> super::Exposition {
        let res = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("GET /metrics");
        super::Exposition::parse(&res.text().await.expect("body"))
    }
}

/// Starts Alertmanager with `config` (YAML).
pub(crate) async fn alertmanager(binary: &Path, config: &str) -> Server {
    Server::start(
        "alertmanager",
        binary,
        &[("alertmanager.yml", config)],
        |dir, port| {
            vec![
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--cluster.listen-address=".to_owned(),
                "--log.level=debug".to_owned(),
            ]
        },
    )
    .await
}

/// Starts Prometheus with `config` (YAML) and a rules file `alerts.yml` next to it.
pub(crate) async fn prometheus(binary: &Path, config: &str, rules: &str) -> Server {
    Server::start(
        "prometheus",
        binary,
        &[("prometheus.yml", config), ("alerts.yml", rules)],
        |dir, port| {
            vec![
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                // Re-send firing alerts to Alertmanager every second, not every minute.
                "--rules.alert.resend-delay=1s".to_owned(),
            ]
        },
    )
    .await
}

/// The alerts Alertmanager holds whose labels include `labels` (active, suppressed
/// and unprocessed; resolved ones are gone).
pub(crate) async fn am_alerts(am: &Server, labels: &[(&str, &str)]) -> Vec<Value> {
    let all = am.get_json("/api/v2/alerts").await;
    all.as_array()
        .expect("alerts")
        .iter()
        .filter(|a| labels.iter().all(|(k, v)| a["labels"][*k] == *v))
        .cloned()
        .collect()
}

/// A minimal Alertmanager configuration: one receiver that notifies nobody, groups
/// sent at once, and the `inhibit_rules:` section of the shipped example.
pub(crate) fn am_config_with_shipped_inhibit_rules() -> String {
    let shipped = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/alertmanager/alertmanager.yml"),
    )
    .expect("read docs/alertmanager/alertmanager.yml");
    let inhibit = shipped
        .split_once("\ninhibit_rules:\n")
        .map(|(_, rest)| {
            // Up to the next top-level key.
            rest.lines()
                .take_while(|l| l.is_empty() || l.starts_with([' ', '#']))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        })
        .expect("the shipped example has inhibit_rules");
    format!(
        "route:\n  receiver: nobody\n  group_by: [alertname, instance]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: nobody\ninhibit_rules:\n{inhibit}"
    )
}
