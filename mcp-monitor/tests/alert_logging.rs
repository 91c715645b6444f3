//! Alerts are logged through `tracing` when they fire and resolve. Its own binary:
//! `tracing` caches each callsite's interest process-wide, so another test thread hitting
//! the same callsite without a subscriber could hide the events from this one's
//! thread-local subscriber.

mod common;

use std::sync::Arc;

/// Collects `(level, message, alert)` of every event.
#[derive(Clone, Default)]
struct Events(Arc<std::sync::Mutex<Vec<(tracing::Level, String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Fields(String, String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                match f.name() {
                    "message" => self.0 = format!("{v:?}"),
                    "alert" => self.1 = format!("{v:?}"),
                    _ => {}
                }
            }
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                if f.name() == "alert" {
                    self.1 = v.to_owned();
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), fields.0, fields.1));
    }
}

#[tokio::test(start_paused = true)]
async fn firing_and_resolving_are_logged_through_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let m = common::monitor_with(&[("MCP_ALERT_FOR", "0")]);
    common::evaluate_cpu(&m, 0.9);
    common::evaluate_cpu(&m, 0.99); // past 80% × 1.2: critical
    common::evaluate_cpu(&m, 0.9);
    common::evaluate_cpu(&m, 0.1);
    let seen = events.0.lock().unwrap().clone();
    for change in ["alert escalated", "alert de-escalated"] {
        assert!(
            seen.contains(&(tracing::Level::WARN, change.into(), "HIGH_CPU_USAGE".into())),
            "{change}: {seen:?}"
        );
    }
    assert!(
        seen.contains(&(
            tracing::Level::WARN,
            "alert firing".into(),
            "HIGH_CPU_USAGE".into()
        )),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(
            tracing::Level::INFO,
            "alert resolved".into(),
            "HIGH_CPU_USAGE".into()
        )),
        "{seen:?}"
    );
}
