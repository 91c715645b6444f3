//! The server: `axum::serve` with header, body and idle timeouts and a graceful
//! shutdown that loses no request ([`serve`], [`ServerTimeouts`]). Public as
//! [`crate::http::serve`] and [`crate::serve`].

mod serve;

pub use serve::{serve, ServerTimeouts};
