//! Putting work in someone's hands: pick by strategy, move the role cursor, write the assignment,
//! the `task.assigned` event and the assignee's notification, all in the caller's unit.

use super::command::Cmd;
use crate::domain::assignment::{least_loaded, round_robin};
use crate::domain::event::DomainEvent;
use crate::domain::notification::{NotificationRequest, NotificationType};
use crate::domain::sla::{step_target, warning_at};
use crate::domain::task::{Assignment, Origin, Task};
use crate::domain::ticket::Ticket;
use crate::domain::workflow::{AssignmentStrategy, Step, WorkflowDefinition};
use crate::error::{Error, Result};
use crate::ids::{RoleId, UserId};
use chrono::{DateTime, Utc};

/// Everything a new assignment needs besides its holder.
pub(crate) struct Placement<'a> {
    pub(crate) ticket: &'a Ticket,
    pub(crate) task: &'a Task,
    pub(crate) def: &'a WorkflowDefinition,
    pub(crate) step: &'a Step,
    pub(crate) role: RoleId,
    pub(crate) origin: Origin,
    /// Keep this SLA target instead of computing a fresh one (transfers keep the deadline).
    pub(crate) keep_target: Option<Option<DateTime<Utc>>>,
    pub(crate) notice: NotificationType,
}

/// Picks the next holder of `role` by the step's strategy, skipping `exclude`, and moves the cursor.
pub(crate) async fn pick(cmd: &mut Cmd<'_>, step: &Step, role: RoleId, exclude: Option<UserId>) -> Result<UserId> {
    let load = step.strategy == AssignmentStrategy::LeastLoaded;
    // The cursor is read (and locked) with the candidates: the last read before the unit's writes.
    let crate::ports::store::PickState { mut candidates, last } = cmd.tx.lock_pick_state(role, load).await?;
    candidates.retain(|c| Some(c.user) != exclude);
    if !candidates.iter().any(|c| c.active) {
        let name = cmd
            .tx
            .role(role)
            .await?
            .map_or_else(|| role.to_string(), |r| r.to_string());
        return Err(Error::NoEligibleAssignee { role: name });
    }
    let chosen = match step.strategy {
        AssignmentStrategy::RoundRobin => round_robin(&candidates, last),
        AssignmentStrategy::LeastLoaded => least_loaded(&candidates, last),
    };
    let user = chosen.ok_or_else(|| Error::NoEligibleAssignee { role: role.to_string() })?;
    cmd.tx.set_cursor(role, user).await?;
    Ok(user)
}

/// Writes a new assignment for `user` with its event and notification.
pub(crate) async fn place(cmd: &mut Cmd<'_>, p: &Placement<'_>, user: UserId) -> Result<Assignment> {
    let target = match p.keep_target {
        Some(kept) => kept,
        None => step_target(p.def, p.step.id, p.ticket.priority, cmd.now),
    };
    let mut a = Assignment::new(cmd.id(), p.task.id, user, p.role, p.step.id, p.origin, cmd.now, target);
    a.warn_at = target.map(|t| warning_at(cmd.now, t, cmd.engine.config.sla_warning_percent));
    cmd.tx.insert_assignment(&a).await?;
    cmd.emit(DomainEvent::TaskAssigned {
        task: p.task.id,
        ticket: p.ticket.id,
        assignment: a.id,
        user,
        step: p.step.id,
    });
    let subject = format!("{} {}: {}", p.ticket.ticket_id, p.step.name, p.ticket.subject);
    let message = match p.origin {
        Origin::System => format!(
            "You were assigned step \"{}\" of ticket {}.",
            p.step.name, p.ticket.ticket_id
        ),
        Origin::Transferred => format!(
            "Step \"{}\" of ticket {} was transferred to you.",
            p.step.name, p.ticket.ticket_id
        ),
        Origin::Escalated => format!(
            "Step \"{}\" of ticket {} was escalated to you.",
            p.step.name, p.ticket.ticket_id
        ),
    };
    cmd.notify(NotificationRequest {
        user_id: user,
        kind: p.notice,
        subject,
        message,
        related_ticket: Some(p.ticket.ticket_id),
        related_task: Some(p.task.id),
    });
    Ok(a)
}
