//! Allocation: route a ticket to the most specific active workflow and assign its start step.

use super::Engine;
use super::assign::{Placement, pick, place};
use super::command::Cmd;
use super::views::Allocation;
use crate::domain::event::DomainEvent;
use crate::domain::matching::{Match, MatchIndex, TicketKey};
use crate::domain::notification::{NotificationRequest, NotificationType};
use crate::domain::sla::task_target;
use crate::domain::task::{Origin, Task, TaskStatus};
use crate::domain::ticket::Ticket;
use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::{Error, Result};
use crate::ids::{RoleId, TicketId};
use crate::ports::store::UnitOfWork;
use serde_json::json;
use std::sync::Arc;

impl Engine {
    /// Routes a ticket and assigns the first step. Idempotent: for a ticket that already has a task
    /// nothing changes and [`Allocation::AlreadyAllocated`] is returned.
    pub async fn allocate(&self, ticket: TicketId) -> Result<Allocation> {
        let options = crate::ports::store::UnitOptions::write();
        self.run(options, None, async move |cmd| allocate_in(cmd, ticket).await)
            .await
    }

    /// The current match index, rebuilt only when the store's workflow revision moved.
    pub(crate) async fn match_index(&self, tx: &mut dyn UnitOfWork) -> Result<Arc<MatchIndex>> {
        let revision = tx.workflows_revision().await?;
        if let Some((rev, index)) = self.match_cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *rev == revision
        {
            return Ok(Arc::clone(index));
        }
        let active = tx.workflows(Some(WorkflowStatus::Active)).await?;
        let index = Arc::new(MatchIndex::build(&active));
        *self.match_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((revision, Arc::clone(&index)));
        Ok(index)
    }
}

/// Loads the frozen version a task runs on.
pub(crate) async fn pinned_version(tx: &mut dyn UnitOfWork, task: &Task) -> Result<Arc<Workflow>> {
    tx.workflow_version(task.workflow_id, task.workflow_version)
        .await?
        .ok_or_else(|| {
            Error::not_found(
                "workflow version",
                format!("{}@{}", task.workflow_id, task.workflow_version),
            )
        })
}

/// A ticket routed to a workflow, its row locked in the unit, ready for its first assignment.
pub(crate) struct Routed {
    ticket: Ticket,
    workflow: Arc<Workflow>,
    decision: Match,
    /// The role the start step goes to: the role whose cursor the assignment locks.
    pub(crate) role: RoleId,
}

impl Routed {
    /// The ticket's id.
    pub(crate) fn ticket_id(&self) -> TicketId {
        self.ticket.id
    }
}

/// Where routing a ticket ended.
pub(crate) enum Route {
    /// Nothing to assign: already allocated, closed, or no workflow matches.
    Settled(Allocation),
    /// Ready for [`assign_routed`].
    Ready(Routed),
}

/// The allocation itself, inside the caller's unit (the allocation consumer adds its dedup record).
pub(crate) async fn allocate_in(cmd: &mut Cmd<'_>, ticket_id: TicketId) -> Result<Allocation> {
    match route(cmd, ticket_id).await? {
        Route::Settled(allocation) => Ok(allocation),
        Route::Ready(routed) => assign_routed(cmd, routed).await,
    }
}

/// Locks and loads a ticket and finds the workflow it goes to.
pub(crate) async fn route(cmd: &mut Cmd<'_>, ticket_id: TicketId) -> Result<Route> {
    let loaded = cmd
        .tx
        .ticket_with_task(ticket_id)
        .await?
        .ok_or_else(|| Error::not_found("ticket", ticket_id))?;
    route_loaded(cmd, loaded).await
}

/// Finds the workflow of a ticket read (and locked) with its task.
pub(crate) async fn route_loaded(cmd: &mut Cmd<'_>, (ticket, task): (Ticket, Option<Task>)) -> Result<Route> {
    if let Some(task) = task {
        return Ok(Route::Settled(Allocation::AlreadyAllocated { task }));
    }
    if ticket.status.is_terminal() {
        return Ok(Route::Settled(Allocation::Skipped));
    }
    let index = cmd.engine.match_index(cmd.tx.as_mut()).await?;
    let Some(decision) = index.find(&TicketKey::from(&ticket)) else {
        mark_unroutable(cmd, ticket).await?;
        return Ok(Route::Settled(Allocation::Unroutable));
    };
    let workflow = cmd
        .tx
        .workflow_version(decision.workflow, decision.version)
        .await?
        .ok_or_else(|| {
            Error::not_found(
                "workflow version",
                format!("{}@{}", decision.workflow, decision.version),
            )
        })?;
    let role = workflow
        .definition
        .start_step()
        .ok_or_else(|| Error::conflict(format!("workflow {} has no start step", workflow.id)))?
        .role_id;
    Ok(Route::Ready(Routed {
        ticket,
        workflow,
        decision,
        role,
    }))
}

/// Records on a ticket that no active workflow matches it and tells every active admin, once per reason:
/// the ticket stays open and unallocated (listed by `is_task_allocated=false`) until a workflow for it is
/// published and it is pushed again.
async fn mark_unroutable(cmd: &mut Cmd<'_>, mut ticket: Ticket) -> Result<()> {
    let key = TicketKey::from(&ticket);
    let mut reason = format!("no active workflow matches category {:?}", key.category);
    if let Some(sub) = &key.subcategory {
        reason.push_str(&format!(", subcategory {sub:?}"));
    }
    if let Some(dept) = &key.department {
        reason.push_str(&format!(", department {dept:?}"));
    }
    if ticket.unroutable.as_deref() == Some(reason.as_str()) {
        return Ok(());
    }
    ticket.unroutable = Some(reason.clone());
    ticket.touch(cmd.now);
    cmd.tx.update_ticket(&ticket).await?;
    cmd.audit(
        "ticket.unroutable",
        Some(ticket.id),
        None,
        serde_json::Value::Null,
        json!({ "reason": reason }),
    )
    .await?;
    let admins = match cmd.tx.roles().await?.into_iter().find(|r| r.is_admin()) {
        Some(role) => cmd.tx.role_members(role.id).await?,
        None => Vec::new(),
    };
    for member in admins.into_iter().filter(|m| m.is_active && m.user.is_active) {
        cmd.notify(NotificationRequest {
            user_id: member.user.id,
            kind: NotificationType::TicketUnroutable,
            subject: format!("Ticket {} could not be routed", ticket.ticket_id),
            message: format!("{reason}. Publish a workflow that matches it, then push the ticket to allocation again."),
            related_ticket: Some(ticket.ticket_id),
            related_task: None,
        });
    }
    Ok(())
}

/// Creates the task of a routed ticket and assigns its start step.
pub(crate) async fn assign_routed(cmd: &mut Cmd<'_>, routed: Routed) -> Result<Allocation> {
    let Routed {
        mut ticket,
        workflow,
        decision,
        ..
    } = routed;
    let def = &workflow.definition;
    let start = def
        .start_step()
        .ok_or_else(|| Error::conflict(format!("workflow {} has no start step", workflow.id)))?;
    let task = Task {
        id: cmd.id(),
        ticket: ticket.id,
        workflow_id: workflow.id,
        workflow_version: workflow.version,
        current_step: start.id,
        status: TaskStatus::Pending,
        target_resolution: task_target(def, ticket.priority, cmd.now),
        resolved_at: None,
        created_at: cmd.now,
        updated_at: cmd.now,
        version: 1,
    };
    // The pick first: its read of the role's cursor sends what the unit holds back, and this ticket's
    // writes then go with the assignment's, in the unit's last statement instead of one of their own.
    let user = pick(cmd, start, start.role_id, None).await?;
    cmd.tx.insert_task(&task).await?;
    ticket.is_task_allocated = true;
    ticket.workflow_id = Some(workflow.id);
    ticket.unroutable = None;
    ticket.touch(cmd.now);
    cmd.tx.update_ticket(&ticket).await?;
    cmd.emit(DomainEvent::TaskCreated {
        task: task.id,
        ticket: ticket.id,
        workflow: workflow.id,
        version: workflow.version,
        opened_at: Some(ticket.created_at),
    });
    let placement = Placement {
        ticket: &ticket,
        task: &task,
        def,
        step: start,
        role: start.role_id,
        origin: Origin::System,
        keep_target: None,
        notice: NotificationType::TaskAssignment,
    };
    let assignment = place(cmd, &placement, user).await?;
    cmd.audit(
        "task.allocated",
        Some(ticket.id),
        Some(task.id),
        serde_json::Value::Null,
        json!({
            "workflow": workflow.id, "workflow_version": workflow.version, "tier": decision.tier,
            "workflow_name": def.name, "department_specific": decision.department_specific,
            "step": start.id, "assignee": user,
        }),
    )
    .await?;
    Ok(Allocation::Allocated { task, assignment })
}
