//! gzip for every answer of the monitor's router (`/metrics` in every format, the JSON
//! documents, the page and its files) when the request's `Accept-Encoding` allows it
//! (see [`wants_gzip`]); without it, the answer is as it was. Every answer says
//! `Vary: accept-encoding`.
//!
//! The bodies are complete in memory (each is rendered from one reading), so the whole
//! body is compressed at once, at gzip's fastest level: the exposition is repetitive
//! text, which level 1 already shrinks about fifteenfold (see `docs/benchmarks.md`)
//! at a fraction of the CPU of the default level. A large body is compressed on
//! Tokio's blocking pool, so that a scrape of a big exposition does not hold a worker.

use std::io::Write as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::output::negotiate::wants_gzip;

/// Bodies shorter than this are sent as they are: gzip's header and trailer would
/// make them longer.
const MIN_BODY: usize = 32;

/// Bodies longer than this are compressed on Tokio's blocking pool.
const BLOCKING_BODY: usize = 256 * 1024;

/// The middleware: compresses the response when the request allows gzip.
pub(crate) async fn gzip(req: Request, next: Next) -> Response {
    let gzip = req.method() != Method::HEAD
        && req
            .headers()
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(wants_gzip);
    let mut res = next.run(req).await;
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if !gzip || res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        // A body that fails to read has nothing to send either way.
        return Response::from_parts(parts, Body::empty());
    };
    if bytes.len() < MIN_BODY {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let compressed = if bytes.len() < BLOCKING_BODY {
        gzip_bytes(&bytes)
    } else {
        match tokio::task::spawn_blocking(move || gzip_bytes(&bytes)).await {
            Ok(c) => c,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, Body::from(compressed))
}

/// `data` as a gzip member, at the fastest level.
pub(crate) fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 8 + 64), Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .expect("writing into a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn gzip_reads_back() {
        let text = "mcp_http_requests_total{method=\"GET\"} 1\n".repeat(1000);
        let gz = gzip_bytes(text.as_bytes());
        assert!(gz.len() * 10 < text.len(), "{} bytes", gz.len());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }
}
