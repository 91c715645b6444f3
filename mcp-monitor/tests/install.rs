//! Installing the monitor after monitored code already ran, and twice.
//! One test in this binary: it owns the global recorder.

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
