//! An OpenTelemetry tracer behind `tracing`, and exemplars that link to its traces with
//! no `traceparent` handling: each monitored call runs in a span of its own (feature
//! `tracing`), `tracing-opentelemetry` turns those spans into OpenTelemetry spans, and
//! the samples they record carry the trace id and span id of the call's span (feature
//! `opentelemetry`). The tracer exports to stdout through a small in-process exporter,
//! so nothing needs to run beside it.
//!
//! ```sh
//! cargo run -p mcp-monitor --example otel --features opentelemetry
//! ```
//!
//! It prints each span as the tracer exports it, then the exemplar lines of the
//! OpenMetrics exposition (what `GET /metrics` answers to Prometheus): their
//! `trace_id` and `span_id` are those of the spans above. See `docs/tracing.md`.

use std::future::Future;

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step, Monitor};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Prints every finished span: name, ids, parent, status and attributes.
#[derive(Debug)]
struct StdoutExporter;

impl SpanExporter for StdoutExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        for span in batch {
            let attributes: Vec<String> = span
                .attributes
                .iter()
                .filter(|kv| !kv.key.as_str().starts_with("code.") && kv.key.as_str() != "target")
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            println!(
                "span {:<34} trace_id={} span_id={} parent={} status={:?}\n     {}",
                format!("{:?}", span.name),
                span.span_context.trace_id(),
                span.span_context.span_id(),
                span.parent_span_id,
                span.status,
                attributes.join(" "),
            );
        }
        std::future::ready(Ok(()))
    }
}

#[derive(Debug)]
struct DbError;

#[monitor_db_operation("select", "users")]
async fn get_user(id: u32) -> Result<String, DbError> {
    tokio::task::yield_now().await;
    if id == 0 {
        Err(DbError)
    } else {
        Ok(format!("user {id}"))
    }
}

#[monitor_workflow_step("data_processing", "validation")]
fn validate(records: &[u32]) -> Result<usize, String> {
    if records.is_empty() {
        Err("no records".into())
    } else {
        Ok(records.len())
    }
}

#[monitor_workflow("data_processing")]
async fn process(records: Vec<u32>) -> Result<usize, String> {
    let n = validate(&records)?;
    get_user(records[0])
        .await
        .map_err(|_| "no user".to_owned())?;
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(StdoutExporter)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-example")));
    tracing::subscriber::set_global_default(subscriber)?;

    // Not installed as the global `metrics` recorder: the macro series are recorded
    // either way, and this example only renders them.
    let monitor = Monitor::builder().build()?;

    // What an HTTP handler (or `tower_http::trace::TraceLayer`) would open per request.
    process(vec![1, 2, 3])
        .instrument(tracing::info_span!("POST /workflows/data_processing"))
        .await?;
    let failed = get_user(0)
        .instrument(tracing::info_span!("GET /users/{id}"))
        .await;
    assert!(failed.is_err());

    println!("\n# exemplars in the OpenMetrics exposition (GET /metrics):");
    for line in monitor
        .render_openmetrics()
        .lines()
        .filter(|l| l.starts_with("mcp_") && l.contains(" # {"))
    {
        println!("{line}");
    }
    provider.shutdown()?;
    Ok(())
}
