//! The trace context that exemplars carry: a W3C `traceparent` of the request being
//! served, made current on the thread while the request's future is polled.
//!
//! The HTTP layer parses the header ([`TraceContext::from_traceparent`]) and makes it
//! the thread's current context around every poll of the request's future, so the
//! macro calls made while serving the request (on the same task) see it, as does the
//! request's own record. Histograms attach it to the bucket a sample lands in, as that
//! bucket's exemplar in the OpenMetrics exposition. Work spawned onto other tasks does
//! not inherit it: run it under [`in_context`].
//!
//! With the `opentelemetry` feature, an OpenTelemetry context comes first: the span of
//! the monitored call itself when `tracing-opentelemetry` gave it one (the guard makes
//! it current while it records), else the current `tracing` span's
//! (`OpenTelemetrySpanExt::context`), and only then the request's `traceparent`. A
//! context counts only when it is valid and sampled, as with `traceparent`.

use std::cell::Cell;
use std::fmt;

/// A trace and the span within it (W3C Trace Context): what an exemplar links to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("trace_id", &format_args!("{:032x}", self.trace_id))
            .field("span_id", &format_args!("{:016x}", self.span_id))
            .finish()
    }
}

impl TraceContext {
    /// A context with these ids; `None` when either is zero (invalid in W3C Trace
    /// Context).
    pub fn new(trace_id: u128, span_id: u64) -> Option<Self> {
        (trace_id != 0 && span_id != 0).then_some(Self { trace_id, span_id })
    }

    /// Parses a `traceparent` header value (`00-<trace id>-<parent id>-<flags>`), as
    /// W3C Trace Context level 1 reads it: lowercase hex, ids not all zero, version
    /// `00` exactly 55 bytes long, a later version at least that long with `-` after
    /// the flags. Only a *sampled* trace (flag `01`) is returned: an unsampled one is
    /// not recorded by the tracing backend, so an exemplar would link to nothing.
    pub fn from_traceparent(value: &[u8]) -> Option<Self> {
        if value.len() < 55 {
            return None;
        }
        let version = hex_u8(&value[0..2])?;
        if version == 0xff || (version == 0 && value.len() != 55) {
            return None;
        }
        if version != 0 && value.len() > 55 && value[55] != b'-' {
            return None;
        }
        if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let trace_id = hex_u128(&value[3..35])?;
        let span_id = u64::try_from(hex_u128(&value[36..52])?).ok()?;
        let flags = hex_u8(&value[53..55])?;
        if flags & 1 == 0 {
            return None;
        }
        Self::new(trace_id, span_id)
    }

    /// The trace id, as 32 lowercase hex digits.
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The span id, as 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        format!("{:016x}", self.span_id)
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn hex_u128(s: &[u8]) -> Option<u128> {
    s.iter()
        .try_fold(0u128, |acc, &b| Some(acc << 4 | u128::from(hex_digit(b)?)))
}

fn hex_u8(s: &[u8]) -> Option<u8> {
    Some(hex_digit(s[0])? << 4 | hex_digit(s[1])?)
}

thread_local! {
    static CURRENT: Cell<Option<TraceContext>> = const { Cell::new(None) };
}

/// The trace context current on this thread, if any.
#[inline]
pub(crate) fn current() -> Option<TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if let Some(ctx) = otel::current() {
        return Some(ctx);
    }
    CURRENT.with(Cell::get)
}

#[cfg(feature = "opentelemetry")]
pub(crate) use otel::CallScope;

/// Trace contexts from OpenTelemetry, through `tracing-opentelemetry`.
#[cfg(feature = "opentelemetry")]
mod otel {
    use std::cell::Cell;

    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    use super::TraceContext;

    thread_local! {
        /// The OpenTelemetry context of the monitored call being recorded on this
        /// thread, if its span has one.
        static CALL: Cell<Option<TraceContext>> = const { Cell::new(None) };
    }

    /// The context of the call being recorded, else of the current `tracing` span.
    #[inline]
    pub(super) fn current() -> Option<TraceContext> {
        CALL.with(Cell::get).or_else(|| {
            // No subscriber enables anything (the case of an application without
            // one): there is no current span to ask, and asking costs a dispatcher
            // lookup on every sample.
            if tracing::level_filters::LevelFilter::current()
                == tracing::level_filters::LevelFilter::OFF
            {
                return None;
            }
            of_span(&tracing::Span::current())
        })
    }

    /// The sampled OpenTelemetry span context of `span`, if it has one.
    pub(super) fn of_span(span: &tracing::Span) -> Option<TraceContext> {
        if span.is_none() {
            return None;
        }
        let cx = span.context();
        let otel_span = cx.span();
        let sc = otel_span.span_context();
        if !sc.is_valid() || !sc.is_sampled() {
            return None;
        }
        TraceContext::new(
            u128::from_be_bytes(sc.trace_id().to_bytes()),
            u64::from_be_bytes(sc.span_id().to_bytes()),
        )
    }

    /// Makes the OpenTelemetry context of a monitored call's span the one its
    /// samples link to, until dropped.
    pub(crate) struct CallScope {
        previous: Option<TraceContext>,
    }

    impl CallScope {
        /// Enters the context of `span`, if it has one (else keeps what was current).
        #[inline]
        pub(crate) fn enter(span: &tracing::Span) -> Self {
            let previous = CALL.with(Cell::get);
            if let Some(ctx) = of_span(span) {
                CALL.with(|c| c.set(Some(ctx)));
            }
            Self { previous }
        }
    }

    impl Drop for CallScope {
        #[inline]
        fn drop(&mut self) {
            CALL.with(|c| c.set(self.previous));
        }
    }
}

/// Makes a trace context current on this thread until dropped.
pub(crate) struct Scope {
    previous: Option<TraceContext>,
}

impl Scope {
    /// Enters `ctx`.
    #[inline]
    pub(crate) fn enter(ctx: TraceContext) -> Self {
        Self {
            previous: CURRENT.with(|c| c.replace(Some(ctx))),
        }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Runs `f` with `ctx` as the current trace context: the monitored calls inside it
/// attach exemplars that link to `ctx`. The HTTP layer does this for each request
/// with a sampled `traceparent`; call it yourself for work that is not an HTTP request
/// (a queue consumer that carries its own trace context).
///
/// ```
/// use mcp_monitor::trace::{in_context, TraceContext};
///
/// let ctx = TraceContext::from_traceparent(
///     b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// )
/// .unwrap();
/// let n = in_context(ctx, || 1 + 1);
/// assert_eq!(n, 2);
/// ```
pub fn in_context<R>(ctx: TraceContext, f: impl FnOnce() -> R) -> R {
    let _scope = Scope::enter(ctx);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_a_sampled_traceparent() {
        let ctx = TraceContext::from_traceparent(GOOD).unwrap();
        assert_eq!(ctx.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.span_id(), "00f067aa0ba902b7");
    }

    #[test]
    fn refuses_what_w3c_refuses_and_unsampled_traces() {
        let bad: &[&[u8]] = &[
            b"",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", // not sampled
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // v00 too long
            b"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        ];
        for b in bad {
            assert_eq!(
                TraceContext::from_traceparent(b),
                None,
                "{:?}",
                String::from_utf8_lossy(b)
            );
        }
        // A later version may carry more fields after a dash.
        let later = b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(TraceContext::from_traceparent(later).is_some());
    }

    #[test]
    fn scopes_nest_and_restore() {
        let a = TraceContext::new(1, 1).unwrap();
        let b = TraceContext::new(2, 2).unwrap();
        assert_eq!(current(), None);
        in_context(a, || {
            assert_eq!(current(), Some(a));
            in_context(b, || assert_eq!(current(), Some(b)));
            assert_eq!(current(), Some(a));
        });
        assert_eq!(current(), None);
    }
}
