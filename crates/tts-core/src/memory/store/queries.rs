//! [`Queries`] in memory: the lists, read under the store's lock.

use super::{MemoryStore, State};
use crate::domain::comment::Comment;
use crate::domain::delivery::DeadLetter;
use crate::domain::notification::Notification;
use crate::domain::task::Assignment;
use crate::domain::ticket::Ticket;
use crate::domain::user::User;
use crate::error::Result;
use crate::ids::{SessionId, TicketId, UserId};
use crate::ports::store::{
    AssignmentQuery, CommentQuery, NotificationQuery, Page, PageRequest, PriorityCounts, Queries, QueueBacklog,
    TicketOrdering, TicketQuery,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}

/// The tickets of `user`'s assignments that pass `keep`.
fn tickets_of_assignments(s: &State, user: UserId, keep: impl Fn(&Assignment) -> bool) -> HashSet<TicketId> {
    s.user_assignments
        .get(&user)
        .into_iter()
        .flatten()
        .filter_map(|a| s.assignments.get(a).map(|a| &**a))
        .filter(|a| keep(a))
        .filter_map(|a| s.tasks.get(&a.task).map(|t| t.ticket))
        .collect()
}

/// The tickets matching every filter of `q` (but `priority` when `with_priority` is false), unordered.
fn matching<'s>(s: &'s State, q: &TicketQuery, with_priority: bool) -> Vec<&'s Ticket> {
    let held =
        |user: Option<UserId>, keep: fn(&Assignment) -> bool| user.map(|u| (u, tickets_of_assignments(s, u, keep)));
    let visible = held(q.visible_to, |_| true);
    let assigned = held(q.assigned_to, |a| a.status.is_open());
    let acted = held(q.acted_by, Assignment::ended_by_holder);
    let search = q.search.as_deref().map(str::to_lowercase);
    s.tickets
        .values()
        .map(|t| &**t)
        .filter(|t| {
            visible
                .as_ref()
                .is_none_or(|(u, set)| t.created_by == *u || set.contains(&t.id))
        })
        .filter(|t| q.created_by.is_none_or(|u| t.created_by == u))
        .filter(|t| assigned.as_ref().is_none_or(|(_, set)| set.contains(&t.id)))
        .filter(|t| acted.as_ref().is_none_or(|(_, set)| set.contains(&t.id)))
        .filter(|t| q.is_done.is_none_or(|x| t.status.is_done() == x))
        .filter(|t| q.status.is_none_or(|x| t.status == x))
        .filter(|t| !with_priority || q.priority.is_none_or(|x| t.priority == x))
        .filter(|t| q.is_task_allocated.is_none_or(|x| t.is_task_allocated == x))
        .filter(|t| {
            q.category
                .as_deref()
                .is_none_or(|c| t.category.to_lowercase() == c.to_lowercase())
        })
        .filter(|t| {
            q.department.as_deref().is_none_or(|d| {
                t.department
                    .as_deref()
                    .is_some_and(|x| x.to_lowercase() == d.to_lowercase())
            })
        })
        .filter(|t| {
            search.as_deref().is_none_or(|n| {
                contains_ci(&t.subject, n) || contains_ci(&t.description, n) || contains_ci(&t.ticket_id.to_string(), n)
            })
        })
        .collect()
}

fn tickets(s: &State, q: &TicketQuery) -> Page<Ticket> {
    let mut rows = matching(s, q, true);
    match q.ordering {
        TicketOrdering::NewestFirst => rows.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id))),
        TicketOrdering::OldestFirst => rows.sort_by_key(|a| (a.created_at, a.id)),
        TicketOrdering::PriorityDesc => {
            rows.sort_by_key(|x| std::cmp::Reverse((x.priority, x.created_at, x.id)));
        }
        TicketOrdering::UpdatedDesc => rows.sort_by_key(|x| std::cmp::Reverse((x.updated_at, x.id))),
    }
    Page::slice(rows.into_iter().cloned().collect(), q.page)
}

fn priority_counts(s: &State, q: &TicketQuery) -> PriorityCounts {
    let mut counts = PriorityCounts::default();
    for t in matching(s, q, false) {
        counts.add(t.priority, 1);
    }
    counts
}

fn assignments(s: &State, q: &AssignmentQuery) -> Page<Assignment> {
    let mut rows: Vec<&Assignment> = match q.user {
        Some(u) => s
            .user_assignments
            .get(&u)
            .into_iter()
            .flatten()
            .filter_map(|id| s.assignments.get(id).map(|a| &**a))
            .collect(),
        None => s.assignments.values().map(|a| &**a).collect(),
    };
    rows.retain(|a| !q.open_only || a.status.is_open());
    rows.sort_by_key(|x| std::cmp::Reverse((x.assigned_at, x.id)));
    Page::slice(rows.into_iter().cloned().collect(), q.page)
}

fn notifications(s: &State, q: &NotificationQuery) -> Page<Notification> {
    let mut rows: Vec<&Notification> = match q.user {
        Some(u) => s
            .user_notifications
            .get(&u)
            .into_iter()
            .flatten()
            .filter_map(|id| s.notifications.get(id).map(|n| &**n))
            .collect(),
        None => s.notifications.values().map(|n| &**n).collect(),
    };
    rows.retain(|n| q.is_read.is_none_or(|r| n.is_read == r));
    rows.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id)));
    Page::slice(rows.into_iter().cloned().collect(), q.page)
}

fn comments(s: &State, q: &CommentQuery) -> Page<Comment> {
    let mut rows: Vec<&Comment> = s
        .ticket_comments
        .get(&q.ticket)
        .into_iter()
        .flatten()
        .filter_map(|id| s.comments.get(id).map(|c| &**c))
        .filter(|c| q.include_internal || !c.is_internal)
        .collect();
    rows.sort_by_key(|c| (c.created_at, c.id));
    Page::slice(rows.into_iter().cloned().collect(), q.page)
}

#[async_trait]
impl Queries for MemoryStore {
    async fn outbox_backlog(&self) -> Result<Vec<QueueBacklog>> {
        let state = self.state.lock().await;
        let mut by_queue: std::collections::BTreeMap<Option<String>, QueueBacklog> = Default::default();
        for row in state.outbox.values() {
            let m = &row.message;
            let entry = by_queue.entry(m.queue.clone()).or_insert_with(|| QueueBacklog {
                queue: m.queue.clone(),
                messages: 0,
                oldest: None,
            });
            entry.messages += 1;
            entry.oldest = Some(entry.oldest.map_or(m.created_at, |o| o.min(m.created_at)));
        }
        Ok(by_queue.into_values().collect())
    }

    async fn dead_letter_backlog(&self) -> Result<Vec<QueueBacklog>> {
        let state = self.state.lock().await;
        let mut by_queue: std::collections::BTreeMap<String, QueueBacklog> = Default::default();
        for letter in state.dead_letters.values() {
            let entry = by_queue.entry(letter.queue.clone()).or_insert_with(|| QueueBacklog {
                queue: Some(letter.queue.clone()),
                messages: 0,
                oldest: None,
            });
            entry.messages += 1;
            entry.oldest = Some(entry.oldest.map_or(letter.failed_at, |o| o.min(letter.failed_at)));
        }
        Ok(by_queue.into_values().collect())
    }

    async fn list_comments(&self, query: &CommentQuery) -> Result<Page<Comment>> {
        Ok(comments(&*self.state.lock().await, query))
    }

    async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>> {
        Ok(tickets(&*self.state.lock().await, query))
    }

    async fn count_tickets_by_priority(&self, query: &TicketQuery) -> Result<PriorityCounts> {
        Ok(priority_counts(&*self.state.lock().await, query))
    }

    async fn list_assignments(&self, query: &AssignmentQuery) -> Result<Page<Assignment>> {
        Ok(assignments(&*self.state.lock().await, query))
    }

    async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>> {
        Ok(notifications(&*self.state.lock().await, query))
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let state = self.state.lock().await;
        let mut all: Vec<User> = state.users.values().cloned().collect();
        all.sort_by(|a, b| (&a.email, a.id).cmp(&(&b.email, b.id)));
        Ok(Page::slice(all, page))
    }

    async fn list_dead_letters(&self, page: PageRequest) -> Result<Page<DeadLetter>> {
        let state = self.state.lock().await;
        let mut all: Vec<DeadLetter> = state.dead_letters.values().cloned().collect();
        all.sort_by_key(|d| std::cmp::Reverse((d.failed_at, d.id)));
        Ok(Page::slice(all, page))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.state.lock().await.users.get(&id).cloned())
    }

    async fn sessions_ended_since(&self, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
        let state = self.state.lock().await;
        let mut ended: Vec<(SessionId, DateTime<Utc>)> = state
            .sessions
            .values()
            .filter_map(|s| s.ended_at.filter(|at| *at > since).map(|at| (s.id, at)))
            .collect();
        ended.sort_by_key(|(id, at)| (*at, *id));
        Ok(ended)
    }
}
