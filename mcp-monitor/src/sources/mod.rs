//! What the application reports besides calls and requests: cache hits and misses,
//! connection pools, and the resources of the machine and the process.

pub(crate) mod caches;
pub(crate) mod pools;
pub(crate) mod resources;
