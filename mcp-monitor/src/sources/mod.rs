//! What the application reports besides calls and requests: cache hits and misses,
//! connection pools, the resources of the machine and the process, and the Tokio runtime.

pub(crate) mod caches;
pub(crate) mod pools;
pub(crate) mod resources;
pub(crate) mod runtime;
