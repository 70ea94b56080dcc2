//! Comment commands: list a ticket's thread as the actor may see it, comment (notifying the requester,
//! the current assignees and those mentioned who may see it), edit and soft-delete.
//!
//! Every change writes one audit entry on the ticket (`comment.added`, `comment.edited` with the previous
//! text, `comment.deleted`) and one event, in the change's unit.

use super::Engine;
use super::attachments::detach;
use super::command::Cmd;
use super::tickets::{TicketRef, visible_ticket_as};
use crate::domain::comment::{self, Comment, NewComment};
use crate::domain::event::DomainEvent;
use crate::domain::notification::{NotificationRequest, NotificationType};
use crate::domain::ticket::Ticket;
use crate::domain::user::Actor;
use crate::domain::visibility::{Audience, audience};
use crate::error::{Error, Result};
use crate::ids::{CommentId, TaskId, UserId};
use crate::ports::store::{CommentQuery, Page, PageRequest};
use serde_json::json;

/// Longest excerpt of a comment a notification quotes.
const EXCERPT_CHARS: usize = 280;

impl Engine {
    /// A page of a ticket's comments, oldest first: internal notes only for staff on the ticket; deleted
    /// comments stay in place with their text emptied.
    pub async fn comments(&self, actor: Actor, r: TicketRef, page: PageRequest) -> Result<Page<Comment>> {
        let (ticket, seen) = self
            .read(actor, async move |cmd| {
                visible_ticket_as(cmd.tx.as_mut(), actor, r).await
            })
            .await?;
        let query = CommentQuery {
            ticket: ticket.id,
            include_internal: seen == Audience::Staff,
            page,
        };
        self.store.list_comments(&query).await
    }

    /// Comments on a ticket the actor may see. Internal notes are for staff on the ticket (403 for
    /// others); a reply names a visible top-level comment of the same ticket.
    pub async fn add_comment(&self, actor: Actor, r: TicketRef, new: NewComment) -> Result<Comment> {
        comment::check_content(&new.content)?;
        self.write(actor, async move |cmd| add_in(cmd, actor, r, &new).await)
            .await
    }

    /// Replaces a comment's text (its author or an admin); the previous text stays in the ticket's
    /// history, and addresses newly mentioned are notified.
    pub async fn edit_comment(&self, actor: Actor, r: TicketRef, id: CommentId, content: String) -> Result<Comment> {
        comment::check_content(&content)?;
        self.write(actor, async move |cmd| edit_in(cmd, actor, r, id, &content).await)
            .await
    }

    /// Soft-deletes a comment (its author or an admin): the text and its files go, its place in the
    /// thread stays.
    pub async fn delete_comment(&self, actor: Actor, r: TicketRef, id: CommentId) -> Result<Comment> {
        self.write(actor, async move |cmd| delete_in(cmd, actor, r, id).await)
            .await
    }
}

async fn add_in(cmd: &mut Cmd<'_>, actor: Actor, r: TicketRef, new: &NewComment) -> Result<Comment> {
    let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
    if new.is_internal && seen != Audience::Staff {
        return Err(Error::Forbidden(
            "only admins and the agents working on the ticket may write internal notes".into(),
        ));
    }
    let parent = match new.parent_id {
        Some(id) => visible_comment(cmd, &ticket, seen, id).await.ok(),
        None => None,
    };
    new.check(parent.as_ref())?;
    let author_name = match cmd.tx.user(actor.user).await? {
        Some(u) if !u.full_name.trim().is_empty() => u.full_name,
        Some(u) => u.email,
        None => "System".to_string(),
    };
    let c = Comment {
        id: cmd.id(),
        ticket: ticket.id,
        author: actor.user,
        author_name,
        content: new.content.clone(),
        is_internal: new.is_internal,
        parent_id: new.parent_id,
        created_at: cmd.now,
        edited_at: None,
        deleted_at: None,
        version: 1,
    };
    cmd.tx.insert_comment(&c).await?;
    let after = json!({"comment": c.id, "is_internal": c.is_internal, "parent_id": c.parent_id, "content": c.content});
    cmd.audit("comment.added", Some(ticket.id), None, serde_json::Value::Null, after)
        .await?;
    cmd.emit(DomainEvent::CommentAdded {
        ticket: ticket.id,
        comment: c.id,
        is_internal: c.is_internal,
    });
    notify_comment(cmd, &ticket, &c, &comment::mentions(&c.content), true).await?;
    Ok(c)
}

async fn edit_in(cmd: &mut Cmd<'_>, actor: Actor, r: TicketRef, id: CommentId, content: &str) -> Result<Comment> {
    let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
    let mut c = visible_comment(cmd, &ticket, seen, id).await?;
    may_change(&c, actor)?;
    let before = json!({"comment": c.id, "is_internal": c.is_internal, "content": c.content});
    let known = comment::mentions(&c.content);
    c.edit(content.to_string(), cmd.now)?;
    cmd.tx.update_comment(&c).await?;
    let after = json!({"comment": c.id, "is_internal": c.is_internal, "content": c.content});
    cmd.audit("comment.edited", Some(ticket.id), None, before, after)
        .await?;
    cmd.emit(DomainEvent::CommentEdited {
        ticket: ticket.id,
        comment: c.id,
        is_internal: c.is_internal,
    });
    let fresh: Vec<String> = comment::mentions(&c.content)
        .into_iter()
        .filter(|m| !known.contains(m))
        .collect();
    notify_comment(cmd, &ticket, &c, &fresh, false).await?;
    Ok(c)
}

async fn delete_in(cmd: &mut Cmd<'_>, actor: Actor, r: TicketRef, id: CommentId) -> Result<Comment> {
    let (mut ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
    let mut c = visible_comment(cmd, &ticket, seen, id).await?;
    may_change(&c, actor)?;
    let before = json!({"comment": c.id, "is_internal": c.is_internal, "content": c.content});
    c.delete(cmd.now)?;
    cmd.tx.update_comment(&c).await?;
    let after = json!({"comment": c.id, "is_internal": c.is_internal});
    cmd.audit("comment.deleted", Some(ticket.id), None, before, after)
        .await?;
    cmd.emit(DomainEvent::CommentDeleted {
        ticket: ticket.id,
        comment: c.id,
        is_internal: c.is_internal,
    });
    // The comment's files go with it.
    let mut detached = false;
    while let Some(at) = ticket.attachments.iter().position(|a| a.comment_id == Some(c.id)) {
        detach(cmd, &mut ticket, at).await?;
        detached = true;
    }
    if detached {
        ticket.touch(cmd.now);
        cmd.tx.update_ticket(&ticket).await?;
    }
    Ok(c)
}

/// A comment of `ticket` that `seen` may see, else "not found" (an internal note does not exist for the
/// requester).
async fn visible_comment(cmd: &mut Cmd<'_>, ticket: &Ticket, seen: Audience, id: CommentId) -> Result<Comment> {
    cmd.tx
        .comment(id)
        .await?
        .filter(|c| c.ticket == ticket.id && seen.sees_comment(c))
        .ok_or_else(|| Error::not_found("comment", id))
}

fn may_change(c: &Comment, actor: Actor) -> Result<()> {
    if c.may_change(actor.user, actor.is_admin) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only the author or an admin may change a comment".into(),
        ))
    }
}

/// Asks for the notifications of a comment: `mentions` who may see it get a `mention`; with
/// `everyone`, the requester (public comments) and the current assignees get `comment_added`.
async fn notify_comment(
    cmd: &mut Cmd<'_>,
    ticket: &Ticket,
    c: &Comment,
    mentions: &[String],
    everyone: bool,
) -> Result<()> {
    let task = cmd.tx.task_for_ticket(ticket.id).await?;
    let assignments = match &task {
        Some(task) => cmd.tx.task_assignments(task.id).await?,
        None => Vec::new(),
    };
    let holders: Vec<UserId> = assignments.iter().map(|a| a.user).collect();
    let mut mentioned = Vec::new();
    for address in mentions {
        let Some(user) = cmd.tx.user_by_email(address).await?.filter(|u| u.is_active) else {
            continue;
        };
        let roles = cmd.tx.roles_of(user.id).await?;
        let who = Actor::with_roles(user.id, &roles);
        if audience(who, ticket.created_by, &holders).is_some_and(|seen| seen.sees_comment(c)) {
            mentioned.push(user.id);
        }
    }
    let (requester, assignees) = if everyone {
        let open: Vec<UserId> = assignments
            .iter()
            .filter(|a| a.status.is_open())
            .map(|a| a.user)
            .collect();
        (ticket.created_by, open)
    } else {
        (c.author, Vec::new())
    };
    let task_id: Option<TaskId> = task.map(|t| t.id);
    for (user, kind) in comment::recipients(c.author, c.is_internal || !everyone, requester, &assignees, &mentioned) {
        let (subject, verb) = match kind {
            NotificationType::Mention => (format!("You were mentioned on {}", ticket.ticket_id), "mentioned you"),
            _ if c.is_internal => (format!("New internal note on {}", ticket.ticket_id), "wrote"),
            _ => (format!("New comment on {}", ticket.ticket_id), "wrote"),
        };
        cmd.notify(NotificationRequest {
            user_id: user,
            kind,
            subject,
            message: format!("{} {verb}: {}", c.author_name, excerpt(&c.content)),
            related_ticket: Some(ticket.ticket_id),
            related_task: task_id,
        });
    }
    Ok(())
}

fn excerpt(content: &str) -> String {
    let trimmed = content.trim();
    if trimmed.chars().count() <= EXCERPT_CHARS {
        trimmed.to_string()
    } else {
        let cut: String = trimmed.chars().take(EXCERPT_CHARS).collect();
        format!("{}…", cut.trim_end())
    }
}
