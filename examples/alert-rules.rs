//! Prints the alert rules as a Prometheus rules file.
//!
//! ```text
//! cargo run --example alert-rules > docs/prometheus/alerts.yml
//! ```
//!
//! The window, `for` duration and evaluation interval are read from the `MCP_*`
//! environment, as the service reads them; the thresholds are not in the file (each
//! instance exports its own). The objectives are `MCP_SLOS`, or the demo's
//! (`demo::OBJECTIVES`) when it is unset. With none set, the defaults and the demo's
//! objectives give the committed `docs/prometheus/alerts.yml`.

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let settings = match mcp_monitor_e2e::demo::settings_from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("alert-rules: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rules = mcp_monitor::fleet::prometheus_rules(&settings);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(rules.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("alert-rules: cannot write the rules: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
