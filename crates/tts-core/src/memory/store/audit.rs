//! [`Audit`] in memory.

use super::MemoryUnit;
use crate::domain::audit::AuditEntry;
use crate::error::Result;
use crate::ids::{TaskId, TicketId};
use crate::ports::store::Audit;
use async_trait::async_trait;

#[async_trait]
impl Audit for MemoryUnit {
    async fn insert_audit(&mut self, entry: AuditEntry) -> Result<()> {
        self.s().audit.push(entry);
        self.undo.push(Box::new(|s| {
            s.audit.pop();
        }));
        Ok(())
    }

    async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>> {
        let s = self.s();
        let task = s.task_by_ticket.get(&ticket).copied();
        Ok(s.audit
            .iter()
            .filter(|e| e.ticket == Some(ticket) || (e.ticket.is_none() && e.task.is_some() && e.task == task))
            .cloned()
            .collect())
    }

    async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>> {
        Ok(self
            .s()
            .audit
            .iter()
            .filter(|e| e.task == Some(task))
            .cloned()
            .collect())
    }
}
