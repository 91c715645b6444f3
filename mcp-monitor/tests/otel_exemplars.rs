//! Feature `opentelemetry`: a monitored call made inside a `tracing` span that
//! `tracing-opentelemetry` backs with a real, in-process `opentelemetry_sdk` tracer
//! (no exporter, no collector) leaves an exemplar in `render_openmetrics()` that links
//! to that trace, with the span id of the call's own span; the OpenTelemetry context
//! comes before a `traceparent` made current with `trace::in_context`; a call outside
//! any span is the root of a trace of its own (a sampled one, so its exemplar links to
//! it); an unsampled OpenTelemetry trace leaves none.
//!
//! One subscriber for the binary, installed once (tracing caches callsite interest
//! process-wide). Built only with the feature (`required-features`): `cargo test -p
//! mcp-monitor --features opentelemetry --test otel_exemplars`, or `cargo test
//! --workspace --all-features`.

mod common;

use std::sync::{Mutex, Once};

use common::block_on;
use mcp_monitor::trace::{in_context, TraceContext};
use mcp_monitor::{monitor_db_operation, monitor_workflow_step, Monitor};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Spans whose name starts with `unsampled` are dropped by the sampler, the way
        // a ratio sampler drops most traces.
        #[derive(Debug, Clone)]
        struct ByName;
        impl opentelemetry_sdk::trace::ShouldSample for ByName {
            fn should_sample(
                &self,
                parent: Option<&opentelemetry::Context>,
                trace_id: opentelemetry::trace::TraceId,
                name: &str,
                kind: &opentelemetry::trace::SpanKind,
                attributes: &[opentelemetry::KeyValue],
                links: &[opentelemetry::trace::Link],
            ) -> opentelemetry_sdk::trace::SamplingResult {
                let sampler = if name.starts_with("unsampled") {
                    Sampler::AlwaysOff
                } else {
                    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
                };
                sampler.should_sample(parent, trace_id, name, kind, attributes, links)
            }
        }
        let provider = SdkTracerProvider::builder().with_sampler(ByName).build();
        let tracer = provider.tracer("otel_exemplars");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this binary");
    });
}

fn span_context(span: &tracing::Span) -> SpanContext {
    span.context().span().span_context().clone()
}

/// The span contexts the bodies saw as current, by body.
static SEEN: Mutex<Vec<(&'static str, SpanContext)>> = Mutex::new(Vec::new());

fn seen(body: &str) -> Vec<SpanContext> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(b, _)| *b == body)
        .map(|(_, c)| c.clone())
        .collect()
}

#[derive(Debug)]
struct DbError;

#[monitor_db_operation("select", "otel_users")]
fn load_user(id: u32) -> Result<u32, DbError> {
    SEEN.lock()
        .unwrap()
        .push(("load_user", span_context(&tracing::Span::current())));
    Ok(id)
}

#[monitor_workflow_step("otel_flow", "validation")]
async fn validate(n: u32) -> Result<u32, String> {
    SEEN.lock()
        .unwrap()
        .push(("validate", span_context(&tracing::Span::current())));
    Ok(n)
}

#[monitor_db_operation("select", "otel_precedence")]
fn precedence() -> Result<(), DbError> {
    Ok(())
}

#[monitor_db_operation("select", "otel_unsampled")]
fn unsampled() -> Result<(), DbError> {
    Ok(())
}

#[monitor_db_operation("select", "otel_root")]
fn root() -> Result<(), DbError> {
    SEEN.lock()
        .unwrap()
        .push(("root", span_context(&tracing::Span::current())));
    Ok(())
}

/// The exemplars (`trace_id`, `span_id`) on the lines of `family` whose labels
/// contain `labels`.
fn exemplars(om: &str, family: &str, labels: &str) -> Vec<(String, String)> {
    om.lines()
        .filter(|l| l.starts_with(family) && l.contains(labels))
        .filter_map(|l| l.split_once(" # {").map(|(_, ex)| ex))
        .map(|ex| {
            let value = |key: &str| {
                let start = ex.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
                ex[start..start + ex[start..].find('"').unwrap()].to_owned()
            };
            (value("trace_id"), value("span_id"))
        })
        .collect()
}

#[test]
fn a_call_inside_an_otel_span_links_its_exemplar_to_the_calls_span() {
    init();
    let monitor = Monitor::builder().build().unwrap();
    let request = tracing::info_span!("request");
    let request_cx = span_context(&request);
    assert!(request_cx.is_valid() && request_cx.is_sampled());

    request.in_scope(|| load_user(1)).unwrap();

    // The call ran in a span of its own, a child in the request's trace.
    let [call_cx] = seen("load_user").try_into().unwrap();
    assert_eq!(call_cx.trace_id(), request_cx.trace_id());
    assert_ne!(call_cx.span_id(), request_cx.span_id());

    let om = monitor.render_openmetrics();
    let want = (
        call_cx.trace_id().to_string(),
        call_cx.span_id().to_string(),
    );
    let buckets = exemplars(
        &om,
        "mcp_db_operation_duration_seconds_bucket",
        "table=\"otel_users\"",
    );
    assert_eq!(buckets, std::slice::from_ref(&want), "{om}");
    let counters = exemplars(&om, "mcp_db_operations_total", "table=\"otel_users\"");
    assert_eq!(counters, [want], "{om}");
}

#[test]
fn an_instrumented_future_links_its_steps_to_its_trace() {
    init();
    let monitor = Monitor::builder().build().unwrap();
    let job = tracing::info_span!("job");
    let job_cx = span_context(&job);

    block_on(validate(3).instrument(job)).unwrap();

    let [step_cx] = seen("validate").try_into().unwrap();
    assert_eq!(step_cx.trace_id(), job_cx.trace_id());
    let om = monitor.render_openmetrics();
    let found = exemplars(
        &om,
        "mcp_workflow_step_duration_seconds_bucket",
        "workflow=\"otel_flow\"",
    );
    assert_eq!(
        found,
        [(
            step_cx.trace_id().to_string(),
            step_cx.span_id().to_string()
        )],
        "{om}"
    );
}

#[test]
fn the_otel_context_comes_before_a_traceparent() {
    init();
    let monitor = Monitor::builder().build().unwrap();
    let header =
        TraceContext::from_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap();
    let span = tracing::info_span!("consumer");
    let trace_id = span_context(&span).trace_id().to_string();

    in_context(header, || span.in_scope(precedence)).unwrap();

    let om = monitor.render_openmetrics();
    let found = exemplars(
        &om,
        "mcp_db_operation_duration_seconds_bucket",
        "table=\"otel_precedence\"",
    );
    assert_eq!(found.len(), 1, "{om}");
    assert_eq!(found[0].0, trace_id);
    assert_ne!(found[0].0, header.trace_id());
}

#[test]
fn a_call_outside_any_span_is_the_root_of_its_trace() {
    init();
    let monitor = Monitor::builder().build().unwrap();
    assert!(tracing::Span::current().is_none());
    root().unwrap();

    let [cx] = seen("root").try_into().unwrap();
    assert!(cx.is_sampled());
    let om = monitor.render_openmetrics();
    let found = exemplars(
        &om,
        "mcp_db_operation_duration_seconds_bucket",
        "table=\"otel_root\"",
    );
    assert_eq!(
        found,
        [(cx.trace_id().to_string(), cx.span_id().to_string())],
        "{om}"
    );
}

#[test]
fn an_unsampled_trace_leaves_no_exemplar() {
    init();
    let monitor = Monitor::builder().build().unwrap();
    let span = tracing::info_span!("unsampled request");
    assert!(!span_context(&span).is_sampled());
    span.in_scope(unsampled).unwrap();

    let om = monitor.render_openmetrics();
    let labels = "table=\"otel_unsampled\"";
    assert!(
        om.lines().any(|l| l.contains(labels)),
        "the series is there: {om}"
    );
    assert_eq!(exemplars(&om, "mcp_db_operation", labels), [], "{om}");
}
