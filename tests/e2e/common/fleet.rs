//! The fleet tests' Alertmanager configuration; the servers themselves are the test
//! kit's (`mcp_monitor_test_kit::servers`).

use std::path::PathBuf;

/// A minimal Alertmanager configuration: one receiver that notifies nobody, groups
/// sent at once, and the `inhibit_rules:` section of the shipped example.
pub(crate) fn am_config_with_shipped_inhibit_rules() -> String {
    let shipped = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/alertmanager/alertmanager.yml"),
    )
    .expect("read docs/alertmanager/alertmanager.yml");
    let inhibit = shipped
        .split_once("\ninhibit_rules:\n")
        .map(|(_, rest)| {
            // Up to the next top-level key.
            rest.lines()
                .take_while(|l| l.is_empty() || l.starts_with([' ', '#']))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        })
        .expect("the shipped example has inhibit_rules");
    format!(
        "route:\n  receiver: nobody\n  group_by: [alertname, instance]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: nobody\ninhibit_rules:\n{inhibit}"
    )
}
