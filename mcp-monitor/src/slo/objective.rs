//! What a service-level objective is: a name, the events it counts (its [`Target`]),
//! which of them are good (its [`Indicator`]), the share that must be good, and the
//! period over which that share is promised.

use std::fmt;
use std::time::Duration;

/// The period of an objective unless it says otherwise: 30 days.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 24 * 3600);

/// One service-level objective: "`objective` of the events of `target` are good over
/// `period`", where `indicator` says which events are good.
///
/// Declared once, in `MCP_SLOS` (grammar in `docs/alerts.md`) or in code, it gives the
/// `SLO_BURN_RATE_FAST` and `SLO_BURN_RATE_SLOW` alerts of the in-process engine and of
/// the generated Prometheus rules, the `mcp_slo_*` gauges, and the objective's place on
/// the page, the report and the Grafana dashboard.
///
/// ```
/// use std::time::Duration;
/// use mcp_monitor::slo::{Objective, Target};
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let fast = Objective::latency("lookup-fast", Target::http(Some("GET"), "/users/{id}"), 0.99, Duration::from_millis(100))
///     .over(Duration::from_secs(7 * 24 * 3600));
/// let written: Objective = "lookup-fast = http GET /users/{id} latency 99% within 100ms over 7d".parse()?;
/// assert_eq!(fast, written);
/// assert_eq!(written.to_string(), "lookup-fast = http GET /users/{id} latency 99% within 100ms over 7d");
///
/// let monitor = mcp_monitor::Monitor::builder()
///     .with_objective(fast)
///     .with_objective(Objective::availability("api", Target::AllHttp, 0.995))
///     .build()?;
/// assert_eq!(monitor.settings().slos.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// The `slo` label of its alerts and gauges: letters, digits, `_`, `-`, `.`.
    pub name: String,
    /// The events it counts.
    pub target: Target,
    /// Which events are good.
    pub indicator: Indicator,
    /// The share of good events promised, strictly between 0 and 1 (`0.999`).
    pub objective: f64,
    /// The period over which the share is promised. Default 30 days.
    pub period: Duration,
}

/// The events an objective counts: one route, operation, step or run, or all of a kind.
///
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// HTTP requests to the route template `path`, with the method `method` (any method
    /// when `None`). Written `http GET /users/{id}` or `http /users/{id}`.
    Http {
        /// `GET`, `POST`, ... (`OTHER` for methods outside the standard set).
        method: Option<String>,
        /// The route template as the router matched it.
        path: String,
    },
    /// Every HTTP request. Written `http *`.
    AllHttp,
    /// Calls of `#[monitor_db_operation(operation, table)]`; `None` matches any.
    /// Written `db select users`, `db * users`, `db *`.
    Db {
        /// The operation, or any.
        operation: Option<String>,
        /// The table, or any.
        table: Option<String>,
    },
    /// Calls of `#[monitor_workflow_step(workflow, step)]`; `None` matches any.
    /// Written `step data_processing validation`, `step data_processing *`, `step *`.
    Step {
        /// The workflow, or any.
        workflow: Option<String>,
        /// The step, or any.
        step: Option<String>,
    },
    /// Runs of `#[monitor_workflow(workflow)]`; `None` matches any. Written
    /// `run data_processing`, `run *`.
    Run {
        /// The workflow, or any.
        workflow: Option<String>,
    },
    /// gRPC calls of the method `method` of `service` (its full name,
    /// `package.Service`); `None` matches any. Written `grpc demo.Users GetUser`,
    /// `grpc demo.Users *`, `grpc *`. A failure is a server error (`UNKNOWN`,
    /// `DEADLINE_EXCEEDED`, `INTERNAL`, `UNAVAILABLE`, `DATA_LOSS`).
    Grpc {
        /// The service, or any.
        service: Option<String>,
        /// The method, or any.
        method: Option<String>,
    },
}

impl Target {
    /// Requests to the route template `path` (with `method`, or any method).
    pub fn http(method: Option<&str>, path: &str) -> Self {
        Target::Http {
            method: method.map(str::to_owned),
            path: path.to_owned(),
        }
    }

    /// Calls of the db operation `operation` on `table` (`None`: any).
    pub fn db(operation: Option<&str>, table: Option<&str>) -> Self {
        Target::Db {
            operation: operation.map(str::to_owned),
            table: table.map(str::to_owned),
        }
    }

    /// Calls of the step `step` of `workflow` (`None`: any).
    pub fn step(workflow: Option<&str>, step: Option<&str>) -> Self {
        Target::Step {
            workflow: workflow.map(str::to_owned),
            step: step.map(str::to_owned),
        }
    }

    /// Runs of `workflow` (`None`: any).
    pub fn run(workflow: Option<&str>) -> Self {
        Target::Run {
            workflow: workflow.map(str::to_owned),
        }
    }

    /// gRPC calls of `method` of `service` (`None`: any).
    pub fn grpc(service: Option<&str>, method: Option<&str>) -> Self {
        Target::Grpc {
            service: service.map(str::to_owned),
            method: method.map(str::to_owned),
        }
    }

    /// The kind as written in `MCP_SLOS`: `http`, `db`, `step`, `run`, `grpc`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Grpc { .. } => "grpc",
            Target::Http { .. } | Target::AllHttp => "http",
            Target::Db { .. } => "db",
            Target::Step { .. } => "step",
            Target::Run { .. } => "run",
        }
    }

    /// Whether an HTTP series `(method, path)` is one of this target's.
    pub(crate) fn matches_http(&self, m: &str, p: &str) -> bool {
        match self {
            Target::AllHttp => true,
            Target::Http { method, path } => {
                path == p && method.as_deref().is_none_or(|want| want == m)
            }
            _ => false,
        }
    }

    /// The label values this target asks of an operation series (`None`: any), with
    /// the kind of series: `db`, `step` or `run`. `None` for HTTP.
    pub(crate) fn op_labels(&self) -> Option<(&'static str, [Option<&str>; 2])> {
        match self {
            Target::Db { operation, table } => {
                Some(("db", [operation.as_deref(), table.as_deref()]))
            }
            Target::Step { workflow, step } => {
                Some(("step", [workflow.as_deref(), step.as_deref()]))
            }
            Target::Run { workflow } => Some(("run", [workflow.as_deref(), None])),
            Target::Http { .. } | Target::AllHttp | Target::Grpc { .. } => None,
        }
    }
}

/// Which events of its target an objective counts as good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Indicator {
    /// Events that did not fail: HTTP responses other than 5xx, db operations, steps
    /// and runs whose status is not `failure` (a `cancelled` call is not a failure of
    /// the service). Written `availability 99.9%`.
    Availability,
    /// Events that took at most `threshold` (a bucket bound of their histogram, so that
    /// Prometheus counts them exactly). Written `latency 99% within 250ms`.
    Latency {
        /// The longest duration of a good event.
        threshold: Duration,
    },
}

impl Objective {
    /// An availability objective over [`DEFAULT_PERIOD`].
    pub fn availability(name: impl Into<String>, target: Target, objective: f64) -> Self {
        Self {
            name: name.into(),
            target,
            indicator: Indicator::Availability,
            objective,
            period: DEFAULT_PERIOD,
        }
    }

    /// A latency objective (`objective` of the events within `threshold`) over
    /// [`DEFAULT_PERIOD`].
    pub fn latency(
        name: impl Into<String>,
        target: Target,
        objective: f64,
        threshold: Duration,
    ) -> Self {
        Self {
            name: name.into(),
            target,
            indicator: Indicator::Latency { threshold },
            objective,
            period: DEFAULT_PERIOD,
        }
    }

    /// The same objective over `period`.
    #[must_use]
    pub fn over(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// The share of events that may be bad: `1 - objective` (without its binary noise:
    /// `1 - 0.99` is `0.01`, not `0.010000000000000009`).
    pub fn error_budget(&self) -> f64 {
        ((1.0 - self.objective) * 1e12).round() / 1e12
    }

    /// Checks the objective on its own: a name a label can carry, a share strictly
    /// between 0 and 1, a period of at least one second, a route template that starts
    /// with `/`, a positive latency threshold on a bound of `bounds` (the bucket bounds
    /// in seconds of the target's histogram). The reason names the part that is wrong.
    pub(crate) fn check(&self, bounds: &[f64]) -> Result<(), String> {
        let name = &self.name;
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !name_ok {
            return Err(format!(
                "the name {name:?} must be letters, digits, `_`, `-` or `.`"
            ));
        }
        let part = |what: String| format!("objective {name:?}: {what}");
        if !(self.objective > 0.0 && self.objective < 1.0) {
            return Err(part(format!(
                "the share {} must be above 0% and below 100% (100% leaves no error budget)",
                self.objective
            )));
        }
        if self.period < Duration::from_secs(1) {
            return Err(part(format!(
                "the period {:?} must be at least 1s",
                self.period
            )));
        }
        if let Target::Http { path, .. } = &self.target {
            if !path.starts_with('/') {
                return Err(part(format!(
                    "the route {path:?} must be a route template starting with `/`, or `*`"
                )));
            }
        }
        if let Indicator::Latency { threshold } = self.indicator {
            let secs = threshold.as_secs_f64();
            if secs <= 0.0 {
                return Err(part("the latency threshold must be above 0".into()));
            }
            if !bounds.iter().any(|b| same_bound(*b, secs)) {
                let list: Vec<String> = bounds.iter().map(|b| seconds(*b)).collect();
                return Err(part(format!(
                    "the latency threshold {} is not a bucket bound of the {} histogram ({}): Prometheus can count the events within a duration exactly only at a bound; pick one of them or add it to MCP_{}_BUCKETS",
                    seconds(secs),
                    self.target.kind(),
                    list.join(", "),
                    match self.target.kind() {
                        "http" | "grpc" => "HTTP",
                        "db" => "DB",
                        _ => "WORKFLOW",
                    }
                )));
            }
        }
        Ok(())
    }
}

/// Whether two bounds in seconds are the same (as nanoseconds, as the histograms keep
/// them).
pub(crate) fn same_bound(a: f64, b: f64) -> bool {
    (a * 1e9).round() == (b * 1e9).round()
}

/// A duration in seconds as `MCP_SLOS` writes it: `250ms`, `1s`, `2.5s`, `2m`, `30d`.
pub(crate) fn seconds(s: f64) -> String {
    let ms = (s * 1000.0).round();
    if (s * 1000.0 - ms).abs() > 1e-6 {
        return format!("{s}s");
    }
    let ms = ms as u64;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms % 1000 != 0 {
        return format!("{}s", ms as f64 / 1000.0);
    }
    let secs = ms / 1000;
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// A share as `MCP_SLOS` writes it: `99.9%`.
pub(crate) fn percent(x: f64) -> String {
    // Round off the binary noise of `x * 100` (0.999 * 100 = 99.9000000001).
    let p = (x * 100.0 * 1e9).round() / 1e9;
    format!("{p}%")
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let any = |v: &Option<String>| v.clone().unwrap_or_else(|| "*".to_owned());
        match self {
            Target::AllHttp => f.write_str("http *"),
            Target::Http { method, path } => match method {
                Some(m) => write!(f, "http {m} {path}"),
                None => write!(f, "http {path}"),
            },
            Target::Db { operation, table } => {
                if operation.is_none() && table.is_none() {
                    f.write_str("db *")
                } else {
                    write!(f, "db {} {}", any(operation), any(table))
                }
            }
            Target::Step { workflow, step } => {
                if workflow.is_none() && step.is_none() {
                    f.write_str("step *")
                } else {
                    write!(f, "step {} {}", any(workflow), any(step))
                }
            }
            Target::Run { workflow } => write!(f, "run {}", any(workflow)),
            Target::Grpc { service, method } => {
                if service.is_none() && method.is_none() {
                    f.write_str("grpc *")
                } else {
                    write!(f, "grpc {} {}", any(service), any(method))
                }
            }
        }
    }
}

/// The `MCP_SLOS` form of the objective (which parses back to it).
impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} ", self.name, self.target)?;
        match self.indicator {
            Indicator::Availability => write!(f, "availability {}", percent(self.objective))?,
            Indicator::Latency { threshold } => write!(
                f,
                "latency {} within {}",
                percent(self.objective),
                seconds(threshold.as_secs_f64())
            )?,
        }
        if self.period != DEFAULT_PERIOD {
            write!(f, " over {}", seconds(self.period.as_secs_f64()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_shares_are_written_as_the_grammar_reads_them() {
        assert_eq!(seconds(0.1), "100ms");
        assert_eq!(seconds(0.0005), "0.0005s");
        assert_eq!(seconds(1.0), "1s");
        assert_eq!(seconds(1.5), "1.5s");
        assert_eq!(seconds(90.0), "90s");
        assert_eq!(seconds(120.0), "2m");
        assert_eq!(seconds(30.0 * 86_400.0), "30d");
        assert_eq!(percent(0.999), "99.9%");
        assert_eq!(percent(0.95), "95%");
    }

    #[test]
    fn a_latency_threshold_must_sit_on_a_bound() {
        let t = Target::http(Some("GET"), "/users/{id}");
        let on = Objective::latency("x", t.clone(), 0.99, Duration::from_millis(250));
        assert_eq!(on.check(&[0.1, 0.25, 1.0]), Ok(()));
        let off = Objective::latency("x", t, 0.99, Duration::from_millis(200));
        let e = off.check(&[0.1, 0.25, 1.0]).unwrap_err();
        assert!(e.contains("200ms is not a bucket bound"), "{e}");
        assert!(
            e.contains("100ms, 250ms, 1s") && e.contains("MCP_HTTP_BUCKETS"),
            "{e}"
        );
    }

    #[test]
    fn shares_names_periods_and_routes_are_checked() {
        let ok = Objective::availability("api", Target::AllHttp, 0.999);
        assert_eq!(ok.check(&[]), Ok(()));
        for (o, part) in [
            (
                Objective {
                    objective: 1.0,
                    ..ok.clone()
                },
                "below 100%",
            ),
            (
                Objective {
                    objective: 0.0,
                    ..ok.clone()
                },
                "above 0%",
            ),
            (
                Objective {
                    name: "a b".into(),
                    ..ok.clone()
                },
                "the name",
            ),
            (ok.clone().over(Duration::from_millis(10)), "the period"),
            (
                Objective::availability("r", Target::http(None, "users"), 0.9),
                "the route \"users\"",
            ),
        ] {
            let e = o.check(&[]).unwrap_err();
            assert!(e.contains(part), "{e}");
        }
    }

    #[test]
    fn targets_match_their_series() {
        let t = Target::http(Some("GET"), "/users/{id}");
        assert!(t.matches_http("GET", "/users/{id}"));
        assert!(!t.matches_http("POST", "/users/{id}"));
        assert!(Target::http(None, "/u").matches_http("POST", "/u"));
        assert!(Target::AllHttp.matches_http("PUT", "unmatched"));
        assert_eq!(
            Target::step(Some("wf"), None).op_labels(),
            Some(("step", [Some("wf"), None]))
        );
        assert_eq!(t.op_labels(), None);
    }
}
