//! Metric names and help texts, fixed by the contract (SPEC.md).

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

/// The gauge of every threshold in force.
pub(crate) const ALERT_THRESHOLD: &str = "mcp_alert_threshold";
/// The gauge of `MCP_ALERT_MIN_SAMPLES`.
pub(crate) const ALERT_MIN_SAMPLES: &str = "mcp_alert_min_samples";

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
    "/metrics/ui/page.css",
    "/metrics/ui/page.js",
    "/api/v1/metrics/ui",
    "/api/v1/metrics/ui/page.css",
    "/api/v1/metrics/ui/page.js",
    "/api/v1/metrics/history",
];
