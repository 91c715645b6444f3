//! Content negotiation for `GET /metrics` and every other document: which exposition
//! format an `Accept` header asks for (as Prometheus 2.x and 3.x send it, RFC 9110
//! section 12.5.1), and which content coding an `Accept-Encoding` header allows
//! (section 12.5.3).
//!
//! Offered formats, in our order of preference for equal weights: the delimited
//! protobuf `MetricFamily` stream (only where [`PROTOBUF_OFFERED`] says so),
//! OpenMetrics 1.0.0, Prometheus text 0.0.4, Prometheus text 1.0.0. Text 1.0.0 is
//! the 0.0.4 text with quoted UTF-8 names allowed: every name we write is a legacy
//! name, so our 0.0.4 text is valid 1.0.0 text under every `escaping` scheme, and it
//! is answered as 1.0.0 only when a scraper weighs 1.0.0 above 0.0.4. An absent or
//! unknown `Accept`, or one that accepts none of these, gets text 0.0.4.

/// Whether `GET /metrics` offers the delimited protobuf exposition. The one switch of
/// the protobuf format: while it is `false`, a proto-first `Accept` falls through to
/// its next preference (OpenMetrics for Prometheus' headers).
pub(crate) const PROTOBUF_OFFERED: bool = true;

/// The `Content-Type` of the OpenMetrics exposition.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of the Prometheus text exposition 0.0.4.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of the Prometheus text exposition 1.0.0 (without `escaping`).
const PROMETHEUS_1_CONTENT_TYPE: &str = "text/plain; version=1.0.0; charset=utf-8";

/// The `Content-Type` of the delimited protobuf exposition.
pub(crate) const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The exposition formats `GET /metrics` can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exposition {
    /// Delimited `io.prometheus.client.MetricFamily` protobuf.
    Protobuf,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Prometheus text 0.0.4.
    Text,
    /// Prometheus text 1.0.0: the same text, another `Content-Type`.
    Text1,
}

/// An `escaping` scheme of the Prometheus 3 negotiation. Every name we write is a
/// legacy name, which each scheme leaves as it is: the scheme asked for is echoed in
/// the `Content-Type`, the body is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escaping {
    /// `allow-utf-8`.
    AllowUtf8,
    /// `underscores`.
    Underscores,
    /// `dots`.
    Dots,
    /// `values`.
    Values,
}

impl Escaping {
    fn parse(v: &str) -> Option<Self> {
        match v {
            "allow-utf-8" => Some(Self::AllowUtf8),
            "underscores" => Some(Self::Underscores),
            "dots" => Some(Self::Dots),
            "values" => Some(Self::Values),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::AllowUtf8 => "allow-utf-8",
            Self::Underscores => "underscores",
            Self::Dots => "dots",
            Self::Values => "values",
        }
    }
}

/// The answer to an `Accept` header: a format, and the `escaping` its range named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// The format to write.
    pub(crate) format: Exposition,
    /// The `escaping` parameter of the range that chose it, if any.
    pub(crate) escaping: Option<Escaping>,
}

impl Negotiated {
    /// The `Content-Type` of the answer.
    pub(crate) fn content_type(self) -> std::borrow::Cow<'static, str> {
        let base = match self.format {
            Exposition::Protobuf => return PROTOBUF_CONTENT_TYPE.into(),
            Exposition::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Exposition::Text => return PROMETHEUS_CONTENT_TYPE.into(),
            Exposition::Text1 => PROMETHEUS_1_CONTENT_TYPE,
        };
        match (self.format, self.escaping) {
            (_, Some(e)) => format!("{base}; escaping={}", e.as_str()).into(),
            // Text 1.0.0 says how names are escaped; without a request, underscores
            // (which leaves legacy names as they are).
            (Exposition::Text1, None) => format!("{base}; escaping=underscores").into(),
            _ => base.into(),
        }
    }
}

/// One media range of an `Accept` header.
#[derive(Debug)]
struct Range<'a> {
    /// `type/subtype`, lowercase (or with `*`).
    media: String,
    version: Option<&'a str>,
    proto: Option<&'a str>,
    encoding: Option<&'a str>,
    escaping: Option<&'a str>,
    q: f64,
}

fn ranges(accept: &str) -> impl Iterator<Item = Range<'_>> {
    accept.split(',').filter_map(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next()?.to_ascii_lowercase();
        if media.is_empty() {
            return None;
        }
        let mut r = Range {
            media,
            version: None,
            proto: None,
            encoding: None,
            escaping: None,
            q: 1.0,
        };
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                // A weight that does not parse accepts nothing (RFC 9110's `qvalue`
                // is 0 to 1 with up to three decimals).
                "q" => r.q = v.parse::<f64>().map_or(0.0, |q| q.clamp(0.0, 1.0)),
                "version" => r.version = Some(v),
                "proto" => r.proto = Some(v),
                "encoding" => r.encoding = Some(v),
                "escaping" => r.escaping = Some(v),
                _ => {}
            }
        }
        Some(r)
    })
}

/// How specifically `r` names `offer` (3: with its parameters, 2: its type, 1: a
/// `type/*`, 0: `*/*`), or `None` if it does not match it.
fn specificity(r: &Range<'_>, offer: Exposition) -> Option<u8> {
    let (media, version) = match offer {
        Exposition::Protobuf => ("application/vnd.google.protobuf", None),
        Exposition::OpenMetrics => ("application/openmetrics-text", Some("1.0.0")),
        Exposition::Text => ("text/plain", Some("0.0.4")),
        Exposition::Text1 => ("text/plain", Some("1.0.0")),
    };
    if r.media == "*/*" {
        return Some(0);
    }
    let (ty, _) = media.split_once('/').unwrap_or((media, ""));
    if r.media.strip_suffix("/*") == Some(ty) {
        return Some(1);
    }
    if r.media != media {
        return None;
    }
    if offer == Exposition::Protobuf {
        // Only the delimited `MetricFamily` stream is offered.
        let proto = r
            .proto
            .is_none_or(|p| p == "io.prometheus.client.MetricFamily");
        let delimited = r.encoding.is_none_or(|e| e == "delimited");
        return (proto && delimited).then_some(if r.proto.is_some() { 3 } else { 2 });
    }
    match r.version {
        None => Some(2),
        Some(v) if Some(v) == version => Some(3),
        Some(_) => None,
    }
}

/// The format that an `Accept` header value (or its absence) asks for.
pub(crate) fn negotiate(accept: Option<&str>) -> Negotiated {
    let fallback = Negotiated {
        format: Exposition::Text,
        escaping: None,
    };
    let Some(accept) = accept else {
        return fallback;
    };
    let ranges: Vec<Range<'_>> = ranges(accept).collect();
    let offers = [
        Exposition::Protobuf,
        Exposition::OpenMetrics,
        Exposition::Text,
        Exposition::Text1,
    ]
    .into_iter()
    .filter(|o| *o != Exposition::Protobuf || PROTOBUF_OFFERED);
    // For each offer, its weight is that of the most specific range naming it
    // (RFC 9110: "media ranges can be overridden by more specific media ranges").
    let mut best: Option<(f64, u8, u8, Negotiated)> = None;
    for (rank, offer) in offers.enumerate() {
        let Some((spec, r)) = ranges
            .iter()
            .filter_map(|r| specificity(r, offer).map(|s| (s, r)))
            .max_by(|(a, ra), (b, rb)| a.cmp(b).then(ra.q.total_cmp(&rb.q)))
        else {
            continue;
        };
        if r.q <= 0.0 {
            continue;
        }
        // Equal weights: a named format before a wildcard; among wildcards, text
        // 0.0.4 (what a scraper that names nothing has always had); otherwise our
        // order of preference.
        let order = if spec == 0 {
            u8::from(offer == Exposition::Text)
        } else {
            u8::MAX - rank as u8
        };
        let answer = Negotiated {
            format: offer,
            escaping: r.escaping.and_then(Escaping::parse),
        };
        let key = (r.q, spec.min(1), order);
        if best.is_none_or(|(q, s, o, _)| (key.0, key.1, key.2) > (q, s, o)) {
            best = Some((key.0, key.1, key.2, answer));
        }
    }
    best.map_or(fallback, |(_, _, _, n)| n)
}

/// Whether an `Accept-Encoding` header value asks for gzip: gzip (by name, or by `*`)
/// has a weight above zero and at least that of `identity`. `identity` not named is
/// acceptable but the least preferred (RFC 9110 section 12.5.3).
pub(crate) fn wants_gzip(accept_encoding: &str) -> bool {
    let (mut gzip, mut identity, mut any) = (None, None, None);
    for coding in accept_encoding.split(',') {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f64;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse::<f64>().map_or(0.0, |q| q.clamp(0.0, 1.0));
                }
            }
        }
        let slot = match name.as_str() {
            "gzip" | "x-gzip" => &mut gzip,
            "identity" => &mut identity,
            "*" => &mut any,
            _ => continue,
        };
        *slot = Some(slot.map_or(q, |old: f64| old.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0.0);
    let identity = identity.or(any).unwrap_or(f64::MIN_POSITIVE);
    gzip > 0.0 && gzip >= identity
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus 2.42's `scrapeAcceptHeader` and `scrapeAcceptHeaderWithProtobuf`
    /// (scrape/scrape.go, v2.42.0), verbatim.
    const PROMETHEUS_2_42: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    const PROMETHEUS_2_42_PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// Prometheus 3's `acceptHeader` for its default and proto-first scrape protocols,
    /// as its `TestAcceptHeader` (scrape/scrape_test.go, v3.5.0 to v3.9) expects them,
    /// verbatim: `allow-utf-8`, then `underscores` and `dots` escaping.
    const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    const PROMETHEUS_3_PROTO_FIRST: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    const PROMETHEUS_3_UNDERSCORES: &str = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    const PROMETHEUS_3_PROTO_FIRST_DOTS: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=dots;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=dots;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

    fn format(accept: &str) -> Exposition {
        negotiate(Some(accept)).format
    }

    #[test]
    fn prometheus_headers_get_openmetrics_or_protobuf() {
        let om = Negotiated {
            format: Exposition::OpenMetrics,
            escaping: None,
        };
        assert_eq!(negotiate(Some(PROMETHEUS_2_42)), om);
        assert_eq!(negotiate(Some(PROMETHEUS_3_UNDERSCORES)).format, om.format);
        let proto_first = if PROTOBUF_OFFERED {
            Exposition::Protobuf
        } else {
            Exposition::OpenMetrics
        };
        assert_eq!(format(PROMETHEUS_2_42_PROTOBUF), proto_first);
        assert_eq!(format(PROMETHEUS_3_PROTO_FIRST), proto_first);
        assert_eq!(format(PROMETHEUS_3_PROTO_FIRST_DOTS), proto_first);
        let n = negotiate(Some(PROMETHEUS_3));
        assert_eq!(n.format, Exposition::OpenMetrics);
        assert_eq!(
            n.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        assert_eq!(
            negotiate(Some(PROMETHEUS_2_42)).content_type(),
            OPENMETRICS_CONTENT_TYPE
        );
    }

    /// Prometheus 3 with `scrape_protocols` naming only the text formats, in its
    /// order: text 1.0.0 first, then 0.0.4 first.
    #[test]
    fn text_1_0_0_when_weighed_above_0_0_4() {
        let text1_first = "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4";
        let n = negotiate(Some(text1_first));
        assert_eq!(n.format, Exposition::Text1);
        assert_eq!(
            n.content_type(),
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        let text0_first = "text/plain;version=0.0.4;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4";
        assert_eq!(format(text0_first), Exposition::Text);
        assert_eq!(
            negotiate(Some("text/plain;version=1.0.0")).content_type(),
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"
        );
    }

    #[test]
    fn absent_unknown_and_wildcards_get_text_0_0_4() {
        for accept in [
            "",
            "*/*",
            "text/*",
            "text/plain",
            "text/plain;version=0.0.4",
            "application/json",
            "application/openmetrics-text;version=0.0.1",
            "application/openmetrics-text;q=0",
            "application/openmetrics-text;q=0.2,text/plain;q=0.9",
            "application/openmetrics-text;q=x,*/*;q=0.1",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
        ] {
            assert_eq!(format(accept), Exposition::Text, "{accept:?}");
        }
        assert_eq!(negotiate(None).format, Exposition::Text);
        assert_eq!(negotiate(None).content_type(), PROMETHEUS_CONTENT_TYPE);
        assert_eq!(
            format("application/openmetrics-text"),
            Exposition::OpenMetrics
        );
        assert_eq!(
            format("Application/OpenMetrics-Text; Version=1.0.0, text/plain"),
            Exposition::OpenMetrics
        );
        // A more specific range overrides a wildcard, even with a lower weight.
        assert_eq!(
            format("*/*;q=0.5,text/plain;version=0.0.4"),
            Exposition::Text
        );
        assert_eq!(
            format("*/*,application/openmetrics-text;q=0"),
            Exposition::Text
        );
    }

    #[test]
    fn gzip_follows_the_weights() {
        for yes in [
            "gzip",
            "gzip, deflate, br, zstd",
            "GZIP;q=0.5",
            "*",
            "identity;q=0.5, gzip",
            "gzip;q=1.0, identity;q=1.0",
            "x-gzip",
        ] {
            assert!(wants_gzip(yes), "{yes:?}");
        }
        for no in [
            "",
            "identity",
            "gzip;q=0",
            "br, zstd",
            "gzip;q=0.5, identity",
            "*;q=0",
            "*, gzip;q=0",
            "gzip;q=nope",
        ] {
            assert!(!wants_gzip(no), "{no:?}");
        }
    }
}
