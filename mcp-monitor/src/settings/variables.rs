//! The report of the `MCP_*` variables nothing reads (with the
//! closest known name, for typos).

use super::table::VARIABLES;
use super::Settings;

/// An `MCP_*` variable that no part of the monitor reads, found by
/// [`Settings::unknown_variables`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The variable as set.
    pub name: String,
    /// The known variable closest to it, if one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown variable {}", self.name)?;
        if let Some(s) = self.suggestion {
            write!(f, " (did you mean {s}?)")?;
        }
        Ok(())
    }
}

impl Settings {
    /// The names among `names` that start with `MCP_` but are none of [`VARIABLES`],
    /// each with the closest known name when it is likely a typo.
    pub fn unknown_variables<S: AsRef<str>>(names: &[S]) -> Vec<UnknownVariable> {
        let mut out: Vec<UnknownVariable> = names
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| n.starts_with("MCP_") && !VARIABLES.contains(n))
            .map(|n| UnknownVariable {
                name: n.to_owned(),
                suggestion: closest(n),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The known variable within a few edits of `name`, if any.
fn closest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|known| (strsim::damerau_levenshtein(name, known), *known))
        .filter(|(distance, known)| *distance <= 3.max(known.len() / 5))
        .min()
        .map(|(_, known)| known)
}
