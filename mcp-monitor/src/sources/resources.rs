//! System and process resources, sampled through `sysinfo`.

use std::time::Instant;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};

/// One sample of the machine and of this process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceSample {
    /// CPU in use across all cores, 0..=1.
    pub cpu: Option<f64>,
    /// Memory in use over the total, 0..=1. Inside a container with a memory limit
    /// (cgroup), the limit is the total and the container's use the numerator.
    pub memory: Option<f64>,
    /// The 1-minute load average divided by the number of cores.
    pub load_per_core: Option<f64>,
    /// This process's resident memory in bytes.
    pub process_resident_bytes: Option<u64>,
    /// This process's CPU use, as a share of one core (can exceed 1 on several cores).
    pub process_cpu: Option<f64>,
}

/// A function that gives resource samples in place of `sysinfo`.
pub(crate) type SampleFn = std::sync::Arc<dyn Fn() -> ResourceSample + Send + Sync>;

/// Where a monitor's resource samples come from: chosen on the builder
/// ([`MonitorBuilder::without_resource_sampling`](crate::MonitorBuilder::without_resource_sampling),
/// [`MonitorBuilder::with_resource_source`](crate::MonitorBuilder::with_resource_source)).
#[derive(Clone, Default)]
pub(crate) enum ResourceSource {
    /// `sysinfo`, from the first sample on.
    #[default]
    System,
    /// No sampling: the figures are what [`Monitor::observe_resources`](crate::Monitor::observe_resources)
    /// last fed (none until then).
    Fed,
    /// The application's function, called at every sample.
    Custom(SampleFn),
}

impl std::fmt::Debug for ResourceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::System => "System",
            Self::Fed => "Fed",
            Self::Custom(_) => "Custom(..)",
        })
    }
}

/// The sampling state of a monitor: its source, and the `sysinfo` state the system
/// source keeps between samples (made at the first sample).
#[derive(Debug, Default)]
pub(crate) struct Sampling {
    source: ResourceSource,
    system: Option<ResourceSampler>,
}

impl Sampling {
    pub(crate) fn new(source: ResourceSource) -> Self {
        Self {
            source,
            system: None,
        }
    }

    /// A new sample, or `None` when the source is [`ResourceSource::Fed`] (the fed
    /// sample stays).
    pub(crate) fn sample(&mut self) -> Option<ResourceSample> {
        match &self.source {
            ResourceSource::System => Some(
                self.system
                    .get_or_insert_with(ResourceSampler::new)
                    .sample(),
            ),
            ResourceSource::Fed => None,
            ResourceSource::Custom(f) => Some(f()),
        }
    }

    /// Whether samples come from `sysinfo` (whose CPU figure needs a second sample).
    pub(crate) fn is_system(&self) -> bool {
        matches!(self.source, ResourceSource::System)
    }
}

/// Keeps the `sysinfo` state needed between samples (CPU use is a difference).
pub(crate) struct ResourceSampler {
    system: System,
    pid: Option<Pid>,
    primed: Option<Instant>,
}

impl std::fmt::Debug for ResourceSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceSampler").finish_non_exhaustive()
    }
}

impl ResourceSampler {
    pub(crate) fn new() -> Self {
        let mut system = System::new_with_specifics(RefreshKind::nothing());
        system.refresh_cpu_usage();
        Self {
            system,
            pid: sysinfo::get_current_pid().ok(),
            primed: Some(Instant::now()),
        }
    }

    /// Takes a sample. CPU figures need two refreshes at least
    /// `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL` apart; the first sample has none.
    pub(crate) fn sample(&mut self) -> ResourceSample {
        let cpu_ready = self
            .primed
            .is_some_and(|t| t.elapsed() >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        let cpus = self.system.cpus().len().max(1);
        let cpu = cpu_ready.then(|| f64::from(self.system.global_cpu_usage()) / 100.0);

        let (used, total) = match self.system.cgroup_limits() {
            Some(c) if c.total_memory > 0 && c.total_memory < self.system.total_memory() => {
                (c.total_memory.saturating_sub(c.free_memory), c.total_memory)
            }
            _ => (self.system.used_memory(), self.system.total_memory()),
        };
        let memory = (total > 0).then(|| used as f64 / total as f64);
        let load = System::load_average().one;
        let load_per_core = (load >= 0.0).then(|| load / cpus as f64);

        let (mut process_resident_bytes, mut process_cpu) = (None, None);
        if let Some(pid) = self.pid {
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing().with_memory().with_cpu(),
            );
            if let Some(p) = self.system.process(pid) {
                process_resident_bytes = Some(p.memory());
                process_cpu = cpu_ready.then(|| f64::from(p.cpu_usage()) / 100.0);
            }
        }
        self.primed.get_or_insert_with(Instant::now);
        ResourceSample {
            cpu,
            memory,
            load_per_core,
            process_resident_bytes,
            process_cpu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_in_range() {
        let mut s = ResourceSampler::new();
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let r = s.sample();
        let cpu = r.cpu.expect("cpu after the minimum interval");
        assert!((0.0..=1.0).contains(&cpu), "{cpu}");
        let mem = r.memory.expect("memory");
        assert!(mem > 0.0 && mem <= 1.0, "{mem}");
        assert!(r.load_per_core.unwrap() >= 0.0);
        assert!(r.process_resident_bytes.unwrap() > 0);
    }
}
