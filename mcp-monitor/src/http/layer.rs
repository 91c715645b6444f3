//! The HTTP middleware: a tower `Layer` that records every request, and its service and
//! response future. What it records is on [`HttpMetricsLayer`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::base::clock::Start;
use crate::base::long_poll::{PollKind, Watch};
use crate::base::trace::TraceContext;
use crate::http::mount::MountLabel;
use crate::http::store::{HttpStore, MethodLabel, UNMATCHED_PATH};

/// The W3C Trace Context request header.
static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
use crate::http::route_cache::{RouteRef, RouteTable};

/// Status recorded for a request dropped before its response.
pub const STATUS_CLIENT_CLOSED: u16 = 499;

/// Records `mcp_http_requests_total`, `mcp_http_request_duration_seconds` and
/// `mcp_http_requests_in_flight`. Made by [`Monitor::layer`](crate::Monitor::layer).
///
/// Apply it with `Router::layer` after every route, so that it runs after routing and
/// sees axum's `MatchedPath`: the `path` label is the route template (`/users/{id}`),
/// never the raw path. [`Monitor::instrument`](crate::Monitor::instrument) does that
/// for you. Requests that matched no route (the fallback) are labelled
/// `path="unmatched"` ([`UNMATCHED_PATH`]), and those answered by a service nested with
/// [`RouterExt::monitored_nest_service`](crate::RouterExt::monitored_nest_service) by
/// its mount, `/assets/{*path}`. An unmatched request that is answered with a success is
/// logged once as a warning: it is the sign of a service nested without its label.
///
/// Each request is recorded exactly once, when its response head is ready (so a
/// streaming body counts once, with the time to its head), with the status:
///
/// - the response's status code;
/// - `500` when the inner service returns an error or panics (a panic unwinds through
///   the layer, which records it, then continues unchanged);
/// - `499` ([`STATUS_CLIENT_CLOSED`]) when the request is dropped before a response
///   (the client disconnected or a timeout above the layer cancelled it), as nginx
///   reports it.
///
/// The monitor's own endpoints are not recorded unless asked for with
/// [`include_monitor_endpoints`](Self::include_monitor_endpoints).
///
/// ```
/// use axum::{routing::get, Router};
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let monitor = mcp_monitor::Monitor::builder().build()?;
/// let layer = monitor.layer().exclude(&["/health"]);
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "a user" }))
///     .route("/health", get(|| async { "ok" }))
///     .merge(monitor.router())
///     .layer(layer); // last: axum layers only the routes added before it
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HttpMetricsLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<HttpStore>,
    excluded: Box<[String]>,
    routes: RouteTable,
    /// Whether [`warn_unmatched_success`] has logged.
    warned_unmatched: AtomicBool,
}

impl HttpMetricsLayer {
    pub(crate) fn new(store: Arc<HttpStore>, excluded: Vec<String>) -> Self {
        store.watch.made();
        Self {
            shared: Arc::new(Shared {
                store,
                excluded: excluded.into(),
                routes: RouteTable::new(),
                warned_unmatched: AtomicBool::new(false),
            }),
        }
    }

    fn with_excluded(self, excluded: Vec<String>) -> Self {
        Self::new(self.shared.store.clone(), excluded)
    }

    /// Also records the route templates in `paths` (by default the monitor's own
    /// endpoints are not recorded).
    #[must_use]
    pub fn include(self, paths: &[&str]) -> Self {
        let excluded = self
            .shared
            .excluded
            .iter()
            .filter(|p| !paths.contains(&p.as_str()))
            .cloned()
            .collect();
        self.with_excluded(excluded)
    }

    /// Records the monitor's own endpoints too.
    #[must_use]
    pub fn include_monitor_endpoints(self) -> Self {
        self.with_excluded(Vec::new())
    }

    /// Does not record requests to the route templates in `paths`.
    #[must_use]
    pub fn exclude(self, paths: &[&str]) -> Self {
        let mut v = self.shared.excluded.to_vec();
        v.extend(paths.iter().map(|p| (*p).to_owned()));
        self.with_excluded(v)
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`HttpMetricsLayer`].
#[derive(Debug, Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    // One `Arc` for everything (store, exclusions, route table): axum clones the
    // layered service for every request, and each `Arc` in it costs an atomic
    // increment and decrement.
    layer: HttpMetricsLayer,
}

impl<S, B, R> Service<Request<B>> for HttpMetrics<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let matched = req.extensions().get::<MatchedPath>();
        let shared = &self.layer.shared;
        if matched.is_some() {
            shared.store.watch.routed();
        }
        let excludes = |p: &str| shared.excluded.iter().any(|e| e == p);
        let path = match matched {
            // Unmatched requests are always recorded.
            None => Some(GuardPath::Route(RouteRef::Unmatched)),
            Some(p) => match shared.routes.find(p, excludes) {
                Some((at, route)) => (!route.excluded()).then_some(GuardPath::Route(at)),
                None => (!excludes(p.as_str())).then(|| GuardPath::Other(p.clone())),
            },
        };
        let guard = path.map(|path| {
            shared.store.in_flight.inc();
            RequestGuard {
                shared: shared.clone(),
                method: MethodLabel::of(req.method()),
                path,
                status: None,
                start: Start::now(),
            }
        });
        let trace = req
            .headers()
            .get(&TRACEPARENT)
            .and_then(|v| TraceContext::from_traceparent(v.as_bytes()));
        // The inner service's `call` may run the handler's first steps: in the trace too.
        let inner = match trace {
            Some(ctx) => crate::base::trace::in_context(ctx, || self.inner.call(req)),
            None => self.inner.call(req),
        };
        ResponseFuture {
            inner,
            guard,
            trace,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpMetrics`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        guard: Option<RequestGuard>,
        // The request's sampled `traceparent`: current on the thread while `inner` is
        // polled, so that the request and the monitored calls made while serving it
        // attach exemplars that link to it.
        trace: Option<TraceContext>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // Until the guard below is dropped: the request's own record is traced too.
        let _scope = this.trace.map(crate::base::trace::Scope::enter);
        let out = match this.guard.as_ref() {
            // A recorded request: its poll is watched for a long one.
            Some(guard) => {
                let watch = Watch::start();
                let polled = this.inner.poll(cx);
                let shared = &guard.shared;
                shared
                    .store
                    .long_polls
                    .finish(watch, PollKind::Http, || guard.name());
                std::task::ready!(polled)
            }
            None => std::task::ready!(this.inner.poll(cx)),
        };
        if let Some(mut guard) = this.guard.take() {
            guard.status = Some(match &out {
                Ok(res) => {
                    if let Some(mount) = res.extensions().get::<MountLabel>() {
                        guard.path = GuardPath::Mount(mount.clone());
                    } else if matches!(guard.path, GuardPath::Route(RouteRef::Unmatched))
                        && res.status().as_u16() < 400
                    {
                        warn_unmatched_success(&guard.shared, res.status().as_u16());
                    }
                    res.status().as_u16()
                }
                Err(_) => 500,
            });
        }
        Poll::Ready(out)
    }
}

/// Logs, once per layer, that a request matched no route yet was answered `status`.
#[cold]
fn warn_unmatched_success(shared: &Shared, status: u16) {
    if shared.warned_unmatched.swap(true, Relaxed) {
        return;
    }
    crate::base::diagnostic::diagnostic!(
        status = status;
        "a request that matched no route was answered {status}, so it is recorded as \
         path=\"{UNMATCHED_PATH}\": axum gives requests served by `Router::nest_service` (or a \
         fallback service) no matched route. Mount the service with \
         `mcp_monitor::RouterExt::monitored_nest_service` to record it by its mount"
    );
}

/// The path of a recorded request.
enum GuardPath {
    /// A route of the layer's [`RouteTable`].
    Route(RouteRef),
    /// A path the table has no room for.
    Other(MatchedPath),
    /// The mount of a nested service that labelled its response.
    Mount(MountLabel),
}

/// Records one request when dropped.
struct RequestGuard {
    shared: Arc<Shared>,
    method: MethodLabel,
    path: GuardPath,
    status: Option<u16>,
    start: Start,
}

impl RequestGuard {
    /// The request as a person writes it, `GET /users/{id}`: the name of its long polls.
    #[cold]
    fn name(&self) -> String {
        let path = match &self.path {
            GuardPath::Route(at) => self.shared.routes.get(*at).path(),
            GuardPath::Other(path) => path.as_str(),
            GuardPath::Mount(mount) => mount.as_str(),
        };
        format!("{} {path}", self.method.as_str())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let ns = self.start.elapsed_ns();
        let status = self.status.unwrap_or(if std::thread::panicking() {
            500
        } else {
            STATUS_CLIENT_CLOSED
        });
        let store = &self.shared.store;
        match &self.path {
            GuardPath::Route(at) => {
                self.shared
                    .routes
                    .get(*at)
                    .record(store, self.method, status, ns)
            }
            GuardPath::Other(path) => store.record(self.method, path.as_str(), status, ns),
            GuardPath::Mount(mount) => store.record(self.method, mount.as_str(), status, ns),
        }
        store.in_flight.dec();
    }
}
