//! The in-memory store: the engine's reference adapter and the default for examples and tests.
//!
//! One async lock serializes units of work (so every unit is trivially isolated); writes apply in place
//! and an undo log rolls them back when a unit is dropped without `commit`.

use super::lock::{AsyncLock, LockGuard};
use crate::domain::assignment::Candidate;
use crate::domain::audit::AuditEntry;
use crate::domain::event::OutboxMessage;
use crate::domain::notification::Notification;
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::{Error, Result};
use crate::ids::{AssignmentId, MessageId, NotificationId, RoleId, TaskId, TicketId, UserId, WorkflowId};
use crate::ports::store::{
    Access, AssignmentQuery, Bookkeeping, IdempotencyRecord, NotificationQuery, Page, PageRequest, Store,
    TicketOrdering, TicketQuery, UnitOfWork,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    outbox: BTreeMap<u64, OutboxMessage>,
    outbox_index: IdMap<MessageId, u64>,
    processed: HashMap<(String, MessageId), DateTime<Utc>>,
    idempotency: HashMap<(UserId, String), IdempotencyRecord>,
    notifications: IdMap<NotificationId, Box<Notification>>,
    user_notifications: IdMap<UserId, Vec<NotificationId>>,
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
#[derive(Debug)]
pub struct MemoryStore {
    state: AsyncLock<State>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            state: AsyncLock::new(State::default()),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self, _access: Access) -> Result<Box<dyn UnitOfWork>> {
        Ok(Box::new(MemoryUnit {
            guard: self.state.lock().await,
            undo: Vec::with_capacity(32),
        }))
    }
}

struct MemoryUnit {
    guard: LockGuard<State>,
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

fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}

#[async_trait]
impl UnitOfWork for MemoryUnit {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.undo.clear();
        Ok(())
    }

    async fn next_ticket_id(&mut self) -> Result<TicketId> {
        let next = self.s().last_ticket_id + 1;
        self.bump(|s| &mut s.last_ticket_id, next);
        Ok(TicketId(next))
    }

    async fn next_ticket_seq(&mut self, year: i32) -> Result<u32> {
        let next = self.s().year_seq.get(&year).copied().unwrap_or(0) + 1;
        self.set(|s| &mut s.year_seq, year, next);
        Ok(next)
    }

    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        if self.s().tickets.contains_key(&ticket.id) {
            return Err(Error::conflict(format!("ticket id {} exists", ticket.id)));
        }
        if self.s().ticket_numbers.contains_key(&ticket.ticket_id) {
            return Err(Error::conflict(format!("ticket number {} exists", ticket.ticket_id)));
        }
        self.set(|s| &mut s.ticket_numbers, ticket.ticket_id, ticket.id);
        self.set(|s| &mut s.tickets, ticket.id, Box::new(ticket.clone()));
        Ok(())
    }

    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        let stored = self.s().tickets.get(&ticket.id).map(|t| t.version);
        check_version("ticket", stored, ticket.version, ticket.id)?;
        self.set(|s| &mut s.tickets, ticket.id, Box::new(ticket.clone()));
        Ok(())
    }

    async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>> {
        Ok(self.s().tickets.get(&id).map(|t| (**t).clone()))
    }

    async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>> {
        let s = self.s();
        Ok(s.ticket_numbers
            .get(&number)
            .and_then(|id| s.tickets.get(id))
            .map(|t| (**t).clone()))
    }

    async fn list_tickets(&mut self, q: &TicketQuery) -> Result<Page<Ticket>> {
        let s = self.s();
        let visible: Option<HashSet<TicketId>> = q.visible_to.map(|u| {
            s.user_assignments
                .get(&u)
                .into_iter()
                .flatten()
                .filter_map(|a| s.assignments.get(a).map(|a| &**a))
                .filter_map(|a| s.tasks.get(&a.task).map(|t| &**t))
                .map(|t| t.ticket)
                .collect()
        });
        let search = q.search.as_deref().map(str::to_lowercase);
        let mut rows: Vec<&Ticket> = s
            .tickets
            .values()
            .map(|t| &**t)
            .filter(|t| match (&visible, q.visible_to) {
                (Some(set), Some(u)) => t.created_by == u || set.contains(&t.id),
                _ => true,
            })
            .filter(|t| q.status.is_none_or(|x| t.status == x))
            .filter(|t| q.priority.is_none_or(|x| t.priority == x))
            .filter(|t| q.is_task_allocated.is_none_or(|x| t.is_task_allocated == x))
            .filter(|t| q.category.as_deref().is_none_or(|c| t.category.eq_ignore_ascii_case(c)))
            .filter(|t| {
                q.department
                    .as_deref()
                    .is_none_or(|d| t.department.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(d)))
            })
            .filter(|t| {
                search.as_deref().is_none_or(|n| {
                    contains_ci(&t.subject, n)
                        || contains_ci(&t.description, n)
                        || contains_ci(&t.ticket_id.to_string(), n)
                })
            })
            .collect();
        match q.ordering {
            TicketOrdering::NewestFirst => rows.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id))),
            TicketOrdering::OldestFirst => rows.sort_by_key(|a| (a.created_at, a.id)),
            TicketOrdering::PriorityDesc => {
                rows.sort_by_key(|x| std::cmp::Reverse((x.priority, x.created_at, x.id)));
            }
            TicketOrdering::UpdatedDesc => rows.sort_by_key(|x| std::cmp::Reverse((x.updated_at, x.id))),
        }
        Ok(Page::slice(rows.into_iter().cloned().collect(), q.page))
    }

    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let name = w.definition.name.trim().to_lowercase();
        if self.s().workflows.contains_key(&w.id) || self.s().workflow_names.contains_key(&name) {
            return Err(Error::conflict(format!(
                "a workflow named {:?} exists",
                w.definition.name
            )));
        }
        self.set(|s| &mut s.workflow_names, name, w.id);
        self.set(|s| &mut s.workflows, w.id, w.clone());
        let rev = self.s().workflows_revision + 1;
        self.bump(|s| &mut s.workflows_revision, rev);
        Ok(())
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        let Some(old) = self.s().workflows.get(&w.id).cloned() else {
            return Err(Error::not_found("workflow", w.id));
        };
        let (old_name, new_name) = (
            old.definition.name.trim().to_lowercase(),
            w.definition.name.trim().to_lowercase(),
        );
        if old_name != new_name {
            if self.s().workflow_names.contains_key(&new_name) {
                return Err(Error::conflict(format!(
                    "a workflow named {:?} exists",
                    w.definition.name
                )));
            }
            self.remove::<_, WorkflowId, _>(|s| &mut s.workflow_names, old_name);
            self.set(|s| &mut s.workflow_names, new_name, w.id);
        }
        self.set(|s| &mut s.workflows, w.id, w.clone());
        let rev = self.s().workflows_revision + 1;
        self.bump(|s| &mut s.workflows_revision, rev);
        Ok(())
    }

    async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>> {
        Ok(self.s().workflows.get(&id).cloned())
    }

    async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
        let mut all: Vec<Workflow> = self
            .s()
            .workflows
            .values()
            .filter(|w| status.is_none_or(|st| w.status == st))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.definition.name.cmp(&b.definition.name));
        Ok(all)
    }

    async fn insert_workflow_version(&mut self, w: &Workflow) -> Result<()> {
        if self.s().workflow_versions.contains_key(&(w.id, w.version)) {
            return Err(Error::conflict(format!(
                "workflow {} version {} exists",
                w.id, w.version
            )));
        }
        self.set(|s| &mut s.workflow_versions, (w.id, w.version), Arc::new(w.clone()));
        Ok(())
    }

    async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>> {
        Ok(self.s().workflow_versions.get(&(id, version)).cloned())
    }

    async fn workflows_revision(&mut self) -> Result<u64> {
        Ok(self.s().workflows_revision)
    }

    async fn insert_user(&mut self, u: &User) -> Result<()> {
        let email = u.email.trim().to_lowercase();
        if self.s().users.contains_key(&u.id) || self.s().user_emails.contains_key(&email) {
            return Err(Error::conflict(format!("a user with e-mail {} exists", u.email)));
        }
        self.set(|s| &mut s.user_emails, email, u.id);
        self.set(|s| &mut s.users, u.id, u.clone());
        Ok(())
    }

    async fn update_user(&mut self, u: &User) -> Result<()> {
        let Some(old) = self.s().users.get(&u.id).cloned() else {
            return Err(Error::not_found("user", u.id));
        };
        let (old_email, new_email) = (old.email.to_lowercase(), u.email.trim().to_lowercase());
        if old_email != new_email {
            if self.s().user_emails.contains_key(&new_email) {
                return Err(Error::conflict(format!("a user with e-mail {} exists", u.email)));
            }
            self.remove::<_, UserId, _>(|s| &mut s.user_emails, old_email);
            self.set(|s| &mut s.user_emails, new_email, u.id);
        }
        self.set(|s| &mut s.users, u.id, u.clone());
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        Ok(self.s().users.get(&id).cloned())
    }

    async fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let s = self.s();
        Ok(s.user_emails
            .get(&email.trim().to_lowercase())
            .and_then(|id| s.users.get(id))
            .cloned())
    }

    async fn list_users(&mut self, page: PageRequest) -> Result<Page<User>> {
        let mut all: Vec<User> = self.s().users.values().cloned().collect();
        all.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(Page::slice(all, page))
    }

    async fn insert_role(&mut self, r: &Role) -> Result<()> {
        let key = (r.system.to_lowercase(), r.name.to_lowercase());
        if self.s().roles.contains_key(&r.id) || self.s().role_names.contains_key(&key) {
            return Err(Error::conflict(format!("role {r} exists")));
        }
        self.set(|s| &mut s.role_names, key, r.id);
        self.set(|s| &mut s.roles, r.id, r.clone());
        Ok(())
    }

    async fn role(&mut self, id: RoleId) -> Result<Option<Role>> {
        Ok(self.s().roles.get(&id).cloned())
    }

    async fn roles(&mut self) -> Result<Vec<Role>> {
        let mut all: Vec<Role> = self.s().roles.values().cloned().collect();
        all.sort_by(|a, b| (&a.system, &a.name).cmp(&(&b.system, &b.name)));
        Ok(all)
    }

    async fn upsert_membership(&mut self, m: Membership) -> Result<()> {
        if !self.s().roles.contains_key(&m.role) {
            return Err(Error::not_found("role", m.role));
        }
        if !self.s().users.contains_key(&m.user) {
            return Err(Error::not_found("user", m.user));
        }
        self.set(|s| &mut s.memberships, (m.role, m.user), m);
        Ok(())
    }

    async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool> {
        Ok(self
            .remove::<_, Membership, _>(|s| &mut s.memberships, (role, user))
            .is_some())
    }

    async fn role_members(&mut self, role: RoleId) -> Result<Vec<Membership>> {
        Ok(self
            .s()
            .memberships
            .range((role, UserId(uuid::Uuid::nil()))..=(role, UserId(uuid::Uuid::max())))
            .map(|(_, m)| *m)
            .collect())
    }

    async fn user_roles(&mut self, user: UserId) -> Result<Vec<Membership>> {
        Ok(self
            .s()
            .memberships
            .values()
            .filter(|m| m.user == user)
            .copied()
            .collect())
    }

    async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>> {
        let members = self.role_members(role).await?;
        let s = self.s();
        Ok(members
            .into_iter()
            .map(|m| Candidate {
                user: m.user,
                active: m.is_active && s.users.get(&m.user).is_some_and(|u| u.is_active),
                open_assignments: if with_load {
                    s.user_assignments
                        .get(&m.user)
                        .into_iter()
                        .flatten()
                        .filter(|a| s.assignments.get(a).is_some_and(|a| a.status.is_open()))
                        .count() as u32
                } else {
                    0
                },
            })
            .collect())
    }

    async fn cursor(&mut self, role: RoleId) -> Result<Option<UserId>> {
        Ok(self.s().cursors.get(&role).copied())
    }

    async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()> {
        self.set(|s| &mut s.cursors, role, last);
        Ok(())
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        if self.s().tasks.contains_key(&t.id) || self.s().task_by_ticket.contains_key(&t.ticket) {
            return Err(Error::conflict(format!("ticket {} already has a task", t.ticket)));
        }
        self.set(|s| &mut s.task_by_ticket, t.ticket, t.id);
        self.set(|s| &mut s.tasks, t.id, Box::new(t.clone()));
        Ok(())
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        let stored = self.s().tasks.get(&t.id).map(|x| x.version);
        check_version("task", stored, t.version, t.id)?;
        self.set(|s| &mut s.tasks, t.id, Box::new(t.clone()));
        Ok(())
    }

    async fn task(&mut self, id: TaskId) -> Result<Option<Task>> {
        Ok(self.s().tasks.get(&id).map(|t| (**t).clone()))
    }

    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>> {
        let s = self.s();
        Ok(s.task_by_ticket
            .get(&ticket)
            .and_then(|id| s.tasks.get(id))
            .map(|t| (**t).clone()))
    }

    async fn insert_assignment(&mut self, a: &Assignment) -> Result<()> {
        if self.s().assignments.contains_key(&a.id) {
            return Err(Error::conflict(format!("assignment {} exists", a.id)));
        }
        if !self.s().tasks.contains_key(&a.task) {
            return Err(Error::not_found("task", a.task));
        }
        self.set(|s| &mut s.assignments, a.id, Box::new(a.clone()));
        self.push_index(|s| &mut s.task_assignments, a.task, a.id);
        self.push_index(|s| &mut s.user_assignments, a.user, a.id);
        Ok(())
    }

    async fn update_assignment(&mut self, a: &Assignment) -> Result<()> {
        let stored = self.s().assignments.get(&a.id).map(|x| (x.version, x.history.len()));
        check_version("assignment", stored.map(|x| x.0), a.version, a.id)?;
        if stored.is_some_and(|(_, len)| a.history.len() < len) {
            return Err(Error::conflict("assignment history is append-only"));
        }
        self.set(|s| &mut s.assignments, a.id, Box::new(a.clone()));
        Ok(())
    }

    async fn assignment(&mut self, id: AssignmentId) -> Result<Option<Assignment>> {
        Ok(self.s().assignments.get(&id).map(|a| (**a).clone()))
    }

    async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>> {
        let s = self.s();
        Ok(s.task_assignments
            .get(&task)
            .into_iter()
            .flatten()
            .filter_map(|id| s.assignments.get(id).map(|a| &**a))
            .cloned()
            .collect())
    }

    async fn list_assignments(&mut self, q: &AssignmentQuery) -> Result<Page<Assignment>> {
        let s = self.s();
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
        Ok(Page::slice(rows.into_iter().cloned().collect(), q.page))
    }

    async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>> {
        let mut due: Vec<&Assignment> = self
            .s()
            .assignments
            .values()
            .map(|a| &**a)
            .filter(|a| a.status.is_open())
            .filter(|a| {
                let warn = !a.sla_warned && a.warn_at.is_some_and(|w| w <= now);
                let breach = a.status != crate::domain::task::AssignmentStatus::Breached
                    && a.target_resolution.is_some_and(|t| t <= now);
                warn || breach
            })
            .collect();
        due.sort_by_key(|a| (a.target_resolution, a.id));
        Ok(due.into_iter().take(limit).cloned().collect())
    }

    async fn insert_audit(&mut self, entry: AuditEntry) -> Result<()> {
        self.s().audit.push(entry);
        self.undo.push(Box::new(|s| {
            s.audit.pop();
        }));
        Ok(())
    }

    async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>> {
        Ok(self
            .s()
            .audit
            .iter()
            .filter(|e| e.ticket == Some(ticket))
            .cloned()
            .collect())
    }

    async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>> {
        Ok(self
            .s()
            .audit
            .iter()
            .filter(|e| e.task == Some(task))
            .cloned()
            .collect())
    }

    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()> {
        for m in messages {
            if self.s().outbox_index.contains_key(&m.id) {
                return Err(Error::conflict(format!("outbox message {} exists", m.id)));
            }
            let seq = self.s().outbox_seq + 1;
            self.bump(|s| &mut s.outbox_seq, seq);
            self.set(|s| &mut s.outbox_index, m.id, seq);
            self.set(|s| &mut s.outbox, seq, m);
        }
        Ok(())
    }

    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>> {
        Ok(self.s().outbox.values().take(limit).cloned().collect())
    }

    async fn mark_outbox_sent(&mut self, ids: &[MessageId], _at: DateTime<Utc>) -> Result<()> {
        for id in ids {
            if let Some(seq) = self.remove::<_, u64, _>(|s| &mut s.outbox_index, *id) {
                self.remove::<_, OutboxMessage, _>(|s| &mut s.outbox, seq);
            }
        }
        Ok(())
    }

    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool> {
        let key = (consumer.to_string(), id);
        if self.s().processed.contains_key(&key) {
            return Ok(false);
        }
        self.set(|s| &mut s.processed, key, at);
        Ok(true)
    }

    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64> {
        let pruned = match kind {
            Bookkeeping::Processed => {
                let old: Vec<_> = self
                    .s()
                    .processed
                    .iter()
                    .filter(|(_, at)| **at < before)
                    .map(|(key, _)| key.clone())
                    .take(limit)
                    .collect();
                for key in &old {
                    self.remove::<_, DateTime<Utc>, _>(|s| &mut s.processed, key.clone());
                }
                old.len()
            }
            Bookkeeping::IdempotencyKeys => {
                let old: Vec<_> = self
                    .s()
                    .idempotency
                    .iter()
                    .filter(|(_, r)| r.created_at < before)
                    .map(|(key, _)| key.clone())
                    .take(limit)
                    .collect();
                for key in &old {
                    self.remove::<_, IdempotencyRecord, _>(|s| &mut s.idempotency, key.clone());
                }
                old.len()
            }
        };
        Ok(pruned as u64)
    }

    async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
        Ok(self.s().idempotency.get(&(user, key.to_string())).cloned())
    }

    async fn insert_idempotency_record(&mut self, record: &IdempotencyRecord) -> Result<()> {
        let key = (record.user, record.key.clone());
        if self.s().idempotency.contains_key(&key) {
            return Err(Error::conflict(format!(
                "idempotency key {:?} already used",
                record.key
            )));
        }
        self.s().idempotency.insert(key.clone(), record.clone());
        self.undo.push(Box::new(move |s| {
            s.idempotency.remove(&key);
        }));
        Ok(())
    }

    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        if self.s().notifications.contains_key(&n.id) {
            return Err(Error::conflict(format!("notification {} exists", n.id)));
        }
        self.set(|s| &mut s.notifications, n.id, Box::new(n.clone()));
        self.push_index(|s| &mut s.user_notifications, n.user_id, n.id);
        Ok(())
    }

    async fn update_notification(&mut self, n: &Notification) -> Result<()> {
        if !self.s().notifications.contains_key(&n.id) {
            return Err(Error::not_found("notification", n.id));
        }
        self.set(|s| &mut s.notifications, n.id, Box::new(n.clone()));
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>> {
        Ok(self.s().notifications.get(&id).map(|n| (**n).clone()))
    }

    async fn list_notifications(&mut self, q: &NotificationQuery) -> Result<Page<Notification>> {
        let s = self.s();
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
        Ok(Page::slice(rows.into_iter().cloned().collect(), q.page))
    }

    async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64> {
        let ids: Vec<NotificationId> = self.s().user_notifications.get(&user).cloned().unwrap_or_default();
        let mut changed = 0;
        for id in ids {
            if let Some(mut n) = self.s().notifications.get(&id).cloned().filter(|n| !n.is_read) {
                n.is_read = true;
                n.read_at = Some(at);
                self.set(|s| &mut s.notifications, id, n);
                changed += 1;
            }
        }
        Ok(changed)
    }
}
