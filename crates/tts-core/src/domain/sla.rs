//! SLA targets: a task gets the workflow's SLA for its priority, each step a share by weight.

use super::priority::Priority;
use super::workflow::WorkflowDefinition;
use crate::ids::StepId;
use chrono::{DateTime, Duration, Utc};

/// Default share of an assignment's time after which a warning goes out.
pub const DEFAULT_WARNING_SHARE_PERCENT: u8 = 75;

/// The whole task's target: `start + SLA(priority)`, or none when the workflow sets no SLA for it.
pub fn task_target(def: &WorkflowDefinition, priority: Priority, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let secs = def.sla.for_priority(priority)?;
    start.checked_add_signed(Duration::milliseconds(i64::try_from(secs.checked_mul(1000)?).ok()?))
}

/// A step's target: `assigned_at + SLA(priority) * weight / sum(weights)`, in whole milliseconds.
pub fn step_target(
    def: &WorkflowDefinition,
    step: StepId,
    priority: Priority,
    assigned_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let secs = def.sla.for_priority(priority)?;
    let weight = def.step(step)?.weight;
    let total = def.total_weight();
    if total == 0 {
        return None;
    }
    let ms = i128::from(secs) * 1000 * i128::from(weight) / i128::from(total);
    assigned_at.checked_add_signed(Duration::milliseconds(i64::try_from(ms).ok()?))
}

/// When the warning for an assignment falls due: `assigned_at + share% of (target - assigned_at)`.
pub fn warning_at(assigned_at: DateTime<Utc>, target: DateTime<Utc>, share_percent: u8) -> DateTime<Utc> {
    let span = (target - assigned_at).num_milliseconds();
    assigned_at + Duration::milliseconds(span * i64::from(share_percent.min(100)) / 100)
}
