//! Settings: read from the environment (`MCP_*`) or set in code.
//!
//! Every value is validated, by one check whichever way it was set; a bad one is an
//! [`Error::InvalidSetting`](crate::Error::InvalidSetting) naming the variable and the
//! value, never a silent fallback to the default.
//!
//! - `values`: the [`Settings`] struct and its defaults;
//! - `env`: [`Settings::from_env`], the parsing of each variable over the defaults;
//! - `parse`: the syntax of the values (percentages, durations, buckets, ...);
//! - `bounds`: what one value must be (ranges, labels, the instance);
//! - `validate`: [`Settings::validate`], the rows' checks and the cross-field ones;
//! - `table`: one row per variable (name, kind and bounds, default, doc), from which
//!   the parsing, the per-variable checks, [`VARIABLES`] and the docs' table come;
//! - `variables`: the report of unknown variables;
//! - `tokens`: bearer tokens and their files;
//! - `slos`: the syntax of `MCP_SLOS`;
//! - `otlp`: the OTLP push's standard `OTEL_*` variables.

mod bounds;
mod env;
mod otlp;
mod parse;
mod slos;
mod table;
mod tokens;
mod validate;
mod values;
mod variables;

pub use self::otlp::{OtlpSettings, Temporality, OTEL_VARIABLES};
pub(crate) use self::table::var;
pub use self::table::{markdown_table, VARIABLES};
pub use self::values::Settings;
pub use self::variables::UnknownVariable;

pub(crate) use self::parse::without_password;
#[cfg(feature = "alertmanager")]
pub(crate) use self::tokens::token_file;

#[cfg(test)]
mod tests;
