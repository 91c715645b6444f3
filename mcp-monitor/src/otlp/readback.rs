//! The exposition read back into `MetricFamily` messages, for the OTLP push: the text
//! (with its exemplars) is written by the same walk as every exposition and each family
//! is read back from it ([`from_text`]), so every family of the exposition reaches OTLP
//! without code of its own; the four latency families then get their native histogram
//! from the same [`Reading`]. (The HTTP families are built straight from the reading in
//! `encode`; a test keeps both paths equal.)

use std::collections::HashMap;

use crate::base::exposition::Encoder;
use crate::base::names::{op_names, OpKind, GRPC_REQUEST_DURATION, HTTP_REQUEST_DURATION};
use crate::base::native::{Native, ZERO_KEY, ZERO_THRESHOLD};
use crate::output::prometheus::{render, Format};
pub(crate) use crate::output::protobuf::messages::{
    Bucket, BucketSpan, Counter, Exemplar, Gauge, Histogram, LabelPair, Metric, MetricFamily,
    MetricKind as MetricType, Quantile, Summary, Timestamp, Untyped,
};
use crate::reading::Reading;
use crate::settings::Settings;
use crate::summary::snapshot::Origin;

/// Every family of `r` as the exposition in `format` writes it, read back into
/// messages, with the native buckets of the latency histograms; and the length of the
/// text. The OTLP push converts the same families.
pub(crate) fn families(r: &Reading, s: &Settings, format: Format) -> (Vec<MetricFamily>, usize) {
    let mut text = String::new();
    let mut enc = Encoder::new(&mut text, format);
    render(r, s, &mut enc);
    enc.finish();
    let mut families = from_text(&text);
    add_natives(r, &mut families);
    (families, text.len())
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
pub(crate) fn set_native(h: &mut Histogram, n: &Native) {
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
