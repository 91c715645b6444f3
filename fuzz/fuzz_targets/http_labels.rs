//! `cargo fuzz run http_labels`: see `mcp_monitor_fuzz::http_labels`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_monitor_fuzz::http_labels(data));
