//! The demo's listen address, `MCP_ADDR`: the demo reads it, not the library (which
//! serves whatever listener it is given, see `mcp_monitor::serve`).

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// The variable that holds the listen address.
pub const ADDR_VARIABLE: &str = "MCP_ADDR";

/// The listen address when `MCP_ADDR` is unset: `127.0.0.1:8080`.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

/// Why the demo cannot listen; every message names `MCP_ADDR`.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// `MCP_ADDR` is not an address.
    #[error(
        "invalid value for {ADDR_VARIABLE}: {value:?}: expected an address such as 127.0.0.1:8080"
    )]
    Invalid {
        /// The value as given (trimmed).
        value: String,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr} ({ADDR_VARIABLE}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why it could not be bound.
        #[source]
        source: std::io::Error,
    },
}

/// Reads `MCP_ADDR` from the environment; [`DEFAULT_ADDR`] when unset.
///
/// # Errors
///
/// [`ListenError::Invalid`] naming the variable and the value when it is not an address
/// (a value that is not Unicode included).
pub fn addr_from_env() -> Result<SocketAddr, ListenError> {
    match std::env::var(ADDR_VARIABLE) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_ADDR),
        Err(std::env::VarError::NotUnicode(v)) => Err(ListenError::Invalid {
            value: v.to_string_lossy().into_owned(),
        }),
        Ok(v) => parse_addr(&v),
    }
}

/// Parses a listen address such as `127.0.0.1:8080` or `[::1]:0`.
///
/// # Errors
///
/// [`ListenError::Invalid`] naming `MCP_ADDR` and the value.
pub fn parse_addr(value: &str) -> Result<SocketAddr, ListenError> {
    let value = value.trim();
    value.parse().map_err(|_| ListenError::Invalid {
        value: value.to_owned(),
    })
}

/// Binds `addr`.
///
/// # Errors
///
/// [`ListenError::Bind`] naming `MCP_ADDR` and the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_parses_and_anything_else_is_refused_by_name() {
        assert_eq!(parse_addr("0.0.0.0:9000").unwrap().port(), 9000);
        assert_eq!(parse_addr(" [::1]:0 ").unwrap().port(), 0);
        assert_eq!(DEFAULT_ADDR.to_string(), "127.0.0.1:8080");
        for value in ["localhost", "", "127.0.0.1", "8080"] {
            let msg = parse_addr(value).unwrap_err().to_string();
            assert!(
                msg.contains("MCP_ADDR") && msg.contains(&format!("{value:?}")),
                "{value:?}: {msg}"
            );
        }
    }

    #[tokio::test]
    async fn a_taken_address_is_refused_by_name() {
        let taken = bind(parse_addr("127.0.0.1:0").unwrap()).await.unwrap();
        let addr = taken.local_addr().unwrap();
        let msg = bind(addr).await.unwrap_err().to_string();
        assert!(
            msg.contains("MCP_ADDR") && msg.contains(&addr.to_string()),
            "{msg}"
        );
    }
}
