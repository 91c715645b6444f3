//! The gRPC middleware: a tower `Layer` over any HTTP/2 service carrying gRPC (a tonic
//! server among them), its service, response future and response body. What it
//! records is on [`GrpcMetricsLayer`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use tower_layer::Layer;
use tower_service::Service;

use crate::base::clock::Start;
use crate::base::long_poll::{PollKind, Watch};
use crate::base::trace::TraceContext;
use crate::grpc::code::{timeout_ns, Code};
use crate::grpc::store::{GrpcMethod, GrpcStore};

/// The W3C Trace Context request header (gRPC metadata is HTTP/2 headers).
static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");

/// Records `mcp_grpc_requests_total`, `mcp_grpc_request_duration_seconds` and
/// `mcp_grpc_requests_in_flight`. Made by [`Monitor::grpc_layer`](crate::Monitor::grpc_layer),
/// told which methods the server serves with [`service`](Self::service).
///
/// It wraps any tower service of `http::Request`s carrying gRPC (content type
/// `application/grpc…`), a tonic server among them (`Server::builder().layer(…)`).
/// Requests of another content type pass through unrecorded.
///
/// Each call is recorded once, with `code` the gRPC status name:
///
/// - the `grpc-status` of the response's trailers, or of its headers for a
///   trailers-only answer; a response that ends without one is `UNKNOWN`, and an HTTP
///   status other than 200 without one maps as the gRPC specification says (`404` is
///   `UNIMPLEMENTED`, `503` `UNAVAILABLE`, ...);
/// - `CANCELLED` when the response (or its body stream, before its end) is dropped: the
///   client cancelled or went away; `DEADLINE_EXCEEDED` instead when that happens after
///   the deadline of the request's `grpc-timeout`;
/// - `UNKNOWN` when the inner service returns an error, `INTERNAL` when it panics.
///
/// The duration runs to the end of the response body: for a streaming call, until its
/// last message and trailers. Calls to a path that is not one of the declared methods
/// share the one series `service="unknown",method="unknown"`, so the number of series
/// is bounded by the methods the server serves, never by its clients. A `traceparent`
/// in the request metadata makes its trace current while the call is served and is
/// attached to the call's exemplar.
///
/// ```
/// use mcp_monitor::Monitor;
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let monitor = Monitor::builder().build()?;
/// // With tonic: `<HealthServer<_> as tonic::server::NamedService>::NAME`.
/// let layer = monitor
///     .grpc_layer()
///     .service("grpc.health.v1.Health", &["Check", "Watch"]);
/// // tonic::transport::Server::builder().layer(layer).add_service(...)
/// # let _ = layer;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<GrpcStore>,
    /// `/service/method` to its method.
    methods: HashMap<Box<str>, Arc<GrpcMethod>, rustc_hash::FxBuildHasher>,
    unknown: Arc<GrpcMethod>,
}

impl GrpcMetricsLayer {
    pub(crate) fn new(store: Arc<GrpcStore>) -> Self {
        Self {
            shared: Arc::new(Shared {
                unknown: store.unknown(),
                store,
                methods: HashMap::default(),
            }),
        }
    }

    /// Declares that the server serves `methods` of the service `service` (its full
    /// name, `package.Service`, as tonic's `NamedService::NAME` gives it): calls to
    /// them are recorded under their own labels.
    #[must_use]
    pub fn service(self, service: &str, methods: &[&str]) -> Self {
        let store = self.shared.store.clone();
        let mut all = self.shared.methods.clone();
        for m in methods {
            all.insert(
                format!("/{service}/{m}").into_boxed_str(),
                store.method(service, m),
            );
        }
        Self {
            shared: Arc::new(Shared {
                unknown: self.shared.unknown.clone(),
                store,
                methods: all,
            }),
        }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    layer: GrpcMetricsLayer,
}

/// Whether a request carries gRPC: `application/grpc`, `application/grpc+proto`, ...
fn is_grpc<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

impl<S, B, R> Service<Request<B>> for GrpcMetrics<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    R: Body,
{
    type Response = Response<GrpcBody<R>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if !is_grpc(&req) {
            return ResponseFuture {
                inner: self.inner.call(req),
                guard: None,
                trace: None,
            };
        }
        let shared = &self.layer.shared;
        let method = shared
            .methods
            .get(req.uri().path())
            .unwrap_or(&shared.unknown)
            .clone();
        method.in_flight.inc();
        let trace = req
            .headers()
            .get(&TRACEPARENT)
            .and_then(|v| TraceContext::from_traceparent(v.as_bytes()));
        let guard = CallGuard {
            store: shared.store.clone(),
            method,
            code: None,
            ended: false,
            deadline_ns: timeout_ns(req.headers()),
            trace,
            start: Start::now(),
        };
        let inner = match trace {
            Some(ctx) => crate::base::trace::in_context(ctx, || self.inner.call(req)),
            None => self.inner.call(req),
        };
        ResponseFuture {
            inner,
            guard: Some(guard),
            trace,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`GrpcMetrics`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        guard: Option<CallGuard>,
        trace: Option<TraceContext>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
    R: Body,
{
    type Output = Result<Response<GrpcBody<R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _scope = this.trace.map(crate::base::trace::Scope::enter);
        let out = match this.guard.as_ref() {
            // A recorded call: its poll is watched for a long one.
            Some(g) => {
                let watch = Watch::start();
                let polled = this.inner.poll(cx);
                g.watched(watch);
                std::task::ready!(polled)
            }
            None => std::task::ready!(this.inner.poll(cx)),
        };
        Poll::Ready(match out {
            Ok(res) => {
                let mut guard = this.guard.take();
                if let Some(g) = &mut guard {
                    // Trailers-only (or an HTTP error without a gRPC status).
                    g.code = Code::from_headers(res.headers()).or_else(|| {
                        (res.status() != StatusCode::OK)
                            .then(|| Code::from_http_status(res.status()))
                    });
                }
                Ok(res.map(|inner| GrpcBody { inner, guard }))
            }
            Err(e) => {
                if let Some(mut g) = this.guard.take() {
                    g.code = Some(Code::UNKNOWN);
                }
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`GrpcMetrics`]: the inner body, recording the call when
    /// it ends or is dropped.
    pub struct GrpcBody<B>
    where
        B: Body,
    {
        #[pin]
        inner: B,
        guard: Option<CallGuard>,
    }

    impl<B> PinnedDrop for GrpcBody<B>
    where
        B: Body,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // A server may drop a body it knows has ended without polling it again.
            if let Some(g) = this.guard.as_mut() {
                if !g.ended && this.inner.is_end_stream() {
                    g.ended = true;
                }
            }
        }
    }
}

impl<B: Body> std::fmt::Debug for GrpcBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcBody").finish_non_exhaustive()
    }
}

impl<B: Body> Body for GrpcBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        // A stream's every poll is watched for a long one while the call is recorded.
        let watch = this.guard.is_some().then(Watch::start);
        let polled = this.inner.as_mut().poll_frame(cx);
        if let (Some(g), Some(watch)) = (this.guard.as_ref(), watch) {
            g.watched(watch);
        }
        let out = std::task::ready!(polled);
        if let Some(g) = this.guard.as_mut() {
            match &out {
                Some(Ok(frame)) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        g.code = Some(Code::from_headers(trailers).unwrap_or(Code::UNKNOWN));
                    }
                    if this.inner.is_end_stream() {
                        g.ended = true;
                    }
                }
                // The stream failed: no status reached the client.
                Some(Err(_)) => {
                    g.code = Some(g.code.unwrap_or(Code::UNKNOWN));
                    g.ended = true;
                }
                None => g.ended = true,
            }
            if g.ended {
                drop(this.guard.take());
            }
        }
        Poll::Ready(out)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Records one call when dropped.
struct CallGuard {
    store: Arc<GrpcStore>,
    method: Arc<GrpcMethod>,
    /// The status read so far (head or trailers).
    code: Option<Code>,
    /// Whether the response body reached its end.
    ended: bool,
    /// The request's `grpc-timeout`.
    deadline_ns: Option<u64>,
    trace: Option<TraceContext>,
    start: Start,
}

impl CallGuard {
    /// Counts a poll of this call that began at `watch`, if it was a long one.
    fn watched(&self, watch: Watch) {
        let m = &self.method;
        self.store.long_polls.finish(watch, PollKind::Grpc, || {
            format!("{}/{}", m.service, m.method)
        });
    }
}

impl CallGuard {
    /// The code of a call that ends now, `ns` after it started.
    fn code(&self, ns: u64) -> Code {
        if let Some(code) = self.code {
            return code;
        }
        if std::thread::panicking() {
            Code::INTERNAL
        } else if self.ended {
            // The gRPC specification: a response without a status is UNKNOWN.
            Code::UNKNOWN
        } else if self.deadline_ns.is_some_and(|d| ns >= d) {
            Code::DEADLINE_EXCEEDED
        } else {
            Code::CANCELLED
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let ns = self.start.elapsed_ns();
        let code = self.code(ns);
        let _scope = self.trace.map(crate::base::trace::Scope::enter);
        self.store.record(&self.method, code, ns);
        self.method.in_flight.dec();
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{HeaderMap, HeaderValue};
    use http_body_util::{BodyExt as _, Empty, StreamBody};
    use prost::bytes::Bytes;
    use tower::ServiceExt as _;

    use super::*;
    use crate::base::histogram::Buckets;

    type Frames = Vec<Result<Frame<Bytes>, Infallible>>;
    type TestBody = StreamBody<
        futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>,
    >;

    fn trailers(status: &'static str) -> Frame<Bytes> {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", HeaderValue::from_static(status));
        Frame::trailers(t)
    }

    fn request(path: &str) -> Request<Empty<Bytes>> {
        Request::post(path)
            .header("content-type", "application/grpc")
            .body(Empty::new())
            .unwrap()
    }

    fn layer() -> (Arc<GrpcStore>, GrpcMetricsLayer) {
        let store = Arc::new(GrpcStore::new(Buckets::http_default()));
        let layer = GrpcMetricsLayer::new(store.clone()).service("demo.Users", &["Get", "List"]);
        (store, layer)
    }

    /// A server that answers every call with `head` headers and the body `frames`.
    fn server(
        head: Option<&'static str>,
        frames: impl Fn() -> Frames + Clone,
    ) -> impl Service<
        Request<Empty<Bytes>>,
        Response = Response<TestBody>,
        Error = Infallible,
        Future = std::future::Ready<Result<Response<TestBody>, Infallible>>,
    > + Clone {
        tower::service_fn(move |_req: Request<Empty<Bytes>>| {
            let mut res = Response::new(StreamBody::new(futures_util::stream::iter(frames())));
            if let Some(code) = head {
                res.headers_mut()
                    .insert("grpc-status", HeaderValue::from_static(code));
            }
            std::future::ready(Ok(res))
        })
    }

    fn counts(store: &GrpcStore) -> Vec<(String, String, &'static str, u64)> {
        store
            .series()
            .iter()
            .map(|s| {
                (
                    s.service.to_string(),
                    s.method.to_string(),
                    s.code.as_str(),
                    s.histogram.snapshot().count(),
                )
            })
            .collect()
    }

    fn in_flight(store: &GrpcStore) -> i64 {
        store.in_flight().iter().map(|(_, n)| n).sum()
    }

    #[tokio::test]
    async fn the_code_comes_from_trailers_at_the_end_of_the_stream() {
        let (store, layer) = layer();
        let frames = || {
            vec![
                Ok(Frame::data(Bytes::from_static(b"one"))),
                Ok(Frame::data(Bytes::from_static(b"two"))),
                Ok(trailers("5")),
            ]
        };
        let res = layer
            .layer(server(None, frames))
            .oneshot(request("/demo.Users/List"))
            .await
            .unwrap();
        // Not recorded before the stream ends: a streaming call lasts until then.
        assert!(counts(&store).is_empty());
        assert_eq!(in_flight(&store), 1);
        let body = res.into_body().collect().await.unwrap();
        assert_eq!(body.trailers().unwrap()["grpc-status"], "5");
        assert_eq!(
            counts(&store),
            [("demo.Users".into(), "List".into(), "NOT_FOUND", 1)]
        );
        assert_eq!(in_flight(&store), 0);
    }

    #[tokio::test]
    async fn a_trailers_only_answer_is_read_from_its_headers() {
        let (store, layer) = layer();
        let res = layer
            .layer(server(Some("14"), Vec::new))
            .oneshot(request("/demo.Users/Get"))
            .await
            .unwrap();
        // A server may drop an ended body without polling it.
        drop(res);
        assert_eq!(
            counts(&store),
            [("demo.Users".into(), "Get".into(), "UNAVAILABLE", 1)]
        );
    }

    #[tokio::test]
    async fn a_stream_ending_without_status_is_unknown() {
        let (store, layer) = layer();
        let frames = || vec![Ok(Frame::data(Bytes::from_static(b"x")))];
        let res = layer
            .layer(server(None, frames))
            .oneshot(request("/demo.Users/Get"))
            .await
            .unwrap();
        res.into_body().collect().await.unwrap();
        assert_eq!(
            counts(&store),
            [("demo.Users".into(), "Get".into(), "UNKNOWN", 1)]
        );
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_is_cancelled_or_past_the_deadline() {
        let (store, layer) = layer();
        let frames = || {
            vec![
                Ok(Frame::data(Bytes::from_static(b"one"))),
                Ok(trailers("0")),
            ]
        };
        let svc = layer.layer(server(None, frames));
        let mut res = svc
            .clone()
            .oneshot(request("/demo.Users/List"))
            .await
            .unwrap();
        res.body_mut().frame().await.unwrap().unwrap();
        drop(res);
        // The deadline passed (1 ns): the client gave up on its deadline.
        let mut late = request("/demo.Users/List");
        late.headers_mut()
            .insert("grpc-timeout", HeaderValue::from_static("1n"));
        drop(svc.oneshot(late).await.unwrap());
        assert_eq!(
            counts(&store),
            [
                ("demo.Users".into(), "List".into(), "CANCELLED", 1),
                ("demo.Users".into(), "List".into(), "DEADLINE_EXCEEDED", 1),
            ]
        );
        assert_eq!(in_flight(&store), 0);
    }

    #[tokio::test]
    async fn undeclared_methods_share_unknown_and_other_content_passes_through() {
        let (store, layer) = layer();
        let svc = layer.layer(server(None, || vec![Ok(trailers("12"))]));
        for path in ["/demo.Users/Delete", "/x.Y/Z", "/no"] {
            let res = svc.clone().oneshot(request(path)).await.unwrap();
            res.into_body().collect().await.unwrap();
        }
        let plain = Request::get("/demo.Users/Get").body(Empty::new()).unwrap();
        let res = svc.oneshot(plain).await.unwrap();
        res.into_body().collect().await.unwrap();
        assert_eq!(
            counts(&store),
            [("unknown".into(), "unknown".into(), "UNIMPLEMENTED", 3)]
        );
    }

    #[tokio::test]
    async fn a_traceparent_in_the_metadata_is_the_exemplar() {
        let (store, layer) = layer();
        let mut req = request("/demo.Users/Get");
        req.headers_mut().insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let res = layer
            .layer(server(None, || vec![Ok(trailers("0"))]))
            .oneshot(req)
            .await
            .unwrap();
        res.into_body().collect().await.unwrap();
        let series = store.series();
        let exemplars = series[0].histogram.exemplars().unwrap();
        let e = exemplars.iter().flatten().next().unwrap();
        assert_eq!(e.trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}
