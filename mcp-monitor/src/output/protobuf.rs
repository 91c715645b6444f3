//! The protobuf exposition: delimited `io.prometheus.client.MetricFamily` messages, as
//! Prometheus scrapes native histograms.
//!
//! Written straight from the [`Reading`] by the same walk that writes the text
//! ([`render`]): this module's [`ProtoEncoder`] is the [`Sink`] it writes into, so every
//! family of the text is here, the application's `metrics` facade series included. The
//! four latency families (HTTP, db, step, run) carry their native histogram (schema,
//! zero bucket, spans and deltas, at most
//! [`MAX_BUCKETS`](crate::base::native::MAX_BUCKETS) buckets) beside the classic
//! buckets, and every exemplar is kept: on its counter, on its bucket, and for native
//! histograms in the histogram's own list.
//!
//! The messages are those of Prometheus' `io/prometheus/client/metrics.proto`, written
//! field by field with `prost`'s wire encoding into one buffer: no message struct, no
//! allocation per series but the native histogram's copy. A nested message gets a
//! one-byte length placeholder, widened in place when its body is 128 bytes or more.

use prost::encoding::{encode_key, encode_varint, WireType};

use crate::base::exposition::{Kind, Sink, Value};
use crate::base::histogram::Exemplar;
use crate::base::native::{Native, MAX_BUCKETS, ZERO_KEY, ZERO_THRESHOLD};
use crate::output::prometheus::render;
use crate::reading::Reading;
use crate::settings::Settings;

/// The protobuf exposition of `r`, delimited.
pub(crate) fn encode(r: &Reading, s: &Settings) -> Vec<u8> {
    // About 350 bytes per HTTP label set with its native buckets, and room for the rest.
    let mut enc = ProtoEncoder::with_capacity(r.http_series().len() * 400 + 16 * 1024);
    render(r, s, &mut enc);
    enc.finish()
}

/// `io.prometheus.client.MetricType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricType {
    Counter = 0,
    Gauge = 1,
    Histogram = 4,
}

/// Writes delimited `MetricFamily` messages; see the module docs.
#[derive(Debug)]
pub(crate) struct ProtoEncoder {
    /// The families finished, each with its length before it.
    out: Vec<u8>,
    /// The body of the family being written (its name, help, type and metrics).
    family: Vec<u8>,
    /// The type of that family; `None` before the first.
    kind: Option<MetricType>,
    /// The native histogram for the next histogram (its buffer reused), and whether
    /// there is one.
    native: Native,
    has_native: bool,
    /// The last `le` pairs seen, and their bounds (the same for every series of a
    /// family).
    le: Vec<String>,
    bounds: Vec<f64>,
}

impl ProtoEncoder {
    /// An encoder whose output starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            family: Vec::new(),
            kind: None,
            native: Native::default(),
            has_native: false,
            le: Vec::new(),
            bounds: Vec::new(),
        }
    }

    /// Ends the last family; the delimited messages.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    /// Appends the family being written, length first.
    fn flush(&mut self) {
        if self.kind.take().is_some() {
            encode_varint(self.family.len() as u64, &mut self.out);
            self.out.extend_from_slice(&self.family);
        }
        self.family.clear();
    }

    /// The bounds of `le` (`le="0.5"` pairs, `+Inf` last), parsed once per family.
    fn bounds(&mut self, le: &[String]) -> &[f64] {
        if self.le != le {
            self.le = le.to_vec();
            self.bounds = le
                .iter()
                .map(|p| {
                    let v = p.strip_prefix("le=\"").and_then(|v| v.strip_suffix('"'));
                    match v {
                        Some("+Inf") | None => f64::INFINITY,
                        Some(v) => v.parse().unwrap_or(f64::INFINITY),
                    }
                })
                .collect();
        }
        &self.bounds
    }
}

impl Sink for ProtoEncoder {
    fn exemplars(&self) -> bool {
        true
    }

    fn family(&mut self, name: &str, kind: Kind, help: &str) {
        self.flush();
        let kind = match kind {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
        };
        self.kind = Some(kind);
        self.has_native = false;
        let f = &mut self.family;
        string(f, 1, name);
        if !help.is_empty() {
            string(f, 2, help);
        }
        if kind != MetricType::Counter {
            encode_key(3, WireType::Varint, f);
            encode_varint(kind as u64, f);
        }
    }

    fn sample_with(
        &mut self,
        _name: &str,
        _suffix: &str,
        labels: &str,
        extra: &str,
        value: impl Value,
        exemplar: Option<(&Exemplar, f64)>,
    ) {
        let counter = self.kind == Some(MetricType::Counter);
        message(&mut self.family, 4, |m| {
            label_pairs(m, labels);
            label_pairs(m, extra);
            if counter {
                message(m, 3, |c| {
                    double(c, 1, value.as_f64());
                    if let Some((e, v)) = exemplar {
                        write_exemplar(c, 2, e, v);
                    }
                });
            } else {
                // A gauge (`Untyped` for anything else, which the renderer never writes).
                let tag = if self.kind == Some(MetricType::Gauge) {
                    2
                } else {
                    5
                };
                message(m, tag, |g| double(g, 1, value.as_f64()));
            }
        });
    }

    fn histogram<'e>(
        &mut self,
        _name: &str,
        labels: &str,
        le: &[String],
        counts: &[u64],
        sum: f64,
        exemplar: impl Fn(usize) -> Option<&'e Exemplar>,
    ) {
        self.bounds(le);
        let native = std::mem::take(&mut self.has_native).then_some(&mut self.native);
        let bounds = &self.bounds;
        message(&mut self.family, 4, |m| {
            label_pairs(m, labels);
            message(m, 7, |h| {
                let total: u64 = counts.iter().sum();
                let count = native.as_ref().map_or(total, |n| total.max(n.count()));
                uint(h, 1, count);
                double(h, 2, sum);
                let mut cumulative = 0u64;
                for (i, (&c, &upper)) in counts.iter().zip(bounds).enumerate() {
                    cumulative += c;
                    // `+Inf` is the count, which the message holds already.
                    if upper.is_finite() {
                        message(h, 3, |b| {
                            uint(b, 1, cumulative);
                            double(b, 2, upper);
                            if let Some(e) = exemplar(i) {
                                write_exemplar(b, 3, e, e.ns as f64 / 1e9);
                            }
                        });
                    }
                }
                if let Some(n) = native {
                    n.reduce(MAX_BUCKETS);
                    write_native(h, n);
                    for e in (0..counts.len()).filter_map(&exemplar) {
                        write_exemplar(h, 16, e, e.ns as f64 / 1e9);
                    }
                } else if let Some(e) = exemplar(counts.len().saturating_sub(1)) {
                    write_exemplar(h, 16, e, e.ns as f64 / 1e9);
                }
            });
        });
    }

    fn native(&mut self, native: impl FnOnce(&mut Native) -> bool) {
        self.has_native = native(&mut self.native);
    }
}

/// Writes `n` as the native part of a `Histogram`: schema, zero bucket, positive spans
/// and deltas.
fn write_native(h: &mut Vec<u8>, n: &Native) {
    encode_key(5, WireType::Varint, h);
    encode_varint(zigzag(i64::from(n.schema())), h);
    double_always(h, 6, ZERO_THRESHOLD);
    let zero = n
        .buckets()
        .first()
        .filter(|(k, _)| *k == ZERO_KEY)
        .map_or(0, |(_, c)| *c);
    encode_key(7, WireType::Varint, h);
    encode_varint(zero, h);
    let buckets = n.buckets().iter().filter(|(k, _)| *k != ZERO_KEY);
    // Spans: runs of consecutive keys, each after a gap from the previous one.
    let write_span = |h: &mut Vec<u8>, offset: i32, length: u32| {
        message(h, 12, |s| {
            if offset != 0 {
                encode_key(1, WireType::Varint, s);
                encode_varint(zigzag(i64::from(offset)), s);
            }
            uint(s, 2, u64::from(length));
        });
    };
    let mut previous: Option<i32> = None;
    let mut span: Option<(i32, u32)> = None;
    for &(k, _) in buckets.clone() {
        let k = i32::from(k);
        match (previous, span.as_mut()) {
            (Some(p), Some((_, len))) if k == p + 1 => *len += 1,
            (p, _) => {
                if let Some((offset, length)) = span {
                    write_span(h, offset, length);
                }
                span = Some((p.map_or(k, |p| k - p - 1), 1));
            }
        }
        previous = Some(k);
    }
    if let Some((offset, length)) = span {
        write_span(h, offset, length);
    }
    // Deltas, packed.
    message(h, 13, |d| {
        let mut previous = 0i64;
        for &(_, c) in buckets {
            let c = c as i64;
            encode_varint(zigzag(c - previous), d);
            previous = c;
        }
    });
}

/// Writes an `Exemplar` as field `tag`: the trace and span ids, `value`, the time.
fn write_exemplar(buf: &mut Vec<u8>, tag: u32, e: &Exemplar, value: f64) {
    message(buf, tag, |x| {
        for (name, v) in [
            ("trace_id", e.trace.trace_id()),
            ("span_id", e.trace.span_id()),
        ] {
            message(x, 1, |l| {
                string(l, 1, name);
                string(l, 2, &v);
            });
        }
        double(x, 2, value);
        message(x, 3, |t| {
            uint(t, 1, e.unix_ms / 1000);
            uint(t, 2, e.unix_ms % 1000 * 1_000_000);
        });
    });
}

/// Writes each pair of `pairs` (`k="v",…` as [`label_pairs`](crate::base::exposition::label_pairs)
/// escapes them) as a `LabelPair` field 1, its value unescaped.
fn label_pairs(buf: &mut Vec<u8>, pairs: &str) {
    let b = pairs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b',' {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < b.len() && b[i] != b'=' {
            i += 1;
        }
        let name = &pairs[name_start..i];
        // Past `="`; every delimiter is ASCII, so each index is a char boundary.
        i = (i + 2).min(b.len());
        let value_start = i;
        let mut escaped = false;
        while i < b.len() && b[i] != b'"' {
            escaped |= b[i] == b'\\';
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i = i.min(b.len());
        let raw = &pairs[value_start..i];
        message(buf, 1, |l| {
            string(l, 1, name);
            if escaped {
                string(l, 2, &unescape(raw));
            } else {
                string(l, 2, raw);
            }
        });
        i += 1;
    }
}

/// A label value as written in the text format, unescaped.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// Writes a length-delimited field `tag` whose body `body` writes: a one-byte length
/// placeholder, widened once the body is known to need more.
fn message(buf: &mut Vec<u8>, tag: u32, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, buf);
    buf.push(0);
    let start = buf.len();
    body(buf);
    let len = buf.len() - start;
    if len < 0x80 {
        buf[start - 1] = len as u8;
    } else {
        let mut prefix = [0u8; 10];
        let mut room = &mut prefix[..];
        encode_varint(len as u64, &mut room);
        let n = 10 - room.len();
        buf.splice(start - 1..start, prefix[..n].iter().copied());
    }
}

/// A string field (written even when empty).
fn string(buf: &mut Vec<u8>, tag: u32, v: &str) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(v.len() as u64, buf);
    buf.extend_from_slice(v.as_bytes());
}

/// A `double` field, left out when 0 (its default).
fn double(buf: &mut Vec<u8>, tag: u32, v: f64) {
    if v.to_bits() != 0 {
        double_always(buf, tag, v);
    }
}

/// A `double` field, written whatever its value (an `optional` one).
fn double_always(buf: &mut Vec<u8>, tag: u32, v: f64) {
    encode_key(tag, WireType::SixtyFourBit, buf);
    buf.extend_from_slice(&v.to_le_bytes());
}

/// A `uint64` (or `int32`, `int64` for non-negative values) field, left out when 0.
fn uint(buf: &mut Vec<u8>, tag: u32, v: u64) {
    if v != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(v, buf);
    }
}

/// The zigzag form of a `sint32` or `sint64`.
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The messages of `metrics.proto` as `prost` structs: what the tests and the OTLP push
/// (`otlp/encode`) decode the encoder's bytes into.
pub(crate) mod messages {
    use prost::Message;

    /// `io.prometheus.client.LabelPair`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct LabelPair {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
        #[prost(string, tag = "2")]
        pub(crate) value: String,
    }

    /// `io.prometheus.client.MetricType`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub(crate) enum MetricKind {
        Counter = 0,
        Gauge = 1,
        Summary = 2,
        Untyped = 3,
        Histogram = 4,
    }

    /// `io.prometheus.client.Gauge`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Gauge {
        #[prost(double, tag = "1")]
        pub(crate) value: f64,
    }

    /// `io.prometheus.client.Counter`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Counter {
        #[prost(double, tag = "1")]
        pub(crate) value: f64,
        #[prost(message, optional, tag = "2")]
        pub(crate) exemplar: Option<Exemplar>,
    }

    /// `io.prometheus.client.Quantile`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Quantile {
        #[prost(double, tag = "1")]
        pub(crate) quantile: f64,
        #[prost(double, tag = "2")]
        pub(crate) value: f64,
    }

    /// `io.prometheus.client.Summary`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Summary {
        #[prost(uint64, tag = "1")]
        pub(crate) sample_count: u64,
        #[prost(double, tag = "2")]
        pub(crate) sample_sum: f64,
        #[prost(message, repeated, tag = "3")]
        pub(crate) quantile: Vec<Quantile>,
    }

    /// `io.prometheus.client.Untyped`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Untyped {
        #[prost(double, tag = "1")]
        pub(crate) value: f64,
    }

    /// `io.prometheus.client.Histogram`: classic buckets, and the native histogram's
    /// schema, zero bucket and positive spans and deltas.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Histogram {
        #[prost(uint64, tag = "1")]
        pub(crate) sample_count: u64,
        #[prost(double, tag = "2")]
        pub(crate) sample_sum: f64,
        #[prost(message, repeated, tag = "3")]
        pub(crate) bucket: Vec<Bucket>,
        #[prost(sint32, optional, tag = "5")]
        pub(crate) schema: Option<i32>,
        #[prost(double, optional, tag = "6")]
        pub(crate) zero_threshold: Option<f64>,
        #[prost(uint64, optional, tag = "7")]
        pub(crate) zero_count: Option<u64>,
        #[prost(message, repeated, tag = "12")]
        pub(crate) positive_span: Vec<BucketSpan>,
        #[prost(sint64, repeated, tag = "13")]
        pub(crate) positive_delta: Vec<i64>,
        #[prost(message, repeated, tag = "16")]
        pub(crate) exemplars: Vec<Exemplar>,
    }

    /// `io.prometheus.client.Bucket`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Bucket {
        #[prost(uint64, tag = "1")]
        pub(crate) cumulative_count: u64,
        #[prost(double, tag = "2")]
        pub(crate) upper_bound: f64,
        #[prost(message, optional, tag = "3")]
        pub(crate) exemplar: Option<Exemplar>,
    }

    /// `io.prometheus.client.BucketSpan`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct BucketSpan {
        #[prost(sint32, tag = "1")]
        pub(crate) offset: i32,
        #[prost(uint32, tag = "2")]
        pub(crate) length: u32,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Timestamp {
        #[prost(int64, tag = "1")]
        pub(crate) seconds: i64,
        #[prost(int32, tag = "2")]
        pub(crate) nanos: i32,
    }

    /// `io.prometheus.client.Exemplar`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Exemplar {
        #[prost(message, repeated, tag = "1")]
        pub(crate) label: Vec<LabelPair>,
        #[prost(double, tag = "2")]
        pub(crate) value: f64,
        #[prost(message, optional, tag = "3")]
        pub(crate) timestamp: Option<Timestamp>,
    }

    /// `io.prometheus.client.Metric`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct Metric {
        #[prost(message, repeated, tag = "1")]
        pub(crate) label: Vec<LabelPair>,
        #[prost(message, optional, tag = "2")]
        pub(crate) gauge: Option<Gauge>,
        #[prost(message, optional, tag = "3")]
        pub(crate) counter: Option<Counter>,
        #[prost(message, optional, tag = "4")]
        pub(crate) summary: Option<Summary>,
        #[prost(message, optional, tag = "5")]
        pub(crate) untyped: Option<Untyped>,
        #[prost(message, optional, tag = "7")]
        pub(crate) histogram: Option<Histogram>,
    }

    /// `io.prometheus.client.MetricFamily`.
    #[derive(Clone, PartialEq, Message)]
    pub(crate) struct MetricFamily {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
        #[prost(string, tag = "2")]
        pub(crate) help: String,
        #[prost(enumeration = "MetricKind", tag = "3")]
        pub(crate) r#type: i32,
        #[prost(message, repeated, tag = "4")]
        pub(crate) metric: Vec<Metric>,
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::messages::{BucketSpan, Gauge, MetricFamily, Timestamp};
    use super::*;
    use crate::base::names::HTTP_REQUEST_DURATION;
    use crate::monitor::Monitor;

    /// The delimited families of `bytes`.
    fn decode(bytes: &[u8]) -> Vec<MetricFamily> {
        let mut buf = bytes;
        let mut families = Vec::new();
        while !buf.is_empty() {
            families.push(MetricFamily::decode_length_delimited(&mut buf).unwrap());
        }
        families
    }

    #[test]
    fn families_samples_and_escaped_labels_become_messages() {
        let ex = Exemplar {
            trace: crate::base::trace::TraceContext::from_traceparent(
                b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .unwrap(),
            ns: 250_000_000,
            unix_ms: 1_700_000_000_123,
            category: 0,
        };
        let mut e = ProtoEncoder::with_capacity(0);
        e.family("c_total", Kind::Counter, "A counter.");
        e.sample_with(
            "c_total",
            "",
            "a=\"x\\\"y\\\\\\nz\"",
            "status=\"ok\"",
            3u64,
            Some((&ex, 1.0)),
        );
        e.family("g", Kind::Gauge, "");
        e.sample("g", "", 1.5);
        e.family("h", Kind::Histogram, "H.");
        let le = crate::base::exposition::le_pairs(&[0.1, 0.5]);
        let long = "v".repeat(300);
        e.histogram("h", &format!("k=\"{long}\""), &le, &[1, 0, 1], 0.35, |i| {
            (i == 2).then_some(&ex)
        });
        let f = decode(&e.finish());
        let names: Vec<_> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["c_total", "g", "h"]);
        assert_eq!(f[0].help, "A counter.");
        assert_eq!(f[0].r#type, MetricType::Counter as i32);
        let m = &f[0].metric[0];
        let labels: Vec<_> = m.label.iter().map(|l| (&*l.name, &*l.value)).collect();
        assert_eq!(labels, [("a", "x\"y\\\nz"), ("status", "ok")]);
        let c = m.counter.as_ref().unwrap();
        assert_eq!(c.value, 3.0);
        let x = c.exemplar.as_ref().unwrap();
        assert_eq!(x.label[0].value, ex.trace.trace_id());
        assert_eq!(x.label[1].value, ex.trace.span_id());
        assert_eq!(x.value, 1.0);
        assert_eq!(
            x.timestamp,
            Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_000_000
            })
        );
        assert_eq!(f[1].help, "");
        assert_eq!(f[1].metric[0].gauge, Some(Gauge { value: 1.5 }));
        assert!(f[1].metric[0].label.is_empty());
        let h = f[2].metric[0].histogram.as_ref().unwrap();
        assert_eq!(f[2].metric[0].label[0].value, long);
        assert_eq!((h.sample_count, h.sample_sum), (2, 0.35));
        let b: Vec<_> = h
            .bucket
            .iter()
            .map(|b| (b.cumulative_count, b.upper_bound))
            .collect();
        assert_eq!(b, [(1, 0.1), (1, 0.5)]);
        // No native histogram: no schema; the `+Inf` bucket's exemplar in the list.
        assert_eq!(h.schema, None);
        assert_eq!(h.exemplars.len(), 1);
        assert_eq!(h.exemplars[0].value, 0.25);
    }

    #[tokio::test]
    async fn the_exposition_decodes_with_native_and_classic_buckets() {
        use crate::http::store::MethodLabel;
        let monitor = Monitor::builder().build().unwrap();
        let http = monitor.http_store();
        let trace = crate::base::trace::TraceContext::from_traceparent(
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        crate::base::trace::in_context(trace, || {
            http.record(MethodLabel::Get, "/proto", 200, 3_200_000);
        });
        http.record(MethodLabel::Get, "/proto", 200, 3_100_000);
        http.record(MethodLabel::Get, "/proto", 200, 40_000_000);
        metrics::with_local_recorder(&monitor.recorder(), || {
            metrics::describe_counter!("app_jobs_total", "Jobs done.");
            metrics::counter!("app_jobs_total", "queue" => "a").increment(7);
        });
        let reading = monitor.read_with(true, |s, at| s.window_start(at));
        let families = decode(&encode(&reading, monitor.settings()));
        let find = |name: &str| families.iter().find(|f| f.name == name).unwrap();
        assert_eq!(find("mcp_build_info").r#type, MetricType::Gauge as i32);
        let jobs = find("app_jobs_total");
        assert_eq!(jobs.help, "Jobs done.");
        assert_eq!(jobs.metric[0].counter.as_ref().unwrap().value, 7.0);
        let family = find(HTTP_REQUEST_DURATION);
        assert_eq!(family.r#type, MetricType::Histogram as i32);
        let m = family
            .metric
            .iter()
            .find(|m| m.label.iter().any(|l| l.value == "/proto"))
            .unwrap();
        let labels: Vec<_> = m.label.iter().map(|l| &*l.name).collect();
        assert_eq!(labels, ["method", "path", "status"]);
        let h = m.histogram.as_ref().unwrap();
        assert_eq!(h.sample_count, 3);
        assert_eq!(h.bucket.len(), reading.http.buckets.bounds().len());
        assert_eq!(h.bucket.last().unwrap().cumulative_count, 3);
        assert_eq!(h.schema, Some(3));
        assert_eq!(h.zero_threshold, Some(ZERO_THRESHOLD));
        assert_eq!(h.zero_count, Some(0));
        // Two buckets (3.1 ms and 3.2 ms share one), the deltas add up to the counts.
        let counts: Vec<i64> = h
            .positive_delta
            .iter()
            .scan(0, |c, d| {
                *c += d;
                Some(*c)
            })
            .collect();
        assert_eq!(counts, [2, 1]);
        let spans: u32 = h.positive_span.iter().map(|s| s.length).sum();
        assert_eq!(spans, 2);
        let trace_id = trace.trace_id();
        assert!(h
            .exemplars
            .iter()
            .any(|e| e.label.iter().any(|l| l.value == trace_id)));
        assert!(h.bucket.iter().any(|b| b.exemplar.is_some()));
        // The requests counter, with the exemplar of the traced request.
        let total = find("mcp_http_requests_total");
        assert_eq!(total.r#type, MetricType::Counter as i32);
        let m = total
            .metric
            .iter()
            .find(|m| m.label.iter().any(|l| l.value == "/proto"))
            .unwrap();
        let c = m.counter.as_ref().unwrap();
        assert_eq!(c.value, 3.0);
        assert!(c.exemplar.is_some());
        // Every family of the text is here, in the same order.
        let text = monitor.render_openmetrics();
        let text_families: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| {
                let (name, kind) = l.split_once(' ').unwrap();
                if kind == "counter" && !name.ends_with("_total") {
                    format!("{name}_total")
                } else {
                    name.to_owned()
                }
            })
            .collect();
        let names: Vec<_> = families.iter().map(|f| f.name.clone()).collect();
        assert_eq!(names, text_families);
    }

    #[test]
    fn native_buckets_become_spans_and_deltas() {
        let n = Native {
            schema: 3,
            buckets: vec![(ZERO_KEY, 2), (-5, 1), (-4, 3), (10, 1)],
        };
        let mut e = ProtoEncoder::with_capacity(0);
        e.family("h", Kind::Histogram, "");
        e.native(|n2| {
            n2.clone_from(&n);
            true
        });
        e.histogram(
            "h",
            "",
            &crate::base::exposition::le_pairs(&[1.0]),
            &[6, 1],
            2.0,
            |_| None,
        );
        let f = decode(&e.finish());
        let h = f[0].metric[0].histogram.as_ref().unwrap();
        assert_eq!(h.schema, Some(3));
        assert_eq!(h.zero_count, Some(2));
        assert_eq!(h.sample_count, 7);
        assert_eq!(
            h.positive_span,
            [
                BucketSpan {
                    offset: -5,
                    length: 2
                },
                BucketSpan {
                    offset: 13,
                    length: 1
                }
            ]
        );
        assert_eq!(h.positive_delta, [1, 2, -2]);
    }
}
