//! A store that fails on request: wraps any [`Store`] and makes a chosen unit-of-work method fail, so a
//! test can break the second half of a command and check that nothing of the first half was kept.
//!
//! ```
//! # async fn demo() {
//! use std::sync::Arc;
//! use tts_core::testkit::faults::FaultyStore;
//! let store = FaultyStore::new(Arc::new(tts_core::memory::MemoryStore::new()));
//! store.fail_next("set_credential");
//! // ... run a command through an engine built on `store`: it fails at `set_credential`, and the unit is
//! // dropped, so its earlier writes are gone.
//! # }
//! ```

use crate::domain::assignment::Candidate;
use crate::domain::audit::AuditEntry;
use crate::domain::comment::Comment;
use crate::domain::delivery::DeadLetter;
use crate::domain::event::OutboxMessage;
use crate::domain::login::{Credential, Throttle, ThrottleKey};
use crate::domain::notification::Notification;
use crate::domain::report::{AgentFigures, ReportQuery, SlaReport, StepFigures, TicketReport, UnroutableReport};
use crate::domain::session::{EndSessions, RefreshSession};
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{
    AttachmentId, CommentId, MessageId, NotificationId, RoleId, SessionId, TaskId, TicketId, UserId, WorkflowId,
};
use crate::ports::store::{
    AssignmentQuery, Audit, BlobRefs, Bookkeeping, Claimed, CommentQuery, Comments, Credentials, Cursors, DeadLetters,
    Directory, Idempotency, IdempotencyRecord, Member, NotificationQuery, Notifications, Outbox, Page, PageRequest,
    PickState, PriorityCounts, Queries, QueueBacklog, Reports, Sessions, Store, Tasks, TicketQuery, Tickets,
    UnitOfWork, UnitOptions, Workflows,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A [`Store`] that delegates to another and fails the unit-of-work methods it was told to.
#[derive(Clone)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    armed: Arc<Mutex<HashMap<&'static str, ErrorKind>>>,
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// Wraps `inner`; nothing fails until armed.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FaultyStore {
            inner,
            armed: Arc::default(),
        }
    }

    /// Makes the next call of the unit-of-work method `method` (its name, e.g. `"update_user"`) fail
    /// with an unavailable-backend error, once.
    pub fn fail_next(&self, method: &'static str) {
        self.fail_next_as(method, ErrorKind::Unavailable);
    }

    /// Makes the next call of `method` fail once with a backend error of `kind`: `Invalid` or
    /// `Internal` stand for a database refusing a row, `Unavailable` for an outage. (A backend
    /// `Conflict` is a lost race: the engine runs the command again.)
    pub fn fail_next_as(&self, method: &'static str, kind: ErrorKind) {
        self.armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(method, kind);
    }

    /// Whether an armed failure has not fired yet.
    pub fn armed(&self, method: &'static str) -> bool {
        self.armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(method)
    }
}

/// The error an armed method returns by default: not retryable, so the command fails at once.
pub fn injected(method: &str) -> Error {
    injected_as(method, ErrorKind::Unavailable)
}

/// The error of `kind` an armed method returns.
fn injected_as(method: &str, kind: ErrorKind) -> Error {
    Error::Backend {
        backend: "faulty",
        kind,
        message: format!("injected failure in {method}"),
    }
}

struct FaultyUnit {
    inner: Box<dyn UnitOfWork>,
    armed: Arc<Mutex<HashMap<&'static str, ErrorKind>>>,
}

impl FaultyUnit {
    fn check(&self, method: &'static str) -> Result<()> {
        if let Some(kind) = self.armed.lock().unwrap_or_else(|p| p.into_inner()).remove(method) {
            Err(injected_as(method, kind))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn pools(&self) -> Vec<crate::ports::PoolUse> {
        self.inner.pools()
    }

    fn traffic(&self) -> Option<crate::ports::StoreTraffic> {
        self.inner.traffic()
    }

    async fn begin(&self, options: UnitOptions) -> Result<Box<dyn UnitOfWork>> {
        Ok(Box::new(FaultyUnit {
            inner: self.inner.begin(options).await?,
            armed: Arc::clone(&self.armed),
        }))
    }
}

#[async_trait]
impl Reports for FaultyStore {
    async fn ticket_report(&self, query: &ReportQuery) -> Result<TicketReport> {
        self.inner.ticket_report(query).await
    }
    async fn sla_report(&self, query: &ReportQuery) -> Result<SlaReport> {
        self.inner.sla_report(query).await
    }
    async fn agent_report(&self, query: &ReportQuery) -> Result<Vec<AgentFigures>> {
        self.inner.agent_report(query).await
    }
    async fn step_report(&self, query: &ReportQuery) -> Result<Vec<StepFigures>> {
        self.inner.step_report(query).await
    }
    async fn unroutable_report(&self, query: &ReportQuery) -> Result<UnroutableReport> {
        self.inner.unroutable_report(query).await
    }
}

#[async_trait]
impl Queries for FaultyStore {
    async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>> {
        self.inner.list_tickets(query).await
    }
    async fn count_tickets_by_priority(&self, query: &TicketQuery) -> Result<PriorityCounts> {
        self.inner.count_tickets_by_priority(query).await
    }
    async fn list_assignments(&self, query: &AssignmentQuery) -> Result<Page<Assignment>> {
        self.inner.list_assignments(query).await
    }
    async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>> {
        self.inner.list_notifications(query).await
    }
    async fn outbox_backlog(&self) -> Result<Vec<QueueBacklog>> {
        self.inner.outbox_backlog().await
    }
    async fn dead_letter_backlog(&self) -> Result<Vec<QueueBacklog>> {
        self.inner.dead_letter_backlog().await
    }
    async fn list_comments(&self, query: &CommentQuery) -> Result<Page<Comment>> {
        self.inner.list_comments(query).await
    }
    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        self.inner.list_users(page).await
    }
    async fn list_dead_letters(&self, page: PageRequest) -> Result<Page<DeadLetter>> {
        self.inner.list_dead_letters(page).await
    }
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.inner.user(id).await
    }
    async fn sessions_ended_since(&self, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
        self.inner.sessions_ended_since(since).await
    }
}

#[async_trait]
impl UnitOfWork for FaultyUnit {
    async fn flush(&mut self) -> Result<()> {
        self.check("flush")?;
        self.inner.flush().await
    }
    async fn commit(self: Box<Self>) -> Result<()> {
        self.check("commit")?;
        self.inner.commit().await
    }
}

/// Implements a port trait for [`FaultyUnit`]: each listed method delegates to the inner unit after
/// checking whether it is armed.
macro_rules! delegate {
    ($trait:ident { $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait]
        impl $trait for FaultyUnit {
            $(
                async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret> {
                    self.check(stringify!($name))?;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

delegate! {
    Tickets {
        take_ticket_keys(year: i32) -> (TicketId, u32);
        take_ticket_keys_many(year: i32, n: u32) -> Vec<(TicketId, u32)>;
        insert_ticket(ticket: &Ticket) -> ();
        update_ticket(ticket: &Ticket) -> ();
        ticket(id: TicketId) -> Option<Ticket>;
        ticket_by_number(number: TicketNumber) -> Option<Ticket>;
        ticket_with_task(id: TicketId) -> Option<(Ticket, Option<Task>)>;
    }
}

delegate! {
    Workflows {
        insert_workflow(workflow: &Workflow) -> ();
        update_workflow(workflow: &Workflow) -> ();
        workflow(id: WorkflowId) -> Option<Workflow>;
        workflows(status: Option<WorkflowStatus>) -> Vec<Workflow>;
        insert_workflow_version(workflow: &Workflow) -> ();
        workflow_version(id: WorkflowId, version: u32) -> Option<Arc<Workflow>>;
        workflows_revision() -> u64;
    }
}

delegate! {
    Directory {
        insert_user(user: &User) -> ();
        update_user(user: &User) -> ();
        user(id: UserId) -> Option<User>;
        user_by_email(email: &str) -> Option<User>;
        insert_role(role: &Role) -> ();
        role(id: RoleId) -> Option<Role>;
        roles() -> Vec<Role>;
        set_membership(membership: Membership) -> ();
        remove_membership(role: RoleId, user: UserId) -> bool;
        role_members(role: RoleId) -> Vec<Member>;
        roles_of(user: UserId) -> Vec<Role>;
    }
}

delegate! {
    Cursors {
        candidates(role: RoleId, with_load: bool) -> Vec<Candidate>;
        lock_pick_state(role: RoleId, with_load: bool) -> PickState;
        set_cursor(role: RoleId, last: UserId) -> ();
    }
}

delegate! {
    Tasks {
        insert_task(task: &Task) -> ();
        update_task(task: &Task) -> ();
        task(id: TaskId) -> Option<Task>;
        task_for_ticket(ticket: TicketId) -> Option<Task>;
        insert_assignment(assignment: &Assignment) -> ();
        update_assignment(assignment: &Assignment) -> ();
        task_assignments(task: TaskId) -> Vec<Assignment>;
        assignments_due(now: DateTime<Utc>, limit: usize) -> Vec<Assignment>;
    }
}

delegate! {
    Audit {
        insert_audit(entry: AuditEntry) -> ();
        ticket_audit(ticket: TicketId) -> Vec<AuditEntry>;
        task_audit(task: TaskId) -> Vec<AuditEntry>;
    }
}

delegate! {
    Outbox {
        insert_outbox(messages: Vec<OutboxMessage>) -> ();
        unsent_outbox(limit: usize) -> Vec<OutboxMessage>;
        claim_outbox(queue: &str, limit: usize, now: DateTime<Utc>) -> Vec<Claimed>;
        outbox_message(id: MessageId) -> Option<Claimed>;
        retry_outbox(id: MessageId, due: DateTime<Utc>, error: &str) -> ();
        lease_outbox(id: MessageId, until: DateTime<Utc>) -> ();
        finish_outbox(ids: &[MessageId]) -> ();
        record_processed(consumer: &str, id: MessageId, at: DateTime<Utc>) -> bool;
        record_processed_many(consumer: &str, ids: &[MessageId], at: DateTime<Utc>) -> Vec<bool>;
        processed(consumer: &str, id: MessageId) -> bool;
        prune(kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> u64;
    }
}

delegate! {
    DeadLetters {
        insert_dead_letter(letter: &DeadLetter) -> bool;
        dead_letter(id: MessageId) -> Option<DeadLetter>;
        delete_dead_letter(id: MessageId) -> bool;
    }
}

delegate! {
    BlobRefs {
        add_blob_ref(attachment: AttachmentId, sha256: &str) -> ();
        remove_blob_ref(attachment: AttachmentId, at: DateTime<Utc>) -> ();
        release_blob(sha256: &str, at: DateTime<Utc>) -> ();
        take_orphan_blobs(before: DateTime<Utc>, limit: usize) -> Vec<String>;
    }
}

delegate! {
    Comments {
        insert_comment(comment: &Comment) -> ();
        update_comment(comment: &Comment) -> ();
        comment(id: CommentId) -> Option<Comment>;
    }
}

delegate! {
    Notifications {
        insert_notification(notification: &Notification) -> ();
        update_notification(notification: &Notification) -> ();
        notification(id: NotificationId) -> Option<Notification>;
        mark_all_notifications_read(user: UserId, at: DateTime<Utc>) -> u64;
    }
}

delegate! {
    Idempotency {
        idempotency_record(user: UserId, key: &str) -> Option<IdempotencyRecord>;
        insert_idempotency_record(record: &IdempotencyRecord) -> ();
    }
}

delegate! {
    Credentials {
        credential(email: &str) -> Option<Credential>;
        credential_of(user: UserId) -> Option<Credential>;
        set_credential(credential: &Credential) -> ();
        throttle(key: &ThrottleKey) -> Option<Throttle>;
        set_throttle(key: &ThrottleKey, throttle: Option<&Throttle>) -> ();
    }
}

delegate! {
    Sessions {
        start_session(session: &RefreshSession) -> ();
        session(id: SessionId) -> Option<RefreshSession>;
        save_session(session: &RefreshSession) -> ();
        end_sessions(which: EndSessions, at: DateTime<Utc>) -> Vec<SessionId>;
    }
}
