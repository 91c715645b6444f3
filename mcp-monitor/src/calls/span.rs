//! The `tracing` span of a monitored call (cargo feature `tracing`).
//!
//! The macros cannot see this crate's features, so they always emit the same tokens:
//! `::mcp_monitor::__private::call_span!(db "select" "users")` as the argument of the
//! site's `start`. That `macro_rules!` macro is defined here twice, one definition per
//! value of `cfg(feature = "tracing")`: with the feature it is a `tracing::span!` (one
//! static callsite per monitored function, named after its labels, with OpenTelemetry
//! semantic-convention fields and two empty fields for the outcome); without it, the
//! zero-sized [`CallSpan`], which every helper below ignores, so the expansion costs
//! nothing.
//!
//! The [`Guard`](crate::calls::site::Guard) owns the span: the body runs inside it
//! ([`InSpan`] for a future, `Span::in_scope` for a closure, `Monitored` enters it on
//! each poll), and the guard's `Drop` records the outcome on it ([`finish`]) and then
//! drops it, which closes it. So a return, an `Err`, a panic and a dropped future all
//! end the span with their outcome, as they end the metric.
//!
//! | attribute | span name | fields |
//! |---|---|---|
//! | `#[monitor_db_operation(op, table)]` | `"{op} {table}"` | `db.operation.name`, `db.collection.name`, `otel.kind = "client"` |
//! | `#[monitor_workflow_step(workflow, step)]` | `"{workflow} {step}"` | `workflow.name`, `workflow.step.name` |
//! | `#[monitor_workflow(workflow)]` | `"{workflow}"` | `workflow.name` |
//!
//! Every span also has `mcp.status` (`success`, `failure`, `cancelled`), recorded when
//! the call ends, and `otel.status_code = "ERROR"` on a failure (left unset otherwise,
//! as OpenTelemetry asks of instrumentation).

#[cfg(feature = "tracing")]
use std::future::Future;
#[cfg(feature = "tracing")]
use std::pin::Pin;
#[cfg(feature = "tracing")]
use std::task::{Context, Poll};

use crate::calls::outcome::Status;

/// The span of one monitored call: a [`tracing::Span`].
#[cfg(feature = "tracing")]
pub type CallSpan = tracing::Span;

/// The span of one monitored call: nothing, without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Copy)]
pub struct CallSpan;

/// Creates the span of a monitored call, `tracing::span!` at level `INFO` with the
/// call's labels as its name and fields (see the module docs). The target is the
/// monitored function's module, as with `#[tracing::instrument]`.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __mcp_monitor_call_span {
    (db $operation:literal $table:literal) => {
        $crate::__private::tracing::span!(
            $crate::__private::tracing::Level::INFO,
            ::core::concat!($operation, " ", $table),
            db.operation.name = $operation,
            db.collection.name = $table,
            otel.kind = "client",
            mcp.status = $crate::__private::tracing::field::Empty,
            otel.status_code = $crate::__private::tracing::field::Empty,
        )
    };
    (step $workflow:literal $step:literal) => {
        $crate::__private::tracing::span!(
            $crate::__private::tracing::Level::INFO,
            ::core::concat!($workflow, " ", $step),
            workflow.name = $workflow,
            workflow.step.name = $step,
            mcp.status = $crate::__private::tracing::field::Empty,
            otel.status_code = $crate::__private::tracing::field::Empty,
        )
    };
    (run $workflow:literal) => {
        $crate::__private::tracing::span!(
            $crate::__private::tracing::Level::INFO,
            $workflow,
            workflow.name = $workflow,
            mcp.status = $crate::__private::tracing::field::Empty,
            otel.status_code = $crate::__private::tracing::field::Empty,
        )
    };
}

/// Without the `tracing` feature: the zero-sized [`CallSpan`].
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __mcp_monitor_call_span {
    ($($labels:tt)*) => {
        $crate::__private::CallSpan
    };
}

/// Records the outcome of the call on its span.
#[inline]
pub(crate) fn finish(span: &CallSpan, status: Status) {
    #[cfg(feature = "tracing")]
    if !span.is_disabled() {
        span.record("mcp.status", status.as_str());
        if status == Status::Failure {
            span.record("otel.status_code", "ERROR");
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (span, status);
}

/// Calls `f` inside `span`.
#[inline(always)]
pub(crate) fn in_scope<R>(span: &CallSpan, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "tracing")]
    {
        span.in_scope(f)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = span;
        f()
    }
}

/// Enters `span` until the returned value is dropped.
#[inline(always)]
pub(crate) fn enter(span: Option<&CallSpan>) -> impl Sized + '_ {
    #[cfg(feature = "tracing")]
    {
        span.map(tracing::Span::enter)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = span;
    }
}

#[cfg(feature = "tracing")]
pin_project_lite::pin_project! {
    /// A future polled inside the span of its monitored call (the body of a monitored
    /// `async fn`). Only with the `tracing` feature: without it the body is awaited
    /// as it is.
    pub struct InSpan<'a, F> {
        span: &'a CallSpan,
        #[pin]
        inner: F,
    }
}

#[cfg(feature = "tracing")]
impl<'a, F> InSpan<'a, F> {
    /// Wraps `inner`.
    #[inline]
    pub(crate) fn new(span: &'a CallSpan, inner: F) -> Self {
        Self { span, inner }
    }
}

#[cfg(feature = "tracing")]
impl<F: Future> Future for InSpan<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll(cx)
    }
}
