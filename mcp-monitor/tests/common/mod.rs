//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use mcp_monitor_test_kit::Exposition;

/// The value of the sample `series` (its name and, in braces, exactly its labels) in the
/// exposition `text`, which the test kit's strict parser must accept.
pub fn value(text: &str, series: &str) -> Option<f64> {
    let wanted = Exposition::parse(&format!("{series} 0"));
    let wanted = &wanted.samples[0];
    Exposition::parse(text)
        .samples
        .into_iter()
        .find(|s| s.name == wanted.name && s.labels == wanted.labels)
        .map(|s| s.value)
}

/// Settings from `MCP_*` pairs, as `Settings::from_env` would read them.
pub fn settings(vars: &[(&str, &str)]) -> mcp_monitor::Settings {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    mcp_monitor::Settings::from_lookup(&move |k| map.get(k).cloned()).unwrap()
}

/// A monitor built (not installed) from `MCP_*` pairs.
pub fn monitor_with(vars: &[(&str, &str)]) -> mcp_monitor::Monitor {
    mcp_monitor::Monitor::builder()
        .with_settings(settings(vars))
        .build()
        .unwrap()
}

/// Starts `app` on a real socket on 127.0.0.1 and returns its address.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// `GET url`, parsed as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Feeds `m` a resource sample with only the CPU set, then evaluates the alerts.
pub fn evaluate_cpu(m: &mcp_monitor::Monitor, cpu: f64) {
    m.observe_resources(mcp_monitor::ResourceSample {
        cpu: Some(cpu),
        ..mcp_monitor::ResourceSample::default()
    });
    m.evaluate_alerts();
}

/// The exposition of every series (a monitor built here sees the macro series, which
/// are process-wide).
pub fn text() -> String {
    mcp_monitor::Monitor::builder().build().unwrap().render()
}

/// `mcp_db_operations_total{operation, table, status}`, 0 when absent.
pub fn db(op: &str, table: &str, status: &str) -> f64 {
    let key = format!(
        "mcp_db_operations_total{{operation=\"{op}\",table=\"{table}\",status=\"{status}\"}}"
    );
    value(&text(), &key).unwrap_or(0.0)
}

/// `mcp_workflow_steps_total{workflow, step, status}`, 0 when absent.
pub fn step(wf: &str, step: &str, status: &str) -> f64 {
    let key = format!(
        "mcp_workflow_steps_total{{workflow=\"{wf}\",step=\"{step}\",status=\"{status}\"}}"
    );
    value(&text(), &key).unwrap_or(0.0)
}

/// `mcp_active_workflows{workflow}`, 0 when absent.
pub fn active(wf: &str) -> f64 {
    value(
        &text(),
        &format!("mcp_active_workflows{{workflow=\"{wf}\"}}"),
    )
    .unwrap_or(0.0)
}

/// A `tracing` layer that keeps the message of every `WARN` event.
#[derive(Clone, Default)]
pub struct Warnings(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Warnings {
    /// The messages so far.
    pub fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut m = Message(String::new());
            event.record(&mut m);
            self.0.lock().unwrap().push(m.0);
        }
    }
}

/// Polls `fut` on this thread until it is ready, with a waker that does nothing: for
/// futures that complete without a runtime (or that yield and are polled again).
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
