//! The `metrics` facade: the global recorder for the application's own metrics, and
//! forwarding to a recorder that is not ours.

pub(crate) mod exporter;
pub(crate) mod forward;
