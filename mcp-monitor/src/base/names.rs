//! Metric names and help texts: every `mcp_*` family in one place. The names of the
//! contract (SPEC.md) are public; the others are the crate's own, used by the
//! exposition, the rules file, the dashboard and the notifier alike. Each `X_HELP` is
//! the `# HELP` text of `X`.

/// `mcp_http_requests_total{method, path, status}`
pub const HTTP_REQUESTS_TOTAL: &str = "mcp_http_requests_total";
/// `mcp_http_request_duration_seconds{method, path, status}`
pub const HTTP_REQUEST_DURATION: &str = "mcp_http_request_duration_seconds";
/// `mcp_http_requests_in_flight` (no labels)
pub const HTTP_IN_FLIGHT: &str = "mcp_http_requests_in_flight";
/// `mcp_db_operations_total{operation, table, status}`
pub const DB_OPERATIONS_TOTAL: &str = "mcp_db_operations_total";
/// `mcp_db_operation_duration_seconds{operation, table}`
pub const DB_OPERATION_DURATION: &str = "mcp_db_operation_duration_seconds";
/// `mcp_workflow_steps_total{workflow, step, status}`
pub const WORKFLOW_STEPS_TOTAL: &str = "mcp_workflow_steps_total";
/// `mcp_workflow_step_duration_seconds{workflow, step}`
pub const WORKFLOW_STEP_DURATION: &str = "mcp_workflow_step_duration_seconds";
/// `mcp_workflow_runs_total{workflow, status}`
pub const WORKFLOW_RUNS_TOTAL: &str = "mcp_workflow_runs_total";
/// `mcp_workflow_run_duration_seconds{workflow}`
pub const WORKFLOW_RUN_DURATION: &str = "mcp_workflow_run_duration_seconds";
/// `mcp_active_workflows{workflow}`
pub const ACTIVE_WORKFLOWS: &str = "mcp_active_workflows";

/// Help of [`HTTP_REQUESTS_TOTAL`].
pub(crate) const HTTP_REQUESTS_TOTAL_HELP: &str = "HTTP requests, by route template and status.";
/// Help of [`HTTP_REQUEST_DURATION`].
pub(crate) const HTTP_REQUEST_DURATION_HELP: &str =
    "Duration of HTTP requests until the response head, in seconds.";
/// Help of [`HTTP_IN_FLIGHT`].
pub(crate) const HTTP_IN_FLIGHT_HELP: &str = "HTTP requests being served.";
/// Help of [`ACTIVE_WORKFLOWS`].
pub(crate) const ACTIVE_WORKFLOWS_HELP: &str = "Executions of each workflow in progress.";

/// `mcp_build_info{version}`, always 1: also what the rules file's `INSTANCE_DOWN`
/// looks for.
pub(crate) const BUILD_INFO: &str = "mcp_build_info";
/// Help of [`BUILD_INFO`].
pub(crate) const BUILD_INFO_HELP: &str = "Version of mcp-monitor; always 1.";
/// `mcp_uptime_seconds` (no labels).
pub(crate) const UPTIME: &str = "mcp_uptime_seconds";
/// Help of [`UPTIME`].
pub(crate) const UPTIME_HELP: &str = "Seconds since the monitor started.";
/// `mcp_http_series_overflow_total` (no labels).
pub(crate) const HTTP_SERIES_OVERFLOW_TOTAL: &str = "mcp_http_series_overflow_total";
/// Help of [`HTTP_SERIES_OVERFLOW_TOTAL`].
pub(crate) const HTTP_SERIES_OVERFLOW_TOTAL_HELP: &str =
    "HTTP requests recorded under path=\"overflow\" because the label-set cap was reached.";

/// `mcp_cache_hits_total{cache}`
pub(crate) const CACHE_HITS_TOTAL: &str = "mcp_cache_hits_total";
/// Help of [`CACHE_HITS_TOTAL`].
pub(crate) const CACHE_HITS_TOTAL_HELP: &str = "Cache lookups that found their entry.";
/// `mcp_cache_misses_total{cache}`
pub(crate) const CACHE_MISSES_TOTAL: &str = "mcp_cache_misses_total";
/// Help of [`CACHE_MISSES_TOTAL`].
pub(crate) const CACHE_MISSES_TOTAL_HELP: &str = "Cache lookups that did not.";

/// `mcp_db_pool_connections{pool, state}`, `state` one of `in_use`, `idle`, `max`.
pub(crate) const DB_POOL_CONNECTIONS: &str = "mcp_db_pool_connections";
/// Help of [`DB_POOL_CONNECTIONS`].
pub(crate) const DB_POOL_CONNECTIONS_HELP: &str =
    "Connections of each database pool: in use, idle, and the pool's maximum.";
/// `mcp_db_pool_utilization_ratio{pool}`
pub(crate) const DB_POOL_UTILIZATION: &str = "mcp_db_pool_utilization_ratio";
/// Help of [`DB_POOL_UTILIZATION`].
pub(crate) const DB_POOL_UTILIZATION_HELP: &str =
    "Connections in use over the pool's maximum size.";

/// `mcp_system_cpu_usage_ratio` (no labels).
pub(crate) const SYSTEM_CPU_USAGE: &str = "mcp_system_cpu_usage_ratio";
/// Help of [`SYSTEM_CPU_USAGE`].
pub(crate) const SYSTEM_CPU_USAGE_HELP: &str = "CPU in use across all cores (0 to 1).";
/// `mcp_system_memory_usage_ratio` (no labels).
pub(crate) const SYSTEM_MEMORY_USAGE: &str = "mcp_system_memory_usage_ratio";
/// Help of [`SYSTEM_MEMORY_USAGE`].
pub(crate) const SYSTEM_MEMORY_USAGE_HELP: &str =
    "Memory in use over the total, or over the container's limit (0 to 1).";
/// `mcp_system_load1_per_core` (no labels).
pub(crate) const SYSTEM_LOAD1_PER_CORE: &str = "mcp_system_load1_per_core";
/// Help of [`SYSTEM_LOAD1_PER_CORE`].
pub(crate) const SYSTEM_LOAD1_PER_CORE_HELP: &str =
    "1-minute load average divided by the number of cores.";
/// `mcp_process_resident_memory_bytes` (no labels).
pub(crate) const PROCESS_RESIDENT_MEMORY: &str = "mcp_process_resident_memory_bytes";
/// Help of [`PROCESS_RESIDENT_MEMORY`].
pub(crate) const PROCESS_RESIDENT_MEMORY_HELP: &str = "Resident memory of this process in bytes.";
/// `mcp_process_cpu_usage_ratio` (no labels).
pub(crate) const PROCESS_CPU_USAGE: &str = "mcp_process_cpu_usage_ratio";
/// Help of [`PROCESS_CPU_USAGE`].
pub(crate) const PROCESS_CPU_USAGE_HELP: &str = "CPU used by this process, as a share of one core.";

/// `mcp_metric_overflow_total{metric}`.
pub(crate) const METRIC_OVERFLOW_TOTAL: &str = "mcp_metric_overflow_total";
/// Help of [`METRIC_OVERFLOW_TOTAL`].
pub(crate) const METRIC_OVERFLOW_TOTAL_HELP: &str =
    "Observations of an application metric recorded into its overflow series (MCP_METRIC_MAX_SERIES).";

/// `mcp_runtime_workers` (no labels): the Tokio runtime's worker threads.
pub(crate) const RUNTIME_WORKERS: &str = "mcp_runtime_workers";
/// Help of [`RUNTIME_WORKERS`].
pub(crate) const RUNTIME_WORKERS_HELP: &str = "Worker threads of the Tokio runtime.";
/// `mcp_runtime_alive_tasks` (no labels).
pub(crate) const RUNTIME_ALIVE_TASKS: &str = "mcp_runtime_alive_tasks";
/// Help of [`RUNTIME_ALIVE_TASKS`].
pub(crate) const RUNTIME_ALIVE_TASKS_HELP: &str =
    "Tasks spawned on the Tokio runtime and not yet finished.";
/// `mcp_runtime_global_queue_depth` (no labels).
pub(crate) const RUNTIME_GLOBAL_QUEUE_DEPTH: &str = "mcp_runtime_global_queue_depth";
/// Help of [`RUNTIME_GLOBAL_QUEUE_DEPTH`].
pub(crate) const RUNTIME_GLOBAL_QUEUE_DEPTH_HELP: &str =
    "Tasks waiting in the Tokio runtime's global queue, not yet picked up by a worker.";
/// `mcp_runtime_busy_seconds_total` (no labels).
pub(crate) const RUNTIME_BUSY_SECONDS_TOTAL: &str = "mcp_runtime_busy_seconds_total";
/// Help of [`RUNTIME_BUSY_SECONDS_TOTAL`].
pub(crate) const RUNTIME_BUSY_SECONDS_TOTAL_HELP: &str =
    "Time the Tokio runtime's workers spent polling tasks, all workers together.";
/// `mcp_runtime_parks_total` (no labels).
pub(crate) const RUNTIME_PARKS_TOTAL: &str = "mcp_runtime_parks_total";
/// Help of [`RUNTIME_PARKS_TOTAL`].
pub(crate) const RUNTIME_PARKS_TOTAL_HELP: &str =
    "Times the Tokio runtime's workers parked (ran out of work), all workers together.";

/// `mcp_alerts{alertname, severity, alertstate, component}`, 1 per pending or firing alert.
pub(crate) const ALERTS: &str = "mcp_alerts";
/// Help of [`ALERTS`].
pub(crate) const ALERTS_HELP: &str =
    "Alerts of the in-process engine that are pending or firing (1).";

/// `mcp_slo_objective{slo}`: the share of good events each objective of `MCP_SLOS` promises.
pub const SLO_OBJECTIVE: &str = "mcp_slo_objective";
/// Help of [`SLO_OBJECTIVE`].
pub(crate) const SLO_OBJECTIVE_HELP: &str =
    "Share of good events each service-level objective promises (MCP_SLOS).";
/// `mcp_slo_error_budget_remaining{slo}`: the error budget left over the objective's
/// period (1 untouched, 0 spent, below 0 overspent), as the in-process engine counts it.
pub const SLO_ERROR_BUDGET_REMAINING: &str = "mcp_slo_error_budget_remaining";
/// Help of [`SLO_ERROR_BUDGET_REMAINING`].
pub(crate) const SLO_ERROR_BUDGET_REMAINING_HELP: &str =
    "Error budget left over the objective's period as this process saw it (1 untouched, 0 spent, negative overspent).";

/// Which family of operations a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OpKind {
    /// `#[monitor_db_operation]`: labels `operation`, `table`.
    Db,
    /// `#[monitor_workflow_step]`: labels `workflow`, `step`.
    Step,
    /// `#[monitor_workflow]`: label `workflow` (the second is empty).
    Run,
}

/// Names, label keys and help texts of one operation family.
pub(crate) struct OpNames {
    pub(crate) total: &'static str,
    pub(crate) total_help: &'static str,
    pub(crate) duration: &'static str,
    pub(crate) duration_help: &'static str,
    pub(crate) label_keys: &'static [&'static str],
}

pub(crate) fn op_names(kind: OpKind) -> &'static OpNames {
    match kind {
        OpKind::Db => &OpNames {
            total: DB_OPERATIONS_TOTAL,
            total_help: "Database operations, by outcome.",
            duration: DB_OPERATION_DURATION,
            duration_help: "Duration of database operations in seconds.",
            label_keys: &["operation", "table"],
        },
        OpKind::Step => &OpNames {
            total: WORKFLOW_STEPS_TOTAL,
            total_help: "Workflow step executions, by outcome.",
            duration: WORKFLOW_STEP_DURATION,
            duration_help: "Duration of workflow steps in seconds.",
            label_keys: &["workflow", "step"],
        },
        OpKind::Run => &OpNames {
            total: WORKFLOW_RUNS_TOTAL,
            total_help: "Whole workflow runs, by outcome.",
            duration: WORKFLOW_RUN_DURATION,
            duration_help: "Duration of whole workflow runs in seconds.",
            label_keys: &["workflow"],
        },
    }
}

/// The gauge of every threshold in force, `mcp_alert_threshold{alertname, severity}`.
pub(crate) const ALERT_THRESHOLD: &str = "mcp_alert_threshold";
/// Help of [`ALERT_THRESHOLD`].
pub(crate) const ALERT_THRESHOLD_HELP: &str =
    "Alert thresholds of this instance (seconds for latency, ratios for shares, load per core).";
/// The gauge of `MCP_ALERT_MIN_SAMPLES`, `mcp_alert_min_samples` (no labels).
pub(crate) const ALERT_MIN_SAMPLES: &str = "mcp_alert_min_samples";
/// Help of [`ALERT_MIN_SAMPLES`].
pub(crate) const ALERT_MIN_SAMPLES_HELP: &str =
    "Fewest samples in the window for a rate or latency alert of this instance.";

/// `mcp_alert_notifications_sent_total{alertmanager}`
pub(crate) const ALERT_NOTIFICATIONS_SENT_TOTAL: &str = "mcp_alert_notifications_sent_total";
/// Help of [`ALERT_NOTIFICATIONS_SENT_TOTAL`].
pub(crate) const ALERT_NOTIFICATIONS_SENT_TOTAL_HELP: &str =
    "Alerts accepted by each Alertmanager.";
/// `mcp_alert_notifications_errors_total{alertmanager}`
pub(crate) const ALERT_NOTIFICATIONS_ERRORS_TOTAL: &str = "mcp_alert_notifications_errors_total";
/// Help of [`ALERT_NOTIFICATIONS_ERRORS_TOTAL`].
pub(crate) const ALERT_NOTIFICATIONS_ERRORS_TOTAL_HELP: &str =
    "Alerts in batches that each Alertmanager did not accept after every retry.";
/// `mcp_alert_notifications_dropped_total{alertmanager}`
pub(crate) const ALERT_NOTIFICATIONS_DROPPED_TOTAL: &str = "mcp_alert_notifications_dropped_total";
/// Help of [`ALERT_NOTIFICATIONS_DROPPED_TOTAL`].
pub(crate) const ALERT_NOTIFICATIONS_DROPPED_TOTAL_HELP: &str =
    "Alerts dropped from the full queue of each Alertmanager.";
/// `mcp_alert_events_dropped_total` (no labels).
pub(crate) const ALERT_EVENTS_DROPPED_TOTAL: &str = "mcp_alert_events_dropped_total";
/// Help of [`ALERT_EVENTS_DROPPED_TOTAL`].
pub(crate) const ALERT_EVENTS_DROPPED_TOTAL_HELP: &str =
    "Alert events the notifier was too far behind to take.";
/// `mcp_alert_notifications_queue_length{alertmanager}`
pub(crate) const ALERT_NOTIFICATIONS_QUEUE_LENGTH: &str = "mcp_alert_notifications_queue_length";
/// Help of [`ALERT_NOTIFICATIONS_QUEUE_LENGTH`].
pub(crate) const ALERT_NOTIFICATIONS_QUEUE_LENGTH_HELP: &str =
    "Alerts waiting to be sent to each Alertmanager.";

/// Every route the monitor serves (excluded from the HTTP metrics by default).
pub const ROUTES: &[&str] = &[
    "/metrics",
    "/metrics/summary",
    "/metrics/report",
    "/metrics/dashboard",
    "/metrics/reset",
    "/api/v1/metrics/report",
    "/api/v1/metrics/dashboard",
    "/api/v1/metrics/reset",
    "/metrics/ui",
    "/metrics/ui/{file}",
    "/api/v1/metrics/ui",
    "/api/v1/metrics/ui/{file}",
    "/api/v1/metrics/history",
    "/api/v1/metrics/page",
    "/debug/pprof/profile",
    "/debug/pprof/flamegraph",
];

/// `mcp_http_auth_failures_total{path, reason}`: refused token checks of the monitor's
/// endpoints; `reason` is one of [`AUTH_FAILURE_REASONS`].
pub(crate) const HTTP_AUTH_FAILURES_TOTAL: &str = "mcp_http_auth_failures_total";
/// Help of [`HTTP_AUTH_FAILURES_TOTAL`].
pub(crate) const HTTP_AUTH_FAILURES_TOTAL_HELP: &str =
    "Refused token checks of the monitor's endpoints, by route and reason.";
/// The `reason` label values of [`HTTP_AUTH_FAILURES_TOTAL`], as RFC 6750 names them:
/// no bearer token, a malformed header, a wrong token, a valid token without the right.
pub(crate) const AUTH_FAILURE_REASONS: [&str; 4] =
    ["missing", "malformed", "invalid", "insufficient_scope"];

/// `mcp_long_polls_total{kind, name}`: polls of one monitored call (a macro call, an
/// HTTP request, a gRPC call) that held their thread longer than
/// `MCP_LONG_POLL_THRESHOLD`. `kind` is one of [`LONG_POLL_KINDS`]; `name` the call's
/// labels as a person writes them (`select users`, `GET /users/{id}`).
pub const LONG_POLLS_TOTAL: &str = "mcp_long_polls_total";
/// Help of [`LONG_POLLS_TOTAL`].
pub(crate) const LONG_POLLS_TOTAL_HELP: &str =
    "Polls of a monitored call that held their thread longer than MCP_LONG_POLL_THRESHOLD (a blocked executor), by kind and call.";
/// The `kind` label values of [`LONG_POLLS_TOTAL`].
pub const LONG_POLL_KINDS: [&str; 5] = ["db", "step", "run", "http", "grpc"];
/// OTLP exports, by outcome: `sent`, `failed` (every attempt refused or unanswered),
/// `dropped` (the queue was full).
pub(crate) const OTLP_EXPORTS_TOTAL: &str = "mcp_otlp_exports_total";
/// Help of [`OTLP_EXPORTS_TOTAL`].
pub(crate) const OTLP_EXPORTS_TOTAL_HELP: &str =
    "OTLP metric exports, by outcome (sent, failed after every retry, dropped from a full queue).";
/// `mcp_grpc_requests_total{service, method, code}`
pub const GRPC_REQUESTS_TOTAL: &str = "mcp_grpc_requests_total";
/// `mcp_grpc_request_duration_seconds{service, method, code}`
pub const GRPC_REQUEST_DURATION: &str = "mcp_grpc_request_duration_seconds";
/// `mcp_grpc_requests_in_flight{service, method}`
pub const GRPC_IN_FLIGHT: &str = "mcp_grpc_requests_in_flight";
/// Help of [`GRPC_REQUESTS_TOTAL`].
pub(crate) const GRPC_REQUESTS_TOTAL_HELP: &str = "gRPC calls, by service, method and status code.";
/// Help of [`GRPC_REQUEST_DURATION`].
pub(crate) const GRPC_REQUEST_DURATION_HELP: &str =
    "Duration of gRPC calls until the end of the response stream, in seconds.";
/// Help of [`GRPC_IN_FLIGHT`].
pub(crate) const GRPC_IN_FLIGHT_HELP: &str = "gRPC calls being served, by service and method.";
