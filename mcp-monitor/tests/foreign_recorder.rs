//! The macros record into a `metrics` recorder that is not ours, even when it is
//! installed after the first call. One test in this binary: it owns the global recorder.

use mcp_monitor::{monitor_db_operation, monitor_workflow_step};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};

#[monitor_db_operation("select", "foreign")]
fn query(fail: bool) -> Result<(), String> {
    if fail {
        Err("no".into())
    } else {
        Ok(())
    }
}

#[monitor_workflow_step("foreign_wf", "step")]
async fn step() -> Result<(), String> {
    Ok(())
}

fn find<'a>(
    snapshot: &'a [(
        CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    snapshot.iter().find_map(|(k, _, _, v)| {
        let key = k.key();
        let matches = k.kind() == kind
            && key.name() == name
            && labels
                .iter()
                .all(|(lk, lv)| key.labels().any(|l| l.key() == *lk && l.value() == *lv));
        matches.then_some(v)
    })
}

#[tokio::test]
async fn calls_reach_a_recorder_installed_after_the_first_call() {
    // Before any recorder: recorded in our own store, forwarded to the no-op recorder.
    query(false).unwrap();

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    query(false).unwrap();
    query(true).unwrap_err();
    step().await.unwrap();

    let snapshot = snapshotter.snapshot().into_vec();
    let ok = find(
        &snapshot,
        MetricKind::Counter,
        "mcp_db_operations_total",
        &[
            ("operation", "select"),
            ("table", "foreign"),
            ("status", "success"),
        ],
    );
    assert_eq!(ok, Some(&DebugValue::Counter(1)));
    let failed = find(
        &snapshot,
        MetricKind::Counter,
        "mcp_db_operations_total",
        &[("table", "foreign"), ("status", "failure")],
    );
    assert_eq!(failed, Some(&DebugValue::Counter(1)));
    match find(
        &snapshot,
        MetricKind::Histogram,
        "mcp_db_operation_duration_seconds",
        &[("operation", "select"), ("table", "foreign")],
    ) {
        Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len(), 2),
        other => panic!("no histogram: {other:?}"),
    }
    let steps = find(
        &snapshot,
        MetricKind::Counter,
        "mcp_workflow_steps_total",
        &[
            ("workflow", "foreign_wf"),
            ("step", "step"),
            ("status", "success"),
        ],
    );
    assert_eq!(steps, Some(&DebugValue::Counter(1)));
    let active = find(
        &snapshot,
        MetricKind::Gauge,
        "mcp_active_workflows",
        &[("workflow", "foreign_wf")],
    );
    assert_eq!(active, Some(&DebugValue::Gauge(0.0.into())));
}
