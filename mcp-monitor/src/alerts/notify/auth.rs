//! Trust and credentials for the push: the HTTP client with the CA of
//! `MCP_ALERTMANAGER_CA_FILE` and the client certificate of `MCP_ALERTMANAGER_CERT_FILE` /
//! `MCP_ALERTMANAGER_KEY_FILE`, and the bearer token of
//! `MCP_ALERTMANAGER_BEARER_TOKEN_FILE`. Every file is read at start-up, so that a bad
//! one stops it with an error naming the variable and the path.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::base::error::Error;
use crate::settings::{token_file, Settings};

/// The timeout of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest certificate or key file read (a chain of a few certificates is a few KiB).
const PEM_FILE_LIMIT: u64 = 1 << 20;
const CA: &str = "MCP_ALERTMANAGER_CA_FILE";
const CERT: &str = "MCP_ALERTMANAGER_CERT_FILE";
const KEY: &str = "MCP_ALERTMANAGER_KEY_FILE";
const TOKEN: &str = "MCP_ALERTMANAGER_BEARER_TOKEN_FILE";

fn refused(variable: &'static str, path: &Path, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        variable,
        value: path.display().to_string(),
        reason: reason.into(),
    }
}

/// A PEM file that must hold a block `-----BEGIN <label>`.
fn pem_file(
    variable: &'static str,
    path: &Path,
    label: &str,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(PEM_FILE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|e| refused(variable, path, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > PEM_FILE_LIMIT {
        return Err(refused(
            variable,
            path,
            format!("longer than {PEM_FILE_LIMIT} bytes: not {what}"),
        ));
    }
    let marker = format!("-----BEGIN {label}");
    if !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()) {
        return Err(refused(
            variable,
            path,
            format!("holds no {what} (expected PEM, `{marker}...`)"),
        ));
    }
    Ok(bytes)
}

/// The client every Alertmanager is reached with.
pub(super) fn client(s: &Settings) -> Result<reqwest::Client, Error> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("mcp-monitor/", env!("CARGO_PKG_VERSION")));
    // The variable a failure of the build is about.
    let mut blame: Option<(&'static str, &PathBuf)> = None;
    if let Some(path) = &s.alertmanager_ca_file {
        let pem = pem_file(CA, path, "CERTIFICATE", "certificate")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| refused(CA, path, format!("not PEM certificates: {e}")))?;
        b = b.tls_built_in_root_certs(false);
        for c in certs {
            b = b.add_root_certificate(c);
        }
        blame = Some((CA, path));
    }
    if let (Some(cert), Some(key)) = (&s.alertmanager_cert_file, &s.alertmanager_key_file) {
        let mut pem = pem_file(CERT, cert, "CERTIFICATE", "certificate")?;
        let key_pem = pem_file(KEY, key, "", "private key")?;
        if !String::from_utf8_lossy(&key_pem).contains("PRIVATE KEY-----") {
            return Err(refused(
                KEY,
                key,
                "holds no private key (expected PEM, `-----BEGIN PRIVATE KEY-----...`)",
            ));
        }
        pem.push(b'\n');
        pem.extend_from_slice(&key_pem);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            refused(
                KEY,
                key,
                format!(
                    "cannot be used with the certificate of {CERT} ({}): {e}",
                    cert.display()
                ),
            )
        })?;
        b = b.identity(identity);
        blame = Some((CERT, cert));
    }
    b.build().map_err(|e| match blame {
        Some((variable, path)) => refused(variable, path, format!("refused by TLS: {e}")),
        None => Error::InvalidSetting {
            variable: "MCP_ALERTMANAGER_URL",
            value: crate::settings::without_password(&s.alertmanager_urls.join(",")),
            reason: format!("cannot build the HTTP client: {e}"),
        },
    })
}

/// The bearer token, read again before each send so that a rotated token is used; a
/// file that cannot be read then keeps the last token (logged once per streak).
#[derive(Debug)]
pub(super) struct Bearer {
    path: PathBuf,
    last: Mutex<String>,
    failing: AtomicBool,
}

impl Bearer {
    /// `None` without `MCP_ALERTMANAGER_BEARER_TOKEN_FILE`.
    pub(super) fn new(s: &Settings) -> Result<Option<Self>, Error> {
        let Some(path) = &s.alertmanager_bearer_token_file else {
            return Ok(None);
        };
        let token = token_file(TOKEN, path)?;
        Ok(Some(Self {
            path: path.clone(),
            last: Mutex::new(token),
            failing: AtomicBool::new(false),
        }))
    }

    /// The token in the file now (or the last one read).
    pub(super) fn token(&self) -> String {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match token_file(TOKEN, &self.path) {
            Ok(token) => {
                if self.failing.swap(false, Relaxed) {
                    tracing::info!(path = %self.path.display(), "{TOKEN} readable again");
                }
                *last = token;
            }
            Err(e) => {
                if !self.failing.swap(true, Relaxed) {
                    tracing::warn!(error = %e, "the last token read is sent until the file can be read again");
                }
            }
        }
        last.clone()
    }
}
