//! A server for an axum `Router` with the timeouts a service facing real clients needs,
//! and a graceful shutdown that loses no request: [`serve`], whose docs say how.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::future::RouteFuture;
use axum::Router;
use http::{header, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

use crate::settings::Settings;

/// The time limits of [`serve`]. [`ServerTimeouts::from_settings`] takes them from
/// `MCP_HTTP_HEADER_TIMEOUT`, `MCP_HTTP_BODY_TIMEOUT`, `MCP_HTTP_IDLE_TIMEOUT` and
/// `MCP_SHUTDOWN_TIMEOUT`; the defaults are theirs (10 s, 30 s, 75 s, 10 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerTimeouts {
    /// Longest time from the first byte of a request head to its end.
    pub header: Duration,
    /// Longest time from the end of a request head to the end of its body.
    pub body: Duration,
    /// Longest time a connection waits for its first or next request.
    pub idle: Duration,
    /// Longest graceful drain after the shutdown signal.
    pub shutdown: Duration,
}

impl Default for ServerTimeouts {
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl ServerTimeouts {
    /// The timeouts of `settings`.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            header: settings.http_header_timeout,
            body: settings.http_body_timeout,
            idle: settings.http_idle_timeout,
            shutdown: settings.shutdown_timeout,
        }
    }
}

/// How long a connection that is idle when shutdown starts may stay open for a request
/// already on its way: 1 s, and at most half the shutdown timeout and the idle timeout.
const IDLE_GRACE: Duration = Duration::from_secs(1);

impl ServerTimeouts {
    fn idle_grace(&self) -> Duration {
        IDLE_GRACE.min(self.shutdown / 2).min(self.idle)
    }
}

/// How long to wait before accepting again after `accept` failed for lack of resources.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes, then drains. Returns when
/// every connection is closed, at most [`ServerTimeouts::shutdown`] after the signal.
///
/// Unlike `axum::serve`, it has timeouts and a drain that says `Connection: close`.
/// Without them, a client that sends half a request head, a body that never
/// ends, or an idle keep-alive connection holds its socket (and keeps a shutting-down
/// process alive) for as long as the client likes; and on shutdown, responses in flight
/// do not say `Connection: close` (hyper's `graceful_shutdown` only closes the socket
/// after them), so a keep-alive client sends its next request into a closing socket.
///
/// `serve` runs each connection through hyper's HTTP/1.1 server, or its HTTP/2 server
/// when the client starts with the HTTP/2 preface (prior knowledge, h2c: gRPC clients
/// and load balancers do), with a watchdog that knows where the connection is (an
/// HTTP/2 connection is serving while any of its streams is):
///
/// - **idle** (accepted, or between keep-alive requests): closed after
///   [`ServerTimeouts::idle`];
/// - **reading a request head** (from its first byte): closed after
///   [`ServerTimeouts::header`];
/// - **serving a request**: no limit on the handler; the request body must arrive within
///   [`ServerTimeouts::body`] of the end of the head, or reading it fails (the
///   application answers as to any broken body; axum's extractors say 400) and the
///   response closes the connection.
///
/// On shutdown it stops accepting (new connections are refused), answers every request
/// in flight or arriving on an open connection with `Connection: close`, closes idle
/// connections once they have been idle for a moment (1 s, at most half the shutdown
/// timeout: so that a request already on its way is not cut off), and after
/// [`ServerTimeouts::shutdown`] closes whatever is still open, slow clients included.
///
/// When `accept` fails for lack of file descriptors (or memory), the error is logged (at
/// most once a second, with the number of failures) and accepting resumes shortly; the
/// idle timeout is what frees descriptors held by clients that went quiet.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let monitor = mcp_monitor::install()?;
/// let app = monitor.instrument(axum::Router::new());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let timeouts = mcp_monitor::ServerTimeouts::from_settings(monitor.settings());
/// mcp_monitor::serve(listener, app, timeouts, async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await;
/// # Ok(()) }
/// ```
pub async fn serve<F>(listener: TcpListener, app: Router, timeouts: ServerTimeouts, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let mut shutdown = std::pin::pin!(shutdown);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopping = Arc::new(AtomicBool::new(false));
    let mut connections = JoinSet::new();
    let mut accept_errors = AcceptErrors::default();
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _peer)) => {
                accept_errors.recovered();
                let conn = Connection {
                    app: app.clone(),
                    timeouts,
                    stopping: stopping.clone(),
                    stop: stop_rx.clone(),
                };
                connections.spawn(conn.run(stream));
            }
            // The client gave up before we accepted: nothing to do.
            Err(e) if is_per_connection(&e) => {}
            Err(e) => {
                accept_errors.failed(&e, connections.len());
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    // From here new connections are refused.
    drop(listener);
    stopping.store(true, Ordering::Release);
    stop_tx.send_replace(true);
    let open = connections.len();
    tracing::info!(
        connections = open,
        "draining {open} connections (at most {:?})",
        timeouts.shutdown
    );
    let drained = tokio::time::timeout(timeouts.shutdown, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        let left = connections.len();
        tracing::warn!(
            connections = left,
            "closing {left} connections still open after {:?}",
            timeouts.shutdown
        );
        connections.shutdown().await;
    }
}

/// Errors of `accept` that concern one connection only.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Logs failures of `accept` at most once a second.
#[derive(Default)]
struct AcceptErrors {
    failures: u64,
    logged: Option<Instant>,
}

impl AcceptErrors {
    fn failed(&mut self, e: &io::Error, open: usize) {
        self.failures += 1;
        if self
            .logged
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.logged = Some(Instant::now());
        let hint = match e.raw_os_error() {
            Some(23 | 24) => "; at the file descriptor limit: raise it (ulimit -n) or lower MCP_HTTP_IDLE_TIMEOUT",
            _ => "",
        };
        tracing::error!(
            error = %e,
            failures = self.failures,
            open_connections = open,
            "cannot accept connections: {e}{hint}; retrying"
        );
    }

    fn recovered(&mut self) {
        if self.failures > 0 {
            tracing::warn!(
                failures = self.failures,
                "accepting connections again after {} failures",
                self.failures
            );
            *self = Self::default();
        }
    }
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// Where one connection is, and since when. Written by the connection's reads, its
/// service and its response bodies; read by its watchdog (all in the connection's task).
/// A change wakes nobody: the watchdog looks again often enough (see [`watchdog`]).
struct Phase {
    phase: AtomicU8,
    since_ns: AtomicU64,
    base: Instant,
    /// Requests being served: one at most over HTTP/1.1, any number of streams over
    /// HTTP/2. The connection is idle again when the last one is done.
    serving: std::sync::atomic::AtomicUsize,
    /// Whether the connection speaks HTTP/2 (seen on its first request).
    http2: AtomicBool,
}

impl Phase {
    fn new() -> Self {
        Self {
            phase: AtomicU8::new(IDLE),
            since_ns: AtomicU64::new(0),
            base: Instant::now(),
            serving: std::sync::atomic::AtomicUsize::new(0),
            http2: AtomicBool::new(false),
        }
    }

    fn set(&self, phase: u8) {
        let ns = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.since_ns.store(ns, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Relaxed);
    }

    fn get(&self) -> (u8, Instant) {
        let phase = self.phase.load(Ordering::Relaxed);
        let since = self.base + Duration::from_nanos(self.since_ns.load(Ordering::Relaxed));
        (phase, since)
    }

    /// A request starts being served.
    fn start(&self) {
        self.serving.fetch_add(1, Ordering::Relaxed);
        self.set(BUSY);
    }

    /// A request is done with: the connection is idle when it was the last.
    fn done(&self) {
        if self.serving.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.set(IDLE);
        }
    }

    /// Bytes arrived: an idle connection starts a request head.
    fn read(&self) {
        if self.phase.load(Ordering::Relaxed) == IDLE {
            self.set(HEAD);
        }
    }
}

/// One accepted connection.
struct Connection {
    app: Router,
    timeouts: ServerTimeouts,
    stopping: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let phase = Arc::new(Phase::new());
        let io = TokioIo::new(TrackedIo {
            io: stream,
            phase: phase.clone(),
        });
        let service = Service {
            app: self.app,
            phase: phase.clone(),
            body_timeout: self.timeouts.body,
            stopping: self.stopping,
        };
        let mut http =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        // The watchdog keeps the head and idle deadlines.
        http.http1().header_read_timeout(None);
        let mut conn = std::pin::pin!(http.serve_connection(io, service));
        let mut stop = self.stop.clone();
        let mut watchdog = std::pin::pin!(watchdog(&phase, self.timeouts, self.stop));
        let mut goaway = false;
        loop {
            tokio::select! {
                biased;
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                reason = watchdog.as_mut() => {
                    tracing::debug!("closing connection: {reason}");
                    break;
                }
                // HTTP/2 has no `Connection: close`: on shutdown, a GOAWAY lets the
                // streams in flight finish and refuses new ones.
                Ok(_) = stop.wait_for(|s| *s), if !goaway && phase.http2.load(Ordering::Relaxed) => {
                    conn.as_mut().graceful_shutdown();
                    goaway = true;
                }
            }
        }
    }
}

/// Completes when the connection has been in one phase for too long.
///
/// It is not woken when the phase changes (that would cost a wake-up of the connection
/// per request): instead it never sleeps longer than the shortest limit a new phase can
/// have. A phase that starts while it sleeps therefore has a deadline no earlier than
/// the end of that sleep, and is seen in time.
async fn watchdog(
    phase: &Phase,
    t: ServerTimeouts,
    mut stop: watch::Receiver<bool>,
) -> &'static str {
    loop {
        let stopping = *stop.borrow_and_update();
        let (current, since) = phase.get();
        let now = Instant::now();
        let (deadline, why) = match current {
            IDLE if stopping => (since + t.idle_grace(), "idle at shutdown"),
            IDLE => (since + t.idle, "idle timeout"),
            HEAD => (since + t.header, "request head timeout"),
            // The handler takes the time it needs; the body has its own deadline.
            _ => (now + t.idle.max(t.header), ""),
        };
        if current != BUSY && deadline <= now {
            return why;
        }
        let mut look_again = t.header.min(t.idle);
        if stopping {
            look_again = look_again.min(t.idle_grace());
        }
        let wake = deadline.min(now + look_again);
        tokio::select! {
            biased;
            changed = stop.changed(), if !stopping => {
                if changed.is_err() {
                    // The server is gone; the shutdown deadline closes us.
                    std::future::pending::<()>().await;
                }
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

pin_project_lite::pin_project! {
    /// The connection's socket, noticing the first bytes of each request.
    struct TrackedIo {
        #[pin]
        io: TcpStream,
        phase: Arc<Phase>,
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let result = ready!(this.io.poll_read(cx, buf));
        if buf.filled().len() > before {
            this.phase.read();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

/// The hyper service of one connection: the router, with a deadline on request bodies
/// and `Connection: close` on responses once shutting down.
struct Service {
    app: Router,
    phase: Arc<Phase>,
    body_timeout: Duration,
    stopping: Arc<AtomicBool>,
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.phase.start();
        // `Connection` is an HTTP/1 header (HTTP/2 has none; hyper drops it there).
        let http1 = req.version() < http::Version::HTTP_2;
        if !http1 {
            self.phase.http2.store(true, Ordering::Relaxed);
        }
        let timed_out = Arc::new(AtomicBool::new(false));
        let req = req.map(|body| DeadlineBody {
            inner: body,
            deadline: Instant::now() + self.body_timeout,
            sleep: None,
            timed_out: timed_out.clone(),
            done: false,
        });
        let mut app = self.app.clone();
        ResponseFuture {
            inner: tower_service::Service::call(&mut app, req),
            idle: Some(IdleOnDrop(Some(self.phase.clone()))),
            stopping: self.stopping.clone(),
            timed_out,
            http1,
        }
    }
}

pin_project_lite::pin_project! {
    /// The router's response, marked to close the connection when it must.
    struct ResponseFuture {
        #[pin]
        inner: RouteFuture<Infallible>,
        // Done with when the response body is (or this future, dropped before it).
        idle: Option<IdleOnDrop>,
        stopping: Arc<AtomicBool>,
        timed_out: Arc<AtomicBool>,
        http1: bool,
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(res) = ready!(this.inner.poll(cx));
        let (mut parts, body) = res.into_parts();
        if *this.http1
            && (this.stopping.load(Ordering::Acquire) || this.timed_out.load(Ordering::Relaxed))
        {
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        let body = TrackedBody {
            inner: body,
            _idle: this.idle.take().unwrap_or(IdleOnDrop(None)),
        };
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}

/// Marks the connection idle when the response body is done with (hyper drops it once
/// written).
struct IdleOnDrop(Option<Arc<Phase>>);

impl Drop for IdleOnDrop {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            p.done();
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that marks its connection idle when dropped.
    struct TrackedBody {
        #[pin]
        inner: axum::body::Body,
        _idle: IdleOnDrop,
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The error of a request body that did not arrive within `MCP_HTTP_BODY_TIMEOUT`.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time (MCP_HTTP_BODY_TIMEOUT)")
    }
}

impl std::error::Error for BodyTimeout {}

pin_project_lite::pin_project! {
    /// A request body that fails once its deadline passes.
    struct DeadlineBody {
        #[pin]
        inner: Incoming,
        deadline: Instant,
        // Made the first time the body is not ready: most bodies never are.
        sleep: Option<Pin<Box<Sleep>>>,
        timed_out: Arc<AtomicBool>,
        done: bool,
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = *this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                ready!(sleep.as_mut().poll(cx));
                *this.done = true;
                this.timed_out.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(Box::new(BodyTimeout))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
