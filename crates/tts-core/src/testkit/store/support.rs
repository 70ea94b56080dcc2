//! Builders and small helpers the cases share. Everything the cases write carries fresh ids, so a case
//! never depends on what another wrote; the cases still expect a fresh, empty store each (totals,
//! ticket numbers and pruning count everything).

use crate::domain::login::Credential;
use crate::domain::notification::{Notification, NotificationType};
use crate::domain::session::RefreshSession;
use crate::domain::task::{Task, TaskStatus};
use crate::domain::ticket::{NewTicket, Ticket};
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::{MatchKey, Sla, Step, Transition, Workflow, WorkflowDefinition, WorkflowStatus};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::{ActionId, NotificationId, RoleId, SessionId, StepId, TaskId, TokenId, UserId, WorkflowId};
use crate::memory::{MemoryPasswords, MemoryQueue};
use crate::ports::store::{Store, UnitOfWork, UnitOptions};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// The suite's "now": a fixed instant, so times compare exactly.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
}

/// `t0` plus `secs` seconds.
pub(crate) fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// A fresh id of any uuid id type.
pub(crate) fn id<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

/// A short random tag for names that must be unique.
pub(crate) fn tag() -> String {
    let t = Uuid::now_v7().simple().to_string();
    t[t.len() - 10..].to_string()
}

/// Opens a write unit.
pub(crate) async fn write(store: &dyn Store) -> Box<dyn UnitOfWork> {
    store.begin(UnitOptions::write()).await.expect("begin a write unit")
}

/// Opens a read unit.
pub(crate) async fn read(store: &dyn Store) -> Box<dyn UnitOfWork> {
    store.begin(UnitOptions::read()).await.expect("begin a read unit")
}

/// Commits, naming what the commit was for when it fails.
pub(crate) async fn commit(tx: Box<dyn UnitOfWork>, what: &str) {
    tx.commit()
        .await
        .unwrap_or_else(|e| panic!("committing {what} failed: {e}"));
}

/// The error of a write that must fail: a store may report it at the write itself or at the unit's next
/// `flush` (see `Store`). Panics with `rule` when neither reports one.
pub(crate) async fn write_error(tx: &mut dyn UnitOfWork, written: Result<()>, rule: &str) -> Error {
    match written {
        Err(e) => e,
        Ok(()) => match tx.flush().await {
            Err(e) => e,
            Ok(()) => panic!("{rule}: the write succeeded and so did the flush after it"),
        },
    }
}

/// splitmix64: a fixed, dependency-free sequence, so every backend sees the same generated history.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A user with a unique e-mail, active.
pub(crate) fn user(name: &str) -> User {
    User {
        id: id(),
        email: format!("{}-{}@example.com", name.to_lowercase().replace(' ', "."), tag()),
        full_name: name.into(),
        is_active: true,
        email_notifications: true,
        created_at: t0(),
    }
}

/// A role in system `tts` with a unique name.
pub(crate) fn role(name: &str) -> Role {
    Role {
        id: id(),
        system: "tts".into(),
        name: format!("{name} {}", tag()),
    }
}

/// Inserts `n` active users in one committed unit; returns them ordered by id.
pub(crate) async fn insert_users(store: &dyn Store, prefix: &str, n: usize) -> Vec<User> {
    let mut tx = write(store).await;
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let u = user(&format!("{prefix} {i}"));
        tx.insert_user(&u).await.expect("insert a user");
        users.push(u);
    }
    commit(tx, "users").await;
    users.sort_by_key(|u| u.id);
    users
}

/// Inserts a role and active memberships of `users` in one committed unit.
pub(crate) async fn insert_role_with(store: &dyn Store, name: &str, users: &[User]) -> Role {
    let r = role(name);
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    for u in users {
        tx.set_membership(Membership {
            role: r.id,
            user: u.id,
            is_active: true,
        })
        .await
        .expect("set a membership");
    }
    commit(tx, "a role and its members").await;
    r
}

/// Builds a ticket with store-allocated keys of `year` inside `tx` and inserts it.
pub(crate) async fn new_ticket_in(
    tx: &mut dyn UnitOfWork,
    year: i32,
    new: NewTicket,
    by: UserId,
    at: DateTime<Utc>,
) -> Ticket {
    let (tid, seq) = tx.take_ticket_keys(year).await.expect("take ticket keys");
    let number = TicketNumber::new(year, seq).expect("a valid ticket number");
    let ticket = new
        .validated()
        .expect("a valid ticket")
        .into_ticket(tid, number, by, at);
    tx.insert_ticket(&ticket).await.expect("insert a ticket");
    ticket
}

/// Inserts a ticket of 2025 in its own committed unit.
pub(crate) async fn insert_ticket(store: &dyn Store, new: NewTicket, by: UserId, at: DateTime<Utc>) -> Ticket {
    let mut tx = write(store).await;
    let ticket = new_ticket_in(tx.as_mut(), 2025, new, by, at).await;
    commit(tx, "a ticket").await;
    ticket
}

/// A small valid two-step definition whose steps go to `role`.
pub(crate) fn sample_definition(name: &str, role: RoleId) -> WorkflowDefinition {
    let (a, b) = (StepId(Uuid::now_v7()), StepId(Uuid::now_v7()));
    let step = |id, name: &str, start, end| Step {
        id,
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: String::new(),
        weight: 1,
        escalate_to: None,
        is_start: start,
        is_end: end,
        position: Default::default(),
        strategy: Default::default(),
    };
    WorkflowDefinition {
        name: name.into(),
        description: "sample".into(),
        match_key: MatchKey {
            category: "Sample".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            low: Some(4000),
            medium: Some(3000),
            high: Some(2000),
            critical: Some(1000),
        },
        steps: vec![step(a, "First", true, false), step(b, "Last", false, true)],
        transitions: vec![
            Transition {
                id: ActionId(Uuid::now_v7()),
                name: "Next".into(),
                from_step: a,
                to_step: Some(b),
            },
            Transition {
                id: ActionId(Uuid::now_v7()),
                name: "Done".into(),
                from_step: b,
                to_step: None,
            },
        ],
    }
}

/// A draft workflow named `name`.
pub(crate) fn workflow(name: &str) -> Workflow {
    Workflow {
        id: id::<WorkflowId>(),
        status: WorkflowStatus::Draft,
        version: 0,
        definition: sample_definition(name, id()),
        created_at: t0(),
        updated_at: t0(),
    }
}

/// A pending task of `ticket`, version 1.
pub(crate) fn task_of(ticket: &Ticket) -> Task {
    Task {
        id: id::<TaskId>(),
        ticket: ticket.id,
        workflow_id: id(),
        workflow_version: 1,
        current_step: id(),
        status: TaskStatus::Pending,
        target_resolution: Some(at(8 * 3600)),
        resolved_at: None,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

/// What [`seed_task`] made: a ticket with a task, and a role of two active workers.
pub(crate) struct Seeded {
    pub(crate) ticket: Ticket,
    pub(crate) task: Task,
    pub(crate) role: Role,
    pub(crate) users: Vec<User>,
}

/// A ticket, its task and a role of two active workers, committed.
pub(crate) async fn seed_task(store: &dyn Store) -> Seeded {
    let ticket = insert_ticket(store, NewTicket::new("Task host", "C"), id(), t0()).await;
    let users = insert_users(store, "Worker", 2).await;
    let role = insert_role_with(store, "Workers", &users).await;
    let task = task_of(&ticket);
    let mut tx = write(store).await;
    tx.insert_task(&task).await.expect("insert a task");
    commit(tx, "a task").await;
    Seeded {
        ticket,
        task,
        role,
        users,
    }
}

/// An unread notification for `user` created at `at(secs)`.
pub(crate) fn notification(user: UserId, subject: &str, secs: i64) -> Notification {
    Notification {
        id: id::<NotificationId>(),
        user_id: user,
        kind: NotificationType::TaskAssignment,
        subject: subject.into(),
        message: "m".into(),
        related_ticket: TicketNumber::new(2025, 1).ok(),
        related_task: None,
        is_read: false,
        read_at: None,
        created_at: at(secs),
    }
}

/// A live session of `user` whose refresh token expires at `expires_at`.
pub(crate) fn session(user: UserId, expires_at: DateTime<Utc>) -> RefreshSession {
    RefreshSession {
        id: id::<SessionId>(),
        user,
        current: id::<TokenId>(),
        expires_at,
        ended_at: None,
    }
}

/// A credential of `user` for `email`.
pub(crate) fn credential(user: UserId, email: &str, hash: &str) -> Credential {
    Credential {
        user,
        email: email.into(),
        hash: hash.into(),
    }
}

/// An engine over `store` (and `queue`, else its own in-memory one) with fast test password hashing.
pub(crate) fn engine(store: Arc<dyn Store>, queue: Option<Arc<MemoryQueue>>) -> Engine {
    let mut builder = Engine::builder(store).passwords(Arc::new(MemoryPasswords::new()));
    if let Some(queue) = queue {
        builder = builder.queue(queue);
    }
    builder.build().expect("an engine over the store")
}

/// Runs the async `body` (which may use `?` and `return`) again while it fails with a retryable error (a
/// lost race), as the engine's command runner does; at most 100 attempts. A macro rather than a function
/// over an async closure, so that the futures spawned around it stay `Send`.
macro_rules! retrying {
    ($body:block) => {{
        let mut tries = 0u32;
        loop {
            let attempt: $crate::error::Result<_> = async $body.await;
            match attempt {
                Err(e) if e.is_retryable() && tries < 100 => tries += 1,
                other => break other,
            }
        }
    }};
}
pub(crate) use retrying;
