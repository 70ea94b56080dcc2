//! Queries, each filtered by what the actor may see (others' objects are "not found").

use super::Engine;
use super::actions::load_task;
use super::tickets::{TicketRef, visible_ticket};
use super::unit::Cmd;
use super::views::TaskView;
use crate::domain::audit::AuditEntry;
use crate::domain::notification::{Notification, NotificationRequest};
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::{NotificationId, TaskId};
use crate::ports::store::{Access, AssignmentQuery, NotificationQuery, Page, PageRequest, TicketQuery};

impl Engine {
    /// A ticket the actor may see: admins all, requesters their own, agents those whose task they hold or
    /// held.
    pub async fn ticket(&self, actor: Actor, r: TicketRef) -> Result<Ticket> {
        let mut cmd = Cmd::open(self, Access::Read, Some(actor.user)).await?;
        visible_ticket(cmd.tx.as_mut(), actor, r).await
    }

    /// A filtered page of the tickets the actor may see.
    pub async fn list_tickets(&self, actor: Actor, mut query: TicketQuery) -> Result<Page<Ticket>> {
        query.visible_to = (!actor.is_admin).then_some(actor.user);
        Cmd::open(self, Access::Read, Some(actor.user))
            .await?
            .tx
            .list_tickets(&query)
            .await
    }

    /// The task of a ticket, if it has one and the actor may see the ticket.
    pub async fn task_for_ticket(&self, actor: Actor, r: TicketRef) -> Result<Option<Task>> {
        let ticket = self.ticket(actor, r).await?;
        Cmd::open(self, Access::Read, Some(actor.user))
            .await?
            .tx
            .task_for_ticket(ticket.id)
            .await
    }

    /// A task with its ticket, current step and assignments.
    pub async fn task(&self, actor: Actor, id: TaskId) -> Result<TaskView> {
        let mut cmd = Cmd::open(self, Access::Read, Some(actor.user)).await?;
        let ctx = load_task(&mut cmd, actor, id).await?;
        let current_step = ctx.current_step()?.clone();
        Ok(TaskView {
            workflow_name: ctx.workflow.definition.name.clone(),
            task: ctx.task,
            ticket: ctx.ticket,
            current_step,
            assignments: ctx.assignments,
        })
    }

    /// The actor's assignments, newest first (admins may list everyone's with `all`).
    pub async fn assignments(
        &self,
        actor: Actor,
        open_only: bool,
        all: bool,
        page: PageRequest,
    ) -> Result<Page<Assignment>> {
        let user = if all && actor.is_admin { None } else { Some(actor.user) };
        let query = AssignmentQuery { user, open_only, page };
        Cmd::open(self, Access::Read, Some(actor.user))
            .await?
            .tx
            .list_assignments(&query)
            .await
    }

    /// The audit trail of a ticket the actor may see.
    pub async fn ticket_history(&self, actor: Actor, r: TicketRef) -> Result<Vec<AuditEntry>> {
        let ticket = self.ticket(actor, r).await?;
        Cmd::open(self, Access::Read, Some(actor.user))
            .await?
            .tx
            .ticket_audit(ticket.id)
            .await
    }

    /// The audit trail of a task the actor may see.
    pub async fn task_history(&self, actor: Actor, id: TaskId) -> Result<Vec<AuditEntry>> {
        let mut cmd = Cmd::open(self, Access::Read, Some(actor.user)).await?;
        load_task(&mut cmd, actor, id).await?;
        cmd.tx.task_audit(id).await
    }

    /// The actor's own notifications, newest first.
    pub async fn notifications(
        &self,
        actor: Actor,
        is_read: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let query = NotificationQuery {
            user: Some(actor.user),
            is_read,
            page,
        };
        Cmd::open(self, Access::Read, Some(actor.user))
            .await?
            .tx
            .list_notifications(&query)
            .await
    }

    /// Marks one of the actor's notifications read or unread.
    pub async fn mark_notification(&self, actor: Actor, id: NotificationId, is_read: bool) -> Result<Notification> {
        let mut cmd = Cmd::open(self, Access::Write, Some(actor.user)).await?;
        let mut n = cmd
            .tx
            .notification(id)
            .await?
            .filter(|n| n.user_id == actor.user)
            .ok_or_else(|| Error::not_found("notification", id))?;
        if n.is_read != is_read {
            n.is_read = is_read;
            n.read_at = is_read.then_some(cmd.now);
            cmd.tx.update_notification(&n).await?;
            cmd.commit().await?;
        }
        Ok(n)
    }

    /// Marks all the actor's notifications read; returns how many changed.
    pub async fn mark_all_notifications_read(&self, actor: Actor) -> Result<u64> {
        let mut cmd = Cmd::open(self, Access::Write, Some(actor.user)).await?;
        let n = cmd.tx.mark_all_notifications_read(actor.user, cmd.now).await?;
        cmd.commit().await?;
        Ok(n)
    }

    /// Writes an in-app notification for a user directly (the service-to-service `POST /notifications/`);
    /// admins only. The recipient must exist.
    pub async fn send_notification(&self, actor: Actor, request: NotificationRequest) -> Result<Notification> {
        if !actor.is_admin {
            return Err(Error::Forbidden("only admins may send notifications".into()));
        }
        let request = request.validated()?;
        let mut cmd = Cmd::open(self, Access::Write, Some(actor.user)).await?;
        if cmd.tx.user(request.user_id).await?.is_none() {
            return Err(Error::invalid("user_id", "no such user"));
        }
        let n = Notification::from_request(cmd.id(), request, cmd.now);
        cmd.tx.insert_notification(&n).await?;
        cmd.commit().await?;
        Ok(n)
    }
}
