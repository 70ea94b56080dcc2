//! Paginated lists: read-only queries on the store itself, outside any unit of work and without locks.

use crate::domain::comment::Comment;
use crate::domain::delivery::DeadLetter;
use crate::domain::notification::Notification;
use crate::domain::priority::Priority;
use crate::domain::scope::TicketScope;
use crate::domain::task::Assignment;
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::ids::{SessionId, TicketId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Largest page a list may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page of a list: 1-based page number and page size (1..=100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub page_size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { page: 1, page_size: 20 }
    }
}

impl PageRequest {
    /// A checked page request.
    pub fn new(page: u32, page_size: u32) -> Result<Self> {
        if page == 0 {
            return Err(Error::invalid("page", "pages start at 1"));
        }
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(Error::invalid(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(PageRequest { page, page_size })
    }

    /// Items to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

/// One page of results and the total count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items across all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// Slices an already filtered and ordered list.
    pub fn slice(all: Vec<T>, page: PageRequest) -> Self {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.page_size as usize)
            .collect();
        Page { items, total }
    }
}

/// Ticket list ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketOrdering {
    /// Newest first (the default).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
    /// Most urgent first, then newest.
    PriorityDesc,
    /// Most recently updated first.
    UpdatedDesc,
}

/// Filters of the ticket list. Every set filter must hold.
///
/// The scope filters (`created_by`, `assigned_to`, `acted_by`, `is_done`) are what a
/// [`TicketScope`] narrows a list to ([`TicketQuery::in_scope`]); they are separate fields so that a
/// store implements each as one condition and the conformance suite checks each alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketQuery {
    /// Only tickets this user created or holds/held an assignment on (non-admin visibility).
    pub visible_to: Option<UserId>,
    /// Only tickets this user created (the `mine` scope).
    pub created_by: Option<UserId>,
    /// Only tickets whose task this user holds an open assignment on now (`new`, `in_progress` or
    /// `breached`: the `assigned` scope).
    pub assigned_to: Option<UserId>,
    /// Only tickets whose task has an assignment of this user that their own move ended
    /// ([`Assignment::ended_by_holder`]: the `acted` scope).
    pub acted_by: Option<UserId>,
    /// Whether the status is a done one ([`TicketStatus::is_done`]: resolved, closed, rejected,
    /// withdrawn), for the `closed` scope (`true`) and the `unassigned` one (`false`).
    pub is_done: Option<bool>,
    /// Status equals.
    pub status: Option<TicketStatus>,
    /// Priority equals.
    pub priority: Option<Priority>,
    /// Category equals (case-insensitive).
    pub category: Option<String>,
    /// Department equals (case-insensitive).
    pub department: Option<String>,
    /// Allocation flag equals.
    pub is_task_allocated: Option<bool>,
    /// Case-insensitive substring of subject, description or ticket number.
    pub search: Option<String>,
    /// Order.
    pub ordering: TicketOrdering,
    /// Page.
    pub page: PageRequest,
}

impl TicketQuery {
    /// This query narrowed to `scope` for `user` (the scope's filters set, the others kept). Who may
    /// use which scope, and the visibility every non-admin list keeps, are the engine's to add.
    pub fn in_scope(mut self, scope: TicketScope, user: UserId) -> Self {
        match scope {
            TicketScope::Mine => self.created_by = Some(user),
            TicketScope::Assigned => self.assigned_to = Some(user),
            TicketScope::Acted => self.acted_by = Some(user),
            TicketScope::Closed => self.is_done = Some(true),
            TicketScope::All => {}
            TicketScope::Unassigned => {
                self.is_task_allocated = Some(false);
                self.is_done = Some(false);
            }
        }
        self
    }
}

/// Tickets per priority: the counts of the ticket list's priority tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityCounts {
    /// Low-priority tickets.
    pub low: u64,
    /// Medium-priority tickets.
    pub medium: u64,
    /// High-priority tickets.
    pub high: u64,
    /// Critical tickets.
    pub critical: u64,
}

impl PriorityCounts {
    /// The count of `priority`.
    pub fn get(&self, priority: Priority) -> u64 {
        match priority {
            Priority::Low => self.low,
            Priority::Medium => self.medium,
            Priority::High => self.high,
            Priority::Critical => self.critical,
        }
    }

    /// Adds `n` to the count of `priority`.
    pub fn add(&mut self, priority: Priority, n: u64) {
        let count = match priority {
            Priority::Low => &mut self.low,
            Priority::Medium => &mut self.medium,
            Priority::High => &mut self.high,
            Priority::Critical => &mut self.critical,
        };
        *count += n;
    }

    /// All priorities together.
    pub fn total(&self) -> u64 {
        self.low + self.medium + self.high + self.critical
    }
}

/// Filters of the assignment list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentQuery {
    /// Only this user's assignments.
    pub user: Option<UserId>,
    /// Only open ones (`new`, `in_progress`, `breached`).
    pub open_only: bool,
    /// Page.
    pub page: PageRequest,
}

/// Filters of the notification list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationQuery {
    /// The recipient.
    pub user: Option<UserId>,
    /// Read flag equals.
    pub is_read: Option<bool>,
    /// Page.
    pub page: PageRequest,
}

/// A page of a ticket's comments, oldest first (a thread reads top down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentQuery {
    /// The ticket.
    pub ticket: TicketId,
    /// Whether internal notes are listed (staff) or left out (the requester).
    pub include_internal: bool,
    /// Page.
    pub page: PageRequest,
}

/// The messages waiting in the outbox for one queue (`None`: events only a relay publishes), or the
/// dead letters of one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueBacklog {
    /// The queue.
    pub queue: Option<String>,
    /// Messages waiting.
    pub messages: u64,
    /// When the oldest of them was written.
    pub oldest: Option<DateTime<Utc>>,
}

/// Lists that answer requests: each call reads a consistent page (and its total) without taking row
/// locks and without a unit of work. (The memory store serializes everything behind one lock: never call
/// a query while holding one of its units in the same task.)
///
/// Contract (checked by `tts_core::testkit::store::queries`): every filter set in a query holds for every
/// item; items come in the documented order, ties broken by id so pages never overlap or skip; `total`
/// counts every item matching the filters across all pages; a page past the end is empty with the right
/// total.
#[async_trait]
pub trait Queries: Send + Sync {
    /// A filtered, ordered page of tickets.
    async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>>;
    /// The tickets matching every filter of `query` but `priority`, counted per priority (in one
    /// grouped count: the ticket list's priority tabs); the page and the order do not matter.
    async fn count_tickets_by_priority(&self, query: &TicketQuery) -> Result<PriorityCounts>;
    /// A filtered page of assignments, newest first.
    async fn list_assignments(&self, query: &AssignmentQuery) -> Result<Page<Assignment>>;
    /// A filtered page of notifications, newest first.
    async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>>;
    /// What waits in the outbox, per queue, ordered by queue (for metrics: backlog and lag).
    async fn outbox_backlog(&self) -> Result<Vec<QueueBacklog>>;
    /// A page of a ticket's comments, oldest first (deleted ones included: they keep the thread).
    async fn list_comments(&self, query: &CommentQuery) -> Result<Page<Comment>>;
    /// A page of users ordered by e-mail.
    async fn list_users(&self, page: PageRequest) -> Result<Page<User>>;
    /// A page of dead letters, newest first.
    async fn list_dead_letters(&self, page: PageRequest) -> Result<Page<DeadLetter>>;
    /// Dead letters per queue, ordered by queue, `oldest` being the earliest failure (for metrics).
    async fn dead_letter_backlog(&self) -> Result<Vec<QueueBacklog>>;
    /// A user's profile, read without a unit (checks a command makes before it opens one).
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Sessions that ended after `since`, with when (so that every server refuses their access tokens
    /// from then on), oldest first.
    async fn sessions_ended_since(&self, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>>;
}
