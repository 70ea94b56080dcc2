//! Tasks (workflow runs) and their assignments.

use crate::domain::task::{Assignment, Task};
use crate::error::Result;
use crate::ids::{TaskId, TicketId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Tasks and assignments.
///
/// Contract (checked by `tts_core::testkit::store::tasks`):
/// - a ticket has at most one task: a second is a conflict;
/// - `update_task` and `update_assignment` check the version (see `Store`); an assignment's history only
///   grows (an update with a shorter history is a conflict);
/// - `task_assignments` lists a task's assignments oldest first;
/// - `assignments_due(now, limit)` lists open assignments whose warning is due and not sent, or whose
///   target has passed and that are not yet breached, oldest target first, at most `limit`;
/// - reads lock the rows they return in a write unit.
#[async_trait]
pub trait Tasks: Send {
    /// Inserts a task.
    async fn insert_task(&mut self, task: &Task) -> Result<()>;
    /// Replaces a task (version check).
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    /// A task by id.
    async fn task(&mut self, id: TaskId) -> Result<Option<Task>>;
    /// The task of a ticket.
    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>>;
    /// Inserts an assignment.
    async fn insert_assignment(&mut self, assignment: &Assignment) -> Result<()>;
    /// Replaces an assignment (version check; history only grows).
    async fn update_assignment(&mut self, assignment: &Assignment) -> Result<()>;
    /// All assignments of a task, oldest first.
    async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>>;
    /// Open assignments whose SLA warning or breach is due at `now`.
    async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>>;
}
