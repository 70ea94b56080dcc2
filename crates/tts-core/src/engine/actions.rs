//! Work on a task: the available actions, acting, escalating and transferring.

use super::Engine;
use super::allocation::pinned_version;
use super::assign::{Placement, pick, place};
use super::command::Cmd;
use super::tickets::drive_ticket;
use super::views::{ActionOutcome, AvailableAction, AvailableActions};
use crate::domain::event::DomainEvent;
use crate::domain::notification::{NotificationRequest, NotificationType};
use crate::domain::task::{Assignment, AssignmentStatus, Origin, Task, TaskStatus};
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::domain::user::Actor;
use crate::domain::workflow::{Step, Workflow};
use crate::error::{Error, Result};
use crate::ids::{ActionId, TaskId, UserId};
use serde_json::json;
use std::sync::Arc;

/// Longest action comment, escalation reason or transfer note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// A task with everything a command on it needs, loaded in one unit.
pub(crate) struct TaskContext {
    pub(crate) task: Task,
    pub(crate) ticket: Ticket,
    pub(crate) workflow: Arc<Workflow>,
    pub(crate) assignments: Vec<Assignment>,
}

impl TaskContext {
    pub(crate) fn current_step(&self) -> Result<&Step> {
        self.workflow
            .definition
            .step(self.task.current_step)
            .ok_or_else(|| Error::not_found("step", self.task.current_step))
    }

    /// The open assignment on the current step held by `user`.
    pub(crate) fn open_assignment_of(&self, user: UserId) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| a.user == user && a.step == self.task.current_step && a.status.is_open())
    }

    /// The open assignments on the current step.
    pub(crate) fn open_on_current(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.step == self.task.current_step && a.status.is_open())
    }

    /// Admins, the requester and anyone who holds or held an assignment may see the task.
    pub(crate) fn visible_to(&self, actor: Actor) -> bool {
        self.audience(actor).is_some()
    }

    /// What `actor` sees of this task ([`crate::domain::visibility`]).
    pub(crate) fn audience(&self, actor: Actor) -> Option<crate::domain::visibility::Audience> {
        let holders: Vec<_> = self.assignments.iter().map(|a| a.user).collect();
        crate::domain::visibility::audience(actor, self.ticket.created_by, &holders)
    }
}

/// Loads a task for `actor`; invisible tasks are reported as not found.
pub(crate) async fn load_task(cmd: &mut Cmd<'_>, actor: Actor, id: TaskId) -> Result<TaskContext> {
    let task = cmd.tx.task(id).await?.ok_or_else(|| Error::not_found("task", id))?;
    let ticket = cmd
        .tx
        .ticket(task.ticket)
        .await?
        .ok_or_else(|| Error::not_found("ticket", task.ticket))?;
    let assignments = cmd.tx.task_assignments(id).await?;
    let workflow = pinned_version(cmd.tx.as_mut(), &task).await?;
    let ctx = TaskContext {
        task,
        ticket,
        workflow,
        assignments,
    };
    if ctx.visible_to(actor) {
        Ok(ctx)
    } else {
        Err(Error::not_found("task", id))
    }
}

fn check_note(field: &str, text: &str, required: bool) -> Result<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

/// The caller's open assignment on the current step of an open task, or the error saying why not.
fn holder_assignment(ctx: &TaskContext, actor: Actor) -> Result<Assignment> {
    if ctx.task.status.is_closed() {
        return Err(Error::conflict(format!("task {} is {}", ctx.task.id, ctx.task.status)));
    }
    if let Some(a) = ctx.open_assignment_of(actor.user) {
        return Ok(a.clone());
    }
    let on_step = ctx
        .assignments
        .iter()
        .rev()
        .find(|a| a.user == actor.user && a.step == ctx.task.current_step);
    let latest = on_step.or_else(|| ctx.assignments.iter().rev().find(|a| a.user == actor.user));
    Err(match latest.map(|a| a.status) {
        Some(AssignmentStatus::Resolved) => Error::conflict("you already acted; the task has moved on"),
        Some(status) => Error::Forbidden(format!("your assignment on this step was {status}")),
        None => Error::Forbidden("you hold no open assignment on the task's current step".into()),
    })
}

impl Engine {
    /// The actions of the task's current step, and whether `actor` may take them now.
    pub async fn available_actions(&self, actor: Actor, task: TaskId) -> Result<AvailableActions> {
        let ctx = self
            .read(actor, async move |cmd| load_task(cmd, actor, task).await)
            .await?;
        let def = &ctx.workflow.definition;
        let step = ctx.current_step()?.clone();
        let can_act = !ctx.task.status.is_closed() && ctx.open_assignment_of(actor.user).is_some();
        let actions = def
            .actions_from(step.id)
            .map(|t| AvailableAction {
                action_id: t.id,
                name: t.name.clone(),
                to_step: t.to_step,
                to_step_name: t.to_step.and_then(|s| def.step(s)).map(|s| s.name.clone()),
            })
            .collect();
        Ok(AvailableActions {
            current_step: step,
            actions,
            can_act,
        })
    }

    /// Takes an action on the task's current step: the caller must hold an open assignment there, and the
    /// action must leave that step. Moves and assigns the next step, or completes the task and resolves
    /// the ticket.
    pub async fn perform_action(
        &self,
        actor: Actor,
        task: TaskId,
        action: ActionId,
        comment: &str,
    ) -> Result<ActionOutcome> {
        let comment = check_note("comment", comment, false)?;
        self.write(actor, async move |cmd| act(cmd, actor, task, action, &comment).await)
            .await
    }

    /// Hands the current step up to the step's escalation role (round-robin there, never back to the
    /// current holder). The holder or an admin may escalate; `reason` is required.
    pub async fn escalate(&self, actor: Actor, task: TaskId, reason: &str) -> Result<Assignment> {
        let reason = check_note("reason", reason, true)?;
        self.write(actor, async move |cmd| {
            let ctx = load_task(cmd, actor, task).await?;
            let current = held_or_admin(&ctx, actor)?;
            escalate_assignment(cmd, &ctx, current, &reason, Some(actor.user)).await
        })
        .await
    }

    /// Hands the current step to a named user who actively holds the step's role. The holder or an admin
    /// may transfer; the SLA target is kept.
    pub async fn transfer(&self, actor: Actor, task: TaskId, to: UserId, notes: &str) -> Result<Assignment> {
        let notes = check_note("notes", notes, false)?;
        self.write(actor, async move |cmd| transfer_in(cmd, actor, task, to, &notes).await)
            .await
    }
}

/// The caller's open assignment on the current step, or for an admin any open one there.
fn held_or_admin(ctx: &TaskContext, actor: Actor) -> Result<Assignment> {
    match holder_assignment(ctx, actor) {
        Ok(a) => Ok(a),
        Err(_) if actor.is_admin && !ctx.task.status.is_closed() => ctx
            .open_on_current()
            .next()
            .cloned()
            .ok_or_else(|| Error::conflict("the current step has no open assignment")),
        Err(e) => Err(e),
    }
}

/// Hands the current step to `to` in the caller's unit (see [`Engine::transfer`]).
async fn transfer_in(cmd: &mut Cmd<'_>, actor: Actor, id: TaskId, to: UserId, notes: &str) -> Result<Assignment> {
    {
        let ctx = load_task(cmd, actor, id).await?;
        let mut current = held_or_admin(&ctx, actor)?;
        if current.user == to {
            return Err(Error::invalid("user_id", "the assignment is already theirs"));
        }
        let holds_role = cmd
            .tx
            .candidates(current.role, false)
            .await?
            .iter()
            .any(|c| c.user == to && c.active);
        if !holds_role {
            let role = cmd
                .tx
                .role(current.role)
                .await?
                .map_or_else(|| current.role.to_string(), |r| r.to_string());
            return Err(Error::invalid(
                "user_id",
                format!("the user is not an active holder of role {role}"),
            ));
        }
        let step = ctx.current_step()?.clone();
        current.notes = notes.to_string();
        current.move_to(AssignmentStatus::Reassigned, Some(actor.user), cmd.now)?;
        cmd.tx.update_assignment(&current).await?;
        let placement = Placement {
            ticket: &ctx.ticket,
            task: &ctx.task,
            def: &ctx.workflow.definition,
            step: &step,
            role: current.role,
            origin: Origin::Transferred,
            keep_target: Some(current.target_resolution),
            notice: NotificationType::TaskTransferIn,
        };
        let new = place(cmd, &placement, to).await?;
        cmd.notify(NotificationRequest {
            user_id: current.user,
            kind: NotificationType::TaskTransferOut,
            subject: format!("{} transferred", ctx.ticket.ticket_id),
            message: format!(
                "Step \"{}\" of ticket {} was transferred to someone else.",
                step.name, ctx.ticket.ticket_id
            ),
            related_ticket: Some(ctx.ticket.ticket_id),
            related_task: Some(id),
        });
        cmd.emit(DomainEvent::TaskTransferred {
            task: id,
            from: current.id,
            to: new.id,
        });
        cmd.audit(
            "task.transferred",
            Some(ctx.ticket.id),
            Some(id),
            json!({"assignment": current.id, "user": current.user}),
            json!({"assignment": new.id, "user": to, "notes": notes}),
        )
        .await?;
        Ok(new)
    }
}

/// Takes an action in the caller's unit (see [`Engine::perform_action`]).
async fn act(cmd: &mut Cmd<'_>, actor: Actor, id: TaskId, action: ActionId, comment: &str) -> Result<ActionOutcome> {
    let mut ctx = load_task(cmd, actor, id).await?;
    let mut holder = holder_assignment(&ctx, actor)?;
    let def = &ctx.workflow.definition;
    let transition = def
        .transition(action)
        .filter(|t| t.from_step == ctx.task.current_step)
        .ok_or_else(|| Error::invalid("action_id", "this action does not leave the task's current step"))?
        .clone();
    holder.notes = comment.to_string();
    holder.move_to(AssignmentStatus::Resolved, Some(actor.user), cmd.now)?;
    cmd.tx.update_assignment(&holder).await?;
    let from_step = ctx.task.current_step;
    let outcome = match transition.to_step {
        Some(next) => {
            let step = def.step(next).ok_or_else(|| Error::not_found("step", next))?.clone();
            ctx.task.current_step = next;
            if ctx.task.status == TaskStatus::Pending {
                ctx.task.move_to(TaskStatus::InProgress, cmd.now)?;
            } else {
                ctx.task.touch(cmd.now);
            }
            cmd.tx.update_task(&ctx.task).await?;
            let user = pick(cmd, &step, step.role_id, None).await?;
            let placement = Placement {
                ticket: &ctx.ticket,
                task: &ctx.task,
                def,
                step: &step,
                role: step.role_id,
                origin: Origin::System,
                keep_target: None,
                notice: NotificationType::TaskAssignment,
            };
            let assignment = place(cmd, &placement, user).await?;
            let mut ticket = ctx.ticket.clone();
            if ticket.status != TicketStatus::InProgress {
                drive_ticket(cmd, &mut ticket, TicketStatus::InProgress)?;
                ticket.touch(cmd.now);
                cmd.tx.update_ticket(&ticket).await?;
            }
            cmd.emit(DomainEvent::TaskTransitioned {
                task: id,
                ticket: ticket.id,
                action,
                from_step,
                to_step: next,
                by: actor.user,
            });
            cmd.audit(
                "task.action",
                Some(ticket.id),
                Some(id),
                json!({"step": from_step, "assignment": holder.id}),
                json!({"action": action, "action_name": transition.name, "step": next, "assignee": user, "comment": comment}),
            )
            .await?;
            let assignee = cmd.tx.user(user).await?.ok_or_else(|| Error::not_found("user", user))?;
            ActionOutcome::Transitioned {
                task: ctx.task.clone(),
                next_step: step,
                assignee,
                assignment,
            }
        }
        None => {
            ctx.task.move_to(TaskStatus::Completed, cmd.now)?;
            cmd.tx.update_task(&ctx.task).await?;
            let mut ticket = ctx.ticket.clone();
            drive_ticket(cmd, &mut ticket, TicketStatus::Resolved)?;
            ticket.touch(cmd.now);
            cmd.tx.update_ticket(&ticket).await?;
            cmd.emit(DomainEvent::TaskCompleted {
                task: id,
                ticket: ticket.id,
                by: actor.user,
            });
            cmd.notify(NotificationRequest {
                user_id: ticket.created_by,
                kind: NotificationType::TaskCompleted,
                subject: format!("{} resolved: {}", ticket.ticket_id, ticket.subject),
                message: format!("Your ticket {} was resolved.", ticket.ticket_id),
                related_ticket: Some(ticket.ticket_id),
                related_task: Some(id),
            });
            cmd.audit(
                "task.completed",
                Some(ticket.id),
                Some(id),
                json!({"step": from_step, "assignment": holder.id}),
                json!({"action": action, "action_name": transition.name, "status": "completed", "comment": comment}),
            )
            .await?;
            ActionOutcome::Completed {
                task: ctx.task.clone(),
                ticket,
            }
        }
    };
    Ok(outcome)
}

/// Closes `current` as escalated and assigns the step's escalation role, in the caller's unit.
pub(crate) async fn escalate_assignment(
    cmd: &mut Cmd<'_>,
    ctx: &TaskContext,
    mut current: Assignment,
    reason: &str,
    by: Option<UserId>,
) -> Result<Assignment> {
    let step = ctx.current_step()?.clone();
    let role = step
        .escalate_to
        .ok_or_else(|| Error::conflict(format!("step \"{}\" has no escalation role", step.name)))?;
    let user = pick(cmd, &step, role, Some(current.user)).await?;
    current.notes = reason.to_string();
    current.move_to(AssignmentStatus::Escalated, by, cmd.now)?;
    cmd.tx.update_assignment(&current).await?;
    let placement = Placement {
        ticket: &ctx.ticket,
        task: &ctx.task,
        def: &ctx.workflow.definition,
        step: &step,
        role,
        origin: Origin::Escalated,
        keep_target: None,
        notice: NotificationType::TaskEscalationIn,
    };
    let new = place(cmd, &placement, user).await?;
    cmd.notify(NotificationRequest {
        user_id: current.user,
        kind: NotificationType::TaskEscalationOut,
        subject: format!("{} escalated", ctx.ticket.ticket_id),
        message: format!(
            "Step \"{}\" of ticket {} was escalated: {reason}",
            step.name, ctx.ticket.ticket_id
        ),
        related_ticket: Some(ctx.ticket.ticket_id),
        related_task: Some(ctx.task.id),
    });
    cmd.emit(DomainEvent::TaskEscalated {
        task: ctx.task.id,
        from: current.id,
        to: new.id,
    });
    cmd.audit(
        "task.escalated",
        Some(ctx.ticket.id),
        Some(ctx.task.id),
        json!({"assignment": current.id, "user": current.user}),
        json!({"assignment": new.id, "user": user, "role": role, "reason": reason}),
    )
    .await?;
    Ok(new)
}
