//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

/// The value of the first exposition line that starts with `prefix` (name and labels).
pub fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
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
