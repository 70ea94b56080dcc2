//! The in-memory store: the engine's reference adapter and the default for examples and tests.
//!
//! One async lock (`async_lock::Mutex`) serializes units of work, so every unit is trivially isolated;
//! writes apply in place and an undo log rolls them back when a unit is dropped without `commit`. One
//! file per aggregate implements its trait, as the port is split.

mod audit;
mod blob_refs;
mod comments;
mod credentials;
mod dead_letters;
mod directory;
mod idempotency;
mod notifications;
mod outbox;
mod queries;
mod reports;
mod sessions;
mod tasks;
mod tickets;
mod workflows;

use crate::domain::audit::AuditEntry;
use crate::domain::comment::Comment;
use crate::domain::delivery::DeadLetter;
use crate::domain::event::OutboxMessage;
use crate::domain::login::{Credential, Throttle, ThrottleKey};
use crate::domain::notification::Notification;
use crate::domain::session::RefreshSession;
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::Workflow;
use crate::error::{Error, Result};
use crate::ids::{
    AssignmentId, AttachmentId, CommentId, MessageId, NotificationId, RoleId, SessionId, TaskId, TicketId, UserId,
    WorkflowId,
};
use crate::ports::store::{IdempotencyRecord, Store, UnitOfWork, UnitOptions};
use async_lock::{Mutex, MutexGuardArc};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

#[derive(Debug, Default)]
struct State {
    last_ticket_id: i64,
    year_seq: IdMap<i32, u32>,
    tickets: IdMap<TicketId, Box<Ticket>>,
    ticket_numbers: IdMap<TicketNumber, TicketId>,
    workflows: IdMap<WorkflowId, Workflow>,
    workflow_names: HashMap<String, WorkflowId>,
    workflow_versions: IdMap<(WorkflowId, u32), Arc<Workflow>>,
    workflows_revision: u64,
    users: IdMap<UserId, User>,
    user_emails: HashMap<String, UserId>,
    roles: IdMap<RoleId, Role>,
    role_names: HashMap<(String, String), RoleId>,
    memberships: BTreeMap<(RoleId, UserId), Membership>,
    cursors: IdMap<RoleId, UserId>,
    tasks: IdMap<TaskId, Box<Task>>,
    task_by_ticket: IdMap<TicketId, TaskId>,
    assignments: IdMap<AssignmentId, Box<Assignment>>,
    task_assignments: IdMap<TaskId, Vec<AssignmentId>>,
    user_assignments: IdMap<UserId, Vec<AssignmentId>>,
    audit: Vec<AuditEntry>,
    outbox_seq: u64,
    outbox: BTreeMap<u64, OutboxRow>,
    outbox_index: IdMap<MessageId, u64>,
    processed: HashMap<(String, MessageId), DateTime<Utc>>,
    dead_letters: IdMap<MessageId, DeadLetter>,
    idempotency: HashMap<(UserId, String), IdempotencyRecord>,
    notifications: IdMap<NotificationId, Box<Notification>>,
    user_notifications: IdMap<UserId, Vec<NotificationId>>,
    comments: IdMap<CommentId, Box<Comment>>,
    ticket_comments: IdMap<TicketId, Vec<CommentId>>,
    blob_refs: IdMap<AttachmentId, String>,
    blob_orphans: HashMap<String, DateTime<Utc>>,
    /// Credentials by login e-mail.
    credentials: HashMap<String, Credential>,
    /// The login e-mail of each user with a credential.
    credential_emails: IdMap<UserId, String>,
    throttles: HashMap<ThrottleKey, Throttle>,
    sessions: IdMap<SessionId, RefreshSession>,
}

/// An outbox message with its delivery state.
#[derive(Debug, Clone)]
struct OutboxRow {
    message: OutboxMessage,
    attempts: u32,
    due: DateTime<Utc>,
}

/// A map the undo log can restore.
trait Table<K, V> {
    fn put(&mut self, key: K, value: V) -> Option<V>;
    fn del(&mut self, key: &K) -> Option<V>;
}

impl<K: Hash + Eq, V, S: std::hash::BuildHasher> Table<K, V> for HashMap<K, V, S> {
    fn put(&mut self, key: K, value: V) -> Option<V> {
        self.insert(key, value)
    }
    fn del(&mut self, key: &K) -> Option<V> {
        self.remove(key)
    }
}

impl<K: Ord, V> Table<K, V> for BTreeMap<K, V> {
    fn put(&mut self, key: K, value: V) -> Option<V> {
        self.insert(key, value)
    }
    fn del(&mut self, key: &K) -> Option<V> {
        self.remove(key)
    }
}

type Undo = Box<dyn FnOnce(&mut State) + Send>;

/// A fast multiplicative hasher for maps keyed by server-generated ids (UUIDs, integers). Maps keyed by
/// client-supplied text (e-mails, names) keep the standard, DoS-resistant hasher.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A map keyed by server-generated ids.
type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// The in-memory [`Store`]. Cloning shares nothing; wrap it in an `Arc` to share.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self, _options: UnitOptions) -> Result<Box<dyn UnitOfWork>> {
        Ok(Box::new(MemoryUnit {
            guard: self.state.lock_arc().await,
            undo: Vec::with_capacity(32),
        }))
    }
}

#[async_trait]
impl UnitOfWork for MemoryUnit {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.undo.clear();
        Ok(())
    }
}

/// A unit of work: the whole state, locked, and how to undo what it changed.
struct MemoryUnit {
    guard: MutexGuardArc<State>,
    undo: Vec<Undo>,
}

impl Drop for MemoryUnit {
    fn drop(&mut self) {
        while let Some(undo) = self.undo.pop() {
            undo(&mut self.guard);
        }
    }
}

impl MemoryUnit {
    fn s(&mut self) -> &mut State {
        &mut self.guard
    }

    fn set<K, V, T>(&mut self, table: fn(&mut State) -> &mut T, key: K, value: V)
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
        T: Table<K, V> + 'static,
    {
        let prev = table(self.s()).put(key.clone(), value);
        self.undo.push(Box::new(move |s| {
            match prev {
                Some(p) => table(s).put(key, p),
                None => table(s).del(&key),
            };
        }));
    }

    fn remove<K, V, T>(&mut self, table: fn(&mut State) -> &mut T, key: K) -> Option<V>
    where
        K: Clone + Send + 'static,
        V: Clone + Send + 'static,
        T: Table<K, V> + 'static,
    {
        let prev = table(self.s()).del(&key)?;
        let restore = prev.clone();
        self.undo.push(Box::new(move |s| {
            table(s).put(key, restore);
        }));
        Some(prev)
    }

    fn push_index<K, V>(&mut self, table: fn(&mut State) -> &mut IdMap<K, Vec<V>>, key: K, value: V)
    where
        K: Hash + Eq + Clone + Send + 'static,
        V: Send + 'static,
    {
        table(self.s()).entry(key.clone()).or_default().push(value);
        self.undo.push(Box::new(move |s| {
            if let Some(list) = table(s).get_mut(&key) {
                list.pop();
            }
        }));
    }

    fn bump<T: Clone + Send + 'static>(&mut self, field: fn(&mut State) -> &mut T, value: T) {
        let prev = std::mem::replace(field(self.s()), value);
        self.undo.push(Box::new(move |s| *field(s) = prev));
    }
}

fn check_version(entity: &'static str, stored: Option<u32>, new: u32, id: impl std::fmt::Display) -> Result<()> {
    match stored {
        None => Err(Error::not_found(entity, id)),
        Some(v) if v + 1 == new => Ok(()),
        Some(v) => Err(Error::conflict(format!(
            "{entity} {id} changed concurrently (stored version {v}, update to {new})"
        ))),
    }
}
