//! `cargo fuzz run exposition`: see `mcp_monitor_fuzz::exposition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_monitor_fuzz::exposition(data));
