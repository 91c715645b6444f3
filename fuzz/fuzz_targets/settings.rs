//! `cargo fuzz run settings`: see `mcp_monitor_fuzz::settings`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_monitor_fuzz::settings(data));
