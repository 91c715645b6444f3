//! Diagnostics that must reach a person: through `tracing` when a subscriber is
//! installed, else on stderr; each once per key.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Says `message` once for `key` (later calls with the same key say nothing): as a
/// `tracing` warning when a subscriber is installed, on stderr otherwise.
pub(crate) fn warn_once(key: &str, message: &str) {
    let first = SEEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashSet::new)
        .insert(key.to_owned());
    if !first {
        return;
    }
    if tracing::dispatcher::has_been_set() {
        tracing::warn!("{message}");
    } else {
        eprintln!("mcp-monitor: warning: {message}");
    }
}
