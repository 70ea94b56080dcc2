//! Who may see each event of a live feed, decided once per event (a feed then checks each viewer
//! without reading anything), and the catch-up read for a client that reconnects.

use super::Engine;
use super::tickets::{TicketRef, visible_ticket_as};
use crate::domain::audit::AuditEntry;
use crate::domain::event::DomainEvent;
use crate::domain::user::Actor;
use crate::domain::visibility::Reach;
use crate::error::Result;
use crate::ids::{TaskId, TicketId, UserId};
use crate::ports::store::{Access, UnitOptions, UnitPriority};
use chrono::{DateTime, Utc};

/// Where an event points: its ticket, a task of a ticket, or one user.
#[derive(Clone, Copy)]
enum Subject {
    Ticket(TicketId, bool),
    Task(TaskId),
    User(UserId),
}

fn subject(event: &DomainEvent) -> Option<Subject> {
    use DomainEvent as E;
    Some(match event {
        E::TicketCreated { ticket, .. }
        | E::AllocationRequested { ticket }
        | E::TicketUpdated { ticket }
        | E::TicketStatusChanged { ticket, .. }
        | E::TaskCreated { ticket, .. }
        | E::TaskAssigned { ticket, .. }
        | E::TaskTransitioned { ticket, .. }
        | E::TaskCompleted { ticket, .. }
        | E::TaskCancelled { ticket, .. } => Subject::Ticket(*ticket, false),
        E::CommentAdded {
            ticket, is_internal, ..
        }
        | E::CommentEdited {
            ticket, is_internal, ..
        }
        | E::CommentDeleted {
            ticket, is_internal, ..
        }
        | E::AttachmentAdded {
            ticket, is_internal, ..
        }
        | E::AttachmentRemoved {
            ticket, is_internal, ..
        } => Subject::Ticket(*ticket, *is_internal),
        E::TaskEscalated { task, .. } | E::TaskTransferred { task, .. } => Subject::Task(*task),
        E::NotificationRequested { request } => Subject::User(request.user_id),
        // Their notifications carry them to the people concerned; the e-mail is the mail consumer's.
        E::SlaWarning { .. } | E::SlaBreached { .. } | E::EmailRequested { .. } => return None,
    })
}

impl Engine {
    /// Who may see `event` on a live feed, read once: `None` when nobody is shown it (e-mail requests,
    /// SLA events, whose notifications are shown instead) or its ticket is gone.
    pub async fn event_reach(&self, event: &DomainEvent) -> Result<Option<Reach>> {
        let Some(subject) = subject(event) else {
            return Ok(None);
        };
        if let Subject::User(user) = subject {
            return Ok(Some(Reach::User(user)));
        }
        // A read nobody waits on: it takes no locks and lets requests go first.
        let options = UnitOptions {
            access: Access::Read,
            priority: UnitPriority::Background,
        };
        self.run(options, None, async move |cmd| {
            let (ticket_id, staff_only) = match subject {
                Subject::Ticket(ticket, staff_only) => (ticket, staff_only),
                Subject::Task(task) => match cmd.tx.task(task).await? {
                    Some(task) => (task.ticket, false),
                    None => return Ok(None),
                },
                Subject::User(_) => return Ok(None),
            };
            let Some(ticket) = cmd.tx.ticket(ticket_id).await? else {
                return Ok(None);
            };
            let holders = match cmd.tx.task_for_ticket(ticket_id).await? {
                Some(task) => cmd.tx.task_assignments(task.id).await?.iter().map(|a| a.user).collect(),
                None => Vec::new(),
            };
            Ok(Some(Reach::Ticket {
                requester: ticket.created_by,
                holders,
                staff_only,
            }))
        })
        .await
    }

    /// What happened to a ticket after `after`, as the actor may see it (the ticket's history from then
    /// on): a live feed client that reconnects asks with the `at` of the last event it saw.
    pub async fn ticket_events(&self, actor: Actor, r: TicketRef, after: DateTime<Utc>) -> Result<Vec<AuditEntry>> {
        self.read(actor, async move |cmd| {
            let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
            let mut entries = cmd.tx.ticket_audit(ticket.id).await?;
            entries.retain(|e| e.at > after);
            Ok(seen.history(entries))
        })
        .await
    }
}
