//! The one parser of the Prometheus text format 0.0.4, as strict as Prometheus' own
//! (`expfmt`): the end-to-end tests read `/metrics` with it, the runtime's tests read
//! `Monitor::render` with it, and the fuzz targets check every exposition against it.

use std::collections::{BTreeMap, HashSet};

/// One sample: its name, its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series name (`_bucket`, `_sum`, ... included).
    pub name: String,
    /// The labels, each once.
    pub labels: BTreeMap<String, String>,
    /// The value (`NaN`, `+Inf` and `-Inf` included).
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone)]
pub struct Exposition {
    /// The text as given.
    pub text: String,
    /// Every sample, in order.
    pub samples: Vec<Sample>,
    /// The type of each family that has a `# TYPE` line.
    pub types: BTreeMap<String, String>,
}

impl Exposition {
    /// Parses `text` strictly: metric and label names, label values with only `\\`,
    /// `\"` and `\n` escapes, a label at most once per sample, a float value (`NaN`,
    /// `+Inf`, `-Inf` included), an optional integer timestamp, and `# HELP` / `# TYPE`
    /// lines (a `TYPE` at most once per family, before its samples).
    ///
    /// # Errors
    ///
    /// The first line that breaks a rule, with its number and the rule.
    pub fn try_parse(text: &str) -> Result<Self, String> {
        let mut out = Self {
            text: text.to_owned(),
            samples: Vec::new(),
            types: BTreeMap::new(),
        };
        let mut sampled = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let err = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.trim_start().splitn(3, ' ');
                match words.next() {
                    Some("TYPE") => {
                        let name = words.next().ok_or_else(|| err("TYPE without a name"))?;
                        let kind = words.next().ok_or_else(|| err("TYPE without a type"))?;
                        if !is_name(name, true) {
                            return Err(err("bad metric name"));
                        }
                        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                        {
                            return Err(err("unknown type"));
                        }
                        if out.types.contains_key(name) {
                            return Err(err("second TYPE line for the family"));
                        }
                        if sampled.contains(name) {
                            return Err(err("TYPE after the family's samples"));
                        }
                        out.types.insert(name.to_owned(), kind.to_owned());
                    }
                    Some("HELP") => {
                        let name = words.next().ok_or_else(|| err("HELP without a name"))?;
                        if !is_name(name, true) {
                            return Err(err("bad metric name"));
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let sample = parse_sample(line).map_err(err)?;
            let family = ["_bucket", "_sum", "_count", "_total"]
                .iter()
                .find_map(|s| {
                    sample
                        .name
                        .strip_suffix(s)
                        .filter(|f| out.types.contains_key(*f))
                })
                .unwrap_or(&sample.name);
            sampled.insert(family.to_owned());
            out.samples.push(sample);
        }
        Ok(out)
    }

    /// [`try_parse`](Self::try_parse), panicking with the error and the text.
    #[track_caller]
    pub fn parse(text: &str) -> Self {
        Self::try_parse(text)
            .unwrap_or_else(|e| panic!("the exposition does not parse: {e}\n{text}"))
    }

    /// The samples of `name` whose labels include `labels`.
    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The sum of the samples of `name` whose labels include `labels` (0 without any).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// The sample of `name` with exactly these labels, if there is one.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.matching(name, labels)
            .find(|s| s.labels.len() == labels.len())
            .map(|s| s.value)
    }

    /// The one sample of `name` with exactly these labels.
    #[track_caller]
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<_> = self
            .matching(name, labels)
            .filter(|s| s.labels.len() == labels.len())
            .collect();
        assert_eq!(found.len(), 1, "{name}{labels:?}: {found:?}\n{}", self.text);
        found[0].value
    }

    /// Whether family `name` has the line `# TYPE name kind`.
    pub fn has_type(&self, name: &str, kind: &str) -> bool {
        self.types.get(name).is_some_and(|k| k == kind)
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn float(v: &str) -> Option<f64> {
    match v {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        v => v.parse().ok(),
    }
}

/// One sample line, or the rule it breaks.
fn parse_sample(line: &str) -> Result<Sample, &'static str> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err("bad metric name");
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            // A label name, or the end.
            let start = match chars.peek() {
                Some((_, '}')) => {
                    let (i, _) = chars.next().expect("peeked");
                    rest = &after[i + 1..];
                    break;
                }
                Some((i, _)) => *i,
                None => return Err("unterminated label set"),
            };
            let eq = after[start..].find('=').ok_or("label without =")? + start;
            let lname = &after[start..eq];
            if !is_name(lname, false) {
                return Err("bad label name");
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err("label value not quoted");
            }
            let mut v = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => v.push('\\'),
                        Some((_, '"')) => v.push('"'),
                        Some((_, 'n')) => v.push('\n'),
                        _ => return Err("invalid escape in a label value"),
                    },
                    Some((_, c)) => v.push(c),
                    None => return Err("unterminated label value"),
                }
            }
            if labels.insert(lname.to_owned(), v).is_some() {
                return Err("label twice");
            }
            match chars.next() {
                Some((_, ',')) => {}
                Some((i, '}')) => {
                    rest = &after[i + 1..];
                    break;
                }
                _ => return Err("expected , or } after a label"),
            }
        }
    }
    let mut fields = rest
        .strip_prefix(' ')
        .ok_or("no space before the value")?
        .split(' ');
    let value = fields.next().and_then(float).ok_or("bad value")?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|_| "bad timestamp")?;
    }
    if fields.next().is_some() {
        return Err("text after the timestamp");
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_is_strict() {
        let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\\\\ \\\" \\n}\",j=\"\"} 1\nb NaN 123\n";
        let parsed = Exposition::try_parse(ok).unwrap();
        let labels: Vec<_> = parsed.samples[0]
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(labels, [("j", ""), ("k", "v\\ \" \n}")]);
        assert!(parsed.samples[1].value.is_nan());
        assert!(parsed.has_type("a_total", "counter"));
        for bad in [
            "a{k=\"v\\x\"} 1",
            "a{k=\"v\"} one",
            "a{k=\"v\",k=\"w\"} 1",
            "a{k=v} 1",
            "1a 1",
            "a{k=\"v\"",
            "a 1 2 3",
            "# TYPE a counter\n# TYPE a gauge",
            "a 1\n# TYPE a gauge",
        ] {
            assert!(Exposition::try_parse(bad).is_err(), "{bad:?}");
        }
    }
}
