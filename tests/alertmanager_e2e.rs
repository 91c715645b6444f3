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
//! `cargo test --test alertmanager_e2e -- --nocapture` to see them.
//!
//! Needs `prometheus-alertmanager` (which `.ci/run` installs): under CI its absence
//! fails the test; elsewhere the test is skipped with a notice.

mod common;

use std::time::Duration;

use common::fleet::{alertmanager, am_alerts, am_config_with_shipped_inhibit_rules, Server};
use common::{eventually, free_port, Exposition};
use mcp_monitor::alerts::{AlertEvent, AlertEventKind, AlertSubscription, AlertType, Severity};
use mcp_monitor::{Monitor, ResourceSample};
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
    let dead = format!("http://127.0.0.1:{}", free_port());
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
