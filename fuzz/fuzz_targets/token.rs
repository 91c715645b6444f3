//! `cargo fuzz run token`: see `mcp_monitor_fuzz::token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_monitor_fuzz::token(data));
