//! The test kit of mcp-monitor: what the end-to-end tests (`tests/e2e`), the runtime's
//! integration tests (`mcp-monitor/tests`) and the fuzz targets (`fuzz/`) share, written
//! once.
//!
//! - [`exposition`]: the one strict parser of the Prometheus text format 0.0.4.
//! - [`tools`]: external programs, and the one rule for a missing one (skipped with a
//!   notice, except under CI, where the test fails); [`promtool`] runs promtool.
//! - [`process`]: child processes stopped by PID when dropped, the demo as a child.
//! - [`browser`]: headless Chromium, node and the npm packages of `tests/browser`.
//! - `ports` (feature `servers`): ports taken without a race: a listener on port 0 passed to
//!   the in-process server; for a binary that binds its own port, a retry on another.
//! - `servers` (feature `servers`): Prometheus and Alertmanager of our own, on loopback,
//!   stopped by PID; `pki` a certificate authority made with the openssl CLI.
//! - `wait` (feature `servers`): polling with a deadline, never a fixed sleep.
//!
//! Servers bind 127.0.0.1 only.

pub mod browser;
pub mod exposition;
pub mod process;
pub mod promtool;
pub mod tools;

#[cfg(feature = "servers")]
pub mod pki;
#[cfg(feature = "servers")]
pub mod ports;
#[cfg(feature = "servers")]
pub mod servers;
#[cfg(feature = "servers")]
pub mod wait;

pub use exposition::{Exposition, Sample};
pub use tools::{external_tool, missing, under_ci};
#[cfg(feature = "servers")]
pub use wait::eventually;

/// Every wait of the tests ends by then.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);
