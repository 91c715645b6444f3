//! gRPC: the middleware that records every call of a gRPC server (tonic or any tower
//! HTTP/2 service carrying gRPC) by service, method and status code.
//!
//! [`GrpcMetricsLayer`] (from [`Monitor::grpc_layer`](crate::Monitor::grpc_layer))
//! records `mcp_grpc_requests_total`, `mcp_grpc_request_duration_seconds` and
//! `mcp_grpc_requests_in_flight`: the `code` label is the status of the call's
//! trailers (or of a trailers-only answer), a streaming call lasts until its stream
//! ends, and a call the client cancels is `CANCELLED`. The layer needs no tonic
//! dependency: it is written over `http` and `http-body`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let monitor = mcp_monitor::install()?;
//! let layer = monitor
//!     .grpc_layer()
//!     .service("grpc.health.v1.Health", &["Check", "Watch"]);
//! // tonic::transport::Server::builder()
//! //     .layer(layer)
//! //     .add_service(health_service)
//! //     .serve("127.0.0.1:50051".parse()?)
//! //     .await?;
//! # let _ = layer;
//! # Ok(()) }
//! ```

// The status codes, the per-monitor store of gRPC series, and the tower layer.
pub(crate) mod code;
pub(crate) mod layer;
pub(crate) mod store;

pub use layer::{GrpcBody, GrpcMetrics, GrpcMetricsLayer, ResponseFuture};
pub use store::UNKNOWN_METHOD;
