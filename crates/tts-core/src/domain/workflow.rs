//! Workflow definitions: steps (who works), transitions (the actions that move work on), SLA and match key.

use super::priority::Priority;
use crate::ids::{ActionId, RoleId, StepId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a workflow is in its life. Only `active` workflows receive tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Being edited; never matched.
    Draft,
    /// Published (validated, version frozen); matched.
    Active,
    /// Published but temporarily not matched; running tasks go on.
    Paused,
    /// Retired; never matched again, running tasks go on.
    Archived,
}

impl WorkflowStatus {
    /// Every status.
    pub const ALL: [WorkflowStatus; 4] = [
        WorkflowStatus::Draft,
        WorkflowStatus::Active,
        WorkflowStatus::Paused,
        WorkflowStatus::Archived,
    ];

    /// The statuses a workflow may move to from this one: publishing activates a draft or a paused
    /// workflow (and a published one may be published again after edits while paused), pausing stops
    /// matching an active one, and archiving retires any workflow for good.
    pub fn allowed_next(self) -> &'static [WorkflowStatus] {
        use WorkflowStatus::*;
        match self {
            Draft => &[Active, Archived],
            Active => &[Paused, Archived],
            Paused => &[Active, Archived],
            Archived => &[],
        }
    }

    /// Whether the table allows moving from `self` to `to`.
    pub fn can_move_to(self, to: WorkflowStatus) -> bool {
        self.allowed_next().contains(&to)
    }

    /// Whether a workflow in this status may be edited (drafts and paused workflows; running tasks keep
    /// the version they started on).
    pub fn is_editable(self) -> bool {
        matches!(self, WorkflowStatus::Draft | WorkflowStatus::Paused)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Draft => "draft",
            WorkflowStatus::Active => "active",
            WorkflowStatus::Paused => "paused",
            WorkflowStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which tickets a workflow takes. Unset optional parts match anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MatchKey {
    /// Must equal the ticket's category (case- and space-insensitive).
    pub category: String,
    /// When set, must equal the ticket's subcategory.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// When set, must equal the ticket's department.
    #[serde(default)]
    pub department: Option<String>,
    /// When set, must equal the ticket's priority.
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// Resolution targets per priority, in seconds. Must satisfy critical < high < medium < low where set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sla {
    /// Target for `low` tickets.
    #[serde(default)]
    pub low: Option<u64>,
    /// Target for `medium` tickets.
    #[serde(default)]
    pub medium: Option<u64>,
    /// Target for `high` tickets.
    #[serde(default)]
    pub high: Option<u64>,
    /// Target for `critical` tickets.
    #[serde(default)]
    pub critical: Option<u64>,
}

impl Sla {
    /// The target for a priority, if one is set.
    pub fn for_priority(&self, priority: Priority) -> Option<u64> {
        match priority {
            Priority::Low => self.low,
            Priority::Medium => self.medium,
            Priority::High => self.high,
            Priority::Critical => self.critical,
        }
    }
}

/// How a step picks its assignee among the active holders of its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStrategy {
    /// Strict rotation by user id after the role's last assignee.
    #[default]
    RoundRobin,
    /// Fewest open assignments; ties broken by rotation.
    LeastLoaded,
}

/// Canvas coordinates of a step in the diagram editor.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Position {
    /// Horizontal.
    pub x: f64,
    /// Vertical.
    pub y: f64,
}

/// One stage of work, done by one holder of `role_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Identifier, unique in the workflow.
    pub id: StepId,
    /// Display name, e.g. `Triage Ticket`.
    pub name: String,
    /// Who does the work.
    pub role_id: RoleId,
    /// What the step is for.
    #[serde(default)]
    pub description: String,
    /// What the assignee should do.
    #[serde(default)]
    pub instruction: String,
    /// Relative share of the SLA (> 0).
    pub weight: u32,
    /// Where escalations go.
    #[serde(default)]
    pub escalate_to: Option<RoleId>,
    /// The one step a task starts at.
    #[serde(default)]
    pub is_start: bool,
    /// Has an action that completes the task.
    #[serde(default)]
    pub is_end: bool,
    /// Diagram layout.
    #[serde(default)]
    pub position: Position,
    /// How the assignee is picked.
    #[serde(default)]
    pub strategy: AssignmentStrategy,
}

/// A named action leaving `from_step`, to `to_step` or (none) completing the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The action id clients send.
    pub id: ActionId,
    /// Button label: Approve, Reject...
    pub name: String,
    /// The step the action is available on.
    pub from_step: StepId,
    /// The next step; `None` completes the task.
    #[serde(default)]
    pub to_step: Option<StepId>,
}

/// The editable part of a workflow: what an admin writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowDefinition {
    /// Unique display name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Which tickets it takes.
    pub match_key: MatchKey,
    /// Takes tickets no other active workflow matches (at most one active default).
    #[serde(default)]
    pub is_default: bool,
    /// Targets per priority.
    #[serde(default)]
    pub sla: Sla,
    /// The stages.
    pub steps: Vec<Step>,
    /// The actions.
    pub transitions: Vec<Transition>,
}

/// A workflow as stored: definition plus identity, life-cycle status and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Identifier shared by all versions.
    pub id: WorkflowId,
    /// Life-cycle status.
    pub status: WorkflowStatus,
    /// Published version; 0 while never published. A running task pins the version it started on.
    pub version: u32,
    /// The definition.
    #[serde(flatten)]
    pub definition: WorkflowDefinition,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl WorkflowDefinition {
    /// The step with this id.
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The start step, when exactly one is marked.
    pub fn start_step(&self) -> Option<&Step> {
        let mut starts = self.steps.iter().filter(|s| s.is_start);
        match (starts.next(), starts.next()) {
            (Some(s), None) => Some(s),
            _ => None,
        }
    }

    /// The transition with this id.
    pub fn transition(&self, id: ActionId) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.id == id)
    }

    /// The actions available on a step.
    pub fn actions_from(&self, step: StepId) -> impl Iterator<Item = &Transition> {
        self.transitions.iter().filter(move |t| t.from_step == step)
    }

    /// Sum of all step weights: the denominator of each step's SLA share.
    pub fn total_weight(&self) -> u64 {
        self.steps.iter().map(|s| u64::from(s.weight)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::WorkflowStatus;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = WorkflowStatus> {
        proptest::sample::select(WorkflowStatus::ALL.to_vec())
    }

    proptest! {
        /// Any walk through the table: archived is final, only drafts and paused workflows are editable,
        /// only active ones are matched, and no status moves to itself.
        #[test]
        fn walks_through_the_status_table_keep_its_rules(start in status(), moves in prop::collection::vec(status(), 0..12)) {
            let mut at = start;
            for to in moves {
                prop_assert_ne!(at.can_move_to(at), true, "{} moves to itself", at);
                if at.can_move_to(to) {
                    prop_assert_ne!(at, WorkflowStatus::Archived, "archived is final");
                    at = to;
                }
            }
            prop_assert_eq!(at.is_editable(), matches!(at, WorkflowStatus::Draft | WorkflowStatus::Paused));
        }
    }

    #[test]
    fn every_status_can_be_archived_but_nothing_leaves_archived() {
        for s in WorkflowStatus::ALL {
            assert_eq!(s.can_move_to(WorkflowStatus::Archived), s != WorkflowStatus::Archived);
        }
        assert!(WorkflowStatus::Archived.allowed_next().is_empty());
        assert!(
            !WorkflowStatus::Draft.can_move_to(WorkflowStatus::Paused),
            "a draft was never active"
        );
    }
}
