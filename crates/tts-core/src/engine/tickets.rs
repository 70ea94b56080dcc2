//! Ticket commands: open a ticket (at most once per idempotency key), edit it and move its status in one
//! command (cancelling the task when the ticket ends), push it to allocation.

use super::Engine;
use super::command::Cmd;
use crate::domain::event::DomainEvent;
use crate::domain::task::{AssignmentStatus, TaskStatus};
use crate::domain::ticket::{NewTicket, Ticket, TicketEdit, TicketStatus};
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::Actor;
use crate::domain::visibility::{Audience, audience};
use crate::error::{Error, Result};
use crate::ids::{TicketId, UserId};
use crate::ports::store::{IdempotencyRecord, UnitOfWork};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

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

/// Loads a ticket inside a unit if the actor may see it (admins all, requesters their own, agents those
/// whose task they hold or held), else "not found".
pub(crate) async fn visible_ticket(tx: &mut dyn UnitOfWork, actor: Actor, r: TicketRef) -> Result<Ticket> {
    let ticket = load_ticket(tx, r).await?;
    // Admins and the requester see the ticket itself without looking at the holders (it carries no
    // agent's words); what else they see is `ticket_audience`'s.
    if actor.is_admin || ticket.created_by == actor.user {
        return Ok(ticket);
    }
    ticket_audience(tx, actor, r, ticket).await.map(|(t, _)| t)
}

/// A ticket with what `actor` sees of it ([`crate::domain::visibility`]); not found when nothing.
pub(crate) async fn visible_ticket_as(
    tx: &mut dyn UnitOfWork,
    actor: Actor,
    r: TicketRef,
) -> Result<(Ticket, Audience)> {
    let ticket = load_ticket(tx, r).await?;
    ticket_audience(tx, actor, r, ticket).await
}

async fn ticket_audience(
    tx: &mut dyn UnitOfWork,
    actor: Actor,
    r: TicketRef,
    ticket: Ticket,
) -> Result<(Ticket, Audience)> {
    let holders: Vec<UserId> = if actor.is_admin {
        Vec::new()
    } else {
        match tx.task_for_ticket(ticket.id).await? {
            Some(task) => tx.task_assignments(task.id).await?.iter().map(|a| a.user).collect(),
            None => Vec::new(),
        }
    };
    match audience(actor, ticket.created_by, &holders) {
        Some(seen) => Ok((ticket, seen)),
        None => Err(Error::not_found("ticket", r)),
    }
}

/// A ticket as a summary for `actor`: files of internal notes only for admins (others, agents on the
/// ticket included, find them with [`Engine::attachments`], which weighs who holds the work).
pub(crate) fn summary_for(actor: Actor, ticket: Ticket) -> Ticket {
    if actor.is_admin {
        ticket
    } else {
        Audience::Requester.ticket(ticket)
    }
}

/// Moves a ticket through the table towards `to` via `in_progress` when needed; emits status events.
pub(crate) fn drive_ticket(cmd: &mut Cmd<'_>, ticket: &mut Ticket, to: TicketStatus) -> Result<()> {
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
        });
    }
    Ok(())
}

impl Engine {
    /// Opens a ticket for `actor`: validates, numbers it `TKT-YYYY-NNNN`, writes `ticket.created` to the
    /// outbox (the allocation consumer routes it) and the audit trail.
    ///
    /// With an idempotency `key`, the ticket is opened at most once per key and user: a retry with the
    /// same key and fingerprint returns the first ticket with `created == false`; the same key with
    /// another fingerprint is refused (`Error::Validation` on `Idempotency-Key`). The key is recorded in
    /// the ticket's own unit, so concurrent retries cannot both create.
    ///
    /// A requester files for themselves: an `employee` naming someone else is refused unless the actor
    /// is an admin or an agent filing on the employee's behalf.
    pub async fn create_ticket(&self, actor: Actor, new: NewTicket, key: Option<IdempotencyKey>) -> Result<Created> {
        let new = new.validated()?;
        if let Some(key) = &key {
            key.check()?;
        }
        // Checked with a lock-free read before the unit: the unit (and on SQLite the one writer every
        // create waits for) is not held for it.
        let new = if actor.is_staff() {
            new
        } else {
            on_behalf(self, actor, new).await?
        };
        let keyed = key.is_some();
        let mut raced = false;
        // Shared, not cloned, across attempts: the closure clones the ticket fields once per attempt.
        let (new, key) = (Arc::new(new), key.map(Arc::new));
        loop {
            let (new, key) = (Arc::clone(&new), key.clone());
            let result = self
                .write(actor, async move |cmd| {
                    if let Some(key) = &key
                        && let Some(replay) = replay(cmd, actor, key).await?
                    {
                        return Ok(replay);
                    }
                    let ticket = insert_new_ticket(cmd, actor, &new).await?;
                    if let Some(key) = &key {
                        cmd.tx
                            .insert_idempotency_record(&IdempotencyRecord {
                                user: actor.user,
                                key: key.key.clone(),
                                fingerprint: key.fingerprint.clone(),
                                ticket: ticket.id,
                                created_at: cmd.now,
                            })
                            .await?;
                    }
                    Ok(Created { ticket, created: true })
                })
                .await;
            match result {
                // A concurrent first request committed the key between our lookup and insert: the next
                // attempt finds its record.
                Err(Error::Conflict(_)) if keyed && !raced => raced = true,
                other => return other,
            }
        }
    }

    /// Changes a ticket's fields and, with `edit.status`, its status, all in one command: either every
    /// part applies or none does.
    ///
    /// Fields: admins may change anything; the requester may change the text at any time before the
    /// ticket ends, and the routing keys and priority only while no task runs (a running task keeps the
    /// workflow it matched). Status: admins may make any move the table allows; the requester may
    /// withdraw or close their own ticket; an agent holding the open task may put it on hold, pending, or
    /// back in progress. Moving to closed, rejected or withdrawn cancels a running task and its open
    /// assignments. Others get "not found" or "forbidden".
    ///
    /// A status equal to the current one changes nothing (a PUT may send the status unchanged).
    pub async fn update_ticket(&self, actor: Actor, r: TicketRef, edit: TicketEdit) -> Result<Ticket> {
        self.write(actor, async move |cmd| {
            update_ticket_in(cmd, actor, r, &edit, false).await
        })
        .await
        .map(|t| summary_for(actor, t))
    }

    /// Moves a ticket to `to` by hand: [`Self::update_ticket`] with only a status, except that moving to
    /// the status the ticket already has is refused as an illegal move (withdrawing twice is a conflict).
    pub async fn change_ticket_status(&self, actor: Actor, r: TicketRef, to: TicketStatus) -> Result<Ticket> {
        let edit = TicketEdit {
            status: Some(to),
            ..TicketEdit::default()
        };
        self.write(actor, async move |cmd| {
            update_ticket_in(cmd, actor, r, &edit, true).await
        })
        .await
        .map(|t| summary_for(actor, t))
    }

    /// Asks the allocation consumer to (re)run allocation for a ticket (`push_to_workflow`): useful after
    /// a workflow was published for a ticket that matched none. Allowed to admins and the requester;
    /// returns false (and changes nothing) when the ticket already has a task or has ended.
    pub async fn request_allocation(&self, actor: Actor, r: TicketRef) -> Result<bool> {
        self.write(actor, async move |cmd| {
            let ticket = visible_ticket(cmd.tx.as_mut(), actor, r).await?;
            if !actor.is_admin && ticket.created_by != actor.user {
                return Err(Error::Forbidden(
                    "only the requester or an admin may push a ticket".into(),
                ));
            }
            if ticket.is_task_allocated || ticket.status.is_terminal() {
                return Ok(false);
            }
            cmd.emit(DomainEvent::AllocationRequested { ticket: ticket.id });
            cmd.audit(
                "ticket.allocation_requested",
                Some(ticket.id),
                None,
                serde_json::Value::Null,
                serde_json::Value::Null,
            )
            .await?;
            Ok(true)
        })
        .await
    }
}

/// The ticket an earlier request under `key` created, if there was one.
async fn replay(cmd: &mut Cmd<'_>, actor: Actor, key: &IdempotencyKey) -> Result<Option<Created>> {
    let Some(record) = cmd.tx.idempotency_record(actor.user, &key.key).await? else {
        return Ok(None);
    };
    if record.fingerprint != key.fingerprint {
        return Err(Error::invalid(
            "Idempotency-Key",
            "already used with a different request body",
        ));
    }
    let ticket = load_ticket(cmd.tx.as_mut(), TicketRef::Id(record.ticket)).await?;
    Ok(Some(Created { ticket, created: false }))
}

/// The ticket as the actor may file it: a requester's own profile fills the `employee` they left out,
/// and naming somebody else is refused unless an admin or agent files on their behalf.
async fn on_behalf(engine: &Engine, actor: Actor, new: NewTicket) -> Result<NewTicket> {
    for_requester(engine.store.user(actor.user).await?, new)
}

/// A requester's ticket checked against their profile `me`: they file for themselves only, and their
/// name and e-mail fill what the request left blank. An identity the directory does not know (`None`:
/// an embedder's own users) has nothing to compare with.
pub(super) fn for_requester(me: Option<crate::domain::user::User>, mut new: NewTicket) -> Result<NewTicket> {
    let Some(me) = me else {
        return Ok(new);
    };
    let email = new.employee.email.trim().to_lowercase();
    if !email.is_empty() && email != me.email {
        return Err(Error::Forbidden(
            "employee: requesters file tickets for themselves; an agent or admin may file on someone's behalf".into(),
        ));
    }
    if email.is_empty() {
        new.employee.email = me.email.clone();
    }
    if new.employee.name.trim().is_empty() {
        new.employee.name = me.full_name;
    }
    Ok(new)
}

async fn insert_new_ticket(cmd: &mut Cmd<'_>, actor: Actor, new: &NewTicket) -> Result<Ticket> {
    let keys = cmd.tx.take_ticket_keys(cmd.now.year()).await?;
    insert_ticket_with(cmd, actor, new, keys).await
}

/// Inserts a new ticket under keys already taken (`take_ticket_keys` of the command's year), with its
/// audit entry and its `ticket.created` event.
pub(super) async fn insert_ticket_with(
    cmd: &mut Cmd<'_>,
    actor: Actor,
    new: &NewTicket,
    (id, seq): (TicketId, u32),
) -> Result<Ticket> {
    let year = cmd.now.year();
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
    });
    Ok(ticket)
}

/// The edit of [`Engine::update_ticket`] inside the caller's unit; `strict` refuses a move to the current
/// status instead of ignoring it.
async fn update_ticket_in(
    cmd: &mut Cmd<'_>,
    actor: Actor,
    r: TicketRef,
    edit: &TicketEdit,
    strict: bool,
) -> Result<Ticket> {
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
    let mut changed = false;
    if edit.touches_fields() {
        if !actor.is_admin {
            if !is_requester {
                return Err(Error::Forbidden(
                    "only the requester or an admin may edit a ticket".into(),
                ));
            }
            if edit.touches_routing() && ticket.is_task_allocated {
                return Err(Error::Forbidden(
                    "category, subcategory, department and priority are fixed once a task runs".into(),
                ));
            }
        }
        if ticket.status.is_terminal() {
            return Err(Error::conflict(format!(
                "ticket is {}; it can no longer change",
                ticket.status
            )));
        }
        let updated = edit.clone().apply(&ticket, cmd.now)?;
        cmd.audit(
            "ticket.updated",
            Some(ticket.id),
            None,
            edit_view(&ticket),
            edit_view(&updated),
        )
        .await?;
        cmd.emit(DomainEvent::TicketUpdated { ticket: ticket.id });
        ticket = updated;
        changed = true;
    }
    if let Some(to) = edit.status.filter(|to| strict || *to != ticket.status) {
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
        changed = true;
        cmd.emit(DomainEvent::TicketStatusChanged {
            ticket: ticket.id,
            from,
            to,
        });
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
            });
        }
        cmd.audit(
            "ticket.status_changed",
            Some(ticket.id),
            None,
            json!({"status": from}),
            json!({"status": to}),
        )
        .await?;
    }
    if changed {
        // One version step for the whole edit, whatever it changed.
        ticket.touch(cmd.now);
        cmd.tx.update_ticket(&ticket).await?;
    }
    Ok(ticket)
}

/// The fields an edit may change, as the audit trail records them.
fn edit_view(t: &Ticket) -> serde_json::Value {
    json!({
        "subject": t.subject,
        "description": t.description,
        "category": t.category,
        "subcategory": t.subcategory,
        "department": t.department,
        "priority": t.priority,
    })
}

/// An `Idempotency-Key` and the fingerprint of the request body it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey {
    /// The client's key.
    pub key: String,
    /// A digest of the request body; the same key with another digest is refused.
    pub fingerprint: String,
}

impl IdempotencyKey {
    /// Refuses keys that are not 1..=255 visible ASCII characters.
    fn check(&self) -> Result<()> {
        let k = &self.key;
        if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Idempotency-Key",
                "must be 1..=255 visible ASCII characters",
            ));
        }
        Ok(())
    }
}

/// A ticket from an idempotent create, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    /// The ticket.
    pub ticket: Ticket,
    /// False when an earlier request with the same key created it.
    pub created: bool,
}
