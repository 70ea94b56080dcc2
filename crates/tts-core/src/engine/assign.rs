//! Putting work in someone's hands: pick by strategy, move the role cursor, write the assignment,
//! the `task.assigned` event and the assignee's notification, all in the caller's unit.

use super::command::{Cmd, Picks};
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
///
/// Inside a batch of allocations (`cmd.picks` is set) the role's state is read and locked once, then
/// carried forward in memory: the cursor moves to each pick and a least-loaded pick counts one more open
/// assignment for its user, exactly what reading it again would show; the cursor rows are written once,
/// when the batch ends ([`write_picked_cursors`]).
pub(crate) async fn pick(cmd: &mut Cmd<'_>, step: &Step, role: RoleId, exclude: Option<UserId>) -> Result<UserId> {
    let load = step.strategy == AssignmentStrategy::LeastLoaded;
    let batched = cmd.picks.is_some();
    let known = cmd.picks.as_mut().and_then(|picks| picks.remove(&role));
    let mut picks = match known {
        Some(p) if p.with_load || !load => p,
        known => {
            // The cursor is read (and locked) with the candidates: the last read before the unit's writes.
            let last_in_batch = known.and_then(|p| p.state.last);
            let mut state = cmd.tx.lock_pick_state(role, load).await?;
            // The batch's own cursor moves are not written yet: they are newer than the row.
            state.last = last_in_batch.or(state.last);
            Picks { state, with_load: load }
        }
    };
    let mut candidates = picks.state.candidates.clone();
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
        AssignmentStrategy::RoundRobin => round_robin(&candidates, picks.state.last),
        AssignmentStrategy::LeastLoaded => least_loaded(&candidates, picks.state.last),
    };
    let user = chosen.ok_or_else(|| Error::NoEligibleAssignee { role: role.to_string() })?;
    if batched {
        picks.state.last = Some(user);
        if let Some(c) = picks.state.candidates.iter_mut().find(|c| c.user == user) {
            c.open_assignments += 1;
        }
        cmd.picks.get_or_insert_with(Default::default).insert(role, picks);
    } else {
        cmd.tx.set_cursor(role, user).await?;
    }
    Ok(user)
}

/// Ends a batch of allocations: writes each role's cursor where the batch left it.
pub(crate) async fn write_picked_cursors(cmd: &mut Cmd<'_>) -> Result<()> {
    let Some(picks) = cmd.picks.take() else {
        return Ok(());
    };
    let mut moved: Vec<(RoleId, UserId)> = picks
        .into_iter()
        .filter_map(|(role, p)| p.state.last.map(|user| (role, user)))
        .collect();
    moved.sort_unstable_by_key(|(role, _)| *role);
    for (role, user) in moved {
        cmd.tx.set_cursor(role, user).await?;
    }
    Ok(())
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
