//! Prints the Grafana dashboard, its thresholds taken from the alert settings.
//!
//! ```text
//! cargo run --example grafana-dashboard > docs/grafana/mcp-monitor.json
//! ```
//!
//! The thresholds and `MCP_ALERT_CRITICAL_FACTOR` are read from the `MCP_*`
//! environment, as the service and `alert-rules` read them; with none set, the defaults
//! give the committed `docs/grafana/mcp-monitor.json`.

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let settings = match mcp_monitor::Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("grafana-dashboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dashboard = mcp_monitor::fleet::grafana_dashboard(&settings);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_all(dashboard.as_bytes())
        .and_then(|()| out.flush())
    {
        eprintln!("grafana-dashboard: cannot write the dashboard: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
