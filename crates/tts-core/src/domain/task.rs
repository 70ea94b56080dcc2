//! Tasks (one run of a workflow for a ticket) and assignments (one user's turn on one step).

use crate::error::{Error, Result};
use crate::ids::{AssignmentId, RoleId, StepId, TaskId, TicketId, UserId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Allocated, nobody acted yet.
    Pending,
    /// At least one action was taken.
    InProgress,
    /// A completing action was taken.
    Completed,
    /// The ticket was withdrawn, rejected or closed before completion.
    Cancelled,
}

impl TaskStatus {
    /// The allowed moves.
    pub fn can_move_to(self, to: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, to),
            (Pending, InProgress | Completed | Cancelled) | (InProgress, Completed | Cancelled)
        )
    }

    /// Completed or cancelled.
    pub fn is_closed(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Cancelled)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of a workflow for a ticket, pinned to the workflow version it started on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Identifier.
    pub id: TaskId,
    /// The ticket (one task per ticket).
    pub ticket: TicketId,
    /// The workflow.
    pub workflow_id: WorkflowId,
    /// The pinned version; edits to the workflow never change a running task.
    pub workflow_version: u32,
    /// The step work is at; unchanged once completed (the step that completed it).
    pub current_step: StepId,
    /// Life-cycle status.
    pub status: TaskStatus,
    /// Whole-task SLA target.
    pub target_resolution: Option<DateTime<Utc>>,
    /// When the task completed or was cancelled.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: u32,
}

impl Task {
    /// Moves the task to `to` if allowed.
    pub fn move_to(&mut self, to: TaskStatus, now: DateTime<Utc>) -> Result<()> {
        if !self.status.can_move_to(to) {
            return Err(Error::IllegalTransition {
                entity: "task",
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        self.status = to;
        if to.is_closed() {
            self.resolved_at = Some(now);
        }
        self.touch(now);
        Ok(())
    }

    /// Records a change.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// How an assignment came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Picked by the assignment strategy.
    System,
    /// Handed over by transfer.
    Transferred,
    /// Picked in the escalation role.
    Escalated,
}

/// The status of one assignment. `new`, `in_progress` and `breached` are open (the holder may act).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Just assigned.
    New,
    /// The holder started working.
    InProgress,
    /// The holder acted; closed.
    Resolved,
    /// Handed up to the escalation role; closed.
    Escalated,
    /// Transferred to someone else; closed.
    Reassigned,
    /// Past its SLA target; still open.
    Breached,
    /// The task was cancelled (ticket withdrawn, rejected or closed); closed.
    Cancelled,
}

impl AssignmentStatus {
    /// Every status.
    pub const ALL: [AssignmentStatus; 7] = [
        AssignmentStatus::New,
        AssignmentStatus::InProgress,
        AssignmentStatus::Resolved,
        AssignmentStatus::Escalated,
        AssignmentStatus::Reassigned,
        AssignmentStatus::Breached,
        AssignmentStatus::Cancelled,
    ];

    /// Whether the holder can still act.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AssignmentStatus::New | AssignmentStatus::InProgress | AssignmentStatus::Breached
        )
    }

    /// The allowed moves: open statuses may close; `new` may start; open unbreached may breach.
    pub fn can_move_to(self, to: AssignmentStatus) -> bool {
        use AssignmentStatus::*;
        match (self, to) {
            (New, InProgress) => true,
            (New | InProgress, Breached) => true,
            (from, Resolved | Escalated | Reassigned | Cancelled) => from.is_open(),
            _ => false,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentStatus::New => "new",
            AssignmentStatus::InProgress => "in_progress",
            AssignmentStatus::Resolved => "resolved",
            AssignmentStatus::Escalated => "escalated",
            AssignmentStatus::Reassigned => "reassigned",
            AssignmentStatus::Breached => "breached",
            AssignmentStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for AssignmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an assignment's append-only status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status entered.
    pub status: AssignmentStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Who caused it; `None` for the system.
    pub by: Option<UserId>,
}

/// One user's turn on one step of a task (the seed's TaskItem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Identifier.
    pub id: AssignmentId,
    /// The task.
    pub task: TaskId,
    /// The holder.
    pub user: UserId,
    /// The role the holder works in.
    pub role: RoleId,
    /// The step this assignment is for.
    pub step: StepId,
    /// How it came about.
    pub origin: Origin,
    /// Current status (always the last history entry).
    pub status: AssignmentStatus,
    /// Append-only history; the first entry is `new`.
    pub history: Vec<StatusChange>,
    /// When it was assigned.
    pub assigned_at: DateTime<Utc>,
    /// SLA target: assigned_at + SLA(priority) * weight / sum of weights.
    pub target_resolution: Option<DateTime<Utc>>,
    /// When the holder acted (or it was escalated/transferred).
    pub acted_at: Option<DateTime<Utc>>,
    /// The holder's comment, the escalation reason or transfer notes.
    pub notes: String,
    /// When the SLA warning falls due (a share of the time to the target).
    pub warn_at: Option<DateTime<Utc>>,
    /// Whether the SLA warning went out.
    pub sla_warned: bool,
    /// Optimistic-concurrency version.
    pub version: u32,
}

impl Assignment {
    /// A fresh `new` assignment.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: AssignmentId,
        task: TaskId,
        user: UserId,
        role: RoleId,
        step: StepId,
        origin: Origin,
        now: DateTime<Utc>,
        target_resolution: Option<DateTime<Utc>>,
    ) -> Self {
        Assignment {
            id,
            task,
            user,
            role,
            step,
            origin,
            status: AssignmentStatus::New,
            history: vec![StatusChange {
                status: AssignmentStatus::New,
                at: now,
                by: None,
            }],
            assigned_at: now,
            target_resolution,
            acted_at: None,
            notes: String::new(),
            warn_at: None,
            sla_warned: false,
            version: 1,
        }
    }

    /// Appends a status change if the status table allows it.
    pub fn move_to(&mut self, to: AssignmentStatus, by: Option<UserId>, now: DateTime<Utc>) -> Result<()> {
        if !self.status.can_move_to(to) {
            return Err(Error::IllegalTransition {
                entity: "assignment",
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        self.status = to;
        self.history.push(StatusChange {
            status: to,
            at: now,
            by,
        });
        if !to.is_open() {
            self.acted_at = Some(now);
        }
        self.version += 1;
        Ok(())
    }

    /// Whether the holder's own move ended the assignment: they acted, escalated it, transferred it
    /// away, or cancelled it by changing the ticket's status. An assignment still open, or ended by the
    /// system (an SLA escalation) or by someone else (an admin's transfer), is not. The ticket list's
    /// `acted` scope lists the tickets of such assignments.
    pub fn ended_by_holder(&self) -> bool {
        !self.status.is_open() && self.history.last().is_some_and(|c| c.by == Some(self.user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    const TASK: [TaskStatus; 4] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::Completed,
        TaskStatus::Cancelled,
    ];

    proptest! {
        #[test]
        fn task_walks_follow_the_table(moves in proptest::collection::vec(proptest::sample::select(TASK.to_vec()), 0..20)) {
            let now = chrono::DateTime::UNIX_EPOCH;
            let id = Uuid::nil();
            let mut t = Task { id: TaskId(id), ticket: TicketId(1), workflow_id: WorkflowId(id), workflow_version: 1, current_step: StepId(id),
                status: TaskStatus::Pending, target_resolution: None, resolved_at: None, created_at: now, updated_at: now, version: 1 };
            for to in moves {
                let before = t.clone();
                match t.move_to(to, now) {
                    Ok(()) => prop_assert!(before.status.can_move_to(to) && t.status == to && t.version == before.version + 1),
                    Err(_) => prop_assert_eq!(&t, &before),
                }
                prop_assert_eq!(t.resolved_at.is_some(), t.status.is_closed());
            }
        }

        #[test]
        fn assignment_history_is_the_status_trail(moves in proptest::collection::vec(proptest::sample::select(AssignmentStatus::ALL.to_vec()), 0..20)) {
            let now = chrono::DateTime::UNIX_EPOCH;
            let id = Uuid::nil();
            let mut a = Assignment::new(AssignmentId(id), TaskId(id), UserId(id), RoleId(id), StepId(id), Origin::System, now, None);
            for to in moves {
                let before = a.clone();
                match a.move_to(to, None, now) {
                    Ok(()) => prop_assert!(before.status.can_move_to(to) && a.history.len() == before.history.len() + 1),
                    Err(_) => prop_assert_eq!(&a, &before),
                }
                prop_assert_eq!(a.history.last().map(|h| h.status), Some(a.status));
                prop_assert!(a.history.iter().skip(1).all(|h| h.status != AssignmentStatus::New), "never back to new");
                let closed = a.history.iter().position(|h| !h.status.is_open());
                prop_assert!(closed.is_none_or(|i| i == a.history.len() - 1), "nothing follows a closing status");
            }
        }
    }

    #[test]
    fn only_the_holders_own_closing_move_counts_as_theirs() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let (holder, admin) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let fresh = || {
            let id = Uuid::nil();
            Assignment::new(
                AssignmentId(id),
                TaskId(id),
                holder,
                RoleId(id),
                StepId(id),
                Origin::System,
                now,
                None,
            )
        };
        let ended = |status, by| {
            let mut a = fresh();
            a.move_to(status, by, now).expect("close");
            a.ended_by_holder()
        };
        assert!(!fresh().ended_by_holder(), "open");
        let mut started = fresh();
        started
            .move_to(AssignmentStatus::InProgress, Some(holder), now)
            .expect("start");
        assert!(!started.ended_by_holder(), "started by the holder, still open");
        assert!(ended(AssignmentStatus::Resolved, Some(holder)), "acted");
        assert!(ended(AssignmentStatus::Escalated, Some(holder)), "escalated by hand");
        assert!(ended(AssignmentStatus::Reassigned, Some(holder)), "transferred away");
        assert!(!ended(AssignmentStatus::Escalated, None), "escalated by the SLA sweep");
        assert!(
            !ended(AssignmentStatus::Reassigned, Some(admin)),
            "transferred by an admin"
        );
        assert!(
            !ended(AssignmentStatus::Cancelled, Some(admin)),
            "cancelled by someone else"
        );
    }
}
