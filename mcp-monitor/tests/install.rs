//! Installing the monitor after monitored code already ran, and twice.
//! One test in this binary owns the global recorder; the others run this binary again
//! as a child process, as a newcomer's service would run: no `tracing` subscriber, the
//! environment set with mistakes in it.

mod common;

use common::value;
use mcp_monitor::{monitor_db_operation, Error, Monitor};

#[monitor_db_operation("select", "early")]
fn early_query() -> Result<(), String> {
    Ok(())
}

#[tokio::test]
async fn calls_before_and_after_install_are_all_recorded() {
    early_query().unwrap();
    early_query().unwrap();
    let monitor = Monitor::builder().install().expect("first install");
    early_query().unwrap();
    let prefix = "mcp_db_operations_total{operation=\"select\",table=\"early\",status=\"success\"}";
    assert_eq!(value(&monitor.render(), prefix), Some(3.0));

    // The application's own facade metrics land in the same exposition.
    metrics::counter!("app_signups_total").increment(2);
    metrics::histogram!("app_payload_bytes").record(512.0);
    let text = monitor.render();
    assert_eq!(value(&text, "app_signups_total"), Some(2.0));
    assert!(
        text.contains("# TYPE app_payload_bytes histogram"),
        "{text}"
    );
    assert!(
        !text.contains("quantile="),
        "a histogram fell back to a summary: {text}"
    );

    // A reset changes the summary, never the Prometheus series, and later calls count.
    monitor.reset();
    early_query().unwrap();
    assert_eq!(value(&monitor.render(), prefix), Some(4.0));

    // A second install is an error, not a panic, and leaves the first one working.
    let err = Monitor::builder().install().unwrap_err();
    assert!(matches!(err, Error::AlreadyInstalled), "{err}");
    assert!(mcp_monitor::install().is_err());
    early_query().unwrap();
    assert_eq!(value(&monitor.render(), prefix), Some(5.0));
}

/// The child's part: installs from the environment as the README's `main` does, with no
/// `tracing` subscriber, and prints the outcome. Does nothing unless run as the child.
#[test]
fn newcomer_child() {
    if std::env::var_os("MCP_TEST_NEWCOMER_CHILD").is_none() {
        return;
    }
    match mcp_monitor::install() {
        Ok(_) => {
            // A second read of the environment reports nothing new.
            mcp_monitor::Settings::from_env().unwrap();
            println!("CHILD installed");
        }
        Err(e) => println!("CHILD error: {e:?}"),
    }
}

/// Runs `newcomer_child` in a child process with `vars` set: its (stdout, stderr).
fn newcomer(vars: &[(&str, &str)]) -> (String, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "newcomer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MCP_TEST_NEWCOMER_CHILD", "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (text(out.stdout), text(out.stderr))
}

/// Finding 1: with no subscriber, an unknown setting still reaches a person (stderr,
/// once, though the environment is read twice).
#[test]
fn an_unknown_setting_is_reported_on_stderr_without_a_subscriber() {
    let (stdout, stderr) = newcomer(&[("MCP_CPU_TRESHOLD", "90")]);
    assert!(stdout.contains("CHILD installed"), "{stdout}\n{stderr}");
    let line = "mcp-monitor: warning: unknown setting MCP_CPU_TRESHOLD is ignored; did you mean MCP_CPU_THRESHOLD?";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
}

/// Finding 1: a misspelled token variable stops start-up, naming the variable it
/// resembles: `/metrics` is never left open by a typo.
#[test]
fn a_misspelled_token_variable_stops_install() {
    for (typo, meant) in [
        ("MCP_METRIC_TOKEN", "MCP_METRICS_TOKEN"),
        ("MCP_ADMIN_TOKN", "MCP_ADMIN_TOKEN"),
        ("MCP_METRICS_TOKEN_FLE", "MCP_METRICS_TOKEN_FILE"),
    ] {
        let (stdout, stderr) = newcomer(&[(typo, "s3cret")]);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("CHILD error: ").map(|(_, e)| e))
            .unwrap_or_default();
        assert!(
            line.contains(typo) && line.contains(meant),
            "{stdout}\n{stderr}"
        );
        assert!(!line.contains("s3cret"), "the value is never shown: {line}");
    }
}
