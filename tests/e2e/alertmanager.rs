//! The in-process engine pushes to a real Alertmanager (Debian `prometheus-alertmanager`,
//! cluster listener disabled, loopback port): an alert arrives with its labels, its
//! start and end times and annotations; it is re-sent every `MCP_ALERT_RESEND_DELAY`
//! (Alertmanager's own `alertmanager_alerts_received_total` counts the receipts); an
//! escalation resolves the warning and fires a critical; the alert resolves in
//! Alertmanager when the condition clears, and when a reset clears it. A second,
//! unreachable Alertmanager fails on its own (counted) without delaying the first.
//! A second test checks batching, retries and back-off against a receiver on a real
//! socket that fails on cue.
//!
//! Prints the figures of the run (time from firing to arrival, resend count): run with
//! `cargo test --test e2e alertmanager:: -- --nocapture` to see them.
//!
//! Needs `prometheus-alertmanager` (which `.ci/run` installs): under CI its absence
//! fails the test; elsewhere the test is skipped with a notice.

use std::time::Duration;

use crate::common;
use crate::common::fleet::am_config_with_shipped_inhibit_rules;
use crate::common::{eventually, Exposition};
use mcp_monitor::alerts::{AlertEvent, AlertEventKind, AlertSubscription, AlertType, Severity};
use mcp_monitor::{Monitor, ResourceSample};
use mcp_monitor_test_kit::pki::Pki;
use mcp_monitor_test_kit::ports::refusing_port;
use mcp_monitor_test_kit::servers::{alertmanager, alertmanager_with, am_alerts, Am, Server};
use serde_json::Value;

const RESEND: Duration = Duration::from_secs(1);

fn set_cpu(m: &Monitor, cpu: f64) {
    m.observe_resources(ResourceSample {
        cpu: Some(cpu),
        ..ResourceSample::default()
    });
}

/// The severities of `alerts`, sorted.
fn severities_of(alerts: &[Value]) -> Vec<&str> {
    let mut got: Vec<&str> = alerts
        .iter()
        .map(|a| a["labels"]["severity"].as_str().unwrap_or(""))
        .collect();
    got.sort_unstable();
    got
}

/// Waits until Alertmanager holds exactly the alerts of `alertname` with these
/// severities (none: resolved).
async fn wait_for(am: &Server, severities: &[&str], what: &str) -> Vec<Value> {
    eventually(what, || async {
        let alerts = am_alerts(am, &[("alertname", "HIGH_CPU_USAGE")]).await;
        (severities_of(&alerts) == severities).then(|| alerts.clone())
    })
    .await
}

/// The next event of `HIGH_CPU_USAGE` (the only alert this test can raise).
async fn next(events: &mut AlertSubscription) -> AlertEvent {
    let e = tokio::time::timeout(common::DEADLINE, events.recv())
        .await
        .expect("an alert event within the deadline")
        .expect("an event");
    assert_eq!(e.alert.kind, AlertType::HighCpuUsage, "{e:?}");
    e
}

/// Polls Alertmanager every 2 ms until it holds exactly these severities (for the
/// arrival figures; `wait_for` polls every 50 ms).
async fn poll_fast(am: &Server, severities: &[&str]) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let alerts = am_alerts(am, &[("alertname", "HIGH_CPU_USAGE")]).await;
        let got = severities_of(&alerts);
        if got == severities {
            return alerts;
        }
        assert!(start.elapsed() < common::DEADLINE, "timed out: {got:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn received(am: &Server, status: &str) -> f64 {
    am.metrics()
        .await
        .sum("alertmanager_alerts_received_total", &[("status", status)])
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .to_utc()
}

#[tokio::test]
async fn alerts_reach_a_real_alertmanager_with_prometheus_notifier_semantics() {
    let Some(binary) = common::external_tool("prometheus-alertmanager") else {
        return;
    };
    let am = alertmanager(&binary, &am_config_with_shipped_inhibit_rules()).await;
    // Bound and not listening: connections to it are refused for the whole test.
    let (_refusing, dead_port) = refusing_port();
    let dead = format!("http://127.0.0.1:{dead_port}");
    let am_url = am.base.clone();
    let dead_url = dead.clone();
    let m = Monitor::builder()
        // The machine is never sampled: the CPU figure is the test's alone, whatever
        // the machine's load (a busy CI machine once fired a critical here first).
        .without_resource_sampling()
        .configure(move |s| {
            s.alertmanager_urls = vec![am_url, dead_url];
            s.alert_resend_delay = RESEND;
            s.alert_evaluation_interval = Duration::from_millis(200);
            s.alert_for = Duration::ZERO;
            s.instance = "api-a".into();
            s.alert_labels = vec![("team".into(), "payments".into())];
            s.external_url = Some("http://api-a.example:8080".into());
        })
        .build()
        .expect("monitor");
    let mut events = m.subscribe_alerts();
    m.spawn_tasks();

    // Fires as a warning (threshold 80%, critical 96%).
    set_cpu(&m, 0.90);
    let fired = next(&mut events).await;
    assert_eq!(fired.kind, AlertEventKind::Fired);
    assert_eq!(fired.alert.severity, Severity::Warning);
    let alerts = poll_fast(&am, &["warning"]).await;
    let arrival = fired.fired_at.elapsed().unwrap_or_default();
    let a = &alerts[0];
    assert_eq!(a["labels"]["instance"], "api-a");
    assert_eq!(a["labels"]["component"], "system");
    assert_eq!(a["labels"]["team"], "payments");
    assert_eq!(a["status"]["state"], "active");
    assert_eq!(a["generatorURL"], "http://api-a.example:8080/metrics/ui");
    assert_eq!(a["annotations"]["current_value"], "90%");
    assert_eq!(a["annotations"]["threshold"], "80%");
    let description = a["annotations"]["description"].as_str().unwrap();
    assert!(
        description.contains("CPU use of system on api-a is 90%, above the threshold of 80%"),
        "{description}"
    );
    // startsAt is the moment it fired (Alertmanager keeps milliseconds).
    let fired_at = chrono::DateTime::<chrono::Utc>::from(fired.fired_at);
    let skew = (time(&a["startsAt"]) - fired_at).num_milliseconds().abs();
    assert!(skew <= 1, "startsAt {} vs fired {fired_at}", a["startsAt"]);
    // endsAt: the last send + 4 × max(evaluation interval, resend delay) = + 4 s.
    let ends_in = time(&a["endsAt"]) - chrono::Utc::now();
    assert!(
        ends_in <= chrono::Duration::seconds(4) && ends_in > chrono::Duration::seconds(2),
        "endsAt {} is {ends_in} away",
        a["endsAt"]
    );

    // Re-sent every second while it fires: Alertmanager counts each receipt (3, or 2
    // on a machine so loaded that the sends slip; the exact timing is unit-tested).
    let before = received(&am, "firing").await;
    let run = Duration::from_millis(3500);
    tokio::time::sleep(run).await;
    let resends = received(&am, "firing").await - before;
    assert!(
        (2.0..=4.0).contains(&resends),
        "{resends} firing receipts in {run:?} with a resend delay of {RESEND:?}"
    );

    // Escalation: the warning resolves, a critical fires; both are events.
    set_cpu(&m, 0.99);
    let escalated = next(&mut events).await;
    assert_eq!(escalated.kind, AlertEventKind::Escalated);
    assert_eq!(escalated.previous_severity, Some(Severity::Warning));
    let alerts = wait_for(&am, &["critical"], "the critical replacing the warning").await;
    assert!(alerts[0]["annotations"]["description"]
        .as_str()
        .unwrap()
        .contains("critical level of 96%"));

    // The condition clears: resolved in Alertmanager.
    set_cpu(&m, 0.10);
    let resolved = next(&mut events).await;
    assert_eq!(resolved.kind, AlertEventKind::Resolved);
    poll_fast(&am, &[]).await;
    let resolve_arrival = resolved.at.elapsed().unwrap_or_default();

    // A reset resolves what fires, and says so to Alertmanager.
    set_cpu(&m, 0.90);
    assert_eq!(next(&mut events).await.kind, AlertEventKind::Fired);
    wait_for(&am, &["warning"], "the warning again").await;
    set_cpu(&m, 0.50); // stays clear after the reset
    m.reset();
    let reset = next(&mut events).await;
    assert!(reset.kind == AlertEventKind::Resolved && reset.reset);
    wait_for(&am, &[], "the reset to resolve the warning").await;
    assert!(m.active_alerts().is_empty());

    // Our counts: what the live Alertmanager accepted, and the dead one's failures,
    // which never held up the live one.
    // Resolved alerts are re-sent for 15 minutes: compare in a quiet moment.
    let sent_to = |m: &Monitor, am: &str, what: &str| {
        Exposition::parse(&m.render()).value(what, &[("alertmanager", am)])
    };
    let sent = eventually(
        "our sent count to equal Alertmanager's receipts",
        || async {
            let before = sent_to(&m, &am.base, "mcp_alert_notifications_sent_total");
            let got = received(&am, "firing").await + received(&am, "resolved").await;
            let after = sent_to(&m, &am.base, "mcp_alert_notifications_sent_total");
            (before == got && got == after).then_some(got)
        },
    )
    .await;
    assert_eq!(
        sent_to(&m, &am.base, "mcp_alert_notifications_errors_total"),
        0.0
    );
    let ours = Exposition::parse(&m.render());
    let dead_sent = ours.value(
        "mcp_alert_notifications_sent_total",
        &[("alertmanager", &dead)],
    );
    assert_eq!(dead_sent, 0.0);
    eventually("the dead Alertmanager's failures to be counted", || async {
        let m = Exposition::parse(&m.render());
        (m.value(
            "mcp_alert_notifications_errors_total",
            &[("alertmanager", &dead)],
        ) > 0.0)
            .then_some(())
    })
    .await;

    eprintln!(
        "FIGURES: firing -> in Alertmanager {arrival:?}; resolved -> gone from Alertmanager \
         {resolve_arrival:?}; {resends} firing receipts in {run:?} (resend delay {RESEND:?}); \
         {sent} alerts sent over the run ({} s)",
        fired.fired_at.elapsed().unwrap_or_default().as_secs()
    );
}

/// What the in-test receiver saw: when each request came, how many alerts it held.
#[derive(Clone, Default)]
struct Seen(std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, usize)>>>);

/// Batching, retries with back-off and failure counts, against a receiver on a real
/// socket that refuses the first two requests with a 503 (Alertmanager cannot be made
/// to fail on cue): 300 firing alerts go in batches of 256 and 44, the first batch on
/// its third attempt, 200 ms and 400 ms after the failed ones.
#[tokio::test]
async fn batches_retries_and_back_off_against_a_real_socket() {
    use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/api/v2/alerts",
            post(
                |State(seen): State<Seen>, Json(batch): Json<Vec<Value>>| async move {
                    let mut s = seen.0.lock().unwrap();
                    s.push((std::time::Instant::now(), batch.len()));
                    if s.len() <= 2 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let target = url.clone();
    let m = Monitor::builder()
        .configure(move |s| {
            s.alertmanager_urls = vec![target];
            s.alert_for = Duration::ZERO;
            s.alert_min_samples = 1;
            s.alert_resend_delay = Duration::from_secs(3600);
            // As long as the validation allows: the test evaluates itself.
            s.alert_evaluation_interval = s.metrics_window;
            s.resource_interval = Duration::from_secs(3600);
            s.memory_threshold = 1.0;
            s.system_load_threshold = 1e9;
            s.cpu_threshold = 1.0;
        })
        .build()
        .expect("monitor");
    m.spawn_tasks();
    // 300 caches that only miss: 300 LOW_CACHE_HIT_RATIO alerts in one evaluation.
    for i in 0..300 {
        m.cache(&format!("c{i}")).miss();
    }
    m.evaluate_alerts();
    assert_eq!(m.active_alerts().len(), 300);

    let requests = eventually("both batches to be accepted", || async {
        let s = seen.0.lock().unwrap().clone();
        (s.len() == 4).then_some(s)
    })
    .await;
    let sizes: Vec<usize> = requests.iter().map(|r| r.1).collect();
    assert_eq!(sizes, [256, 256, 256, 44]);
    let gap = |i: usize| requests[i].0 - requests[i - 1].0;
    assert!(
        gap(1) >= Duration::from_millis(200) && gap(1) < Duration::from_millis(400),
        "{:?}",
        gap(1)
    );
    assert!(
        gap(2) >= Duration::from_millis(400) && gap(2) < Duration::from_millis(800),
        "{:?}",
        gap(2)
    );
    let value =
        |name: &str| Exposition::parse(&m.render()).value(name, &[("alertmanager", url.as_str())]);
    eventually("the counts", || async {
        (value("mcp_alert_notifications_sent_total") == 300.0).then_some(())
    })
    .await;
    assert_eq!(value("mcp_alert_notifications_errors_total"), 0.0);
    assert_eq!(value("mcp_alert_notifications_dropped_total"), 0.0);
    assert_eq!(value("mcp_alert_notifications_queue_length"), 0.0);
    // Nothing more until a change or the resend delay (an hour).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.0.lock().unwrap().len(), 4);
}

// ---------------------------------------------------------------------------------------
// TLS and credentials, healing, and a real two-node cluster. These tests raise alerts
// only through caches that miss (LOW_CACHE_HIT_RATIO, one per cache): the machine's
// CPU, memory and load cannot alert in them, because their thresholds are set where no
// value can pass (100%, 100%, 10⁹; an alert needs a value above its threshold), and the
// test evaluates when it wants (the evaluation task's period is the whole window).

/// A monitor for these tests: alerts come from the test's caches only, evaluated when
/// the test calls `evaluate_alerts`, re-sent every second.
fn cache_monitor(instance: &'static str, set: impl FnOnce(&mut mcp_monitor::Settings)) -> Monitor {
    let m = Monitor::builder()
        .configure(move |s| {
            s.instance = instance.into();
            s.alert_for = Duration::ZERO;
            s.alert_min_samples = 1;
            s.alert_resend_delay = RESEND;
            s.alert_evaluation_interval = s.metrics_window;
            s.resource_interval = Duration::from_secs(3600);
            s.cpu_threshold = 1.0;
            s.memory_threshold = 1.0;
            s.system_load_threshold = 1e9;
            set(s);
        })
        .build()
        .expect("monitor");
    m.spawn_tasks();
    m
}

/// `LOW_CACHE_HIT_RATIO` alerts in `am` as sorted (instance, component).
async fn cache_alerts(am: &Server) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = am_alerts(am, &[("alertname", "LOW_CACHE_HIT_RATIO")])
        .await
        .iter()
        .map(|a| {
            let s = |k: &str| a["labels"][k].as_str().unwrap_or("").to_owned();
            (s("instance"), s("component"))
        })
        .collect();
    got.sort();
    got
}

fn counter(m: &Monitor, name: &str, am: &str) -> f64 {
    Exposition::parse(&m.render()).value(name, &[("alertmanager", am)])
}

/// Log lines written through `tracing` on this thread (the tests' runtime runs the
/// notifier's tasks on it too), for checks of what the logs show.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Alertmanager behind HTTPS with a CA the test makes, requiring a client certificate
/// of that CA and basic auth: the instance with the CA file, the client certificate and
/// the credentials in its URL gets its alert in; without the client certificate, with a
/// wrong password, or trusting the public roots only, a push fails and is counted. The
/// password shows nowhere: not in `/metrics` (the `alertmanager` label), not in a log.
#[tokio::test]
async fn https_with_a_private_ca_mutual_tls_and_basic_auth() {
    let (Some(binary), Some(openssl)) = (
        common::external_tool("prometheus-alertmanager"),
        common::external_tool("openssl"),
    ) else {
        return;
    };
    let logs = Logs::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let pki_dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::new(&openssl, pki_dir.path());
    // A password with the characters a URL must escape.
    let (user, password) = ("alice", "s3cr3t:p@ss");
    let hash = bcrypt::hash(password, 4).expect("bcrypt");
    let web = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\nbasic_auth_users:\n  {user}: '{hash}'\n",
        pki.server_cert.display(),
        pki.server_key.display(),
        pki.ca.display()
    );
    let am = alertmanager_with(
        &binary,
        &am_config_with_shipped_inhibit_rules(),
        &Am {
            web: Some((web, pki.client().build().expect("client"))),
            auth: Some((user.into(), password.into())),
            cluster: None,
        },
    )
    .await;
    // Without credentials, Alertmanager refuses: the web config is in force.
    let plain = pki.client().build().unwrap();
    let refused = plain
        .get(format!("{}/api/v2/alerts", am.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let host = am.base.trim_start_matches("https://").to_owned();
    let with_auth = format!("https://{user}:s3cr3t%3Ap%40ss@{host}");
    let tls = move |s: &mut mcp_monitor::Settings, ca: bool, client: bool| {
        if ca {
            s.alertmanager_ca_file = Some(pki.ca.clone());
        }
        if client {
            s.alertmanager_cert_file = Some(pki.client_cert.clone());
            s.alertmanager_key_file = Some(pki.client_key.clone());
        }
    };
    let url = with_auth.clone();
    let good = cache_monitor("tls-good", |s| {
        s.alertmanager_urls = vec![url];
        tls(s, true, true);
    });
    let url = with_auth.clone();
    let no_client_cert = cache_monitor("tls-no-client-cert", |s| {
        s.alertmanager_urls = vec![url];
        tls(s, true, false);
    });
    let wrong = format!("https://{user}:wrong@{host}");
    let wrong_password = cache_monitor("tls-wrong-password", |s| {
        s.alertmanager_urls = vec![wrong];
        tls(s, true, true);
    });
    let url = with_auth.clone();
    let public_roots = cache_monitor("tls-public-roots", |s| {
        s.alertmanager_urls = vec![url];
        tls(s, false, true);
    });
    let all = [&good, &no_client_cert, &wrong_password, &public_roots];
    for m in all {
        m.cache("tls").miss();
        m.evaluate_alerts();
        assert_eq!(m.active_alerts().len(), 1);
    }
    eventually("the good instance's alert in Alertmanager", || async {
        (cache_alerts(&am).await == [("tls-good".to_owned(), "cache:tls".to_owned())]).then_some(())
    })
    .await;
    let label = format!("https://{host}");
    for m in &all[1..] {
        eventually("the refused pushes to be counted", || async {
            (counter(m, "mcp_alert_notifications_errors_total", &label) > 0.0).then_some(())
        })
        .await;
        assert_eq!(
            counter(m, "mcp_alert_notifications_sent_total", &label),
            0.0
        );
    }
    eventually("the good instance's sent count", || async {
        (counter(&good, "mcp_alert_notifications_sent_total", &label) >= 1.0).then_some(())
    })
    .await;
    // Still only the good one, after the others' attempts.
    assert_eq!(
        cache_alerts(&am).await,
        [("tls-good".to_owned(), "cache:tls".to_owned())]
    );
    let text = logs.text();
    assert!(
        text.contains("cannot send alerts to Alertmanager"),
        "{text}"
    );
    assert!(
        text.contains("401"),
        "the wrong password's 401 is logged: {text}"
    );
    for m in all {
        let exposition = m.render();
        assert!(!exposition.contains("s3cr3t") && !exposition.contains("wrong@"));
    }
    assert!(
        !text.contains("s3cr3t") && !text.contains("%40ss") && !text.contains(":wrong"),
        "a password in the logs: {text}"
    );
}

/// The bearer token of `MCP_ALERTMANAGER_BEARER_TOKEN_FILE` reaches the receiver (a
/// socket of the test's: Alertmanager's web config knows basic auth only), and is read
/// again before each send: a rotated token is used, a file that disappears keeps the
/// last one.
#[tokio::test]
async fn the_bearer_token_is_sent_and_follows_its_file() {
    use axum::{extract::State, http::HeaderMap, routing::post, Router};
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let app = Router::new()
        .route(
            "/api/v2/alerts",
            post(
                |State(seen): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
                 headers: HeaderMap| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    seen.lock().unwrap().push(auth);
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "t0k3n-1\n").unwrap();
    let file = token.clone();
    let m = cache_monitor("bearer", move |s| {
        s.alertmanager_urls = vec![url];
        s.alertmanager_bearer_token_file = Some(file);
    });
    m.cache("c").miss();
    m.evaluate_alerts();
    let last = || seen.lock().unwrap().last().cloned();
    eventually("the first token", || async {
        (last().as_deref() == Some("Bearer t0k3n-1")).then_some(())
    })
    .await;
    // Rotated: the next re-send carries the new token.
    std::fs::write(&token, "t0k3n-2\n").unwrap();
    eventually("the rotated token", || async {
        (last().as_deref() == Some("Bearer t0k3n-2")).then_some(())
    })
    .await;
    // Gone: the sends go on with the last token read.
    std::fs::remove_file(&token).unwrap();
    let n = seen.lock().unwrap().len();
    eventually("a send after the file went away", || async {
        (seen.lock().unwrap().len() > n).then_some(())
    })
    .await;
    assert_eq!(last().as_deref(), Some("Bearer t0k3n-2"));
}

/// The notifier heals from state. A full channel: one evaluation raises more events
/// than the channel holds (the test's runtime has one thread, so the notifier cannot
/// take any during the evaluation): the overflow is counted, and every alert still
/// reaches Alertmanager. A restart: Alertmanager is killed mid-alert; meanwhile alerts
/// resolve and new ones fire; a new Alertmanager on the same port gets every firing
/// alert, and the resolutions, from the re-sends.
#[tokio::test]
async fn alerts_heal_after_a_full_channel_and_an_alertmanager_restart() {
    let Some(binary) = common::external_tool("prometheus-alertmanager") else {
        return;
    };
    let mut am = alertmanager(&binary, &am_config_with_shipped_inhibit_rules()).await;
    let url = am.base.clone();
    let m = cache_monitor("heal", move |s| s.alertmanager_urls = vec![url]);
    const ALERTS: usize = 1100;
    const CHANNEL: usize = 1024;
    let caches: Vec<_> = (0..ALERTS).map(|i| m.cache(&format!("c{i:04}"))).collect();
    for c in &caches {
        c.miss();
    }
    m.evaluate_alerts();
    assert_eq!(m.active_alerts().len(), ALERTS);
    let dropped = Exposition::parse(&m.render()).value("mcp_alert_events_dropped_total", &[]);
    assert_eq!(dropped, (ALERTS - CHANNEL) as f64);
    let want = |range: std::ops::Range<usize>| -> Vec<(String, String)> {
        range
            .map(|i| ("heal".to_owned(), format!("cache:c{i:04}")))
            .collect()
    };
    eventually(
        "every alert in Alertmanager, the dropped events' too",
        || async { (cache_alerts(&am).await == want(0..ALERTS)).then_some(()) },
    )
    .await;

    // Alertmanager dies mid-alert. The first 100 caches recover, 10 new ones miss.
    am.stop();
    for c in &caches[..100] {
        for _ in 0..9 {
            c.hit();
        }
    }
    let new: Vec<_> = (ALERTS..ALERTS + 10)
        .map(|i| m.cache(&format!("c{i:04}")))
        .collect();
    for c in &new {
        c.miss();
    }
    m.evaluate_alerts();
    assert_eq!(m.active_alerts().len(), ALERTS - 100 + 10);
    eventually("the failed pushes to be counted", || async {
        (counter(&m, "mcp_alert_notifications_errors_total", &am.base) > 0.0).then_some(())
    })
    .await;

    // A new Alertmanager (nothing of the old one's alerts: it keeps them in memory).
    am.restart().await;
    eventually(
        "the firing alerts re-sent to the new Alertmanager",
        || async { (cache_alerts(&am).await == want(100..ALERTS + 10)).then_some(()) },
    )
    .await;
    eventually("the resolutions re-sent to it too", || async {
        (received(&am, "resolved").await >= 100.0).then_some(())
    })
    .await;
}

/// How often a node looked a group up in its notification log (each flush does).
async fn nflog_queries(node: &Server) -> f64 {
    node.metrics()
        .await
        .sum("alertmanager_nflog_queries_total", &[])
}

/// How many notifications a node sent to the webhook.
async fn webhook_sends(node: &Server) -> f64 {
    node.metrics().await.sum(
        "alertmanager_notifications_total",
        &[("integration", "webhook")],
    )
}

/// A real two-node Alertmanager cluster on loopback, gossiping, with a webhook receiver
/// of the test's. The instance pushes to both nodes: each group is notified exactly once
/// (the node second in the cluster waits `--cluster.peer-timeout`, 15 s by default, and
/// finds the first node's notification in the gossiped log). Then the node that notified
/// is killed: the other notifies the resolution and a new group, once each.
#[tokio::test]
async fn a_two_node_cluster_notifies_once_per_group_and_a_dead_node_loses_nothing() {
    use axum::{extract::State, routing::post, Json, Router};
    type Notes = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;
    let Some(binary) = common::external_tool("prometheus-alertmanager") else {
        return;
    };
    // The receiver: each notification as (status, component) per alert in it.
    let notes: Notes = Default::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(notes): State<Notes>, Json(body): Json<Value>| async move {
                    let mut n = notes.lock().unwrap();
                    for a in body["alerts"].as_array().into_iter().flatten() {
                        n.push((
                            a["status"].as_str().unwrap_or("").to_owned(),
                            a["labels"]["component"].as_str().unwrap_or("").to_owned(),
                        ));
                    }
                },
            ),
        )
        .with_state(notes.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = format!(
        "route:\n  receiver: hook\n  group_by: [alertname, component, instance]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: '{hook}'\n        send_resolved: true\n"
    );
    let first = alertmanager_with(
        &binary,
        &config,
        &Am {
            cluster: Some(Vec::new()),
            ..Am::default()
        },
    )
    .await;
    let second = alertmanager_with(
        &binary,
        &config,
        &Am {
            cluster: Some(vec![first.ports[1]]),
            ..Am::default()
        },
    )
    .await;
    let mut nodes = [first, second];
    for node in &nodes {
        eventually("both nodes to see each other, settled", || async {
            let status = node.get_json("/api/v2/status").await;
            let cluster = &status["cluster"];
            (cluster["status"] == "ready" && cluster["peers"].as_array().map_or(0, Vec::len) == 2)
                .then_some(())
        })
        .await;
    }
    let urls: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
    let m = cache_monitor("ha", move |s| s.alertmanager_urls = urls);
    let count = |status: &str, component: &str| {
        notes
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, c)| s == status && c == component)
            .count()
    };

    // Two groups fire; both nodes get both alerts.
    let (a, b) = (m.cache("a"), m.cache("b"));
    a.miss();
    b.miss();
    m.evaluate_alerts();
    eventually("one notification of each group", || async {
        (count("firing", "cache:a") >= 1 && count("firing", "cache:b") >= 1).then_some(())
    })
    .await;
    // Both nodes ran their pipeline for both groups (each flush looks the group up in
    // the notification log), the second one after its wait: still one notification each.
    let mut before = Vec::new();
    for node in &nodes {
        before.push(nflog_queries(node).await);
    }
    for (node, q) in nodes.iter().zip(&before) {
        eventually("a later flush of each group on each node", || async {
            (nflog_queries(node).await >= q + 2.0).then_some(())
        })
        .await;
    }
    assert_eq!(
        (count("firing", "cache:a"), count("firing", "cache:b")),
        (1, 1),
        "{:?}",
        notes.lock().unwrap()
    );

    // Kill the node that notified; the survivor takes over.
    let mut sent = Vec::new();
    for node in &nodes {
        sent.push(webhook_sends(node).await);
    }
    assert_eq!(sent.iter().sum::<f64>(), 2.0, "{sent:?}");
    let notifier = usize::from(sent[0] == 0.0);
    nodes[notifier].stop();
    let survivor = &nodes[1 - notifier];
    // `a` recovers, `c` fires.
    for _ in 0..9 {
        a.hit();
    }
    let c = m.cache("c");
    c.miss();
    m.evaluate_alerts();
    eventually(
        "the resolution and the new group from the survivor",
        || async {
            (count("resolved", "cache:a") >= 1 && count("firing", "cache:c") >= 1).then_some(())
        },
    )
    .await;
    let q = nflog_queries(survivor).await;
    eventually("two more flushes on the survivor", || async {
        (nflog_queries(survivor).await >= q + 3.0).then_some(())
    })
    .await;
    assert_eq!(
        (
            count("firing", "cache:a"),
            count("resolved", "cache:a"),
            count("firing", "cache:b"),
            count("firing", "cache:c"),
        ),
        (1, 1, 1, 1),
        "{:?}",
        notes.lock().unwrap()
    );
    // Nothing was lost on the survivor: `b` and `c` fire there, `a` is resolved.
    let mut firing: Vec<String> = am_alerts(survivor, &[("alertname", "LOW_CACHE_HIT_RATIO")])
        .await
        .iter()
        .filter(|x| x["status"]["state"] == "active")
        .map(|x| x["labels"]["component"].as_str().unwrap_or("").to_owned())
        .collect();
    firing.sort();
    assert_eq!(firing, ["cache:b", "cache:c"]);
}
