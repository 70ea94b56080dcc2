//! The audit trail: who did what, before and after, when.

use crate::domain::audit::AuditEntry;
use crate::error::Result;
use crate::ids::{TaskId, TicketId};
use async_trait::async_trait;

/// Audit entries.
///
/// Contract (checked by `tts_core::testkit::store::audit`): entries are append-only and read back equal,
/// in the order they were written (across units: commit order); `ticket_audit` includes the entries of
/// the ticket's task.
#[async_trait]
pub trait Audit: Send {
    /// Appends an entry.
    async fn insert_audit(&mut self, entry: AuditEntry) -> Result<()>;
    /// The trail of a ticket, oldest first.
    async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>>;
    /// The trail of a task, oldest first.
    async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>>;
}
