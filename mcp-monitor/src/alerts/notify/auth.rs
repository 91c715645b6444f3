//! Trust and credentials for the push: basic auth from a URL's user information (split
//! off, so that what is shown never carries it), the HTTP client with the CA of
//! `MCP_ALERTMANAGER_CA_FILE` and the client certificate of `MCP_ALERTMANAGER_CERT_FILE` /
//! `MCP_ALERTMANAGER_KEY_FILE`, and the bearer token of
//! `MCP_ALERTMANAGER_BEARER_TOKEN_FILE`. Every file is read at start-up, so that a bad
//! one stops it with an error naming the variable and the path.

#![cfg_attr(not(feature = "alertmanager"), allow(dead_code, unused_imports))]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::base::error::Error;
#[cfg(feature = "alertmanager")]
use crate::settings::token_file;
use crate::settings::var;
use crate::settings::Settings;

/// The timeout of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest certificate or key file read (a chain of a few certificates is a few KiB).
const PEM_FILE_LIMIT: u64 = 1 << 20;
const CA: &str = var::ALERTMANAGER_CA_FILE;
const CERT: &str = var::ALERTMANAGER_CERT_FILE;
const KEY: &str = var::ALERTMANAGER_KEY_FILE;
const TOKEN: &str = var::ALERTMANAGER_BEARER_TOKEN_FILE;

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
#[cfg(feature = "alertmanager")]
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
            variable: var::ALERTMANAGER_URL,
            value: crate::settings::without_password(&s.alertmanager_urls.join(",")),
            reason: format!("cannot build the HTTP client: {e}"),
        },
    })
}

/// The bearer token, read again before each send so that a rotated token is used; a
/// file that cannot be read then keeps the last token (logged once per streak).
#[derive(Debug)]
#[cfg(feature = "alertmanager")]
pub(super) struct Bearer {
    path: PathBuf,
    last: Mutex<String>,
    failing: AtomicBool,
}

#[cfg(feature = "alertmanager")]
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

/// Splits the user information off a base URL: the URL without it (what is shown), and
/// the percent-decoded user and password (what is sent, as basic auth).
pub(super) fn split_userinfo(url: &str) -> (String, Option<(String, Option<String>)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(percent_decode(p))),
                None => (userinfo, None),
            };
            (
                format!("{scheme}://{host}{path}"),
                Some((percent_decode(user), password)),
            )
        }
        None => (url.to_owned(), None),
    }
}

/// `%XX` escapes decoded (as a URL's user information writes `@`, `:` or `%`); an
/// invalid escape is kept as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::notify::Notifier;

    #[test]
    fn userinfo_is_split_off_and_decoded() {
        assert_eq!(
            split_userinfo("https://a:b%40c@am.example.com/x"),
            (
                "https://am.example.com/x".to_owned(),
                Some(("a".to_owned(), Some("b@c".to_owned())))
            )
        );
        assert_eq!(
            split_userinfo("http://u@am:9093"),
            ("http://am:9093".to_owned(), Some(("u".to_owned(), None)))
        );
        assert_eq!(
            split_userinfo("http://am:9093"),
            ("http://am:9093".to_owned(), None)
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("p%3Aw%25"), "p:w%");
    }

    /// Bad files stop the build, naming the variable and the path.
    #[cfg(feature = "alertmanager")]
    #[test]
    fn bad_files_are_start_up_errors_naming_the_variable_and_the_path() {
        let dir = std::env::temp_dir().join(format!("mcp-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let missing = dir.join("missing.pem");
        let base = Settings {
            alertmanager_urls: vec!["https://am:9093".into()],
            ..Settings::default()
        };
        type Set = fn(&mut Settings, std::path::PathBuf);
        let cases: [(&str, &std::path::Path, Set); 5] = [
            ("MCP_ALERTMANAGER_CA_FILE", &missing, |s, p| {
                s.alertmanager_ca_file = Some(p);
            }),
            ("MCP_ALERTMANAGER_CA_FILE", &not_pem, |s, p| {
                s.alertmanager_ca_file = Some(p);
            }),
            ("MCP_ALERTMANAGER_CERT_FILE", &not_pem, |s, p| {
                s.alertmanager_cert_file = Some(p.clone());
                s.alertmanager_key_file = Some(p);
            }),
            ("MCP_ALERTMANAGER_BEARER_TOKEN_FILE", &missing, |s, p| {
                s.alertmanager_bearer_token_file = Some(p);
            }),
            ("MCP_ALERTMANAGER_BEARER_TOKEN_FILE", &dir, |s, p| {
                s.alertmanager_bearer_token_file = Some(p);
            }),
        ];
        for (variable, path, set) in cases {
            let mut s = base.clone();
            set(&mut s, path.to_owned());
            let e = Notifier::new(&s).unwrap_err().to_string();
            assert!(
                e.contains(variable) && e.contains(&path.display().to_string()),
                "{variable}: {e}"
            );
        }
        // A key file that holds a certificate: named as the key.
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        std::fs::write(&not_pem, cert).unwrap();
        let mut s = base.clone();
        s.alertmanager_cert_file = Some(not_pem.clone());
        s.alertmanager_key_file = Some(not_pem.clone());
        let e = Notifier::new(&s).unwrap_err().to_string();
        assert!(e.contains("MCP_ALERTMANAGER_KEY_FILE"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
