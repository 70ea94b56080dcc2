//! What engine commands and queries return.

use crate::domain::matching::Explanation;
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::user::{Role, User};
use crate::domain::validation::Problem;
use crate::domain::workflow::{Step, Workflow};
use crate::ids::{ActionId, RoleId, StepId};
use serde::{Deserialize, Serialize};

/// The result of `allocate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Allocation {
    /// A task was created and its first step assigned.
    Allocated {
        /// The new task.
        task: Task,
        /// The first assignment.
        assignment: Assignment,
    },
    /// The ticket already had a task; nothing changed.
    AlreadyAllocated {
        /// The existing task.
        task: Task,
    },
    /// No active workflow takes the ticket; it stays unallocated.
    Unroutable,
    /// The ticket is closed, rejected or withdrawn; nothing to allocate.
    Skipped,
}

/// A request to create a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Initial password (8..=128 characters); none for users who cannot log in yet.
    #[serde(default)]
    pub password: Option<String>,
}

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The active roles the user holds.
    pub roles: Vec<Role>,
}

impl Session {
    /// Whether the user holds `tts:Admin`.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(Role::is_admin)
    }

    /// The actor the user is, by their roles.
    pub fn actor(&self) -> crate::domain::user::Actor {
        crate::domain::user::Actor::with_roles(self.user.id, &self.roles)
    }
}

/// A task with its ticket, current step and every assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// The task.
    pub task: Task,
    /// Its ticket.
    pub ticket: Ticket,
    /// The workflow's name.
    pub workflow_name: String,
    /// The step work is at.
    pub current_step: Step,
    /// Every assignment, oldest first.
    pub assignments: Vec<Assignment>,
}

/// One action the holder could take now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableAction {
    /// The id to send.
    pub action_id: ActionId,
    /// Button label.
    pub name: String,
    /// Where it leads; `None` completes the task.
    pub to_step: Option<StepId>,
    /// The target step's name.
    pub to_step_name: Option<String>,
}

/// The actions on a task's current step, and whether the caller may take them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableActions {
    /// The step work is at.
    pub current_step: Step,
    /// Its actions.
    pub actions: Vec<AvailableAction>,
    /// True when the caller holds an open assignment on the current step of an open task.
    pub can_act: bool,
}

/// The result of `perform_action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Work moved to another step and was assigned.
    Transitioned {
        /// The task after the move.
        task: Task,
        /// The step work moved to.
        next_step: Step,
        /// Who got it.
        assignee: User,
        /// The new assignment.
        assignment: Assignment,
    },
    /// The task completed and the ticket is resolved.
    Completed {
        /// The task.
        task: Task,
        /// The ticket.
        ticket: Ticket,
    },
}

/// What one SLA sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    /// Warnings sent.
    pub warned: u32,
    /// Assignments marked breached.
    pub breached: u32,
    /// Breached assignments escalated automatically.
    pub escalated: u32,
}

/// A workflow's validation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowReport {
    /// The workflow.
    pub workflow: Workflow,
    /// Rules broken; publishing is refused while any exist.
    pub problems: Vec<Problem>,
    /// Roles no active user holds: tickets would wait for an assignee.
    pub roles_without_active_users: Vec<RoleId>,
}

/// A matching dry run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchDryRun {
    /// The decision and probes.
    pub explanation: Explanation,
    /// The chosen workflow.
    pub workflow: Option<Workflow>,
}
