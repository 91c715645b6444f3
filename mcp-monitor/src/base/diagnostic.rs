//! Start-up diagnostics that must reach a person: an unknown setting, a future the
//! macro cannot see, a router or layer that records nothing. Through `tracing` (as a
//! warning, target `mcp_monitor`) when a subscriber is in effect; otherwise once to
//! stderr, since a service with no subscriber would show nothing at all.

use std::sync::Mutex;

/// Logs a diagnostic: `diagnostic!(field = value, ...; "format", args...)`. The fields
/// go to `tracing` only; stderr gets the message.
macro_rules! diagnostic {
    ($($field:ident = $value:expr),* ; $($arg:tt)+) => {{
        let message = ::std::format!($($arg)+);
        if $crate::base::diagnostic::subscribed() {
            ::tracing::warn!(target: "mcp_monitor", $($field = $value,)* "{message}");
        } else {
            $crate::base::diagnostic::to_stderr(&message);
        }
    }};
}
pub(crate) use diagnostic;

/// Whether a `tracing` subscriber is in effect on this thread (the global one or a
/// scoped one).
pub(crate) fn subscribed() -> bool {
    tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
}

/// The most distinct messages remembered (each is written once); past it, a message
/// is written every time rather than memory growing.
const REMEMBERED: usize = 256;

/// Writes `message` to stderr, once per process for the same message, with control
/// characters escaped (a message may quote a variable's name or value).
pub(crate) fn to_stderr(message: &str) {
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    {
        let mut seen = SEEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.iter().any(|m| m == message) {
            return;
        }
        if seen.len() < REMEMBERED {
            seen.push(message.to_owned());
        }
    }
    eprintln!("mcp-monitor: warning: {}", printable(message));
}

/// `s` with its control characters escaped (`\n` as `\\n`).
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(printable("plain é"), "plain é");
    }

    #[test]
    fn a_scoped_subscriber_counts() {
        let sub = tracing::subscriber::NoSubscriber::default();
        tracing::subscriber::with_default(sub, || assert!(!subscribed()));
        tracing::dispatcher::with_default(&tracing::Dispatch::new(Recorder), || {
            assert!(subscribed());
        });
    }

    struct Recorder;
    impl tracing::Subscriber for Recorder {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
}
