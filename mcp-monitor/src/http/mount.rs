//! Services nested with `Router::nest_service`, labelled by their mount.
//!
//! axum gives a request that a nested service answers no [`MatchedPath`]
//! (`axum::extract::MatchedPath`), so the HTTP layer alone would record a file served by
//! `nest_service("/assets", ServeDir::new(..))` as `path="unmatched"`. The layer runs
//! outside the nested service and cannot see its mount; [`Mounted`], inside it, puts
//! the mount on the response (a [`MountLabel`] extension), which the layer reads when it
//! records the request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use tower_service::Service;

/// The route label of a nested service's responses, such as `/assets/{*path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountLabel(Arc<str>);

impl MountLabel {
    /// The label of the service mounted at `path`: `{path}/{*path}`.
    fn for_mount(path: &str) -> Self {
        Self(format!("{}/{{*path}}", path.trim_end_matches('/')).into())
    }

    /// The label.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A service that marks its responses with the mount it is nested at, so that the
/// HTTP layer records them as `path="/assets/{*path}"`. Made by
/// [`RouterExt::monitored_nest_service`].
#[derive(Debug, Clone)]
pub struct Mounted<T> {
    inner: T,
    label: MountLabel,
}

impl<T, B> Service<http::Request<B>> for Mounted<T>
where
    T: Service<http::Request<B>, Error = Infallible>,
    T::Response: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = MountedFuture<T::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        MountedFuture {
            inner: self.inner.call(req),
            label: Some(self.label.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Mounted`].
    pub struct MountedFuture<F> {
        #[pin]
        inner: F,
        label: Option<MountLabel>,
    }
}

impl<F, R> Future for MountedFuture<F>
where
    F: Future<Output = Result<R, Infallible>>,
    R: IntoResponse,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(res) = std::task::ready!(this.inner.poll(cx));
        let mut res = res.into_response();
        if let Some(label) = this.label.take() {
            res.extensions_mut().insert(label);
        }
        Poll::Ready(Ok(res))
    }
}

/// Router methods that keep the HTTP metrics right.
pub trait RouterExt<S>: Sized {
    /// `Router::nest_service(path, service)`, with the requests that `service`
    /// answers recorded as `path="{path}/{*path}"` (`/assets/{*path}`). A request for
    /// the mount itself (`/assets`) is recorded the same way.
    ///
    /// Plain `nest_service` gives them no matched route, so the HTTP layer would
    /// record them as `path="unmatched"` (and log a warning the first time one is
    /// answered with a success).
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use mcp_monitor::RouterExt;
    ///
    /// # fn demo(monitor: &mcp_monitor::Monitor) {
    /// let assets = tower::service_fn(|_req: axum::extract::Request| async {
    ///     Ok::<_, std::convert::Infallible>("a file")
    /// });
    /// let app = Router::new()
    ///     .route("/", get(|| async { "home" }))
    ///     .monitored_nest_service("/assets", assets);
    /// let app = monitor.instrument(app);
    /// # let _: Router = app;
    /// # }
    /// ```
    fn monitored_nest_service<T>(self, path: &str, service: T) -> Self
    where
        T: Service<axum::extract::Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static;
}

impl<S> RouterExt<S> for axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn monitored_nest_service<T>(self, path: &str, service: T) -> Self
    where
        T: Service<axum::extract::Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static,
    {
        let mounted = Mounted {
            inner: service,
            label: MountLabel::for_mount(path),
        };
        self.nest_service(path, mounted)
    }
}

#[cfg(test)]
mod tests {
    use super::MountLabel;

    #[test]
    fn the_label_is_the_mount_with_a_wildcard() {
        assert_eq!(MountLabel::for_mount("/assets").as_str(), "/assets/{*path}");
        assert_eq!(
            MountLabel::for_mount("/assets/").as_str(),
            "/assets/{*path}"
        );
        assert_eq!(MountLabel::for_mount("/").as_str(), "/{*path}");
    }
}
