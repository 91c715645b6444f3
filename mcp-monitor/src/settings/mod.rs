//! Settings: read from the environment (`MCP_*`) or set in code.
//!
//! Every value is validated, by one check whichever way it was set; a bad one is an
//! [`Error::InvalidSetting`](crate::Error::InvalidSetting) naming the variable and the
//! value, never a silent fallback to the default.
//!
//! - `values`: the [`Settings`] struct and its defaults;
//! - `env`: [`Settings::from_env`], the parsing of each variable over the defaults;
//! - `parse`: the syntax of the values (percentages, durations, buckets, ...);
//! - `validate`: [`Settings::validate`], every range and cross-field check;
//! - `variables`: the list of variables and the report of unknown ones;
//! - `tokens`: bearer tokens and their files;
//! - `slos`: the syntax of `MCP_SLOS`;
//! - `otlp`: the OTLP push's standard `OTEL_*` variables.

mod env;
mod otlp;
mod parse;
mod slos;
mod tokens;
mod validate;
mod values;
mod variables;

pub use self::otlp::{OtlpSettings, Temporality, OTEL_VARIABLES};
pub use self::values::Settings;
pub use self::variables::{UnknownVariable, VARIABLES};

pub(crate) use self::parse::without_password;
#[cfg(feature = "alertmanager")]
pub(crate) use self::tokens::token_file;

#[cfg(test)]
mod tests;
