//! Reading the settings from the environment: [`Settings::from_env`] parses every
//! `MCP_*` variable that is set over the defaults, then [`validates`](Settings::validate)
//! the result.

use super::parse::without_password;
use super::table::{Lookup, TABLE};
use super::Settings;
use crate::base::diagnostic::diagnostic;
use crate::base::error::Error;

/// The variables whose value an error must never show.
const SECRETS: [&str; 2] = ["MCP_ADMIN_TOKEN", "MCP_METRICS_TOKEN"];

impl Settings {
    /// The defaults overridden by every `MCP_*` variable that is set, then
    /// [validated](Self::validate). An `MCP_*` variable that nothing reads (a typo such
    /// as `MCP_CPU_TRESHOLD`) is reported naming the closest known variable, through
    /// `tracing` as a warning or, with no subscriber installed, once on stderr; see
    /// [`unknown_variables`](Self::unknown_variables). A near miss of a token variable
    /// (`MCP_METRIC_TOKEN`, `MCP_ADMIN_TOKN_FILE`) is an error instead: it would
    /// leave the endpoints open.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used (a
    /// value that is not Unicode included); [`Error::TokenFile`] when a token file cannot
    /// be read; [`Error::MisspelledVariable`] for a near miss of a token variable.
    pub fn from_env() -> Result<Self, Error> {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        Self::check_names(&names)?;
        Self::from_lookup(&|name| match std::env::var(name) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            // Not Unicode: passed on so that it is refused by name below, not ignored.
            Err(std::env::VarError::NotUnicode(v)) => Some(v.to_string_lossy().into_owned()),
        })
    }

    /// Reports the `MCP_*` variables among `names` that nothing reads (see
    /// [`diagnostic`](crate::base::diagnostic): through `tracing`, or once to stderr),
    /// and refuses a near miss of a token variable: `MCP_METRIC_TOKEN=x` must not leave
    /// `/metrics` open without a word.
    pub(super) fn check_names<S: AsRef<str>>(names: &[S]) -> Result<(), Error> {
        let unknown = Self::unknown_variables(names);
        if let Some((name, suggestion)) = unknown.iter().find_map(|u| {
            u.suggestion
                .filter(|s| s.contains("TOKEN"))
                .map(|s| (&u.name, s))
        }) {
            return Err(Error::MisspelledVariable {
                name: name.clone(),
                suggestion,
            });
        }
        for u in unknown {
            let name = u.name.as_str();
            match u.suggestion {
                Some(s) => diagnostic!(variable = name, suggestion = s;
                    "unknown setting {name} is ignored; did you mean {s}?"),
                None => diagnostic!(variable = name; "unknown setting {name} is ignored"),
            }
        }
        Ok(())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    ///
    /// Besides the syntax of each value, two guards apply to the environment only,
    /// because they catch a slip in a deployment's configuration rather than a value
    /// that does not work: the floors of the periods (`MCP_RESOURCE_INTERVAL` under
    /// `sysinfo`'s CPU interval, `MCP_ALERT_EVALUATION_INTERVAL` under 100 ms,
    /// `MCP_METRICS_WINDOW`, `MCP_METRICS_RETENTION` and `MCP_ALERT_RESEND_DELAY` under
    /// 1 s, a timeout or latency under 1 ms: `5ms` written for `5s`), and
    /// `MCP_ALERT_MIN_SAMPLES=0`, which is written `1` (a rate needs one sample, so the
    /// engine and the rules treat 0 as 1). Code may set them on purpose (tests tick fast,
    /// and set no sample minimum), and [`validate`](Self::validate) lets it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for the first variable whose value cannot be used, with
    /// the value as written in the environment.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, Error> {
        let s = Self::parse(lookup)?;
        s.validate().map_err(|e| match e {
            // Show the value as the variable wrote it (`150%`, not `1.5`).
            Error::InvalidSetting {
                variable,
                value,
                reason,
            } => Error::InvalidSetting {
                variable,
                value: lookup(variable)
                    .filter(|_| !SECRETS.contains(&variable))
                    .map_or(value, |v| without_password(v.trim())),
                reason,
            },
            other => other,
        })?;
        Ok(s)
    }

    /// The defaults overridden by every variable that is set, each parsed by its syntax
    /// (its row of the [table](super::table)).
    fn parse(lookup: Lookup<'_>) -> Result<Self, Error> {
        let mut s = Self::default();
        for v in TABLE {
            v.parse(&mut s, lookup)?;
        }
        s.otlp = super::otlp::parse(lookup)?;
        Ok(s)
    }
}
