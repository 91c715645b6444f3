//! Real Prometheus and Alertmanager servers of our own: each on free loopback ports
//! (started again on others if one was taken before it could bind it, see
//! [`crate::ports`]) with its own temp dir, stopped by PID when dropped (with its log's
//! tail printed if the test failed). Alertmanager runs with its cluster listener
//! disabled, or as a member of a cluster on loopback ports; with a web config, behind
//! HTTPS and basic auth.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::ports::free_port;
use crate::{eventually, Exposition, DEADLINE};

/// A server process of our own.
#[derive(Debug)]
pub struct Server {
    what: &'static str,
    child: Option<Child>,
    /// `http(s)://127.0.0.1:<web port>`.
    pub base: String,
    /// The client that reaches it.
    pub client: reqwest::Client,
    log: PathBuf,
    /// Its directory: configuration files, data, log.
    pub dir: tempfile::TempDir,
    binary: PathBuf,
    args: Vec<String>,
    /// The ports it was given: the web listener first.
    pub ports: Vec<u16>,
    /// Basic auth (user, password) for every request of ours.
    auth: Option<(String, String)>,
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

/// How the test reaches a server: `http` or `https`, with which client and credentials.
#[derive(Debug)]
struct Access {
    scheme: &'static str,
    client: reqwest::Client,
    auth: Option<(String, String)>,
}

impl Access {
    fn plain() -> Self {
        Self {
            scheme: "http",
            client: reqwest::Client::new(),
            auth: None,
        }
    }
}

/// How a server started: ready, or gone because a port it was given was taken.
enum Started {
    Ready,
    PortTaken,
}

impl Server {
    /// Starts `binary` with `args(dir, ports)` (`ports` free loopback ports, the web
    /// listener first) and waits until `GET /-/ready` succeeds. A binary binds its ports
    /// itself, so one may be taken between our check and its bind: it is then started
    /// again on other ports.
    async fn start(
        what: &'static str,
        binary: &Path,
        files: &[(&str, &str)],
        ports: usize,
        access: Access,
        args: impl Fn(&Path, &[u16]) -> Vec<String>,
    ) -> Self {
        let Access {
            scheme,
            client,
            auth,
        } = access;
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write config");
        }
        let log = dir.path().join(format!("{what}.log"));
        let mut s = Self {
            what,
            child: None,
            base: String::new(),
            client,
            log,
            dir,
            binary: binary.to_owned(),
            args: Vec::new(),
            ports: Vec::new(),
            auth,
        };
        for _ in 0..10 {
            s.ports = (0..ports).map(|_| free_port()).collect();
            s.args = args(s.dir.path(), &s.ports);
            s.base = format!("{scheme}://127.0.0.1:{}", s.ports[0]);
            if let Started::Ready = s.spawn().await {
                return s;
            }
        }
        panic!("{what}: its ports were taken ten times in a row");
    }

    /// Starts the process with its arguments and waits until it is ready, or gone with
    /// "address already in use" in its log.
    async fn spawn(&mut self) -> Started {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let from = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let child = Command::new(&self.binary)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.what));
        self.child = Some(child);
        let (client, url, auth) = (
            self.client.clone(),
            format!("{}/-/ready", self.base),
            self.auth.clone(),
        );
        let (what, log, child) = (self.what, self.log.clone(), &mut self.child);
        let started = eventually(&format!("{what} to be ready"), || {
            let exited = child.as_mut().and_then(|c| c.try_wait().expect("try_wait"));
            let mut req = client.get(&url);
            if let Some((user, password)) = &auth {
                req = req.basic_auth(user, Some(password));
            }
            let log = log.clone();
            async move {
                if let Some(status) = exited {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let text = text.get(from..).unwrap_or_default();
                    assert!(
                        text.contains("address already in use"),
                        "{what} exited ({status}):\n{text}"
                    );
                    return Some(Started::PortTaken);
                }
                let res = req.send().await.ok()?;
                res.status().is_success().then_some(Started::Ready)
            }
        })
        .await;
        if let Started::PortTaken = started {
            self.child = None;
        }
        started
    }

    /// Kills the process (by its PID) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again after [`stop`](Self::stop), on the same ports (its clients know
    /// them), with the same files and data directory; waits while a port is still taken.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart after stop");
        let start = std::time::Instant::now();
        while let Started::PortTaken = self.spawn().await {
            assert!(
                start.elapsed() < DEADLINE,
                "{}: its ports stay taken",
                self.what
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// `GET path`, with our credentials.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.get(format!("{}{path}", self.base));
        match &self.auth {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    /// `GET path`, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self
            .get(path)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// The result vector of Prometheus' instant query `q` (now, or at `time` in Unix
    /// seconds).
    pub async fn query_at(&self, q: &str, time: Option<f64>) -> Vec<Value> {
        let mut params = vec![("query", q.to_owned())];
        if let Some(t) = time {
            params.push(("time", t.to_string()));
        }
        let res = self
            .get("/api/v1/query")
            .query(&params)
            .send()
            .await
            .expect("query prometheus");
        let body: Value = res.json().await.expect("JSON from prometheus");
        assert_eq!(body["status"], "success", "{q}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The result vector of Prometheus' instant query `q`, now.
    pub async fn query(&self, q: &str) -> Vec<Value> {
        self.query_at(q, None).await
    }

    /// The value of the single-series result of `q`, if there is one.
    pub async fn scalar(&self, q: &str) -> Option<f64> {
        let result = self.query(q).await;
        let [one] = result.as_slice() else {
            return None;
        };
        one["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `q` evaluates to `want`.
    pub async fn wait_for(&self, q: &str, want: f64) {
        eventually(&format!("prometheus: {q} == {want}"), || async {
            (self.scalar(q).await == Some(want)).then_some(())
        })
        .await;
    }

    /// `GET /metrics`, parsed.
    pub async fn metrics(&self) -> Exposition {
        let res = self.get("/metrics").send().await.expect("GET /metrics");
        Exposition::parse(&res.text().await.expect("body"))
    }
}

/// Starts Alertmanager with `config` (YAML), its cluster listener disabled.
pub async fn alertmanager(binary: &Path, config: &str) -> Server {
    alertmanager_with(binary, config, &Am::default()).await
}

/// How to start one Alertmanager beyond its configuration.
#[derive(Default)]
pub struct Am {
    /// The YAML of `--web.config.file` (TLS, basic auth), with the client that gets
    /// through it; the URL is then `https`.
    pub web: Option<(String, reqwest::Client)>,
    /// Basic auth (user, password) for the test's own requests.
    pub auth: Option<(String, String)>,
    /// `None`: cluster listener disabled. `Some(peers)`: a cluster member on a loopback
    /// port, joining the members listening on `peers` (none for the first).
    pub cluster: Option<Vec<u16>>,
}

/// Starts Alertmanager with `config` (YAML) as `am` says. With a cluster, its cluster
/// port is `ports[1]`.
pub async fn alertmanager_with(binary: &Path, config: &str, am: &Am) -> Server {
    let mut files = vec![("alertmanager.yml", config)];
    if let Some((web, _)) = &am.web {
        files.push(("web.yml", web.as_str()));
    }
    let (scheme, client) = match &am.web {
        Some((_, client)) => ("https", client.clone()),
        None => ("http", reqwest::Client::new()),
    };
    let ports = if am.cluster.is_some() { 2 } else { 1 };
    Server::start(
        "alertmanager",
        binary,
        &files,
        ports,
        Access {
            scheme,
            client,
            auth: am.auth.clone(),
        },
        |dir, ports| {
            let mut args = vec![
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{}", ports[0]),
                "--log.level=debug".to_owned(),
            ];
            if am.web.is_some() {
                args.push(format!(
                    "--web.config.file={}",
                    dir.join("web.yml").display()
                ));
            }
            match &am.cluster {
                None => args.push("--cluster.listen-address=".to_owned()),
                Some(peers) => {
                    args.push(format!("--cluster.listen-address=127.0.0.1:{}", ports[1]));
                    args.push(format!(
                        "--cluster.advertise-address=127.0.0.1:{}",
                        ports[1]
                    ));
                    args.extend(
                        peers
                            .iter()
                            .map(|p| format!("--cluster.peer=127.0.0.1:{p}")),
                    );
                }
            }
            args
        },
    )
    .await
}

/// Starts Prometheus with `config` (YAML) and a rules file `alerts.yml` next to it,
/// re-sending firing alerts to Alertmanager every second (not every minute).
pub async fn prometheus(binary: &Path, config: &str, rules: &str) -> Server {
    prometheus_with(
        binary,
        &[("prometheus.yml", config), ("alerts.yml", rules)],
        &["--rules.alert.resend-delay=1s"],
    )
    .await
}

/// Starts Prometheus with `files` in its directory (`prometheus.yml` among them, whose
/// rule files name the others relative to it) and the extra flags `args`.
pub async fn prometheus_with(binary: &Path, files: &[(&str, &str)], args: &[&str]) -> Server {
    Server::start(
        "prometheus",
        binary,
        files,
        1,
        Access::plain(),
        |dir, ports| {
            let mut all = vec![
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{}", ports[0]),
            ];
            all.extend(args.iter().map(|a| (*a).to_owned()));
            all
        },
    )
    .await
}

/// The alerts Alertmanager holds whose labels include `labels` (active, suppressed
/// and unprocessed; resolved ones are gone).
pub async fn am_alerts(am: &Server, labels: &[(&str, &str)]) -> Vec<Value> {
    let all = am.get_json("/api/v2/alerts").await;
    all.as_array()
        .expect("alerts")
        .iter()
        .filter(|a| labels.iter().all(|(k, v)| a["labels"][*k] == *v))
        .cloned()
        .collect()
}
