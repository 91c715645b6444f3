//! The OTLP push: every series of a [`Reading`](crate::Reading) posted as OTLP/HTTP
//! protobuf to a collector or a vendor, every `OTEL_METRIC_EXPORT_INTERVAL`, configured
//! by the standard `OTEL_*` variables (`settings/otlp`).
//!
//! - `proto`: the OTLP messages, declared by hand for `prost` (no `opentelemetry` crate);
//! - `encode`: a reading into an `ExportMetricsServiceRequest`, family by family through
//!   one table of names, units and attributes; delta temporality's previous values;
//! - `send`: the bounded queue, the request with its timeout, retries with back-off
//!   and `Retry-After`, and the export counters (`mcp_otlp_exports_total`).

pub(crate) mod encode;
pub(crate) mod proto;
pub(crate) mod send;

pub(crate) use send::Exporter;
