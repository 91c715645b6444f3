//! The protobuf exposition: delimited `io.prometheus.client.MetricFamily` messages, as
//! Prometheus scrapes native histograms.
//!
//! Every family of the text exposition is here, the application's `metrics` facade
//! series included: the text (with its exemplars) is written first, as for OpenMetrics,
//! and each family is read back from it into messages ([`from_text`]), so every family
//! reaches the protobuf answer exactly as it appears in the text. The four latency families (HTTP, db, step, run) then get their
//! native histogram beside the classic buckets (schema, zero bucket, spans and
//! deltas), read from the same [`Reading`], with their exemplars.
//!
//! The messages are those of Prometheus' `io/prometheus/client/metrics.proto`, written
//! by hand with `prost`'s derive (no `protoc` needed).

use std::collections::HashMap;

use prost::Message;

use crate::base::exposition::Encoder;
use crate::base::names::{op_names, OpKind, GRPC_REQUEST_DURATION, HTTP_REQUEST_DURATION};
use crate::base::native::{Native, ZERO_KEY, ZERO_THRESHOLD};
use crate::monitor::Monitor;
use crate::output::prometheus::{render, Format};
use crate::reading::Reading;
use crate::settings::Settings;
use crate::summary::snapshot::Origin;

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
pub(crate) enum MetricType {
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
    #[prost(enumeration = "MetricType", tag = "3")]
    pub(crate) r#type: i32,
    #[prost(message, repeated, tag = "4")]
    pub(crate) metric: Vec<Metric>,
}

impl Monitor {
    /// The protobuf exposition: delimited `io.prometheus.client.MetricFamily`
    /// messages of every series (the application's facade metrics included), the HTTP,
    /// db-operation, workflow-step and workflow-run latency histograms with both their
    /// classic buckets and their native (sparse exponential) ones, with exemplars.
    /// `GET /metrics` answers with it when the scraper prefers
    /// `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`,
    /// as Prometheus does with native histograms on.
    pub fn render_protobuf(&self) -> Vec<u8> {
        let reading = self.read_with(true, |s, at| s.window_start(at));
        encode(&reading, self.settings())
    }
}

/// The protobuf exposition of `r`, delimited.
pub(crate) fn encode(r: &Reading, s: &Settings) -> Vec<u8> {
    let mut text = String::new();
    let mut enc = Encoder::new(&mut text, Format::OpenMetrics);
    render(r, s, &mut enc);
    enc.finish();
    let mut families = from_text(&text);
    add_natives(r, &mut families);
    let mut out = Vec::with_capacity(text.len() / 2);
    for f in &families {
        f.encode_length_delimited(&mut out)
            .expect("a Vec grows as needed");
    }
    out
}

/// A family name and a label set.
type SeriesKey = (&'static str, Vec<(String, String)>);

/// The native histograms of the five latency families, by family name and label pairs.
fn natives(r: &Reading) -> HashMap<SeriesKey, Native> {
    let mut map = HashMap::new();
    for s in r.http_series() {
        if let Some(n) = r.current.http.native.get(s.index) {
            let labels = vec![
                ("method".to_owned(), s.method.as_str().to_owned()),
                ("path".to_owned(), s.path.to_string()),
                ("status".to_owned(), s.status.to_string()),
            ];
            map.insert((HTTP_REQUEST_DURATION, labels), n);
        }
    }
    for kind in [OpKind::Db, OpKind::Step, OpKind::Run] {
        let names = op_names(kind);
        for p in r.ops(kind) {
            let labels = names
                .label_keys
                .iter()
                .zip(p.series.labels)
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect();
            let n = r.op_since(p, &Origin::Zero).histogram.native;
            map.insert((names.duration, labels), n);
        }
    }
    for (s, h) in &r.current.grpc.series {
        let labels = vec![
            ("service".to_owned(), s.service.to_string()),
            ("method".to_owned(), s.method.to_string()),
            ("code".to_owned(), s.code.as_str().to_owned()),
        ];
        map.insert((GRPC_REQUEST_DURATION, labels), h.native.clone());
    }
    map
}

/// Adds each latency histogram's native buckets (at most
/// [`MAX_BUCKETS`](crate::base::native::MAX_BUCKETS)) and gathers its exemplars.
fn add_natives(r: &Reading, families: &mut [MetricFamily]) {
    let mut natives = natives(r);
    for f in families
        .iter_mut()
        .filter(|f| f.r#type == MetricType::Histogram as i32)
    {
        for m in &mut f.metric {
            let labels: Vec<_> = m
                .label
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            let Some(mut n) = natives.remove(&(f.name.as_str(), labels)) else {
                continue;
            };
            let Some(h) = m.histogram.as_mut() else {
                continue;
            };
            n.reduce(crate::base::native::MAX_BUCKETS);
            set_native(h, &n);
        }
    }
}

/// Writes `n` into `h` as schema, zero bucket, spans and deltas.
fn set_native(h: &mut Histogram, n: &Native) {
    // Read a moment apart from the classic buckets: never fewer samples than buckets.
    h.sample_count = h.sample_count.max(n.count());
    h.schema = Some(i32::from(n.schema()));
    h.zero_threshold = Some(ZERO_THRESHOLD);
    let mut zero = 0;
    let mut previous_key: Option<i32> = None;
    let mut previous_count = 0i64;
    for &(k, c) in n.buckets() {
        if k == ZERO_KEY {
            zero = c;
            continue;
        }
        let k = i32::from(k);
        match previous_key {
            Some(p) if k == p + 1 => {
                if let Some(last) = h.positive_span.last_mut() {
                    last.length += 1;
                }
            }
            Some(p) => h.positive_span.push(BucketSpan {
                offset: k - p - 1,
                length: 1,
            }),
            None => h.positive_span.push(BucketSpan {
                offset: k,
                length: 1,
            }),
        }
        previous_key = Some(k);
        let c = c as i64;
        h.positive_delta.push(c - previous_count);
        previous_count = c;
    }
    h.zero_count = Some(zero);
    h.exemplars = h.bucket.iter().filter_map(|b| b.exemplar.clone()).collect();
}

/// A parsed sample line: name, labels, value, and its exemplar.
struct Line<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
    value: f64,
    exemplar: Option<Exemplar>,
}

/// Reads Prometheus text (0.0.4, each sample line possibly followed by an OpenMetrics
/// exemplar ` # {labels} value timestamp`) into families, in order.
pub(crate) fn from_text(text: &str) -> Vec<MetricFamily> {
    let mut families: Vec<MetricFamily> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut helps: HashMap<&str, String> = HashMap::new();
    // Per family, the metric of each label set.
    let mut metrics: Vec<HashMap<Vec<(String, String)>, usize>> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            if let Some((name, help)) = rest.split_once(' ') {
                helps.insert(name, unescape_help(help));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some((name, kind)) = rest.split_once(' ') {
                let t = match kind.trim() {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "summary" => MetricType::Summary,
                    "histogram" => MetricType::Histogram,
                    _ => MetricType::Untyped,
                };
                // OpenMetrics names a counter family without `_total` and its samples
                // with it; the protobuf family is named as the samples are.
                let full = if t == MetricType::Counter && !name.ends_with("_total") {
                    format!("{name}_total")
                } else {
                    name.to_owned()
                };
                let i = *by_name.entry(full.clone()).or_insert_with(|| {
                    families.push(MetricFamily {
                        name: full,
                        help: helps.get(name).cloned().unwrap_or_default(),
                        r#type: t as i32,
                        metric: Vec::new(),
                    });
                    metrics.push(HashMap::new());
                    families.len() - 1
                });
                by_name.entry(name.to_owned()).or_insert(i);
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(sample) = parse_line(line) else {
            continue;
        };
        // The family: the name itself, or the name without a histogram or summary
        // suffix.
        let found = by_name.get(sample.name).copied().or_else(|| {
            ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
                let base = sample.name.strip_suffix(suffix)?;
                by_name.get(base).copied().filter(|&i| {
                    let t = families[i].r#type;
                    t == MetricType::Histogram as i32 || t == MetricType::Summary as i32
                })
            })
        });
        let fi = found.unwrap_or_else(|| {
            families.push(MetricFamily {
                name: sample.name.to_owned(),
                help: helps.get(sample.name).cloned().unwrap_or_default(),
                r#type: MetricType::Untyped as i32,
                metric: Vec::new(),
            });
            metrics.push(HashMap::new());
            by_name.insert(sample.name.to_owned(), families.len() - 1);
            families.len() - 1
        });
        add_sample(&mut families[fi], &mut metrics[fi], sample);
    }
    families
}

/// Adds one sample line to its family.
fn add_sample(
    family: &mut MetricFamily,
    metrics: &mut HashMap<Vec<(String, String)>, usize>,
    mut s: Line<'_>,
) {
    let kind = family.r#type;
    let special = if kind == MetricType::Histogram as i32 {
        "le"
    } else if kind == MetricType::Summary as i32 {
        "quantile"
    } else {
        ""
    };
    let bound = s
        .labels
        .iter()
        .position(|(k, _)| k == special)
        .map(|i| s.labels.remove(i).1);
    let i = *metrics.entry(s.labels.clone()).or_insert_with(|| {
        let label = s
            .labels
            .iter()
            .map(|(name, value)| LabelPair {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        family.metric.push(Metric {
            label,
            ..Metric::default()
        });
        family.metric.len() - 1
    });
    let m = &mut family.metric[i];
    let suffix = &s.name[family.name.len().min(s.name.len())..];
    match kind {
        k if k == MetricType::Counter as i32 => {
            m.counter = Some(Counter {
                value: s.value,
                exemplar: s.exemplar,
            });
        }
        k if k == MetricType::Gauge as i32 => m.gauge = Some(Gauge { value: s.value }),
        k if k == MetricType::Histogram as i32 => {
            let h = m.histogram.get_or_insert_with(Histogram::default);
            match (suffix, bound) {
                ("_bucket", Some(le)) => {
                    let upper_bound = parse_value(&le).unwrap_or(f64::INFINITY);
                    // `+Inf` is the count, which the message holds already.
                    if upper_bound.is_finite() {
                        h.bucket.push(Bucket {
                            cumulative_count: s.value as u64,
                            upper_bound,
                            exemplar: s.exemplar,
                        });
                    } else if let Some(e) = s.exemplar {
                        h.exemplars.push(e);
                    }
                }
                ("_sum", _) => h.sample_sum = s.value,
                ("_count", _) => h.sample_count = s.value as u64,
                _ => {}
            }
        }
        k if k == MetricType::Summary as i32 => {
            let sm = m.summary.get_or_insert_with(Summary::default);
            match (suffix, bound) {
                ("", Some(q)) => sm.quantile.push(Quantile {
                    quantile: parse_value(&q).unwrap_or(f64::NAN),
                    value: s.value,
                }),
                ("_sum", _) => sm.sample_sum = s.value,
                ("_count", _) => sm.sample_count = s.value as u64,
                _ => {}
            }
        }
        _ => m.untyped = Some(Untyped { value: s.value }),
    }
}

fn parse_value(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => v.parse().ok(),
    }
}

fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads `{k="v",...}` at the start of `s`: the pairs and the rest after `}`.
fn parse_labels(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut rest = s.strip_prefix('{')?;
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(r) = rest.strip_prefix('}') {
            return Some((labels, r));
        }
        let (name, r) = rest.split_once('=')?;
        let r = r.strip_prefix('"')?;
        let mut value = String::new();
        let mut end = None;
        let mut chars = r.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => return None,
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        labels.push((name.trim().to_owned(), value));
        rest = &r[end? + 1..];
    }
}

/// Reads one sample line.
fn parse_line(line: &str) -> Option<Line<'_>> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let (labels, rest) = if line[name_end..].starts_with('{') {
        parse_labels(&line[name_end..])?
    } else {
        (Vec::new(), &line[name_end..])
    };
    let (sample, exemplar) = match rest.split_once(" # ") {
        Some((s, e)) => (s, Some(e)),
        None => (rest, None),
    };
    let value = parse_value(sample.split_whitespace().next()?)?;
    let exemplar = exemplar.and_then(|e| {
        let (labels, rest) = parse_labels(e.trim_start())?;
        let mut parts = rest.split_whitespace();
        let value = parse_value(parts.next()?)?;
        let timestamp = parts.next().and_then(|t| t.parse::<f64>().ok()).map(|t| {
            let ms = (t * 1000.0).round() as i64;
            Timestamp {
                seconds: ms.div_euclid(1000),
                nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
            }
        });
        Some(Exemplar {
            label: labels
                .into_iter()
                .map(|(name, value)| LabelPair { name, value })
                .collect(),
            value,
            timestamp,
        })
    });
    Some(Line {
        name,
        labels,
        value,
        exemplar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_families_become_messages() {
        let text = "# HELP c_total A counter.\n# TYPE c_total counter\nc_total{a=\"x\\\"y\"} 3 # {trace_id=\"ab\",span_id=\"cd\"} 1 1700000000.123\n# TYPE g gauge\ng 1.5\n# TYPE h histogram\nh_bucket{k=\"v\",le=\"0.1\"} 1\nh_bucket{k=\"v\",le=\"+Inf\"} 2\nh_sum{k=\"v\"} 0.35\nh_count{k=\"v\"} 2\n# TYPE s summary\ns{quantile=\"0.5\"} 0.2\ns_sum 1\ns_count 4\nloose 7\n";
        let f = from_text(text);
        let names: Vec<_> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["c_total", "g", "h", "s", "loose"]);
        assert_eq!(f[0].help, "A counter.");
        let c = f[0].metric[0].counter.as_ref().unwrap();
        assert_eq!(c.value, 3.0);
        assert_eq!(f[0].metric[0].label[0].value, "x\"y");
        let e = c.exemplar.as_ref().unwrap();
        assert_eq!(e.label[0].value, "ab");
        assert_eq!(
            e.timestamp,
            Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_000_000
            })
        );
        assert_eq!(f[1].metric[0].gauge, Some(Gauge { value: 1.5 }));
        let h = f[2].metric[0].histogram.as_ref().unwrap();
        assert_eq!((h.sample_count, h.sample_sum, h.bucket.len()), (2, 0.35, 1));
        assert_eq!(f[2].metric[0].label.len(), 1);
        let s = f[3].metric[0].summary.as_ref().unwrap();
        assert_eq!((s.sample_count, s.quantile.len()), (4, 1));
        assert_eq!(f[4].r#type, MetricType::Untyped as i32);
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
        let bytes = encode(&reading, monitor.settings());
        let mut buf = &bytes[..];
        let mut families = Vec::new();
        while !buf.is_empty() {
            families.push(MetricFamily::decode_length_delimited(&mut buf).unwrap());
        }
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
        let h = m.histogram.as_ref().unwrap();
        assert_eq!(h.sample_count, 3);
        assert_eq!(h.bucket.len(), reading.http.buckets.bounds().len());
        assert_eq!(h.bucket.last().unwrap().cumulative_count, 3);
        assert_eq!(h.schema, Some(3));
        assert_eq!(h.zero_threshold, Some(ZERO_THRESHOLD));
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
    }

    #[test]
    fn native_buckets_become_spans_and_deltas() {
        let n = Native {
            schema: 3,
            buckets: vec![(ZERO_KEY, 2), (-5, 1), (-4, 3), (10, 1)],
        };
        let mut h = Histogram::default();
        set_native(&mut h, &n);
        assert_eq!(h.schema, Some(3));
        assert_eq!(h.zero_count, Some(2));
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
