//! CPU profiles on demand: `GET /debug/pprof/profile?seconds=N` (gzipped pprof
//! protobuf, what `go tool pprof` and Pyroscope read) and
//! `GET /debug/pprof/flamegraph?seconds=N` (an SVG flame graph).
//!
//! With the `profiling` feature, a profile samples every thread's stack 99 times a
//! second of CPU time (`SIGPROF`, through the `pprof` crate) for `N` seconds, on a
//! blocking thread so that the executor keeps serving. Nothing runs, and nothing
//! costs, while no profile is taken. One profile at a time in the process (the
//! signal timer is process-wide): another request meanwhile gets `409` (before its
//! parameters are looked at). `N` defaults
//! to 30 and is capped by `MCP_PROFILE_MAX_SECONDS`; the `X-Profile-Seconds` header
//! says how long was recorded. Without the feature both routes answer `501`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;

use crate::output::json::error;

/// What a profile is returned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProfileFormat {
    /// Gzipped pprof protobuf.
    Pprof,
    /// An SVG flame graph.
    Flamegraph,
}

/// The length of a profile when the request names none, in seconds (as Go's).
const DEFAULT_SECONDS: u64 = 30;

/// The length asked for by `seconds` (absent: 30 s), capped by `max`; or why the
/// parameter is refused.
fn length(seconds: Option<&str>, max: u64) -> Result<u64, String> {
    let asked = match seconds {
        None => DEFAULT_SECONDS,
        Some(s) => match s.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "seconds={s:?} is not a whole number of seconds from 1 to {max} \
                     (MCP_PROFILE_MAX_SECONDS)"
                ))
            }
        },
    };
    Ok(asked.min(max))
}

/// Whether a profile is being taken, in the whole process.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Held while a profile runs; lets the next one start when dropped.
#[derive(Debug)]
struct Running;

impl Running {
    fn start() -> Option<Self> {
        RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then_some(Self)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

/// Takes a profile of `seconds` (capped by `max`) and answers it in `format`. A
/// request while another profile runs gets `409` before its parameters are checked.
pub(crate) async fn respond(format: ProfileFormat, seconds: Option<&str>, max: u64) -> Response {
    let Some(running) = Running::start() else {
        return error(
            StatusCode::CONFLICT,
            "a profile is already being taken; try again when it ends",
        );
    };
    let seconds = match length(seconds, max) {
        Ok(s) => s,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    imp::respond(format, Duration::from_secs(seconds), running).await
}

#[cfg(feature = "profiling")]
mod imp {
    use std::io::Write;
    use std::time::Duration;

    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};

    use super::{error, ProfileFormat, Running};

    /// Samples 99 times a second of CPU time: not a multiple of common timer
    /// periods, as Go's default of 100 would be.
    const FREQUENCY: i32 = 99;

    fn record(format: ProfileFormat, length: Duration) -> Result<Vec<u8>, String> {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .map_err(|e| format!("cannot start the profiler: {e}"))?;
        std::thread::sleep(length);
        let report = guard
            .report()
            .build()
            .map_err(|e| format!("cannot build the profile: {e}"))?;
        drop(guard);
        match format {
            ProfileFormat::Pprof => {
                use pprof::protos::Message;
                let profile = report.pprof().map_err(|e| e.to_string())?;
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&profile.encode_to_vec())
                    .and_then(|()| gz.finish())
                    .map_err(|e| e.to_string())
            }
            ProfileFormat::Flamegraph => {
                let mut svg = Vec::new();
                report
                    .flamegraph(&mut svg)
                    .map_err(|e| format!("cannot draw the flame graph: {e}"))?;
                Ok(svg)
            }
        }
    }

    pub(super) async fn respond(
        format: ProfileFormat,
        length: Duration,
        running: Running,
    ) -> Response {
        let taken = tokio::task::spawn_blocking(move || {
            let _running = running;
            record(format, length)
        })
        .await;
        let body = match taken {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        };
        let (content_type, disposition) = match format {
            ProfileFormat::Pprof => (
                "application/octet-stream",
                "attachment; filename=\"profile.pb.gz\"",
            ),
            ProfileFormat::Flamegraph => ("image/svg+xml", "inline; filename=\"flamegraph.svg\""),
        };
        let seconds = HeaderValue::from(length.as_secs());
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static(disposition),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::HeaderName::from_static("x-profile-seconds"),
                    seconds,
                ),
            ],
            body,
        )
            .into_response()
    }
}

#[cfg(not(feature = "profiling"))]
mod imp {
    use std::time::Duration;

    use axum::http::StatusCode;
    use axum::response::Response;

    use super::{error, ProfileFormat, Running};

    pub(super) async fn respond(
        _format: ProfileFormat,
        _length: Duration,
        _running: Running,
    ) -> Response {
        error(
            StatusCode::NOT_IMPLEMENTED,
            "CPU profiles need mcp-monitor's `profiling` feature, which this build lacks",
        )
    }
}

/// Whether this build can take profiles (the page offers the action only then).
pub(crate) const AVAILABLE: bool = cfg!(feature = "profiling");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_defaults_to_30_s_and_is_capped() {
        assert_eq!(length(None, 60).ok(), Some(30));
        assert_eq!(length(None, 10).ok(), Some(10));
        assert_eq!(length(Some("5"), 60).ok(), Some(5));
        assert_eq!(length(Some("600"), 60).ok(), Some(60));
        for bad in ["0", "-1", "1.5", "ten", ""] {
            let why = length(Some(bad), 60).unwrap_err();
            assert!(why.contains("MCP_PROFILE_MAX_SECONDS"), "{bad}: {why}");
        }
    }
}
