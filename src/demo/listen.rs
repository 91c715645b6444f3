//! The demo's listen addresses, `MCP_ADDR` (HTTP) and `MCP_GRPC_ADDR` (gRPC): the demo
//! reads them, not the library (which serves whatever listener it is given, see
//! `mcp_monitor::serve`). One [`Address`] each, read, parsed and bound the same way.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

/// A listen address the demo reads from a variable, with its default.
#[derive(Debug, Clone, Copy)]
pub struct Address {
    /// The variable that holds it.
    pub variable: &'static str,
    /// The address when the variable is unset.
    pub default: SocketAddr,
}

/// The HTTP listener: `MCP_ADDR`, `127.0.0.1:8080` when unset.
pub const HTTP: Address = Address {
    variable: "MCP_ADDR",
    default: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
};

/// The gRPC listener: `MCP_GRPC_ADDR`, `127.0.0.1:50051` when unset.
pub const GRPC: Address = Address {
    variable: "MCP_GRPC_ADDR",
    default: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50051),
};

/// Why the demo cannot listen; every message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The variable is not an address.
    #[error("invalid value for {variable}: {value:?}: expected an address such as {example}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// The value as given (trimmed).
        value: String,
        /// An address it could hold (its default).
        example: SocketAddr,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr} ({variable}): {source}")]
    Bind {
        /// The variable.
        variable: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why it could not be bound.
        #[source]
        source: std::io::Error,
    },
}

impl Address {
    /// Reads the address from the environment; [`Address::default`] when unset.
    ///
    /// # Errors
    ///
    /// [`ListenError::Invalid`] naming the variable and the value when it is not an
    /// address (a value that is not Unicode included).
    pub fn from_env(&self) -> Result<SocketAddr, ListenError> {
        match std::env::var(self.variable) {
            Err(std::env::VarError::NotPresent) => Ok(self.default),
            Err(std::env::VarError::NotUnicode(v)) => Err(self.invalid(&v.to_string_lossy())),
            Ok(v) => self.parse(&v),
        }
    }

    /// Parses a listen address such as `127.0.0.1:8080` or `[::1]:0`.
    ///
    /// # Errors
    ///
    /// [`ListenError::Invalid`] naming the variable and the value.
    pub fn parse(&self, value: &str) -> Result<SocketAddr, ListenError> {
        let value = value.trim();
        value.parse().map_err(|_| self.invalid(value))
    }

    /// Binds `addr`.
    ///
    /// # Errors
    ///
    /// [`ListenError::Bind`] naming the variable and the address.
    pub async fn bind(&self, addr: SocketAddr) -> Result<TcpListener, ListenError> {
        TcpListener::bind(addr)
            .await
            .map_err(|source| ListenError::Bind {
                variable: self.variable,
                addr,
                source,
            })
    }

    fn invalid(&self, value: &str) -> ListenError {
        ListenError::Invalid {
            variable: self.variable,
            value: value.to_owned(),
            example: self.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_parses_and_anything_else_is_refused_by_name() {
        assert_eq!(HTTP.parse("0.0.0.0:9000").unwrap().port(), 9000);
        assert_eq!(HTTP.parse(" [::1]:0 ").unwrap().port(), 0);
        assert_eq!(HTTP.default.to_string(), "127.0.0.1:8080");
        assert_eq!(GRPC.default.to_string(), "127.0.0.1:50051");
        for address in [HTTP, GRPC] {
            for value in ["localhost", "", "127.0.0.1", "8080"] {
                let msg = address.parse(value).unwrap_err().to_string();
                assert!(
                    msg.contains(address.variable)
                        && msg.contains(&format!("{value:?}"))
                        && msg.contains(&address.default.to_string()),
                    "{value:?}: {msg}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_taken_address_is_refused_by_name() {
        let taken = HTTP.bind(HTTP.parse("127.0.0.1:0").unwrap()).await.unwrap();
        let addr = taken.local_addr().unwrap();
        for address in [HTTP, GRPC] {
            let msg = address.bind(addr).await.unwrap_err().to_string();
            assert!(
                msg.contains(address.variable) && msg.contains(&addr.to_string()),
                "{msg}"
            );
        }
    }
}
