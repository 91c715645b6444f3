//! Artefacts for a fleet of instances: the Prometheus rules file and the Grafana
//! dashboard, with the thresholds of the alert engine.

pub(crate) mod grafana;
pub(crate) mod rules;
