//! Persistence through units of work: every engine command reads and writes through one, atomically.

use crate::domain::assignment::Candidate;
use crate::domain::audit::AuditEntry;
use crate::domain::event::OutboxMessage;
use crate::domain::notification::Notification;
use crate::domain::priority::Priority;
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::{Error, Result};
use crate::ids::{AssignmentId, MessageId, NotificationId, RoleId, TaskId, TicketId, UserId, WorkflowId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::sync::Arc;

/// Largest page a list may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Whether a unit of work will write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only; takes no write locks.
    Read,
    /// Reads and writes; rows read are locked against concurrent writers until commit.
    Write,
}

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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketQuery {
    /// Only tickets this user created or holds/held an assignment on (non-admin visibility).
    pub visible_to: Option<UserId>,
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

/// Bookkeeping a store may forget once it is old (see [`UnitOfWork::prune`]): rows that only exist to
/// make retries safe, and that would otherwise grow with every message and request forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bookkeeping {
    /// Consumer dedup records ([`UnitOfWork::record_processed`]), by the time they were recorded: a
    /// message redelivered after its record is gone would be handled again.
    Processed,
    /// Idempotency records ([`IdempotencyRecord`]), by `created_at`: a retry after its record is gone
    /// creates a new ticket.
    IdempotencyKeys,
}

/// A request made under an `Idempotency-Key`: the key, a fingerprint of the request body, and the ticket
/// the first request created. Retries with the same key and fingerprint get that ticket back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Who sent the request; keys are scoped per user.
    pub user: UserId,
    /// The client's key (1..=255 visible ASCII characters).
    pub key: String,
    /// A digest of the request body (hex SHA-256 in the reference server).
    pub fingerprint: String,
    /// The ticket the first request created.
    pub ticket: TicketId,
    /// When the first request was made.
    pub created_at: DateTime<Utc>,
}

/// The database behind the engine.
///
/// Contract (checked by [`crate::testkit::store`]):
/// - `begin` opens a unit of work; its writes become visible to others only at `commit`, all together;
///   dropping it without `commit` discards them all;
/// - in an [`Access::Write`] unit, every row read is locked against other writers until the unit ends, so
///   read-decide-write is safe across processes (e.g. the round-robin cursor is read and moved under one
///   lock); a unit that loses a race reports `ErrorKind::Conflict` via [`Error::Backend`] and the engine
///   retries the whole command;
/// - `update_*` of a versioned row requires the stored version to be exactly one less than the new one,
///   else `Error::Conflict`; unique rules (ticket number, one task per ticket, workflow name, user e-mail,
///   role name per system) give `Error::Conflict`; a missing row on update gives `Error::NotFound`;
/// - after any error the unit may be unusable (SQL databases abort the transaction): callers drop it and
///   start again; the engine never continues a unit past an error.
#[async_trait]
pub trait Store: Send + Sync + Debug + 'static {
    /// Opens a unit of work.
    async fn begin(&self, access: Access) -> Result<Box<dyn UnitOfWork>>;

    /// Opens a unit for background work nobody waits on (the outbox relay, consumers, sweeps). An
    /// adapter may let units from [`Store::begin`], which answer requests, go first when both wait for
    /// the same resource; the unit's guarantees are the same. Defaults to [`Store::begin`].
    async fn begin_background(&self, access: Access) -> Result<Box<dyn UnitOfWork>> {
        self.begin(access).await
    }
}

/// The reads and writes of one atomic command. See [`Store`] for the contract.
#[async_trait]
pub trait UnitOfWork: Send {
    /// Makes every write of this unit durable and visible, all together.
    async fn commit(self: Box<Self>) -> Result<()>;

    /// Sends writes the store has held back. A database store may hold a unit's writes until its next
    /// read, flush or commit and send them together (one round trip, and shorter row locks). A failed
    /// write (conflict, stale version, missing row) is then reported by that later call instead of by
    /// the write itself; either way the unit must be dropped after an error. Stores that write at once
    /// need not override this.
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    // --- tickets ---
    /// A new, never used ticket id.
    async fn next_ticket_id(&mut self) -> Result<TicketId>;
    /// The next sequence number of a year's ticket numbers (1, 2, 3... without gaps among committed units).
    async fn next_ticket_seq(&mut self, year: i32) -> Result<u32>;
    /// A new ticket's id and its number in `year`'s sequence, as [`Self::next_ticket_id`] and
    /// [`Self::next_ticket_seq`] give them. One call so a database store can take both in one round trip
    /// while it holds the year's counter.
    async fn next_ticket_keys(&mut self, year: i32) -> Result<(TicketId, u32)> {
        let seq = self.next_ticket_seq(year).await?;
        Ok((self.next_ticket_id().await?, seq))
    }
    /// Inserts a ticket.
    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<()>;
    /// Replaces a ticket (version check).
    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()>;
    /// A ticket by id.
    async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>>;
    /// A ticket by number.
    async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>>;
    /// A filtered, ordered page of tickets.
    async fn list_tickets(&mut self, query: &TicketQuery) -> Result<Page<Ticket>>;

    // --- workflows ---
    /// Inserts a workflow (unique name).
    async fn insert_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    /// Replaces a workflow's current state.
    async fn update_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    /// A workflow's current state.
    async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>>;
    /// Workflows, optionally only those with one status, ordered by name.
    async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>>;
    /// Freezes a published version (unique per workflow and version).
    async fn insert_workflow_version(&mut self, workflow: &Workflow) -> Result<()>;
    /// A frozen version. Versions never change once inserted, so adapters may cache them; hence `Arc`.
    async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>>;
    /// A counter that changes whenever any workflow is inserted or updated (for match-index caching).
    async fn workflows_revision(&mut self) -> Result<u64>;

    // --- users and roles ---
    /// Inserts a user (unique e-mail).
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    /// Replaces a user.
    async fn update_user(&mut self, user: &User) -> Result<()>;
    /// A user by id.
    async fn user(&mut self, id: UserId) -> Result<Option<User>>;
    /// A user by e-mail (case-insensitive).
    async fn user_by_email(&mut self, email: &str) -> Result<Option<User>>;
    /// A page of users ordered by e-mail.
    async fn list_users(&mut self, page: PageRequest) -> Result<Page<User>>;
    /// Inserts a role (unique system + name).
    async fn insert_role(&mut self, role: &Role) -> Result<()>;
    /// A role by id.
    async fn role(&mut self, id: RoleId) -> Result<Option<Role>>;
    /// All roles ordered by system, then name.
    async fn roles(&mut self) -> Result<Vec<Role>>;
    /// Adds or updates a membership.
    async fn upsert_membership(&mut self, membership: Membership) -> Result<()>;
    /// Removes a membership; true if it existed.
    async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool>;
    /// Memberships of a role, ordered by user id.
    async fn role_members(&mut self, role: RoleId) -> Result<Vec<Membership>>;
    /// Memberships of a user.
    async fn user_roles(&mut self, user: UserId) -> Result<Vec<Membership>>;
    /// Holders of a role ordered by user id; `active` = membership and user both active; open-assignment
    /// counts are filled only when `with_load`.
    async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>>;
    /// The role's round-robin cursor: the last user assigned (locked in a write unit).
    async fn cursor(&mut self, role: RoleId) -> Result<Option<UserId>>;
    /// What a pick needs, together: the role's [`Self::candidates`] and its [`Self::cursor`] (locked in
    /// a write unit, as `cursor` locks it). One round trip on a database store.
    async fn candidates_and_cursor(
        &mut self,
        role: RoleId,
        with_load: bool,
    ) -> Result<(Vec<Candidate>, Option<UserId>)> {
        let candidates = self.candidates(role, with_load).await?;
        Ok((candidates, self.cursor(role).await?))
    }
    /// Moves the cursor.
    async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()>;

    // --- tasks and assignments ---
    /// Inserts a task (one per ticket).
    async fn insert_task(&mut self, task: &Task) -> Result<()>;
    /// Replaces a task (version check).
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    /// A task by id.
    async fn task(&mut self, id: TaskId) -> Result<Option<Task>>;
    /// The task of a ticket.
    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>>;
    /// A ticket (locked in a write unit, as [`Self::ticket`] locks it) and its task if it has one, in one
    /// call: what an allocation reads first.
    async fn ticket_with_task(&mut self, id: TicketId) -> Result<Option<(Ticket, Option<Task>)>> {
        let Some(ticket) = self.ticket(id).await? else {
            return Ok(None);
        };
        Ok(Some((ticket, self.task_for_ticket(id).await?)))
    }
    /// Inserts an assignment.
    async fn insert_assignment(&mut self, assignment: &Assignment) -> Result<()>;
    /// Replaces an assignment (version check; history only grows).
    async fn update_assignment(&mut self, assignment: &Assignment) -> Result<()>;
    /// An assignment by id.
    async fn assignment(&mut self, id: AssignmentId) -> Result<Option<Assignment>>;
    /// All assignments of a task, oldest first.
    async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>>;
    /// A filtered page of assignments, newest first.
    async fn list_assignments(&mut self, query: &AssignmentQuery) -> Result<Page<Assignment>>;
    /// Open assignments whose SLA warning or breach is due at `now` (not yet warned, or not yet breached),
    /// oldest target first, at most `limit`.
    async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>>;

    // --- audit ---
    /// Appends an audit entry.
    async fn insert_audit(&mut self, entry: AuditEntry) -> Result<()>;
    /// The audit trail of a ticket (including its task), oldest first.
    async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>>;
    /// The audit trail of a task, oldest first.
    async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>>;

    // --- outbox and consumer idempotency ---
    /// Writes outbox messages, in order (committed with the change that caused them).
    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()>;
    /// Up to `limit` unsent messages, oldest first; in a write unit they are locked (or skipped if another
    /// unit holds them), so two relays never publish one message concurrently.
    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// Marks messages sent.
    async fn mark_outbox_sent(&mut self, ids: &[MessageId], at: DateTime<Utc>) -> Result<()>;
    /// Records that `consumer` handled message `id` at `at`; false if it already had.
    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool>;
    /// Deletes up to `limit` records of `kind` written before `before` and returns how many went. Small
    /// batches keep each unit short; callers repeat until fewer than `limit` come back.
    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64>;

    // --- idempotent requests ---
    /// The record of `user`'s request under `key`, if any.
    async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>>;
    /// Records a request; `Error::Conflict` if `user` already used `key` (written in the same unit as the
    /// ticket, so a retry racing the first request never creates a second ticket).
    async fn insert_idempotency_record(&mut self, record: &IdempotencyRecord) -> Result<()>;

    // --- notifications ---
    /// Inserts a notification.
    async fn insert_notification(&mut self, notification: &Notification) -> Result<()>;
    /// Replaces a notification.
    async fn update_notification(&mut self, notification: &Notification) -> Result<()>;
    /// A notification by id.
    async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>>;
    /// A filtered page of notifications, newest first.
    async fn list_notifications(&mut self, query: &NotificationQuery) -> Result<Page<Notification>>;
    /// Marks all of a user's unread notifications read; returns how many changed.
    async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64>;
}
