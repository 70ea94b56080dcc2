//! [`Audit`] in SQL: the append-only `audit` table, read in write order (`seq`).

use super::{Deferred, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::ports::Audit;
use tts_core::{AuditEntry, Result, TaskId, TicketId};

#[async_trait]
impl Audit for SqlUnit {
    async fn insert_audit(&mut self, e: AuditEntry) -> Result<()> {
        let data = self.json(&e)?;
        self.defer(Deferred::any(
            "INSERT INTO audit (id, at, ticket_id, task_id, data) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::Uuid(e.id.0),
                Arg::Time(e.at),
                Arg::OptI64(e.ticket.map(|t| t.0)),
                Arg::OptUuid(e.task.map(|t| t.0)),
                data,
            ],
            None,
        ))
        .await
    }

    /// The ticket's entries and those of its task that name no ticket.
    async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>> {
        let sql = "SELECT data FROM audit WHERE ticket_id = $1 \
                   OR (ticket_id IS NULL AND task_id = (SELECT id FROM tasks WHERE ticket_id = $1)) ORDER BY seq";
        self.all_docs(sql, vec![Arg::I64(ticket.0)]).await
    }

    async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>> {
        self.all_docs(
            "SELECT data FROM audit WHERE task_id = $1 ORDER BY seq",
            vec![Arg::Uuid(task.0)],
        )
        .await
    }
}
