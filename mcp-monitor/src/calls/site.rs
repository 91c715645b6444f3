//! Call sites and the guard that records one call.
//!
//! The macros put one `static` site in each monitored function. The first call
//! resolves the site's series in the [registry](crate::calls::registry) and caches the
//! reference; every later call costs two clock reads and two relaxed atomic adds
//! (the histogram bucket of the call's outcome, and the histogram sum) on counters
//! striped per thread, plus two for the active gauge of a workflow. The [`Guard`]
//! records in `Drop`, so a return, an `Err`, a panic and a dropped future all go
//! through one place, and every gauge it raised comes down. With the `tracing`
//! feature the guard also owns the call's span (see [`crate::calls::span`]): the body runs
//! inside it and the guard's `Drop` records the outcome on it.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;
use std::task::{Context, Poll};

use crate::base::clock::{coarse_ns, Start};
use crate::base::long_poll::{self, PollKind, Watch};
use crate::base::names::OpKind;
use crate::calls::forward::{forwarding, Forward};
use crate::calls::outcome::Status;
use crate::calls::registry::{registry, ActiveGauge, OpSeries};
use crate::calls::span::{self, CallSpan};

/// A monitored function's call site: its literal labels and cached series.
pub(crate) struct Site {
    kind: OpKind,
    labels: [&'static str; 2],
    series: OnceLock<&'static OpSeries>,
    active: OnceLock<&'static ActiveGauge>,
    forward: Forward,
    /// Whether the hidden-future warning was logged for this site.
    warned: AtomicBool,
}

impl Site {
    const fn new(kind: OpKind, labels: [&'static str; 2]) -> Self {
        Self {
            kind,
            labels,
            series: OnceLock::new(),
            active: OnceLock::new(),
            forward: Forward::new(),
            warned: AtomicBool::new(false),
        }
    }

    #[inline]
    fn series(&self) -> &'static OpSeries {
        self.series
            .get_or_init(|| registry().op_series(self.kind, self.labels))
    }

    /// The `kind` of this site's long polls.
    #[inline]
    fn poll_kind(&self) -> PollKind {
        match self.kind {
            OpKind::Db => PollKind::Db,
            OpKind::Step => PollKind::Step,
            OpKind::Run => PollKind::Run,
        }
    }

    /// The `name` of this site's long polls: its labels as a person writes them
    /// (`select users`, `data_processing validation`, `data_processing`).
    #[cold]
    fn poll_name(&self) -> String {
        match self.labels {
            [first, ""] => first.to_owned(),
            [first, second] => format!("{first} {second}"),
        }
    }

    /// Ends a watched poll of one of this site's futures.
    #[inline]
    fn end_poll(&self, watch: Watch) {
        long_poll::global().finish(watch, self.poll_kind(), || self.poll_name());
    }

    /// Ends a synchronous call, one poll, that started at `start` (coarse clock).
    #[inline]
    fn end_sync(&self, start: u64) {
        let ns = coarse_ns().saturating_sub(start);
        long_poll::global().check_sync(ns, self.poll_kind(), || self.poll_name());
    }

    #[inline]
    fn active_gauge(&self) -> &'static ActiveGauge {
        self.active
            .get_or_init(|| registry().active(self.labels[0]))
    }

    #[inline]
    fn start(&'static self, raise_active: bool, span: CallSpan) -> Guard {
        let series = self.series();
        let active = raise_active.then(|| {
            let g = self.active_gauge();
            g.value.inc();
            g
        });
        let forwarded = forwarding();
        if forwarded && active.is_some() {
            self.forward.active(self.kind, self.labels, 1.0);
        }
        Guard {
            site: self,
            series,
            active,
            forwarded,
            status: None,
            started: true,
            span,
            start: Start::now(),
        }
    }
}

/// The site of a `#[monitor_db_operation(operation, table)]` function.
pub struct DbSite(Site);

impl DbSite {
    /// A site for `operation` on `table`.
    pub const fn new(operation: &'static str, table: &'static str) -> Self {
        Self(Site::new(OpKind::Db, [operation, table]))
    }

    /// Starts recording one call, inside `span`.
    #[inline]
    pub fn start(&'static self, span: CallSpan) -> Guard {
        self.0.start(false, span)
    }
}

/// The site of a `#[monitor_workflow_step(workflow, step)]` function.
pub struct StepSite(Site);

impl StepSite {
    /// A site for `step` of `workflow`.
    pub const fn new(workflow: &'static str, step: &'static str) -> Self {
        Self(Site::new(OpKind::Step, [workflow, step]))
    }

    /// Starts recording one call. The workflow counts as active for the duration
    /// unless this step runs inside a monitored run of the same workflow.
    #[inline]
    pub fn start(&'static self, span: CallSpan) -> Guard {
        let inside_run = CURRENT_RUN.with(|c| c.get()) == Some(self.0.labels[0]);
        self.0.start(!inside_run, span)
    }
}

/// The site of a `#[monitor_workflow(workflow)]` function.
pub struct RunSite(Site);

impl RunSite {
    /// A site for runs of `workflow`.
    pub const fn new(workflow: &'static str) -> Self {
        Self(Site::new(OpKind::Run, [workflow, ""]))
    }

    /// Starts recording one run, inside `span`; the workflow counts as active until
    /// it ends.
    #[inline]
    pub fn start(&'static self, span: CallSpan) -> Guard {
        self.0.start(true, span)
    }
}

/// Records one call when dropped.
///
/// [`Guard::finish`] sets the outcome from the returned value. A guard dropped
/// without it was unwound by a panic (`failure`) or belonged to a future that was
/// dropped before completing (`cancelled`), unless that future was never polled: then
/// the call never started and nothing is recorded, whatever the shape of the function
/// (an `async fn`'s guard starts at the first poll; a returned future's is held by
/// [`Monitored`], which records nothing if it is dropped unpolled).
#[must_use = "the call is recorded when the guard is dropped"]
pub struct Guard {
    site: &'static Site,
    series: &'static OpSeries,
    active: Option<&'static ActiveGauge>,
    forwarded: bool,
    status: Option<Status>,
    /// Whether the call started: false while a returned future was not polled yet, so
    /// that dropping it unpolled records nothing (as for an `async fn`).
    started: bool,
    /// Closed when the guard is dropped, after the outcome is recorded on it.
    span: CallSpan,
    start: Start,
}

impl Guard {
    /// Ends the call with the outcome of its returned value.
    #[inline]
    pub fn finish(mut self, failed: bool) {
        self.status = Some(if failed {
            Status::Failure
        } else {
            Status::Success
        });
    }

    /// The workflow label of the site (the operation, for a database site).
    #[inline]
    pub fn workflow(&self) -> &'static str {
        self.site.labels[0]
    }

    /// Calls `f` (a synchronous body, or the code that makes a returned future) inside
    /// the call's span. The `FnOnce` bound lets the body move out of, and return
    /// borrows of, its arguments. The call is one poll: a long one counts when it runs
    /// inside a watched poll (see [`crate::base::long_poll`]).
    #[inline(always)]
    pub fn call<R>(&self, f: impl FnOnce() -> R) -> R {
        let start = coarse_ns();
        let out = span::in_scope(&self.span, f);
        self.site.end_sync(start);
        out
    }

    /// Calls `f` inside the call's span, as part of a run of the site's workflow
    /// (steps inside do not count it twice).
    #[inline]
    pub fn call_in_run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _scope = RunScope::enter(self.workflow());
        self.call(f)
    }

    /// The body of a monitored `async fn`, polled inside the call's span, each poll
    /// watched for a long one.
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn instrument<F: Future>(&self, body: F) -> Watched<span::InSpan<'_, F>> {
        Watched::new(self.site, span::InSpan::new(&self.span, body))
    }

    /// The body of a monitored `async fn`, each poll watched for a long one (without
    /// the `tracing` feature there is no span to enter).
    #[cfg(not(feature = "tracing"))]
    #[inline(always)]
    pub fn instrument<F: Future>(&self, body: F) -> Watched<F> {
        Watched::new(self.site, body)
    }

    /// Logs, once per call site, that `function` returned a future through a type the
    /// macro could not recognise, so that its calls are measured until the future is
    /// made rather than until it completes.
    #[cold]
    fn warn_hidden_future(&self, function: &'static str, type_name: &'static str) {
        if self.site.warned.swap(true, Relaxed) {
            return;
        }
        let attr = match self.site.kind {
            OpKind::Db => "monitor_db_operation",
            OpKind::Step => "monitor_workflow_step",
            OpKind::Run => "monitor_workflow",
        };
        crate::base::diagnostic::diagnostic!(
            function = function,
            returned = type_name;
            "#[{attr}] on `{function}`: it returns a future (`{type_name}`) through a type \
             the macro cannot see, so each call is measured until the future is made, not \
             until it completes, and its outcome is not the future's output. Fix: declare \
             the return type as `impl Future<Output = T>`, `Pin<Box<dyn Future<Output = T> \
             + Send>>` or `BoxFuture<'_, T>`, or make it an `async fn`."
        );
    }
}

/// Wraps a reference to a returned value so that method resolution picks the
/// [`Future`] impl (which warns) when the value is a future the macro did not see in
/// the signature, and the fallback (which does nothing) otherwise. Called as
/// `(&FutureProbe(&value)).mcp_monitor_check_future(..)`.
pub struct FutureProbe<'a, T: ?Sized>(pub &'a T);

/// Chosen for a returned value that is a future: warns once per call site.
pub trait CheckHiddenFuture {
    /// Warns that `function` returned a future the macro could not see.
    fn mcp_monitor_check_future(&self, guard: &Guard, function: &'static str);
}

impl<F: Future + ?Sized> CheckHiddenFuture for FutureProbe<'_, F> {
    #[inline]
    fn mcp_monitor_check_future(&self, guard: &Guard, function: &'static str) {
        guard.warn_hidden_future(function, std::any::type_name::<F>());
    }
}

/// Chosen for every other returned value: nothing to check.
pub trait CheckNoFuture {
    /// Does nothing.
    fn mcp_monitor_check_future(&self, guard: &Guard, function: &'static str);
}

impl<T: ?Sized> CheckNoFuture for &FutureProbe<'_, T> {
    #[inline(always)]
    fn mcp_monitor_check_future(&self, _: &Guard, _: &'static str) {}
}

pin_project_lite::pin_project! {
    /// The future returned by a monitored function whose declared return type is a
    /// future (`impl Future`, `Pin<Box<dyn Future>>`, `BoxFuture`, an `async-trait`
    /// method): the call is recorded when this future completes, with the outcome of
    /// its output, or when it is dropped before that (`cancelled`; `failure` while a
    /// panic unwinds). Dropped before its first poll, it records nothing: the call
    /// never started, as an `async fn`'s future dropped unpolled records nothing. The
    /// guard, and so the active-workflow gauge, lives from the call until then.
    pub struct Monitored<F, C> {
        #[pin]
        inner: F,
        guard: Option<Guard>,
        classify: C,
    }
}

impl<F, C> Monitored<F, C>
where
    F: Future,
    C: Fn(&F::Output) -> bool,
{
    /// Records the call started by `guard` when `inner` completes; `classify` tells
    /// whether its output is a failure.
    #[inline]
    pub fn new(mut guard: Guard, inner: F, classify: C) -> Self {
        guard.started = false;
        Self {
            inner,
            guard: Some(guard),
            classify,
        }
    }
}

impl<F, C> Future for Monitored<F, C>
where
    F: Future,
    C: Fn(&F::Output) -> bool,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let site = this.guard.as_mut().map(|g| {
            g.started = true;
            g.site
        });
        let entered = span::enter(this.guard.as_ref().map(|g| &g.span));
        let watch = Watch::start();
        let polled = this.inner.poll(cx);
        if let Some(site) = site {
            site.end_poll(watch);
        }
        let out = std::task::ready!(polled);
        drop(entered);
        if let Some(guard) = this.guard.take() {
            guard.finish((this.classify)(&out));
        }
        Poll::Ready(out)
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        if !self.started && self.status.is_none() && !std::thread::panicking() {
            self.discard();
            return;
        }
        let ns = self.start.elapsed_ns();
        let status = self.status.unwrap_or_else(|| {
            if std::thread::panicking() {
                Status::Failure
            } else {
                Status::Cancelled
            }
        });
        span::finish(&self.span, status);
        // The exemplar links to the call's own OpenTelemetry span, if it has one.
        #[cfg(feature = "opentelemetry")]
        let _otel = crate::base::trace::CallScope::enter(&self.span);
        self.series.record(status, ns);
        if let Some(g) = self.active {
            g.value.dec();
        }
        if self.forwarded {
            self.drop_forwarded(status, ns);
        }
    }
}

impl Guard {
    /// Drops a call that never started (its future was never polled): lowers what its
    /// start raised, records nothing.
    #[cold]
    fn discard(&self) {
        if let Some(g) = self.active {
            g.value.dec();
            if self.forwarded {
                self.site
                    .forward
                    .active(self.site.kind, self.site.labels, -1.0);
            }
        }
    }

    #[cold]
    fn drop_forwarded(&self, status: Status, ns: u64) {
        let site = self.site;
        site.forward
            .record(site.kind, site.labels, status, ns as f64 / 1e9);
        if self.active.is_some() {
            site.forward.active(site.kind, site.labels, -1.0);
        }
    }
}

pin_project_lite::pin_project! {
    /// The body of a monitored `async fn`: each of its polls is watched for a long one
    /// (see [`crate::base::long_poll`]).
    pub struct Watched<F> {
        #[pin]
        inner: F,
        site: &'static Site,
    }
}

impl<F> Watched<F> {
    #[inline(always)]
    fn new(site: &'static Site, inner: F) -> Self {
        Self { inner, site }
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let watch = Watch::start();
        let out = this.inner.poll(cx);
        this.site.end_poll(watch);
        out
    }
}

thread_local! {
    /// The workflow whose monitored run is executing on this thread, if any.
    static CURRENT_RUN: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Marks this thread as inside a run of a workflow until dropped.
struct RunScope {
    previous: Option<&'static str>,
}

impl RunScope {
    #[inline]
    fn enter(workflow: &'static str) -> Self {
        Self {
            previous: CURRENT_RUN.with(|c| c.replace(Some(workflow))),
        }
    }
}

impl Drop for RunScope {
    #[inline]
    fn drop(&mut self) {
        CURRENT_RUN.with(|c| c.set(self.previous));
    }
}

pin_project_lite::pin_project! {
    /// A future polled as part of a run of a workflow (steps inside do not count it twice).
    pub struct InRun<F> {
        workflow: &'static str,
        #[pin]
        inner: F,
    }
}

impl<F> InRun<F> {
    /// Wraps `inner`.
    pub fn new(workflow: &'static str, inner: F) -> Self {
        Self { workflow, inner }
    }
}

impl<F: Future> Future for InRun<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _scope = RunScope::enter(this.workflow);
        this.inner.poll(cx)
    }
}
