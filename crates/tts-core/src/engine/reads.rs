//! Queries, each filtered by what the actor may see (others' objects are "not found"). Single objects
//! are read in a read unit; paginated lists go to the store's [`crate::ports::Queries`], without one.

use super::Engine;
use super::actions::load_task;
use super::tickets::{TicketRef, summary_for, visible_ticket, visible_ticket_as};
use super::views::TaskView;
use crate::domain::audit::AuditEntry;
use crate::domain::notification::{Notification, NotificationRequest};
use crate::domain::scope::TicketScope;
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::{NotificationId, TaskId, UserId};
use crate::ports::store::{AssignmentQuery, NotificationQuery, Page, PageRequest, PriorityCounts, TicketQuery};
use std::collections::HashMap;

impl Engine {
    /// A ticket the actor may see: admins all, requesters their own, agents those whose task they hold or
    /// held.
    pub async fn ticket(&self, actor: Actor, r: TicketRef) -> Result<Ticket> {
        let ticket = self
            .read(actor, async move |cmd| visible_ticket(cmd.tx.as_mut(), actor, r).await)
            .await?;
        Ok(summary_for(actor, ticket))
    }

    /// A filtered page of the tickets the actor may see.
    pub async fn list_tickets(&self, actor: Actor, mut query: TicketQuery) -> Result<Page<Ticket>> {
        query.visible_to = (!actor.is_admin).then_some(actor.user);
        let mut page = self.store.list_tickets(&query).await?;
        page.items = page.items.into_iter().map(|t| summary_for(actor, t)).collect();
        Ok(page)
    }

    /// A filtered page of the tickets the actor may see, narrowed to `scope` (see
    /// [`TicketScope`]); `unassigned` is forbidden to non-admins.
    pub async fn list_tickets_in(&self, actor: Actor, scope: TicketScope, query: TicketQuery) -> Result<Page<Ticket>> {
        scope.check(actor)?;
        self.list_tickets(actor, query.in_scope(scope, actor.user)).await
    }

    /// The tickets the actor may see in `scope` matching `query`'s filters but its priority, counted per
    /// priority (the ticket list's priority tabs); `unassigned` is forbidden to non-admins.
    pub async fn count_tickets_by_priority(
        &self,
        actor: Actor,
        scope: TicketScope,
        query: TicketQuery,
    ) -> Result<PriorityCounts> {
        scope.check(actor)?;
        let mut query = query.in_scope(scope, actor.user);
        query.visible_to = (!actor.is_admin).then_some(actor.user);
        self.store.count_tickets_by_priority(&query).await
    }

    /// The task of a ticket, if it has one and the actor may see the ticket.
    pub async fn task_for_ticket(&self, actor: Actor, r: TicketRef) -> Result<Option<Task>> {
        self.read(actor, async move |cmd| {
            let ticket = visible_ticket(cmd.tx.as_mut(), actor, r).await?;
            cmd.tx.task_for_ticket(ticket.id).await
        })
        .await
    }

    /// A task with its ticket, current step and assignments (their notes only for staff).
    pub async fn task(&self, actor: Actor, id: TaskId) -> Result<TaskView> {
        let ctx = self
            .read(actor, async move |cmd| load_task(cmd, actor, id).await)
            .await?;
        let seen = ctx.audience(actor).ok_or_else(|| Error::not_found("task", id))?;
        let current_step = ctx.current_step()?.clone();
        Ok(TaskView {
            workflow_name: ctx.workflow.definition.name.clone(),
            task: ctx.task,
            ticket: ctx.ticket,
            current_step,
            assignments: ctx.assignments.into_iter().map(|a| seen.assignment(a)).collect(),
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
        self.store.list_assignments(&query).await
    }

    /// The audit trail of a ticket the actor may see (the agents' words only for staff).
    pub async fn ticket_history(&self, actor: Actor, r: TicketRef) -> Result<Vec<AuditEntry>> {
        self.read(actor, async move |cmd| {
            let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
            let entries = cmd.tx.ticket_audit(ticket.id).await?;
            Ok(seen.history(entries))
        })
        .await
    }

    /// The audit trail of a task the actor may see (the agents' words only for staff).
    pub async fn task_history(&self, actor: Actor, id: TaskId) -> Result<Vec<AuditEntry>> {
        self.read(actor, async move |cmd| {
            let ctx = load_task(cmd, actor, id).await?;
            let seen = ctx.audience(actor).ok_or_else(|| Error::not_found("task", id))?;
            let entries = cmd.tx.task_audit(id).await?;
            Ok(seen.history(entries))
        })
        .await
    }

    /// The display names of `users` (their full name, else their e-mail), to show who acted in a
    /// history; unknown ids are left out.
    pub async fn display_names(&self, users: &[UserId]) -> Result<HashMap<UserId, String>> {
        let mut names = HashMap::new();
        for &id in users {
            if names.contains_key(&id) {
                continue;
            }
            if let Some(user) = self.store.user(id).await? {
                let name = if user.full_name.trim().is_empty() {
                    user.email
                } else {
                    user.full_name
                };
                names.insert(id, name);
            }
        }
        Ok(names)
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
        self.store.list_notifications(&query).await
    }

    /// Marks one of the actor's notifications read or unread.
    pub async fn mark_notification(&self, actor: Actor, id: NotificationId, is_read: bool) -> Result<Notification> {
        self.write(actor, async move |cmd| {
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
            }
            Ok(n)
        })
        .await
    }

    /// Marks all the actor's notifications read; returns how many changed.
    pub async fn mark_all_notifications_read(&self, actor: Actor) -> Result<u64> {
        self.write(actor, async move |cmd| {
            cmd.tx.mark_all_notifications_read(actor.user, cmd.now).await
        })
        .await
    }

    /// Writes an in-app notification for a user directly (the service-to-service `POST /notifications/`);
    /// admins only. The recipient must exist.
    pub async fn send_notification(&self, actor: Actor, request: NotificationRequest) -> Result<Notification> {
        if !actor.is_admin {
            return Err(Error::Forbidden("only admins may send notifications".into()));
        }
        let request = request.validated()?;
        self.write(actor, async move |cmd| {
            if cmd.tx.user(request.user_id).await?.is_none() {
                return Err(Error::invalid("user_id", "no such user"));
            }
            let n = Notification::from_request(cmd.id(), request.clone(), cmd.now);
            cmd.tx.insert_notification(&n).await?;
            Ok(n)
        })
        .await
    }
}
