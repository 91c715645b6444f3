//! Writing the Prometheus text format (0.0.4) and OpenMetrics 1.0 text, straight into
//! the output buffer: one [`Encoder`] that knows the format, so that each family and
//! sample is written once, in the format asked for.
//!
//! A series' label pairs are escaped once, when the series is created, and kept as one
//! string (`method="GET",path="/users/{id}",status="200"`); a sample line is then a
//! few `push_str`s and one number formatted without allocating. Label values are
//! escaped exactly as both formats say: `\` as `\\`, `"` as `\"`, a line feed as `\n`.
//!
//! What differs between the formats, all of it decided here: a counter's family is
//! named without `_total` in OpenMetrics (its samples keep it); `HELP` escapes `"` too;
//! a family whose name ends in `_seconds` or `_bytes` declares its `UNIT`; exemplars
//! (` # {trace_id="..",span_id=".."} value timestamp` after a bucket or counter
//! sample) exist only in OpenMetrics; the exposition ends with `# EOF`. Every float,
//! values and exemplar values alike, goes through [`write_float`].

use crate::base::format::{format_float, write_float};
use crate::base::histogram::Exemplar;
use crate::base::native::Native;

/// The text exposition formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text 0.0.4 (also valid as text 1.0.0: every name we write is a
    /// legacy name).
    Text,
    /// OpenMetrics 1.0 text, with exemplars.
    OpenMetrics,
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A monotonic counter; its samples' names end in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A histogram with `_bucket`, `_sum` and `_count` samples.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// Appends `value` escaped for a label value of the text format.
pub(crate) fn push_escaped(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(i) = rest.find(['\\', '"', '\n']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => "\\n",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// `value` escaped for a label value of the text format.
#[cfg(test)]
fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_escaped(&mut out, value);
    out
}

/// The label pairs `k1="v1",k2="v2"` (without braces), values escaped.
pub(crate) fn label_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        push_escaped(&mut out, v);
        out.push('"');
    }
    out
}

/// The `le="…"` label pair of each finite bucket bound, then `le="+Inf"`.
pub(crate) fn le_pairs(bounds: &[f64]) -> Vec<String> {
    bounds
        .iter()
        .map(|b| format!("le=\"{}\"", format_float(*b)))
        .chain(std::iter::once("le=\"+Inf\"".to_owned()))
        .collect()
}

/// A sample value as the text formats write it.
pub(crate) trait Value: Copy {
    /// Appends the value.
    fn write(self, out: &mut String);
    /// The value as a float (what the protobuf exposition carries).
    fn as_f64(self) -> f64;
}

impl Value for u64 {
    fn write(self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(self));
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Value for i64 {
    fn write(self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(self));
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Value for f64 {
    fn write(self, out: &mut String) {
        write_float(out, self);
    }
    fn as_f64(self) -> f64 {
        self
    }
}

/// What the renderer (`output/prometheus.rs`) writes an exposition into: the text
/// [`Encoder`], or the protobuf one (`output/protobuf.rs`), so that both formats come
/// from the same walk over a reading. Label pairs arrive pre-escaped, as
/// [`label_pairs`] writes them.
pub(crate) trait Sink {
    /// Whether the format carries exemplars.
    fn exemplars(&self) -> bool;

    /// Starts a family. `name` is the name of its samples: a counter's ends in `_total`.
    fn family(&mut self, name: &str, kind: Kind, help: &str);

    /// One sample of a family member: `name_suffix{labels,extra} value` (see
    /// [`Encoder::sample_with`]), with its exemplar and the exemplar's value.
    fn sample_with(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &str,
        extra: &str,
        value: impl Value,
        exemplar: Option<(&Exemplar, f64)>,
    );

    /// One sample without a suffix, an extra label or an exemplar.
    fn sample(&mut self, name: &str, labels: &str, value: impl Value) {
        self.sample_with(name, "", labels, "", value, None);
    }

    /// One histogram (see [`Encoder::histogram`]).
    fn histogram<'e>(
        &mut self,
        name: &str,
        labels: &str,
        le: &[String],
        counts: &[u64],
        sum: f64,
        exemplar: impl Fn(usize) -> Option<&'e Exemplar>,
    );

    /// The native histogram of the next [`Sink::histogram`], for the formats that
    /// carry one: `native` is called only then, fills the buffer it is given and says
    /// whether there is one.
    fn native(&mut self, native: impl FnOnce(&mut Native) -> bool) {
        let _ = native;
    }
}

impl Sink for Encoder<'_> {
    fn exemplars(&self) -> bool {
        Encoder::exemplars(self)
    }

    fn family(&mut self, name: &str, kind: Kind, help: &str) {
        Encoder::family(self, name, kind, help);
    }

    fn sample_with(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &str,
        extra: &str,
        value: impl Value,
        exemplar: Option<(&Exemplar, f64)>,
    ) {
        Encoder::sample_with(self, name, suffix, labels, extra, value, exemplar);
    }

    fn sample(&mut self, name: &str, labels: &str, value: impl Value) {
        Encoder::sample(self, name, labels, value);
    }

    fn histogram<'e>(
        &mut self,
        name: &str,
        labels: &str,
        le: &[String],
        counts: &[u64],
        sum: f64,
        exemplar: impl Fn(usize) -> Option<&'e Exemplar>,
    ) {
        Encoder::histogram(self, name, labels, le, counts, sum, exemplar);
    }
}

/// Writes an exposition in one [`Format`] into a `String`.
#[derive(Debug)]
pub(crate) struct Encoder<'a> {
    out: &'a mut String,
    format: Format,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub(crate) fn new(out: &'a mut String, format: Format) -> Self {
        Self { out, format }
    }

    /// Whether the format carries exemplars.
    pub(crate) fn exemplars(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    /// Writes the `# HELP` and `# TYPE` lines of a family (and `# UNIT` in
    /// OpenMetrics). `name` is the name of its samples: a counter's ends in `_total`.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let om = self.format == Format::OpenMetrics;
        let family = match kind {
            Kind::Counter if om => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        self.meta(family, help, kind.as_str());
    }

    /// The metadata lines of family `family` of type `kind`.
    fn meta(&mut self, family: &str, help: &str, kind: &str) {
        let om = self.format == Format::OpenMetrics;
        let out = &mut *self.out;
        if !help.is_empty() || !om {
            out.push_str("# HELP ");
            out.push_str(family);
            out.push(' ');
            let mut rest = help;
            while let Some(i) = rest.find(['\\', '\n', '"']) {
                out.push_str(&rest[..i]);
                out.push_str(match rest.as_bytes()[i] {
                    b'\\' => "\\\\",
                    b'\n' => "\\n",
                    _ if om => "\\\"",
                    _ => "\"",
                });
                rest = &rest[i + 1..];
            }
            out.push_str(rest);
            out.push('\n');
        }
        out.push_str("# TYPE ");
        out.push_str(family);
        out.push(' ');
        out.push_str(kind);
        out.push('\n');
        if om {
            if let Some(unit) = ["seconds", "bytes"].into_iter().find(|u| {
                family
                    .strip_suffix(u)
                    .is_some_and(|rest| rest.ends_with('_'))
            }) {
                out.push_str("# UNIT ");
                out.push_str(family);
                out.push(' ');
                out.push_str(unit);
                out.push('\n');
            }
        }
    }

    /// Writes one sample line: `name{labels} value`. `labels` is a string of
    /// [`label_pairs`], possibly empty.
    pub(crate) fn sample(&mut self, name: &str, labels: &str, value: impl Value) {
        self.sample_with(name, "", labels, "", value, None);
    }

    /// Writes one sample line of a family member: `name_suffix{labels,extra} value`,
    /// where `suffix` is `""`, `"_bucket"`, `"_sum"` or `"_count"` and `extra` one more
    /// pre-escaped label pair (`le="0.5"`) or `""`; then, in OpenMetrics, the exemplar
    /// with its value.
    pub(crate) fn sample_with(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &str,
        extra: &str,
        value: impl Value,
        exemplar: Option<(&Exemplar, f64)>,
    ) {
        let out = &mut *self.out;
        out.push_str(name);
        out.push_str(suffix);
        if !labels.is_empty() || !extra.is_empty() {
            out.push('{');
            out.push_str(labels);
            if !labels.is_empty() && !extra.is_empty() {
                out.push(',');
            }
            out.push_str(extra);
            out.push('}');
        }
        out.push(' ');
        value.write(out);
        if let Some((ex, v)) = exemplar.filter(|_| self.format == Format::OpenMetrics) {
            write_exemplar(out, ex, v);
        }
        out.push('\n');
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of one histogram: `counts` per
    /// bucket (not cumulative, `+Inf` last), `le` from [`le_pairs`] of the same
    /// buckets, `sum` in the histogram's unit, `exemplar(i)` the exemplar of bucket `i`
    /// (its value is the sample's).
    pub(crate) fn histogram<'e>(
        &mut self,
        name: &str,
        labels: &str,
        le: &[String],
        counts: &[u64],
        sum: f64,
        exemplar: impl Fn(usize) -> Option<&'e Exemplar>,
    ) {
        let mut cumulative = 0u64;
        for (i, (count, le)) in counts.iter().zip(le).enumerate() {
            cumulative += count;
            let ex = exemplar(i).map(|e| (e, e.ns as f64 / 1e9));
            self.sample_with(name, "_bucket", labels, le, cumulative, ex);
        }
        self.sample_with(name, "_sum", labels, "", sum, None);
        self.sample_with(name, "_count", labels, "", cumulative, None);
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    pub(crate) fn finish(self) {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
    }
}

/// Appends ` # {trace_id="..",span_id=".."} value timestamp` (seconds, milliseconds
/// after the point) to the sample line being written.
fn write_exemplar(out: &mut String, ex: &Exemplar, value: f64) {
    out.push_str(" # {trace_id=\"");
    out.push_str(&ex.trace.trace_id());
    out.push_str("\",span_id=\"");
    out.push_str(&ex.trace.span_id());
    out.push_str("\"} ");
    write_float(out, value);
    out.push(' ');
    out.push_str(itoa::Buffer::new().format(ex.unix_ms / 1000));
    let millis = ex.unix_ms % 1000;
    out.push('.');
    out.push(char::from(b'0' + (millis / 100) as u8));
    out.push(char::from(b'0' + (millis / 10 % 10) as u8));
    out.push(char::from(b'0' + (millis % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads an escaped label value back, as Prometheus does.
    fn unescape(v: &str) -> String {
        let mut out = String::new();
        let mut chars = v.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(c @ ('\\' | '"')) => out.push(c),
                    other => panic!("invalid escape {other:?} in {v:?}"),
                },
                (c, false) => out.push(c),
            }
        }
        out
    }

    /// Found by the `exposition` fuzz target (fuzz/regressions/exposition/): the
    /// exporter's `sanitize_label_value` dropped the backslash of `\"` and moved the one of
    /// `\` + line feed.
    #[test]
    fn label_values_read_back_exactly() {
        for v in [
            "p\"\\\n",
            "a\\\"b",
            "a\"",
            "a\\\"",
            "\\",
            "\\\\n",
            "\n\\",
            "C:\\dir\\",
            "ユ\"ー",
        ] {
            let escaped = escape_label_value(v);
            assert!(!escaped.contains('\n'), "{escaped:?}");
            assert_eq!(unescape(&escaped), v, "{escaped:?}");
        }
        assert_ne!(escape_label_value("a\""), escape_label_value("a\\\""));
    }

    #[test]
    fn lines_are_those_of_the_text_format() {
        let mut out = String::new();
        let mut e = Encoder::new(&mut out, Format::Text);
        let labels = label_pairs(&[("method", "GET"), ("path", "/a\"b")]);
        e.sample("m", &labels, 3u64);
        e.sample("n", "", -2i64);
        e.sample_with("h", "_bucket", "", "le=\"0.5\"", 1u64, None);
        e.sample("f", "", 0.25);
        e.finish();
        assert_eq!(
            out,
            "m{method=\"GET\",path=\"/a\\\"b\"} 3\nn -2\nh_bucket{le=\"0.5\"} 1\nf 0.25\n"
        );
        assert_eq!(
            le_pairs(&[0.005, 1.0]),
            ["le=\"0.005\"", "le=\"1\"", "le=\"+Inf\""]
        );
    }

    fn exemplar(unix_ms: u64) -> Exemplar {
        Exemplar {
            trace: crate::base::trace::TraceContext::new(0x0af7, 0xb7ad).unwrap(),
            ns: 250_000_000,
            unix_ms,
            category: 0,
        }
    }

    /// The same calls, in each format: exemplars, `_total`, `UNIT`, `HELP` and `# EOF`
    /// only where the format has them.
    #[test]
    fn one_family_in_each_format() {
        let ex = exemplar(1_733_097_600_023);
        let write = |format| {
            let mut out = String::new();
            let mut e = Encoder::new(&mut out, format);
            e.family("a_total", Kind::Counter, "Things \"quoted\" \\ here.");
            e.sample_with("a_total", "", "x=\"1\"", "", 3u64, Some((&ex, 1.0)));
            e.family("d_seconds", Kind::Histogram, "Latency.");
            let le = le_pairs(&[0.5]);
            e.histogram("d_seconds", "", &le, &[1, 0], 0.25, |i| {
                (i == 0).then_some(&ex)
            });
            e.family("up_bytes", Kind::Gauge, "");
            e.sample("up_bytes", "", f64::INFINITY);
            e.finish();
            out
        };
        assert_eq!(
            write(Format::Text),
            "# HELP a_total Things \"quoted\" \\\\ here.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n\
# HELP d_seconds Latency.\n# TYPE d_seconds histogram\nd_seconds_bucket{le=\"0.5\"} 1\n\
d_seconds_bucket{le=\"+Inf\"} 1\nd_seconds_sum 0.25\nd_seconds_count 1\n\
# HELP up_bytes \n# TYPE up_bytes gauge\nup_bytes +Inf\n"
        );
        let trace = "trace_id=\"00000000000000000000000000000af7\",span_id=\"000000000000b7ad\"";
        assert_eq!(
            write(Format::OpenMetrics),
            format!(
                "# HELP a Things \\\"quoted\\\" \\\\ here.\n# TYPE a counter\n\
a_total{{x=\"1\"}} 3 # {{{trace}}} 1 1733097600.023\n\
# HELP d_seconds Latency.\n# TYPE d_seconds histogram\n# UNIT d_seconds seconds\n\
d_seconds_bucket{{le=\"0.5\"}} 1 # {{{trace}}} 0.25 1733097600.023\n\
d_seconds_bucket{{le=\"+Inf\"}} 1\nd_seconds_sum 0.25\nd_seconds_count 1\n\
# TYPE up_bytes gauge\n# UNIT up_bytes bytes\nup_bytes +Inf\n# EOF\n"
            )
        );
    }
}
