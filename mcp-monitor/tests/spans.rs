//! Feature `tracing`: every monitored call runs inside a span named after its labels,
//! with OpenTelemetry semantic-convention fields, and the span carries the outcome
//! when the call ends: for an `async fn`, a plain `fn`, the future-returning shapes
//! (`impl Future`, `Pin<Box<dyn Future>>` with a `Box::pin` body, `#[async_trait]`),
//! a dropped future and a panic. The spans are captured by a `tracing_subscriber`
//! layer installed as the global default once (tracing caches callsite interest
//! process-wide, hence a binary of its own); each test uses labels of its own and
//! looks its spans up by name.
//!
//! Built only with the feature (`required-features`): `cargo test -p mcp-monitor
//! --features tracing --test spans`, or `cargo test --workspace --all-features`.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, Once};
use std::task::{Context, Poll, Waker};

use common::block_on;
use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Instrument as _, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

// ---------------------------------------------------------------------------------------
// The capturing layer.

/// What the layer saw of one span.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: &'static str,
    target: String,
    fields: BTreeMap<String, String>,
    /// The name of the parent span, if any.
    parent: Option<&'static str>,
    closed: bool,
}

static SPANS: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

/// The index of a span's record in `SPANS`, kept in the span's extensions.
struct Index(usize);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Capture;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let span = ctx.span(id).expect("a new span is in the registry");
        let mut captured = Captured {
            name: attrs.metadata().name(),
            target: attrs.metadata().target().to_owned(),
            parent: span.parent().map(|p| p.name()),
            ..Captured::default()
        };
        attrs.record(&mut Fields(&mut captured.fields));
        let mut spans = SPANS.lock().unwrap();
        span.extensions_mut().insert(Index(spans.len()));
        spans.push(captured);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let span = ctx.span(id).expect("a recorded span is in the registry");
        let ext = span.extensions();
        let Index(i) = ext.get::<Index>().expect("every span has its index");
        values.record(&mut Fields(&mut SPANS.lock().unwrap()[*i].fields));
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let span = ctx.span(&id).expect("a closing span is in the registry");
        let ext = span.extensions();
        let Index(i) = ext.get::<Index>().expect("every span has its index");
        SPANS.lock().unwrap()[*i].closed = true;
    }
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
            .expect("no other global subscriber in this binary");
    });
}

/// Every span named `name` seen so far, in creation order.
fn spans(name: &str) -> Vec<Captured> {
    SPANS
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == name)
        .cloned()
        .collect()
}

/// The only span named `name`.
fn only(name: &str) -> Captured {
    let mut found = spans(name);
    assert_eq!(found.len(), 1, "spans named {name:?}: {found:?}");
    found.pop().unwrap()
}

fn field<'a>(span: &'a Captured, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

/// The name of the span current where this is called.
fn current_span_name() -> Option<&'static str> {
    tracing::Span::current().metadata().map(|m| m.name())
}

// ---------------------------------------------------------------------------------------
// Driving futures without a runtime.

/// Completes on its second poll, so that a future awaiting it is polled twice.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

/// Polls `fut` once (it must not be ready), then drops it.
fn poll_once_and_drop<F: Future>(fut: F) {
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
}

// ---------------------------------------------------------------------------------------
// The monitored functions.

#[derive(Debug)]
struct DbError;

/// What the bodies saw as their current span, after yielding once.
static SEEN: Mutex<Vec<(&'static str, Option<&'static str>)>> = Mutex::new(Vec::new());

fn seen(body: &'static str) -> Vec<Option<&'static str>> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(b, _)| *b == body)
        .map(|(_, s)| *s)
        .collect()
}

#[monitor_db_operation("select", "span_users")]
async fn get_user(id: u32) -> Result<u32, DbError> {
    yield_once().await;
    SEEN.lock().unwrap().push(("get_user", current_span_name()));
    if id == 0 {
        Err(DbError)
    } else {
        Ok(id)
    }
}

#[monitor_workflow_step("span_flow", "validation")]
fn validate(records: &[u32]) -> Result<usize, String> {
    SEEN.lock().unwrap().push(("validate", current_span_name()));
    if records.is_empty() {
        Err("no records".into())
    } else {
        Ok(records.len())
    }
}

#[monitor_workflow_step("span_run_flow", "load")]
async fn load_step() -> Result<(), String> {
    yield_once().await;
    Ok(())
}

#[monitor_workflow("span_run_flow")]
async fn run_flow() -> Result<(), String> {
    load_step().await?;
    load_step().await
}

#[monitor_db_operation("update", "span_impl_future")]
fn update_impl_future(id: u32) -> impl Future<Output = Result<u32, DbError>> {
    async move {
        yield_once().await;
        SEEN.lock()
            .unwrap()
            .push(("update_impl_future", current_span_name()));
        Ok(id)
    }
}

#[monitor_db_operation("delete", "span_boxed")]
fn delete_boxed(id: u32) -> Pin<Box<dyn Future<Output = Result<u32, DbError>> + Send>> {
    Box::pin(async move {
        yield_once().await;
        SEEN.lock()
            .unwrap()
            .push(("delete_boxed", current_span_name()));
        if id == 0 {
            Err(DbError)
        } else {
            Ok(id)
        }
    })
}

#[async_trait::async_trait]
trait Store {
    async fn insert(&self, id: u32) -> Result<u32, DbError>;
}

struct SqlStore;

#[async_trait::async_trait]
impl Store for SqlStore {
    #[monitor_db_operation("insert", "span_async_trait")]
    async fn insert(&self, id: u32) -> Result<u32, DbError> {
        yield_once().await;
        SEEN.lock().unwrap().push(("insert", current_span_name()));
        Ok(id)
    }
}

#[monitor_db_operation("select", "span_cancelled")]
async fn never_answers() -> Result<(), DbError> {
    std::future::pending::<()>().await;
    Ok(())
}

#[monitor_db_operation("select", "span_cancelled_impl")]
fn never_answers_impl() -> impl Future<Output = Result<(), DbError>> {
    std::future::pending::<Result<(), DbError>>()
}

#[monitor_workflow_step("span_flow", "explode")]
fn explode() -> Result<(), String> {
    panic!("the step exploded")
}

#[monitor_db_operation("select", "span_async_panic")]
async fn explode_async() -> Result<(), DbError> {
    yield_once().await;
    panic!("the query exploded")
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn async_fn_runs_in_a_db_span_that_carries_its_outcome() {
    init();
    assert_eq!(block_on(get_user(7)).unwrap(), 7);
    assert!(block_on(get_user(0)).is_err());

    let found = spans("select span_users");
    assert_eq!(found.len(), 2, "{found:?}");
    for span in &found {
        assert_eq!(field(span, "db.operation.name"), Some("select"));
        assert_eq!(field(span, "db.collection.name"), Some("span_users"));
        assert_eq!(field(span, "otel.kind"), Some("client"));
        assert_eq!(span.target, "spans", "the target is the function's module");
        assert!(span.closed, "{span:?}");
    }
    assert_eq!(field(&found[0], "mcp.status"), Some("success"));
    assert_eq!(field(&found[0], "otel.status_code"), None);
    assert_eq!(field(&found[1], "mcp.status"), Some("failure"));
    assert_eq!(field(&found[1], "otel.status_code"), Some("ERROR"));
    // The body was polled inside the span, also after it yielded.
    assert_eq!(
        seen("get_user"),
        [Some("select span_users"), Some("select span_users")]
    );
}

#[test]
fn sync_fn_runs_in_a_step_span() {
    init();
    assert_eq!(validate(&[1, 2]).unwrap(), 2);
    assert!(validate(&[]).is_err());

    let found = spans("span_flow validation");
    assert_eq!(found.len(), 2, "{found:?}");
    for span in &found {
        assert_eq!(field(span, "workflow.name"), Some("span_flow"));
        assert_eq!(field(span, "workflow.step.name"), Some("validation"));
        assert_eq!(field(span, "db.operation.name"), None);
        assert!(span.closed);
    }
    assert_eq!(field(&found[0], "mcp.status"), Some("success"));
    assert_eq!(field(&found[1], "mcp.status"), Some("failure"));
    assert_eq!(field(&found[1], "otel.status_code"), Some("ERROR"));
    assert_eq!(
        seen("validate"),
        [Some("span_flow validation"), Some("span_flow validation")]
    );
}

#[test]
fn a_run_is_the_parent_of_its_steps_and_the_child_of_the_current_span() {
    init();
    // `Instrument` in scope has a method named like the guard's: the expansion calls
    // the guard's by path.
    block_on(run_flow().instrument(tracing::info_span!("span_outer"))).unwrap();

    let run = only("span_run_flow");
    assert_eq!(run.parent, Some("span_outer"));
    assert_eq!(field(&run, "workflow.name"), Some("span_run_flow"));
    assert_eq!(field(&run, "workflow.step.name"), None);
    assert_eq!(field(&run, "mcp.status"), Some("success"));
    assert!(run.closed);
    let steps = spans("span_run_flow load");
    assert_eq!(steps.len(), 2, "{steps:?}");
    for step in &steps {
        assert_eq!(step.parent, Some("span_run_flow"), "{step:?}");
        assert_eq!(field(step, "mcp.status"), Some("success"));
    }
}

#[test]
fn future_returning_shapes_are_polled_in_their_span() {
    init();
    assert_eq!(block_on(update_impl_future(3)).unwrap(), 3);
    assert_eq!(block_on(delete_boxed(4)).unwrap(), 4);
    assert!(block_on(delete_boxed(0)).is_err());
    assert_eq!(block_on(SqlStore.insert(5)).unwrap(), 5);

    let update = only("update span_impl_future");
    assert_eq!(field(&update, "db.operation.name"), Some("update"));
    assert_eq!(
        field(&update, "db.collection.name"),
        Some("span_impl_future")
    );
    assert_eq!(field(&update, "mcp.status"), Some("success"));
    assert!(update.closed);
    assert_eq!(
        seen("update_impl_future"),
        [Some("update span_impl_future")]
    );

    let deletes = spans("delete span_boxed");
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert_eq!(field(&deletes[0], "mcp.status"), Some("success"));
    assert_eq!(field(&deletes[1], "mcp.status"), Some("failure"));
    assert_eq!(field(&deletes[1], "otel.status_code"), Some("ERROR"));
    assert_eq!(
        seen("delete_boxed"),
        [Some("delete span_boxed"), Some("delete span_boxed")]
    );

    let insert = only("insert span_async_trait");
    assert_eq!(field(&insert, "mcp.status"), Some("success"));
    assert!(insert.closed);
    assert_eq!(seen("insert"), [Some("insert span_async_trait")]);
}

#[test]
fn a_dropped_future_closes_its_span_as_cancelled() {
    init();
    poll_once_and_drop(never_answers());
    // A future-returning shape, made and dropped without being polled.
    drop(never_answers_impl());
    poll_once_and_drop(never_answers_impl());

    let cancelled = only("select span_cancelled");
    assert_eq!(field(&cancelled, "mcp.status"), Some("cancelled"));
    assert_eq!(field(&cancelled, "otel.status_code"), None);
    assert!(cancelled.closed);
    let found = spans("select span_cancelled_impl");
    assert_eq!(found.len(), 2, "{found:?}");
    // The unpolled one never started: closed with no outcome (and counted nowhere, as
    // an unpolled `async fn`); the polled one is cancelled.
    assert_eq!(field(&found[0], "mcp.status"), None);
    assert_eq!(field(&found[1], "mcp.status"), Some("cancelled"));
    assert!(found.iter().all(|span| span.closed));
}

#[test]
fn a_panic_closes_its_span_as_a_failure() {
    init();
    let sync = std::panic::catch_unwind(explode);
    assert!(sync.is_err());
    let in_async = std::panic::catch_unwind(|| block_on(explode_async()));
    assert!(in_async.is_err());

    for name in ["span_flow explode", "select span_async_panic"] {
        let span = only(name);
        assert_eq!(field(&span, "mcp.status"), Some("failure"), "{span:?}");
        assert_eq!(field(&span, "otel.status_code"), Some("ERROR"), "{span:?}");
        assert!(span.closed, "{span:?}");
    }
}
