//! Writing the Prometheus text format (0.0.4), straight into the output buffer.
//!
//! A series' label pairs are escaped once, when the series is created, and kept as one
//! string (`method="GET",path="/users/{id}",status="200"`); a sample line is then a
//! few `push_str`s and one integer formatted without allocating. Label values are
//! escaped exactly as the format says: `\` as `\\`, `"` as `\"`, a line feed as `\n`.

use crate::base::format::{format_float, write_float};

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

/// Writes the `# HELP` and `# TYPE` lines of a family.
pub(crate) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
}

/// A sample value as the text format writes it.
pub(crate) trait Value: Copy {
    /// Appends the value.
    fn write(self, out: &mut String);
}

impl Value for u64 {
    fn write(self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(self));
    }
}

impl Value for i64 {
    fn write(self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(self));
    }
}

impl Value for f64 {
    fn write(self, out: &mut String) {
        write_float(out, self);
    }
}

/// Writes the start of a sample line, `name_suffix{labels,extra`, up to (not including)
/// the closing brace; returns whether a brace was opened.
fn open(out: &mut String, name: &str, suffix: &str, labels: &str, extra: &str) -> bool {
    out.push_str(name);
    out.push_str(suffix);
    let braces = !labels.is_empty() || !extra.is_empty();
    if braces {
        out.push('{');
        out.push_str(labels);
        if !labels.is_empty() && !extra.is_empty() {
            out.push(',');
        }
        out.push_str(extra);
    }
    braces
}

/// Writes one sample line: `name{labels} value`. `labels` is a string of
/// [`label_pairs`], possibly empty.
pub(crate) fn sample(out: &mut String, name: &str, labels: &str, value: impl Value) {
    sample_with(out, name, "", labels, "", value);
}

/// Writes one sample line of a family member: `name_suffix{labels,extra} value`, where
/// `suffix` is `""`, `"_bucket"`, `"_sum"` or `"_count"` and `extra` one more pre-escaped
/// label pair (`le="0.5"`) or `""`.
pub(crate) fn sample_with(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &str,
    extra: &str,
    value: impl Value,
) {
    if open(out, name, suffix, labels, extra) {
        out.push('}');
    }
    out.push(' ');
    value.write(out);
    out.push('\n');
}

/// The `le="…"` label pair of each finite bucket bound, then `le="+Inf"`.
pub(crate) fn le_pairs(bounds: &[f64]) -> Vec<String> {
    bounds
        .iter()
        .map(|b| format!("le=\"{}\"", format_float(*b)))
        .chain(std::iter::once("le=\"+Inf\"".to_owned()))
        .collect()
}

/// Writes the `_bucket`, `_sum` and `_count` lines of one histogram: `counts` per bucket
/// (not cumulative, `+Inf` last), `le` from [`le_pairs`] of the same buckets. Calls
/// `after_bucket(out, i)` after bucket `i`'s line (where an exemplar goes).
pub(crate) fn histogram(
    out: &mut String,
    name: &str,
    labels: &str,
    le: &[String],
    counts: &[u64],
    sum_ns: u64,
    mut after_bucket: impl FnMut(&mut String, usize),
) {
    let mut cumulative = 0u64;
    for (i, (count, le)) in counts.iter().zip(le).enumerate() {
        cumulative += count;
        sample_with(out, name, "_bucket", labels, le, cumulative);
        after_bucket(out, i);
    }
    sample_with(out, name, "_sum", labels, "", sum_ns as f64 / 1e9);
    sample_with(out, name, "_count", labels, "", cumulative);
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
        let labels = label_pairs(&[("method", "GET"), ("path", "/a\"b")]);
        sample(&mut out, "m", &labels, 3u64);
        sample(&mut out, "n", "", -2i64);
        sample_with(&mut out, "h", "_bucket", "", "le=\"0.5\"", 1u64);
        sample(&mut out, "f", "", 0.25);
        assert_eq!(
            out,
            "m{method=\"GET\",path=\"/a\\\"b\"} 3\nn -2\nh_bucket{le=\"0.5\"} 1\nf 0.25\n"
        );
        assert_eq!(
            le_pairs(&[0.005, 1.0]),
            ["le=\"0.005\"", "le=\"1\"", "le=\"+Inf\""]
        );
    }
}
