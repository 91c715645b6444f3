//! Bearer tokens: from `MCP_*_TOKEN` or from the file named by `MCP_*_TOKEN_FILE`, and
//! the check that a header can carry them.

use std::path::Path;

use super::parse::invalid;
use crate::base::error::Error;

/// A token from `MCP_X_TOKEN` or from the file named by `MCP_X_TOKEN_FILE` (not both).
pub(super) fn token_from(
    name: &'static str,
    value: Option<String>,
    file_name: &'static str,
    file: Option<String>,
) -> Result<Option<String>, Error> {
    match (value, file) {
        (None, None) => Ok(None),
        (Some(_), Some(path)) => Err(invalid(
            file_name,
            &path,
            format!("{name} is set too; set only one of the two"),
        )),
        (Some(token), None) => check_token(name, &token).map(|()| Some(token)),
        (None, Some(path)) => {
            if path.is_empty() {
                return Err(invalid(file_name, "", "expected the path of a file".into()));
            }
            token_file(file_name, Path::new(&path)).map(Some)
        }
    }
}

/// The token in the file `path` named by `variable`, checked as [`check_token`] does;
/// an error names the variable and the path (never the token).
pub(crate) fn token_file(variable: &'static str, path: &Path) -> Result<String, Error> {
    let token = read_token_file(variable, path)?;
    check_token(variable, &token).map_err(|e| match e {
        Error::InvalidSetting { reason, .. } => Error::InvalidSetting {
            variable,
            value: path.display().to_string(),
            reason: format!("the token in the file {reason}"),
        },
        other => other,
    })?;
    Ok(token)
}

/// The longest token file read; anything longer is not a token (and `/dev/zero` must
/// not take the process's memory).
const TOKEN_FILE_LIMIT: u64 = 4096;

/// Reads a token file, dropping one trailing newline (`\n` or `\r\n`).
fn read_token_file(variable: &'static str, path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let error = |source| Error::TokenFile {
        variable,
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(TOKEN_FILE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(error)?;
    if bytes.len() as u64 > TOKEN_FILE_LIMIT {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than {TOKEN_FILE_LIMIT} bytes: not a token"),
        )));
    }
    let mut token = String::from_utf8(bytes).map_err(|_| {
        error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8: not a token",
        ))
    })?;
    if token.ends_with('\n') {
        token.pop();
        if token.ends_with('\r') {
            token.pop();
        }
    }
    Ok(token)
}

/// Refuses a token that no `Authorization: Bearer` header can carry: empty, or with
/// anything but visible ASCII (whitespace and control characters, a trailing newline
/// included). The error shows where the bad character is, never the token.
pub(super) fn check_token(variable: &'static str, token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid(
            variable,
            "",
            "a token must not be empty; unset the variable instead".into(),
        ));
    }
    if let Some((at, c)) = token.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        let what = match c {
            '\n' | '\r' => "a line break (a trailing newline from a file?)",
            c if c.is_whitespace() => "whitespace",
            c if c.is_control() => "a control character",
            _ => "a character outside visible ASCII",
        };
        return Err(Error::InvalidSetting {
            variable,
            value: format!("<{} characters, not shown>", token.chars().count()),
            reason: format!(
                "contains {what} ({c:?}) at byte {at}; a bearer token is visible ASCII only, so it could never match"
            ),
        });
    }
    Ok(())
}
