//! The `code` label: a gRPC status code read from a response's trailers, or from its
//! headers for a trailers-only answer, as the gRPC over HTTP/2 protocol defines them.

use http::{HeaderMap, StatusCode};

/// The `grpc-status` header or trailer.
static GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");
/// The `grpc-timeout` request header.
static GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");

/// The names of the status codes 0 to 16, as gRPC spells them.
const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// A gRPC status code, 0 to 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Code(u8);

impl Code {
    /// Every code, 0 to 16.
    pub(crate) const COUNT: usize = NAMES.len();
    pub(crate) const CANCELLED: Self = Self(1);
    pub(crate) const UNKNOWN: Self = Self(2);
    pub(crate) const DEADLINE_EXCEEDED: Self = Self(4);
    pub(crate) const UNIMPLEMENTED: Self = Self(12);
    pub(crate) const INTERNAL: Self = Self(13);
    pub(crate) const UNAVAILABLE: Self = Self(14);
    pub(crate) const DATA_LOSS: Self = Self(15);

    /// The codes that are the server's failures, as the error-rate alert counts them.
    pub(crate) const SERVER_ERRORS: [Self; 5] = [
        Self::UNKNOWN,
        Self::DEADLINE_EXCEEDED,
        Self::INTERNAL,
        Self::UNAVAILABLE,
        Self::DATA_LOSS,
    ];

    /// The code numbered `n`; numbers gRPC does not define are `UNKNOWN`, as its
    /// clients read them.
    pub(crate) fn from_number(n: u32) -> Self {
        u8::try_from(n)
            .ok()
            .filter(|&n| usize::from(n) < Self::COUNT)
            .map_or(Self::UNKNOWN, Self)
    }

    /// The code of a `grpc-status` value: decimal digits; anything else is `UNKNOWN`.
    pub(crate) fn parse(value: &[u8]) -> Self {
        if value.is_empty() || value.len() > 3 || !value.iter().all(u8::is_ascii_digit) {
            return Self::UNKNOWN;
        }
        Self::from_number(value.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// The `grpc-status` of `headers` (trailers, or the headers of a trailers-only
    /// answer), if it has one.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers.get(&GRPC_STATUS).map(|v| Self::parse(v.as_bytes()))
    }

    /// The code of an answer whose HTTP status is not 200 and that carries no
    /// `grpc-status`, as the gRPC specification maps HTTP statuses to codes.
    pub(crate) fn from_http_status(status: StatusCode) -> Self {
        match status.as_u16() {
            200 => Self::UNKNOWN,
            400 => Self::INTERNAL,
            401 => Self(16),
            403 => Self(7),
            404 => Self::UNIMPLEMENTED,
            429 | 502 | 503 | 504 => Self::UNAVAILABLE,
            _ => Self::UNKNOWN,
        }
    }

    /// The code's number.
    pub(crate) fn number(self) -> usize {
        usize::from(self.0)
    }

    /// The code's name: `OK`, `NOT_FOUND`, ...
    pub(crate) fn as_str(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// The number of the code named `name` (`NOT_FOUND` is 5), as OpenTelemetry's
    /// `rpc.grpc.status_code` writes it.
    pub(crate) fn number_of(name: &str) -> Option<i64> {
        NAMES.iter().position(|n| *n == name).map(|i| i as i64)
    }

    /// Whether the code is one of the server's failures ([`Self::SERVER_ERRORS`]).
    pub(crate) fn is_server_error(self) -> bool {
        Self::SERVER_ERRORS.contains(&self)
    }
}

/// The PromQL matcher of the server's failures: `code=~"UNKNOWN|…"`.
pub(crate) fn server_error_matcher() -> String {
    let names: Vec<_> = Code::SERVER_ERRORS.iter().map(|c| c.as_str()).collect();
    format!("code=~\"{}\"", names.join("|"))
}

/// The deadline a request's `grpc-timeout` header sets, in nanoseconds: at most eight
/// digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`). `None` without one, or when it is
/// malformed.
pub(crate) fn timeout_ns(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(&GRPC_TIMEOUT)?.as_bytes();
    let (&unit, digits) = v.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let per: u64 = match unit {
        b'H' => 3_600_000_000_000,
        b'M' => 60_000_000_000,
        b'S' => 1_000_000_000,
        b'm' => 1_000_000,
        b'u' => 1_000,
        b'n' => 1,
        _ => return None,
    };
    Some(n.saturating_mul(per))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn status_is_read_from_trailers_or_a_trailers_only_head() {
        assert_eq!(
            Code::from_headers(&headers("grpc-status", "0"))
                .unwrap()
                .as_str(),
            "OK"
        );
        let not_found = Code::from_headers(&headers("grpc-status", "5")).unwrap();
        assert_eq!(not_found.as_str(), "NOT_FOUND");
        assert_eq!(
            Code::from_headers(&headers("grpc-status", "16"))
                .unwrap()
                .as_str(),
            "UNAUTHENTICATED"
        );
        // A head or trailers without the status says nothing.
        assert_eq!(
            Code::from_headers(&headers("content-type", "application/grpc")),
            None
        );
    }

    #[test]
    fn malformed_or_undefined_status_is_unknown() {
        for bad in ["", "17", "99", "255", "1000", "-1", "ok", "0x1", " 0"] {
            assert_eq!(Code::parse(bad.as_bytes()), Code::UNKNOWN, "{bad:?}");
        }
        assert_eq!(Code::from_number(u32::MAX), Code::UNKNOWN);
    }

    #[test]
    fn http_statuses_map_as_the_grpc_specification_says() {
        let name = |s: u16| Code::from_http_status(StatusCode::from_u16(s).unwrap()).as_str();
        assert_eq!(name(400), "INTERNAL");
        assert_eq!(name(401), "UNAUTHENTICATED");
        assert_eq!(name(403), "PERMISSION_DENIED");
        assert_eq!(name(404), "UNIMPLEMENTED");
        assert_eq!(name(503), "UNAVAILABLE");
        assert_eq!(name(500), "UNKNOWN");
    }

    #[test]
    fn numbers_name_their_code_and_server_errors_are_the_five() {
        for n in 0..17 {
            assert_eq!(Code::from_number(n).number(), n as usize);
        }
        let errors: Vec<_> = (0..17)
            .map(Code::from_number)
            .filter(|c| c.is_server_error())
            .map(Code::as_str)
            .collect();
        assert_eq!(
            errors,
            [
                "UNKNOWN",
                "DEADLINE_EXCEEDED",
                "INTERNAL",
                "UNAVAILABLE",
                "DATA_LOSS"
            ]
        );
        assert_eq!(
            server_error_matcher(),
            "code=~\"UNKNOWN|DEADLINE_EXCEEDED|INTERNAL|UNAVAILABLE|DATA_LOSS\""
        );
    }

    #[test]
    fn timeouts_parse_in_every_unit() {
        assert_eq!(
            timeout_ns(&headers("grpc-timeout", "100m")),
            Some(100_000_000)
        );
        assert_eq!(
            timeout_ns(&headers("grpc-timeout", "2S")),
            Some(2_000_000_000)
        );
        assert_eq!(
            timeout_ns(&headers("grpc-timeout", "1H")),
            Some(3_600_000_000_000)
        );
        assert_eq!(timeout_ns(&headers("grpc-timeout", "5n")), Some(5));
        for bad in ["m", "123456789m", "10x", "1.5S"] {
            let mut h = HeaderMap::new();
            h.insert("grpc-timeout", HeaderValue::from_str(bad).unwrap());
            assert_eq!(timeout_ns(&h), None, "{bad}");
        }
        assert_eq!(timeout_ns(&HeaderMap::new()), None);
    }
}
