//! The `data_processing` workflow: a run measured with `#[monitor_workflow]`, its
//! `validation` and `transformation` steps with `#[monitor_workflow_step]`.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_monitor::{monitor_workflow, monitor_workflow_step};
use serde::Serialize;
use serde_json::Value;

/// Most records one run accepts.
pub const MAX_RECORDS: usize = 10_000;

/// How often the background scheduler runs the workflow.
pub const SCHEDULER_PERIOD: Duration = Duration::from_secs(2);

/// Why a run of a workflow failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The input was refused by the `validation` step.
    #[error("validation failed: {0}")]
    Validation(String),
}

/// Records that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    records: Vec<Value>,
}

/// What a successful run of `data_processing` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessingReport {
    /// Always `data_processing`.
    pub workflow: &'static str,
    /// Always `completed`.
    pub status: &'static str,
    /// Records processed.
    pub records: usize,
    /// Records by JSON type (`object`, `array`, `string`, `number`, `bool`).
    pub by_type: BTreeMap<&'static str, usize>,
    /// The records transformed: strings trimmed, `null` object fields dropped, at any depth.
    pub output: Vec<Value>,
}

/// Runs workflows. Stateless: cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct WorkflowEngine {
    _private: (),
}

impl WorkflowEngine {
    /// Runs `data_processing` on `records`: `validation`, then `transformation`.
    ///
    /// # Errors
    ///
    /// [`WorkflowError::Validation`] when the records are refused: none, more than
    /// [`MAX_RECORDS`], or a `null` record.
    #[monitor_workflow("data_processing")]
    pub async fn data_processing(
        &self,
        records: Vec<Value>,
    ) -> Result<ProcessingReport, WorkflowError> {
        let valid = self.validate(records).await?;
        Ok(self.transform(valid).await)
    }

    /// The `validation` step.
    ///
    /// # Errors
    ///
    /// See [`data_processing`](Self::data_processing).
    #[monitor_workflow_step("data_processing", "validation")]
    pub async fn validate(&self, records: Vec<Value>) -> Result<Validated, WorkflowError> {
        if records.is_empty() {
            return Err(WorkflowError::Validation(
                "`records` must not be empty".into(),
            ));
        }
        if records.len() > MAX_RECORDS {
            return Err(WorkflowError::Validation(format!(
                "at most {MAX_RECORDS} records per run, got {}",
                records.len()
            )));
        }
        if let Some(i) = records.iter().position(Value::is_null) {
            return Err(WorkflowError::Validation(format!("record {i} is null")));
        }
        Ok(Validated { records })
    }

    /// The `transformation` step. It cannot fail (and is counted as a success every time).
    #[monitor_workflow_step("data_processing", "transformation")]
    pub async fn transform(&self, valid: Validated) -> ProcessingReport {
        let mut by_type = BTreeMap::new();
        let output: Vec<Value> = valid
            .records
            .into_iter()
            .map(|r| {
                *by_type.entry(type_name(&r)).or_insert(0) += 1;
                normalize(r)
            })
            .collect();
        ProcessingReport {
            workflow: "data_processing",
            status: "completed",
            records: output.len(),
            by_type,
            output,
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn normalize(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.trim().to_owned()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalize(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Runs `data_processing` every `period` until the task is aborted, so that a
/// dashboard has something to show. One batch in 25 is empty and fails validation,
/// which keeps the workflow error rate (4%) visible but under the default threshold.
pub fn spawn_scheduler(engine: WorkflowEngine, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for run in 1u64.. {
            interval.tick().await;
            let size = if run % 25 == 0 { 0 } else { 1 + run % 5 };
            let records = (0..size)
                .map(|i| serde_json::json!({"run": run, "item": i, "label": format!("  batch {run} ")}))
                .collect();
            match engine.data_processing(records).await {
                Ok(report) => {
                    tracing::debug!(
                        run,
                        records = report.records,
                        "scheduled workflow completed"
                    );
                }
                Err(e) => tracing::info!(run, error = %e, "scheduled workflow failed"),
            }
        }
    })
}
