//! A [`Reading`] into one `ExportMetricsServiceRequest`.
//!
//! The families are those of the protobuf exposition (`output::protobuf`, the same
//! walk over the reading as every exposition, native buckets included), decoded into
//! `MetricFamily` messages, so that every series `/metrics` shows is pushed, the
//! application's own `metrics` series included, and a new family reaches OTLP without
//! code here. Each family is then renamed by
//! [`ROWS`] (one row per family: OTLP name, unit, attribute names, whether it is read
//! from a source), or by the default rule for a family without a row: `mcp_x_total` →
//! `mcp.x`, a `_seconds` or `_bytes` suffix becoming the unit; the application's
//! families keep the name they were recorded under.
//!
//! Counters are monotonic `Sum`s, gauges `Gauge`s; a latency histogram with native
//! buckets is an `ExponentialHistogram` (Prometheus schema `s` is OTLP scale `s`;
//! Prometheus bucket `k` covers `(base^(k-1), base^k]`, OTLP bucket `i` covers
//! `(base^i, base^(i+1)]`, so `i = k - 1`), any other histogram explicit buckets.
//! With delta temporality each point is the difference from the previous export, kept
//! here for the series of that export only.

use std::collections::HashMap;

use prost::Message as _;

use super::proto::{
    AggregationTemporality, Buckets, ExponentialHistogram, ExponentialHistogramDataPoint,
    ExportMetricsServiceRequest, Gauge, Histogram, HistogramDataPoint, InstrumentationScope,
    KeyValue, Metric, NumberDataPoint, Resource, ResourceMetrics, ScopeMetrics, Sum,
};
use crate::base::names;
use crate::output::protobuf::messages::{self as prom, MetricKind as MetricType};
use crate::reading::{MetricKind, Reading};
use crate::settings::{OtlpSettings, Settings, Temporality};

/// How one Prometheus family is pushed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    /// The family's Prometheus name (a counter's with `_total`).
    pub(crate) prometheus: &'static str,
    /// Its OTLP name.
    pub(crate) otlp: &'static str,
    /// Its unit (UCUM, as OTLP writes units).
    pub(crate) unit: &'static str,
    /// Label names renamed to attribute names; other labels keep their name.
    pub(crate) attributes: &'static [(&'static str, &'static str)],
    /// A counter read from a source (asynchronous in OpenTelemetry's terms): cumulative
    /// under `lowmemory`.
    pub(crate) observed: bool,
}

const HTTP: &[(&str, &str)] = &[
    ("method", "http.request.method"),
    ("path", "http.route"),
    ("status", "http.response.status_code"),
];
const GRPC: &[(&str, &str)] = &[
    ("service", "rpc.service"),
    ("method", "rpc.method"),
    ("code", GRPC_STATUS_CODE),
];
/// The semantic conventions' gRPC status: the code's number (`NOT_FOUND` is 5).
const GRPC_STATUS_CODE: &str = "rpc.grpc.status_code";
const DB: &[(&str, &str)] = &[
    ("operation", "db.operation.name"),
    ("table", "db.collection.name"),
];

/// A row with no renamed label.
const fn row(prometheus: &'static str, otlp: &'static str, unit: &'static str) -> Row {
    Row {
        prometheus,
        otlp,
        unit,
        attributes: &[],
        observed: false,
    }
}

/// A counter read from a source.
const fn observed(prometheus: &'static str, otlp: &'static str, unit: &'static str) -> Row {
    Row {
        observed: true,
        ..row(prometheus, otlp, unit)
    }
}

/// Every family of the monitor, by Prometheus name.
pub(crate) const ROWS: &[Row] = &[
    Row {
        attributes: HTTP,
        ..row(
            names::HTTP_REQUEST_DURATION,
            "http.server.request.duration",
            "s",
        )
    },
    Row {
        attributes: HTTP,
        ..row(names::HTTP_REQUESTS_TOTAL, "mcp.http.requests", "{request}")
    },
    row(
        names::HTTP_IN_FLIGHT,
        "http.server.active_requests",
        "{request}",
    ),
    row(
        names::HTTP_SERIES_OVERFLOW_TOTAL,
        "mcp.http.series.overflow",
        "{request}",
    ),
    row(
        names::HTTP_AUTH_FAILURES_TOTAL,
        "mcp.http.auth.failures",
        "{request}",
    ),
    Row {
        attributes: DB,
        ..row(
            names::DB_OPERATION_DURATION,
            "db.client.operation.duration",
            "s",
        )
    },
    Row {
        attributes: DB,
        ..row(
            names::DB_OPERATIONS_TOTAL,
            "mcp.db.operations",
            "{operation}",
        )
    },
    row(names::WORKFLOW_STEP_DURATION, "mcp.step.duration", "s"),
    row(names::WORKFLOW_STEPS_TOTAL, "mcp.steps", "{step}"),
    row(names::WORKFLOW_RUN_DURATION, "mcp.run.duration", "s"),
    row(names::WORKFLOW_RUNS_TOTAL, "mcp.runs", "{run}"),
    row(names::ACTIVE_WORKFLOWS, "mcp.workflows.active", "{run}"),
    row(names::BUILD_INFO, "mcp.build.info", "1"),
    row(names::UPTIME, "mcp.uptime", "s"),
    row(names::CACHE_HITS_TOTAL, "mcp.cache.hits", "{lookup}"),
    row(names::CACHE_MISSES_TOTAL, "mcp.cache.misses", "{lookup}"),
    row(
        names::DB_POOL_CONNECTIONS,
        "mcp.db.pool.connections",
        "{connection}",
    ),
    row(names::DB_POOL_UTILIZATION, "mcp.db.pool.utilization", "1"),
    row(names::SYSTEM_CPU_USAGE, "mcp.system.cpu.usage", "1"),
    row(names::SYSTEM_MEMORY_USAGE, "mcp.system.memory.usage", "1"),
    row(
        names::SYSTEM_LOAD1_PER_CORE,
        "mcp.system.load1.per_core",
        "1",
    ),
    row(
        names::PROCESS_RESIDENT_MEMORY,
        "mcp.process.memory.resident",
        "By",
    ),
    row(names::PROCESS_CPU_USAGE, "mcp.process.cpu.usage", "1"),
    row(
        names::METRIC_OVERFLOW_TOTAL,
        "mcp.metric.overflow",
        "{observation}",
    ),
    row(names::RUNTIME_WORKERS, "mcp.runtime.workers", "{thread}"),
    row(
        names::RUNTIME_ALIVE_TASKS,
        "mcp.runtime.alive_tasks",
        "{task}",
    ),
    row(
        names::RUNTIME_GLOBAL_QUEUE_DEPTH,
        "mcp.runtime.global_queue.depth",
        "{task}",
    ),
    observed(names::RUNTIME_BUSY_SECONDS_TOTAL, "mcp.runtime.busy", "s"),
    observed(names::RUNTIME_PARKS_TOTAL, "mcp.runtime.parks", "{park}"),
    row(names::ALERTS, "mcp.alerts", "{alert}"),
    row(names::ALERT_THRESHOLD, "mcp.alert.threshold", ""),
    row(
        names::ALERT_MIN_SAMPLES,
        "mcp.alert.min_samples",
        "{sample}",
    ),
    row(names::SLO_OBJECTIVE, "mcp.slo.objective", "1"),
    row(
        names::SLO_ERROR_BUDGET_REMAINING,
        "mcp.slo.error_budget.remaining",
        "1",
    ),
    observed(
        names::ALERT_NOTIFICATIONS_SENT_TOTAL,
        "mcp.alert.notifications.sent",
        "{alert}",
    ),
    observed(
        names::ALERT_NOTIFICATIONS_ERRORS_TOTAL,
        "mcp.alert.notifications.errors",
        "{alert}",
    ),
    observed(
        names::ALERT_NOTIFICATIONS_DROPPED_TOTAL,
        "mcp.alert.notifications.dropped",
        "{alert}",
    ),
    observed(
        names::ALERT_EVENTS_DROPPED_TOTAL,
        "mcp.alert.events.dropped",
        "{event}",
    ),
    row(
        names::ALERT_NOTIFICATIONS_QUEUE_LENGTH,
        "mcp.alert.notifications.queue.length",
        "{alert}",
    ),
    observed(names::OTLP_EXPORTS_TOTAL, "mcp.otlp.exports", "{export}"),
    observed(names::LONG_POLLS_TOTAL, "mcp.long_polls", "{poll}"),
    Row {
        attributes: GRPC,
        ..row(names::GRPC_REQUEST_DURATION, "rpc.server.duration", "s")
    },
    Row {
        attributes: GRPC,
        ..row(names::GRPC_REQUESTS_TOTAL, "mcp.grpc.requests", "{call}")
    },
    Row {
        attributes: GRPC,
        ..row(names::GRPC_IN_FLIGHT, "mcp.grpc.active_requests", "{call}")
    },
];

/// Attributes whose values are integers in the semantic conventions.
const INTEGER_ATTRIBUTES: &[&str] = &["http.response.status_code"];

/// The row of a family without one in [`ROWS`]: ours (`mcp_`) by the default rule,
/// the application's under the name it recorded.
fn default_row(name: &str, app_names: &HashMap<String, String>) -> (String, &'static str) {
    if let Some(rest) = name.strip_prefix("mcp_") {
        let rest = rest.strip_suffix("_total").unwrap_or(rest);
        let (rest, unit) = if let Some(r) = rest.strip_suffix("_seconds") {
            (r, "s")
        } else if let Some(r) = rest.strip_suffix("_bytes") {
            (r, "By")
        } else {
            (rest, "")
        };
        return (format!("mcp.{rest}"), unit);
    }
    let recorded = app_names.get(name).map_or(name, String::as_str);
    (recorded.to_owned(), "")
}

/// The previous export's cumulative values of one series.
#[derive(Debug, Clone)]
enum Previous {
    Sum(f64),
    Histogram {
        count: u64,
        sum: f64,
        counts: Vec<u64>,
    },
    Exponential {
        count: u64,
        sum: f64,
        buckets: Exponential,
    },
}

/// A series: OTLP name and Prometheus labels.
type Key = (String, Vec<(String, String)>);

/// Native buckets in OTLP's terms: scale, zero count and dense counts from `offset`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Exponential {
    pub(crate) scale: i32,
    pub(crate) zero: u64,
    pub(crate) offset: i32,
    pub(crate) counts: Vec<u64>,
}

impl Exponential {
    /// From Prometheus' native buckets: `schema`, zero count, spans and deltas.
    pub(crate) fn from_native(h: &prom::Histogram) -> Option<Self> {
        let schema = h.schema?;
        let mut keys: Vec<(i32, u64)> = Vec::new();
        let (mut key, mut count, mut deltas) = (0i32, 0i64, h.positive_delta.iter());
        for span in &h.positive_span {
            key += span.offset;
            for _ in 0..span.length {
                count += deltas.next().copied().unwrap_or(0);
                keys.push((key, count.max(0) as u64));
                key += 1;
            }
        }
        Some(Self::from_keys(schema, h.zero_count.unwrap_or(0), &keys))
    }

    /// From Prometheus bucket keys (sorted): OTLP index = key - 1.
    pub(crate) fn from_keys(schema: i32, zero: u64, keys: &[(i32, u64)]) -> Self {
        let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
            return Self {
                scale: schema,
                zero,
                ..Self::default()
            };
        };
        let offset = first.0 - 1;
        let mut counts = vec![0; (last.0 - first.0 + 1) as usize];
        for &(k, c) in keys {
            counts[(k - 1 - offset) as usize] += c;
        }
        Self {
            scale: schema,
            zero,
            offset,
            counts,
        }
    }

    /// The same counts `by` scales lower: index `i` becomes `i >> by`.
    fn downscaled(&self, by: i32) -> Self {
        if by <= 0 || self.counts.is_empty() {
            return Self {
                scale: self.scale - by.max(0),
                ..self.clone()
            };
        }
        let offset = self.offset >> by;
        let last = (self.offset + self.counts.len() as i32 - 1) >> by;
        let mut counts = vec![0; (last - offset + 1) as usize];
        for (i, c) in self.counts.iter().enumerate() {
            counts[(((self.offset + i as i32) >> by) - offset) as usize] += c;
        }
        Self {
            scale: self.scale - by,
            zero: self.zero,
            offset,
            counts,
        }
    }

    /// This minus `earlier` (at the lower scale of the two).
    fn minus(&self, earlier: &Self) -> Self {
        let scale = self.scale.min(earlier.scale);
        let now = self.downscaled(self.scale - scale);
        let then = earlier.downscaled(earlier.scale - scale);
        let at = |i: i32| {
            usize::try_from(i - then.offset)
                .ok()
                .and_then(|j| then.counts.get(j))
                .copied()
                .unwrap_or(0)
        };
        let counts = now
            .counts
            .iter()
            .enumerate()
            .map(|(i, c)| c.saturating_sub(at(now.offset + i as i32)))
            .collect();
        Self {
            scale,
            zero: now.zero.saturating_sub(then.zero),
            offset: now.offset,
            counts,
        }
    }

    fn total(&self) -> u64 {
        self.zero + self.counts.iter().sum::<u64>()
    }
}

/// Turns readings into requests, keeping what delta temporality subtracts.
#[derive(Debug)]
pub(crate) struct RequestEncoder {
    resource: Resource,
    temporality: Temporality,
    /// Where cumulative points start: the monitor's start, fixed at the first export
    /// (computed again, it would move by the rounding of the clock).
    start: Option<u64>,
    /// The previous export's time and cumulative values (delta temporality only).
    previous_at: Option<u64>,
    previous: HashMap<Key, Previous>,
}

impl RequestEncoder {
    /// An encoder for `otlp`'s resource and temporality (`instance` is the default
    /// `service.instance.id`).
    pub(crate) fn new(otlp: &OtlpSettings, instance: &str) -> Self {
        let mut attributes = vec![
            KeyValue::string("service.name", &otlp.service_name),
            KeyValue::string("telemetry.sdk.name", "mcp-monitor"),
            KeyValue::string("telemetry.sdk.language", "rust"),
            KeyValue::string("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
        ];
        if !otlp
            .resource_attributes
            .iter()
            .any(|(k, _)| k == "service.instance.id")
        {
            attributes.push(KeyValue::string("service.instance.id", instance));
        }
        for (k, v) in &otlp.resource_attributes {
            attributes.retain(|a| &a.key != k);
            attributes.push(KeyValue::string(k, v));
        }
        Self {
            resource: Resource { attributes },
            temporality: otlp.temporality,
            start: None,
            previous_at: None,
            previous: HashMap::new(),
        }
    }

    /// The request of every series of `r`.
    pub(crate) fn encode(&mut self, r: &Reading, s: &Settings) -> ExportMetricsServiceRequest {
        let families = families(r, s);
        let now = nanos(r.unix_ms);
        let process_start = *self
            .start
            .get_or_insert_with(|| now.saturating_sub(r.uptime.as_nanos() as u64));
        let delta_start = self.previous_at.unwrap_or(process_start);
        let app_names: HashMap<String, String> = r
            .metrics
            .iter()
            .map(|f| {
                let exposed = if f.kind == MetricKind::Counter && !f.name.ends_with("_total") {
                    format!("{}_total", f.name)
                } else {
                    f.name.clone()
                };
                (exposed, f.name.clone())
            })
            .collect();
        let mut previous = HashMap::new();
        let mut metrics = Vec::with_capacity(families.len());
        for f in &families {
            let (name, unit, renames, observed) =
                match ROWS.iter().find(|row| row.prometheus == f.name) {
                    Some(row) => (row.otlp.to_owned(), row.unit, row.attributes, row.observed),
                    None => {
                        let (name, unit) = default_row(&f.name, &app_names);
                        (name, unit, &[][..], false)
                    }
                };
            let mut out = Family {
                name,
                renames,
                now,
                start: process_start,
                delta_start,
                delta: false,
                previous: &self.previous,
                next: &mut previous,
            };
            let mut m = Metric {
                description: f.help.clone(),
                unit: unit.to_owned(),
                ..Metric::default()
            };
            match f.r#type {
                t if t == MetricType::Counter as i32 => {
                    out.delta = match self.temporality {
                        Temporality::Delta => true,
                        Temporality::LowMemory => !observed,
                        _ => false,
                    };
                    m.sum = Some(out.sum(f));
                }
                t if t == MetricType::Histogram as i32 => {
                    out.delta = self.temporality != Temporality::Cumulative;
                    let native = f
                        .metric
                        .iter()
                        .all(|x| x.histogram.as_ref().is_some_and(|h| h.schema.is_some()));
                    if native && !f.metric.is_empty() {
                        m.exponential_histogram = Some(out.exponential(f));
                    } else {
                        m.histogram = Some(out.histogram(f));
                    }
                }
                t if t == MetricType::Summary as i32 => continue,
                _ => m.gauge = Some(out.gauge(f)),
            }
            m.name = out.name;
            metrics.push(m);
        }
        if self.temporality != Temporality::Cumulative {
            self.previous = previous;
            self.previous_at = Some(now);
        }
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(self.resource.clone()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "mcp-monitor".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                    }),
                    metrics,
                }],
            }],
        }
    }
}

/// Every family of `r` as the protobuf exposition writes it, decoded.
fn families(r: &Reading, s: &Settings) -> Vec<prom::MetricFamily> {
    let bytes = crate::output::protobuf::encode(r, s);
    let mut buf = &bytes[..];
    let mut families = Vec::new();
    while !buf.is_empty() {
        match prom::MetricFamily::decode_length_delimited(&mut buf) {
            Ok(f) => families.push(f),
            // Our own encoder's output; a test decodes it whole.
            Err(e) => {
                debug_assert!(false, "the protobuf exposition does not decode: {e}");
                break;
            }
        }
    }
    families
}

/// Milliseconds since the epoch in nanoseconds.
fn nanos(unix_ms: i64) -> u64 {
    u64::try_from(unix_ms)
        .unwrap_or(0)
        .saturating_mul(1_000_000)
}

/// One family being converted.
struct Family<'a> {
    name: String,
    renames: &'static [(&'static str, &'static str)],
    now: u64,
    /// Where cumulative points start (the process).
    start: u64,
    /// Where delta points start (the previous export).
    delta_start: u64,
    delta: bool,
    previous: &'a HashMap<Key, Previous>,
    next: &'a mut HashMap<Key, Previous>,
}

impl Family<'_> {
    fn temporality(&self) -> i32 {
        if self.delta {
            AggregationTemporality::Delta as i32
        } else {
            AggregationTemporality::Cumulative as i32
        }
    }

    /// The attributes of `m`'s labels.
    fn attributes(&self, m: &prom::Metric) -> Vec<KeyValue> {
        m.label
            .iter()
            .map(|l| {
                let key = self
                    .renames
                    .iter()
                    .find(|(from, _)| *from == l.name)
                    .map_or(l.name.as_str(), |(_, to)| to);
                if key == GRPC_STATUS_CODE {
                    if let Some(i) = crate::grpc::code::Code::number_of(&l.value) {
                        return KeyValue::int(key, i);
                    }
                }
                match l.value.parse::<i64>() {
                    Ok(i) if INTEGER_ATTRIBUTES.contains(&key) => KeyValue::int(key, i),
                    _ => KeyValue::string(key, &l.value),
                }
            })
            .collect()
    }

    /// Remembers `value` of `m` for the next delta, and gives what was remembered.
    fn remember(&mut self, m: &prom::Metric, value: Previous) -> Option<&Previous> {
        if !self.delta {
            return None;
        }
        let labels: Vec<(String, String)> = m
            .label
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        let key = (self.name.clone(), labels);
        let before = self.previous.get(&key);
        self.next.insert(key, value);
        before
    }

    fn start(&self, had_previous: bool) -> u64 {
        if self.delta && had_previous {
            self.delta_start
        } else {
            self.start
        }
    }

    fn gauge(&mut self, f: &prom::MetricFamily) -> Gauge {
        let data_points = f
            .metric
            .iter()
            .map(|m| {
                let v = m
                    .gauge
                    .as_ref()
                    .map(|g| g.value)
                    .or(m.untyped.as_ref().map(|u| u.value))
                    .unwrap_or(0.0);
                NumberDataPoint {
                    start_time_unix_nano: self.start,
                    time_unix_nano: self.now,
                    as_double: Some(v),
                    attributes: self.attributes(m),
                }
            })
            .collect();
        Gauge { data_points }
    }

    fn sum(&mut self, f: &prom::MetricFamily) -> Sum {
        let mut data_points = Vec::with_capacity(f.metric.len());
        for m in &f.metric {
            let v = m.counter.as_ref().map_or(0.0, |c| c.value);
            let before = match self.remember(m, Previous::Sum(v)) {
                Some(Previous::Sum(b)) => Some(*b),
                _ => None,
            };
            // A counter below its previous value restarted: the delta is all of it.
            let value = match before {
                Some(b) if v >= b => v - b,
                _ => v,
            };
            data_points.push(NumberDataPoint {
                start_time_unix_nano: self.start(before.is_some()),
                time_unix_nano: self.now,
                as_double: Some(value),
                attributes: self.attributes(m),
            });
        }
        Sum {
            data_points,
            aggregation_temporality: self.temporality(),
            is_monotonic: true,
        }
    }

    fn histogram(&mut self, f: &prom::MetricFamily) -> Histogram {
        let mut data_points = Vec::with_capacity(f.metric.len());
        for m in &f.metric {
            let Some(h) = &m.histogram else { continue };
            let mut buckets: Vec<&prom::Bucket> = h.bucket.iter().collect();
            buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
            let explicit_bounds: Vec<f64> = buckets.iter().map(|b| b.upper_bound).collect();
            let mut counts = Vec::with_capacity(buckets.len() + 1);
            let mut below = 0;
            for b in &buckets {
                counts.push(b.cumulative_count.saturating_sub(below));
                below = below.max(b.cumulative_count);
            }
            counts.push(h.sample_count.saturating_sub(below));
            let (mut count, mut sum) = (h.sample_count, h.sample_sum);
            let now = Previous::Histogram {
                count,
                sum,
                counts: counts.clone(),
            };
            let before = self.remember(m, now).cloned();
            if let Some(Previous::Histogram {
                count: c0,
                sum: s0,
                counts: k0,
            }) = &before
            {
                if count >= *c0 && k0.len() == counts.len() {
                    count -= c0;
                    sum -= s0;
                    for (c, b) in counts.iter_mut().zip(k0) {
                        *c = c.saturating_sub(*b);
                    }
                }
            }
            data_points.push(HistogramDataPoint {
                start_time_unix_nano: self.start(before.is_some()),
                time_unix_nano: self.now,
                count,
                sum: Some(sum),
                bucket_counts: counts,
                explicit_bounds,
                attributes: self.attributes(m),
            });
        }
        Histogram {
            data_points,
            aggregation_temporality: self.temporality(),
        }
    }

    fn exponential(&mut self, f: &prom::MetricFamily) -> ExponentialHistogram {
        let mut data_points = Vec::with_capacity(f.metric.len());
        for m in &f.metric {
            let Some(h) = &m.histogram else { continue };
            let Some(mut buckets) = Exponential::from_native(h) else {
                continue;
            };
            let mut count = buckets.total();
            let mut sum = h.sample_sum;
            let now = Previous::Exponential {
                count,
                sum,
                buckets: buckets.clone(),
            };
            let before = self.remember(m, now).cloned();
            if let Some(Previous::Exponential {
                count: c0,
                sum: s0,
                buckets: b0,
            }) = &before
            {
                if count >= *c0 {
                    buckets = buckets.minus(b0);
                    count = buckets.total();
                    sum -= s0;
                }
            }
            data_points.push(ExponentialHistogramDataPoint {
                attributes: self.attributes(m),
                start_time_unix_nano: self.start(before.is_some()),
                time_unix_nano: self.now,
                count,
                sum: Some(sum),
                scale: buckets.scale,
                zero_count: buckets.zero,
                positive: Some(Buckets {
                    offset: buckets.offset,
                    bucket_counts: buckets.counts,
                }),
                zero_threshold: h.zero_threshold.unwrap_or(0.0),
            });
        }
        ExponentialHistogram {
            data_points,
            aggregation_temporality: self.temporality(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::exposition::{Format, Kind, Sink};
    use crate::base::native::{key_of_ns, Native, NativeCells};
    use crate::output::protobuf::ProtoEncoder;

    /// The `Histogram` message the protobuf exposition writes for native buckets `n`.
    fn native_message(n: &Native) -> prom::Histogram {
        let mut enc = ProtoEncoder::with_capacity(1024);
        enc.family("x", Kind::Histogram, "");
        enc.native(|b| {
            b.clone_from(n);
            true
        });
        enc.histogram("x", "", &[], &[], 0.0, |_| None);
        let bytes = enc.finish();
        let f = prom::MetricFamily::decode_length_delimited(&bytes[..]).unwrap();
        f.metric[0].histogram.clone().unwrap()
    }

    /// The OTLP bucket of `seconds` at `scale`: `(base^i, base^(i+1)]`.
    fn covers(scale: i32, i: i32, seconds: f64) -> bool {
        let base = 2f64.powf(2f64.powi(-scale));
        base.powi(i) < seconds && seconds <= base.powi(i + 1)
    }

    #[test]
    fn a_native_bucket_lands_in_the_otlp_bucket_that_covers_its_samples() {
        for schema in [0u8, 3, 8] {
            for ns in [
                1u64,
                3,
                1_000,
                2_500_000,
                1_000_000_000,
                1_500_000_000,
                7_000_000_000,
            ] {
                let (key, _) = key_of_ns(schema, ns);
                let e = Exponential::from_keys(i32::from(schema), 0, &[(i32::from(key), 1)]);
                let seconds = ns as f64 / 1e9;
                assert!(
                    covers(e.scale, e.offset, seconds),
                    "schema {schema}, {ns} ns: OTLP index {} does not cover it",
                    e.offset
                );
                assert_eq!(e.counts, [1]);
            }
        }
    }

    #[test]
    fn spans_and_deltas_become_dense_counts_from_the_first_index() {
        let counts = NativeCells::new(3);
        for ns in [1_000_000u64, 1_000_000, 1_100_000, 8_000_000, 0] {
            counts.record_ns(ns);
        }
        let h = native_message(&counts.read());
        let e = Exponential::from_native(&h).unwrap();
        assert_eq!(e.zero, 1);
        assert_eq!(e.total(), 5);
        for (ns, n) in [(1_000_000u64, 2u64), (1_100_000, 1), (8_000_000, 1)] {
            let (key, _) = key_of_ns(3, ns);
            let i = (i32::from(key) - 1 - e.offset) as usize;
            assert_eq!(e.counts[i], n, "{ns} ns");
            assert!(covers(3, e.offset + i as i32, ns as f64 / 1e9));
        }
        assert_eq!(e.counts.iter().sum::<u64>(), 4);
    }

    #[test]
    fn every_family_of_the_monitor_has_its_row() {
        let s = Settings {
            otlp: Some(OtlpSettings::new("http://127.0.0.1:9/v1/metrics")),
            ..Settings::default()
        };
        let m = crate::Monitor::builder().with_settings(s).build().unwrap();
        m.cache("rows").hit();
        let text = m.render();
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert!(families.contains(&names::OTLP_EXPORTS_TOTAL), "{text}");
        for f in families {
            assert!(
                ROWS.iter().any(|r| r.prometheus == f),
                "{f} has no row in ROWS"
            );
        }
        let mut otlp: Vec<&str> = ROWS.iter().map(|r| r.otlp).collect();
        otlp.sort_unstable();
        otlp.dedup();
        assert_eq!(otlp.len(), ROWS.len(), "two families under one OTLP name");
    }

    #[tokio::test]
    async fn the_families_are_those_of_the_exposition_each_once_with_every_series() {
        use axum::{body::Body, http::Request, routing::get, Router};
        use tower::ServiceExt as _;
        let m = crate::Monitor::builder().build().unwrap();
        let app = m.instrument(
            Router::new()
                .route("/users/{id}", get(|| async { "a user" }))
                .route("/slow", get(|| async { "later" })),
        );
        for uri in ["/users/1", "/users/2", "/slow", "/nowhere"] {
            let res = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            drop(res);
        }
        let r = m.read();
        let pushed = families(&r, m.settings());
        let text = crate::output::prometheus::exposition(&r, m.settings(), Format::Text);
        let exposed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let names: Vec<&str> = pushed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, exposed);
        for name in [names::HTTP_REQUESTS_TOTAL, names::HTTP_REQUEST_DURATION] {
            let f = pushed.iter().find(|f| f.name == name).unwrap();
            assert_eq!(f.metric.len(), r.http_series().len(), "{name}");
        }
        let durations = pushed
            .iter()
            .find(|f| f.name == names::HTTP_REQUEST_DURATION)
            .unwrap();
        assert!(durations
            .metric
            .iter()
            .all(|x| x.histogram.as_ref().is_some_and(|h| h.schema.is_some())));
    }

    #[tokio::test]
    async fn lowmemory_keeps_the_counters_read_from_a_source_cumulative() {
        let m = crate::Monitor::builder().build().unwrap();
        let cache = m.cache("lowmemory");
        let sum_of = |req: &ExportMetricsServiceRequest, name: &str| {
            let metric = req.resource_metrics[0].scope_metrics[0]
                .metrics
                .iter()
                .find(|x| x.name == name)
                .unwrap_or_else(|| panic!("no {name}"));
            metric.sum.clone().unwrap()
        };
        for (temporality, busy) in [
            (Temporality::LowMemory, AggregationTemporality::Cumulative),
            (Temporality::Delta, AggregationTemporality::Delta),
            (Temporality::Cumulative, AggregationTemporality::Cumulative),
        ] {
            let mut otlp = OtlpSettings::new("http://127.0.0.1:9/v1/metrics");
            otlp.temporality = temporality;
            let mut encoder = RequestEncoder::new(&otlp, "test");
            cache.hit();
            let first = encoder.encode(&m.read(), m.settings());
            cache.hit();
            cache.hit();
            let second = encoder.encode(&m.read(), m.settings());
            let hits = sum_of(&second, "mcp.cache.hits");
            let point = &hits.data_points[0];
            let first_point = &sum_of(&first, "mcp.cache.hits").data_points[0];
            if temporality == Temporality::Cumulative {
                assert_eq!(
                    hits.aggregation_temporality,
                    AggregationTemporality::Cumulative as i32
                );
                assert_eq!(point.start_time_unix_nano, first_point.start_time_unix_nano);
            } else {
                assert_eq!(
                    hits.aggregation_temporality,
                    AggregationTemporality::Delta as i32
                );
                assert_eq!(point.as_double, Some(2.0), "{temporality:?}");
                assert_eq!(point.start_time_unix_nano, first_point.time_unix_nano);
            }
            let runtime = sum_of(&second, "mcp.runtime.busy");
            assert_eq!(
                runtime.aggregation_temporality, busy as i32,
                "{temporality:?}"
            );
        }
    }

    #[test]
    fn a_difference_is_taken_at_the_lower_scale() {
        let then = Exponential {
            scale: 3,
            zero: 1,
            offset: -4,
            counts: vec![1, 0, 2],
        };
        let now = Exponential {
            scale: 2,
            zero: 3,
            offset: -2,
            counts: vec![4, 5],
        };
        let d = now.minus(&then);
        // At scale 2, -4 and -3 are -2, -2 is -1.
        assert_eq!((d.scale, d.zero, d.offset), (2, 2, -2));
        assert_eq!(d.counts, [3, 3]);
        // -1 >> 1 is -1: the bucket (base^-1, 1] stays below 1.
        let down = Exponential {
            scale: 1,
            zero: 0,
            offset: -1,
            counts: vec![1, 1],
        }
        .downscaled(1);
        assert_eq!((down.offset, down.counts.as_slice()), (-1, &[1, 1][..]));
    }
}
