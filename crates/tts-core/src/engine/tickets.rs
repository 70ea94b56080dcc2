//! Ticket commands: open a ticket, change its status (cancelling the task when the ticket ends).

use super::unit::Cmd;
use super::{Engine, retrying};
use crate::domain::event::DomainEvent;
use crate::domain::task::{AssignmentStatus, TaskStatus};
use crate::domain::ticket::{NewTicket, Ticket, TicketStatus};
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::TicketId;
use crate::ports::store::{Access, UnitOfWork};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::str::FromStr;

/// A ticket named by integer id or by number (`TKT-2025-0001`), as the API accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketRef {
    /// By integer id.
    Id(TicketId),
    /// By number.
    Number(TicketNumber),
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketRef::Id(id) => id.fmt(f),
            TicketRef::Number(n) => n.fmt(f),
        }
    }
}

impl FromStr for TicketRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Ok(id) = s.parse::<i64>() {
            return Ok(TicketRef::Id(TicketId(id)));
        }
        s.parse::<TicketNumber>()
            .map(TicketRef::Number)
            .map_err(|_| Error::invalid("id", format!("{s:?} is neither a ticket id nor a ticket number")))
    }
}

impl From<TicketId> for TicketRef {
    fn from(id: TicketId) -> Self {
        TicketRef::Id(id)
    }
}

/// Loads a ticket by reference inside a unit.
pub(crate) async fn load_ticket(tx: &mut dyn UnitOfWork, r: TicketRef) -> Result<Ticket> {
    let found = match r {
        TicketRef::Id(id) => tx.ticket(id).await?,
        TicketRef::Number(n) => tx.ticket_by_number(n).await?,
    };
    found.ok_or_else(|| Error::not_found("ticket", r))
}

/// Moves a ticket through the table towards `to` via `in_progress` when needed; emits status events.
pub(crate) async fn drive_ticket(cmd: &mut Cmd<'_>, ticket: &mut Ticket, to: TicketStatus) -> Result<()> {
    let path: &[TicketStatus] = match (ticket.status, to) {
        (from, to) if from == to => &[],
        (TicketStatus::Open | TicketStatus::OnHold | TicketStatus::Pending, TicketStatus::Resolved) => {
            &[TicketStatus::InProgress, TicketStatus::Resolved]
        }
        _ => std::slice::from_ref(match to {
            TicketStatus::Resolved => &TicketStatus::Resolved,
            _ => &TicketStatus::InProgress,
        }),
    };
    for &next in path {
        let from = ticket.status;
        ticket.move_to(next, cmd.now)?;
        cmd.emit(DomainEvent::TicketStatusChanged {
            ticket: ticket.id,
            from,
            to: next,
        })
        .await?;
    }
    Ok(())
}

impl Engine {
    /// Opens a ticket for `actor`: validates, numbers it `TKT-YYYY-NNNN`, writes `ticket.created` to the
    /// outbox (the allocation consumer routes it) and the audit trail.
    pub async fn create_ticket(&self, actor: Actor, new: NewTicket) -> Result<Ticket> {
        let new = new.validated()?;
        retrying!(self, self.create_ticket_once(actor, &new))
    }

    async fn create_ticket_once(&self, actor: Actor, new: &NewTicket) -> Result<Ticket> {
        let mut cmd = Cmd::open(self, Access::Write, Some(actor.user)).await?;
        let year = cmd.now.year();
        let seq = cmd.tx.next_ticket_seq(year).await?;
        let id = cmd.tx.next_ticket_id().await?;
        let ticket = new
            .clone()
            .into_ticket(id, TicketNumber::new(year, seq)?, actor.user, cmd.now);
        cmd.tx.insert_ticket(&ticket).await?;
        cmd.audit(
            "ticket.created",
            Some(id),
            None,
            serde_json::Value::Null,
            json!({"ticket_id": ticket.ticket_id, "subject": ticket.subject, "priority": ticket.priority}),
        )
        .await?;
        cmd.emit(DomainEvent::TicketCreated {
            ticket: id,
            ticket_id: ticket.ticket_id,
            priority: ticket.priority,
        })
        .await?;
        cmd.commit().await?;
        Ok(ticket)
    }

    /// Changes a ticket's status by hand, following the status table.
    ///
    /// Admins may make any allowed move; the requester may withdraw or close their own ticket; an agent
    /// holding the open task may put it on hold, pending, or back in progress. Moving to closed, rejected
    /// or withdrawn cancels a running task and its open assignments.
    pub async fn change_ticket_status(&self, actor: Actor, ticket: TicketRef, to: TicketStatus) -> Result<Ticket> {
        retrying!(self, self.change_ticket_status_once(actor, ticket, to))
    }

    async fn change_ticket_status_once(&self, actor: Actor, r: TicketRef, to: TicketStatus) -> Result<Ticket> {
        let mut cmd = Cmd::open(self, Access::Write, Some(actor.user)).await?;
        let mut ticket = load_ticket(cmd.tx.as_mut(), r).await?;
        let task = cmd.tx.task_for_ticket(ticket.id).await?;
        let assignments = match &task {
            Some(t) => cmd.tx.task_assignments(t.id).await?,
            None => Vec::new(),
        };
        let is_requester = ticket.created_by == actor.user;
        let holds = |open: bool| {
            assignments
                .iter()
                .any(|a| a.user == actor.user && (!open || a.status.is_open()))
        };
        if !actor.is_admin && !is_requester && !holds(false) {
            return Err(Error::not_found("ticket", r));
        }
        let allowed = actor.is_admin
            || (is_requester && matches!(to, TicketStatus::Withdrawn | TicketStatus::Closed))
            || (holds(true)
                && matches!(
                    to,
                    TicketStatus::OnHold | TicketStatus::Pending | TicketStatus::InProgress
                ));
        if !allowed {
            return Err(Error::Forbidden(format!("you may not move this ticket to {to}")));
        }
        let from = ticket.status;
        ticket.move_to(to, cmd.now)?;
        cmd.tx.update_ticket(&ticket).await?;
        cmd.emit(DomainEvent::TicketStatusChanged {
            ticket: ticket.id,
            from,
            to,
        })
        .await?;
        if to.is_terminal()
            && let Some(mut task) = task.filter(|t| !t.status.is_closed())
        {
            task.move_to(TaskStatus::Cancelled, cmd.now)?;
            cmd.tx.update_task(&task).await?;
            for mut a in assignments.into_iter().filter(|a| a.status.is_open()) {
                a.move_to(AssignmentStatus::Cancelled, Some(actor.user), cmd.now)?;
                cmd.tx.update_assignment(&a).await?;
            }
            cmd.emit(DomainEvent::TaskCancelled {
                task: task.id,
                ticket: ticket.id,
            })
            .await?;
        }
        cmd.audit(
            "ticket.status_changed",
            Some(ticket.id),
            None,
            json!({"status": from}),
            json!({"status": to}),
        )
        .await?;
        cmd.commit().await?;
        Ok(ticket)
    }
}
