//! The audit trail: one entry per state change (who, what, before/after, when).

use crate::ids::{AuditId, TaskId, TicketId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Identifier.
    pub id: AuditId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who; `None` for the system (allocation worker, SLA sweep).
    pub actor: Option<UserId>,
    /// What, as a dotted verb: `ticket.created`, `task.allocated`, `task.action`...
    pub action: String,
    /// The ticket concerned.
    pub ticket: Option<TicketId>,
    /// The task concerned.
    pub task: Option<TaskId>,
    /// State before (the changed fields), or null.
    pub before: serde_json::Value,
    /// State after (the changed fields), or null.
    pub after: serde_json::Value,
}
