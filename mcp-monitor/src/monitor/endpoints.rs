//! What the monitor serves, as methods of the handle: the expositions and the
//! router. Each is an output (`output/`) applied to a reading of this monitor; the
//! outputs never call back into it (the router reads through [`Source`]).

use std::sync::Arc;

use super::Monitor;
use crate::output::prometheus::{exposition, Format};
use crate::output::router::{router, Source};
use crate::reading::Reading;
use crate::settings::Settings;

impl Monitor {
    /// The Prometheus text exposition (0.0.4) of every series, the application's own
    /// `metrics` facade series included.
    pub fn render(&self) -> String {
        exposition(&self.read(), self.settings(), Format::Text)
    }

    /// The OpenMetrics 1.0 text exposition of every series (the application's facade
    /// metrics included), with exemplars: on each bucket of the HTTP, db-operation,
    /// workflow-step and workflow-run histograms, the latest sample recorded in a
    /// trace (see [`trace`](crate::trace)), and on their counters the latest one of
    /// that label set. `GET /metrics` answers with it when the scraper prefers
    /// `application/openmetrics-text`, as Prometheus does.
    pub fn render_openmetrics(&self) -> String {
        exposition(&self.read_exemplars(), self.settings(), Format::OpenMetrics)
    }

    /// The protobuf exposition: delimited `io.prometheus.client.MetricFamily`
    /// messages of every series (the application's facade metrics included), the HTTP,
    /// db-operation, workflow-step and workflow-run latency histograms with both their
    /// classic buckets and their native (sparse exponential) ones, with exemplars.
    /// `GET /metrics` answers with it when the scraper prefers
    /// `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`,
    /// as Prometheus does with native histograms on.
    pub fn render_protobuf(&self) -> Vec<u8> {
        crate::output::protobuf::encode(&self.read_exemplars(), self.settings())
    }

    /// A reading over the window, with the exemplars.
    fn read_exemplars(&self) -> Reading {
        self.read_with(true, |s, at| s.window_start(at))
    }

    /// The endpoints: `/metrics`, `/metrics/summary`, `/api/v1/metrics/report`,
    /// `/api/v1/metrics/dashboard`, `POST /api/v1/metrics/reset` and their `/metrics/...`
    /// aliases; the page at `/metrics/ui` (alias `/api/v1/metrics/ui`) and its
    /// `/api/v1/metrics/history`. Merge it into the application's router.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router(Arc::new(self.clone())).with_state(())
    }

    /// The application's router merged with the monitor's endpoints
    /// ([`router`](Self::router)) and wrapped by the HTTP layer ([`layer`](Self::layer))
    /// last, so that the layer sees every route and its matched template: the way to
    /// serve an application.
    ///
    /// Why last: axum applies a `Router::layer` only to the routes added before it.
    /// `Router::new().layer(monitor.layer()).route("/a", ..)` leaves `/a` unrecorded,
    /// without any error; so does merging routes (or the monitor's router) after the
    /// layer. Layers the application adds before calling this (a timeout, a body
    /// limit, CORS) run inside the HTTP layer, which so records the response they
    /// make: a `tower_http` timeout's `408` is recorded as `408`. A layer wrapped
    /// around the returned router (or around the whole service, outside axum) runs
    /// outside it: a request it cuts short is recorded as `499`, as a client that
    /// went away would be.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let monitor = mcp_monitor::Monitor::builder().build()?;
    /// let app = Router::new().route("/users", get(|| async { "[]" }));
    /// let app = monitor.instrument(app); // + /metrics, /metrics/summary, ...
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # drop(listener); let _: Router = app;
    /// // axum::serve(listener, app).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// `instrument` merges the monitor's router itself: given a router that already has
    /// it (`monitor.instrument(app.merge(monitor.router()))`), it panics with a message
    /// that says so, rather than only axum's "overlapping method route".
    pub fn instrument<S>(&self, app: axum::Router<S>) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let endpoints = self.router();
        // axum panics when two routers have the same route; only ours can collide here.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || app.merge(endpoints))) {
            Ok(app) => app.layer(self.layer()),
            Err(panic) => {
                let axum = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a route overlaps");
                panic!(
                    "Monitor::instrument merges the monitor's router itself, and the router \
                     given to it already has the monitor's routes ({axum}). Fix: remove \
                     `.merge(monitor.router())` and pass your routes alone to \
                     `monitor.instrument(app)`"
                )
            }
        }
    }
}

impl Source for Monitor {
    fn settings(&self) -> &Settings {
        Monitor::settings(self)
    }

    fn read(&self, exemplars: bool) -> Reading {
        if exemplars {
            self.read_exemplars()
        } else {
            Monitor::read(self)
        }
    }

    fn reset(&self) {
        Monitor::reset(self);
    }

    fn note_scrape(&self) {
        Monitor::note_scrape(self);
    }

    fn note_auth_failure(&self, path: &str, reason: &'static str) {
        Monitor::note_auth_failure(self, path, reason);
    }
}
