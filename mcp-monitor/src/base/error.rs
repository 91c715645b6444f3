//! The crate's error type.

/// Everything that can go wrong while configuring or installing the monitor.
///
/// ```
/// use mcp_monitor::{Error, Settings};
///
/// let env = |name: &str| (name == "MCP_CPU_THRESHOLD").then(|| "lots".to_owned());
/// match Settings::from_lookup(&env) {
///     Err(Error::InvalidSetting { variable, value, .. }) => {
///         assert_eq!((variable, value.as_str()), ("MCP_CPU_THRESHOLD", "lots"));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable (or builder value) could not be used.
    #[error("invalid value for {variable}: {value:?}: {reason}")]
    InvalidSetting {
        /// The variable, such as `MCP_CPU_THRESHOLD`.
        variable: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The file named by a `*_TOKEN_FILE` variable could not be read.
    #[error("cannot read {variable} {path:?}: {source}")]
    TokenFile {
        /// The variable, such as `MCP_ADMIN_TOKEN_FILE`.
        variable: &'static str,
        /// The path it names.
        path: std::path::PathBuf,
        /// Why the file could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A global `metrics` recorder is already installed (ours or another).
    #[error("a global metrics recorder is already installed; install the monitor once, before any other recorder")]
    AlreadyInstalled,
}
