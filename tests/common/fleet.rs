//! Real Alertmanager and Prometheus servers for the fleet tests: each on free loopback
//! ports (started again on others if one was taken before it could bind it) with its
//! own temp dir, stopped by PID when dropped (with its log's tail printed if the test
//! failed). Alertmanager runs with its cluster listener disabled, or as a member of a
//! cluster on loopback ports; with a web config, behind HTTPS and basic auth.

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
    binary: PathBuf,
    args: Vec<String>,
    /// The ports it was given: the web listener first.
    pub(crate) ports: Vec<u16>,
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
            s.ports = (0..ports).map(|_| super::free_port()).collect();
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
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again after [`stop`](Self::stop), on the same ports (its clients know
    /// them), with the same files and data directory; waits while a port is still taken.
    pub(crate) async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart after stop");
        let start = std::time::Instant::now();
        while let Started::PortTaken = self.spawn().await {
            assert!(
                start.elapsed() < super::DEADLINE,
                "{}: its ports stay taken",
                self.what
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// `GET path`, with our credentials.
    pub(crate) fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.get(format!("{}{path}", self.base));
        match &self.auth {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    /// `GET path`, as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let res = self
            .get(path)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// `GET /metrics`, parsed.
    pub(crate) async fn metrics(&self) -> super::Exposition {
        let res = self.get("/metrics").send().await.expect("GET /metrics");
        super::Exposition::parse(&res.text().await.expect("body"))
    }
}

/// Starts Alertmanager with `config` (YAML), its cluster listener disabled.
pub(crate) async fn alertmanager(binary: &Path, config: &str) -> Server {
    alertmanager_with(binary, config, &Am::default()).await
}

/// How to start one Alertmanager beyond its configuration.
#[derive(Default)]
pub(crate) struct Am {
    /// The YAML of `--web.config.file` (TLS, basic auth), with the client that gets
    /// through it; the URL is then `https`.
    pub(crate) web: Option<(String, reqwest::Client)>,
    /// Basic auth (user, password) for the test's own requests.
    pub(crate) auth: Option<(String, String)>,
    /// `None`: cluster listener disabled. `Some(peers)`: a cluster member on a loopback
    /// port, joining the members listening on `peers` (none for the first).
    pub(crate) cluster: Option<Vec<u16>>,
}

/// Starts Alertmanager with `config` (YAML) as `am` says. With a cluster, its cluster
/// port is `ports[1]`.
pub(crate) async fn alertmanager_with(binary: &Path, config: &str, am: &Am) -> Server {
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

/// Starts Prometheus with `config` (YAML) and a rules file `alerts.yml` next to it.
pub(crate) async fn prometheus(binary: &Path, config: &str, rules: &str) -> Server {
    Server::start(
        "prometheus",
        binary,
        &[("prometheus.yml", config), ("alerts.yml", rules)],
        1,
        Access::plain(),
        |dir, ports| {
            vec![
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{}", ports[0]),
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

/// A certificate authority made for one test with the `openssl` CLI, a server
/// certificate for 127.0.0.1 and a client certificate, all in `dir` (PEM).
pub(crate) struct Pki {
    pub(crate) ca: PathBuf,
    pub(crate) server_cert: PathBuf,
    pub(crate) server_key: PathBuf,
    pub(crate) client_cert: PathBuf,
    pub(crate) client_key: PathBuf,
}

impl Pki {
    pub(crate) fn new(openssl: &Path, dir: &Path) -> Self {
        let run = |args: &[&str]| {
            let out = Command::new(openssl)
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=mcp test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        for (name, usage, san) in [
            (
                "server",
                "serverAuth",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ),
            ("client", "clientAuth", "subjectAltName=DNS:mcp-monitor"),
        ] {
            let (key, csr, pem, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            std::fs::write(
                dir.join(&ext),
                format!("{san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"),
            )
            .expect("write ext");
            run(&[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &key,
                    "-out",
                    &csr,
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat());
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ]);
        }
        Self {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }

    /// A client that trusts this CA and presents the client certificate.
    pub(crate) fn client(&self) -> reqwest::ClientBuilder {
        let read = |p: &PathBuf| std::fs::read(p).expect("read PEM");
        let mut identity = read(&self.client_cert);
        identity.extend(read(&self.client_key));
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&read(&self.ca)).expect("CA"))
            .identity(reqwest::Identity::from_pem(&identity).expect("identity"))
    }
}
