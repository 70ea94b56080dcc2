//! The engine: one async method per command, each atomic through one unit of work.
//!
//! Commands load what they need, let the pure domain decide, then write the changes, one audit entry and
//! the outbox messages for their events in the same unit. Every command runs through one runner
//! (`command.rs`): commit on success, nothing kept on failure, and a unit that loses a race (a retryable
//! backend conflict) is run again from the start, up to [`EngineConfig::max_retries`] times.
//!
//! | module | commands |
//! |---|---|
//! | `tickets` | open (optionally under an idempotency key), edit, change status, push to a workflow |
//! | `allocation`, `assign` | route a ticket to its workflow and hand the work to someone |
//! | `actions` | act on a task, escalate, transfer |
//! | `comments` | comments and internal notes, with their notifications |
//! | `attachments` | files on tickets and comments, their blob references and the blob sweep |
//! | `users`, `auth` | users and profiles; login, refresh, logout and the session gate |
//! | `roles` | roles and memberships |
//! | `workflows` | workflow life cycle, validation, match dry runs |
//! | `reads` | queries, filtered by what the actor may see |
//! | `reach` | who may see each live-feed event (decided once per event), catch-up after a reconnect |
//! | `consumers`, `delivery_outbox`, `delivery_broker`, `relay` | messages to their consumers, from the outbox or a broker |
//! | `dead_letters` | what failed for good, for admins to replay or delete |
//! | `sla`, `retention` | background work the shells run on timers |

mod actions;
mod allocation;
mod assign;
mod attachments;
mod auth;
mod command;
mod comments;
mod config;
mod consumers;
mod create_batch;
mod dead_letters;
mod delivery_broker;
mod delivery_mail;
mod delivery_outbox;
mod reach;
mod reads;
mod relay;
mod reports;
mod retention;
mod roles;
mod session_gate;
mod signal;
mod sla;
mod stats;
pub mod tickets;
mod users;
mod views;
mod workflows;

pub use attachments::{BLOB_GRACE, Upload};
pub use auth::{LoginAttempt, NewSession};
pub use config::{EngineConfig, QueueNames, Retention};
pub use consumers::{ConsumeOutcome, Consumer};
pub use create_batch::CreateRequest;
pub use delivery_mail::MAIL_LEASE;
pub use retention::PruneReport;
pub use session_gate::SessionGateConfig;
pub use signal::{OutboxSignal, Wakeup};
pub use stats::EngineStats;
pub use users::{ProfileChange, UserChange, check_password};
pub use views::{
    ActionOutcome, Allocation, AvailableAction, AvailableActions, MatchDryRun, NewUser, Session, SweepReport, TaskView,
    WorkflowReport,
};

use crate::domain::matching::MatchIndex;
use crate::error::Result;
use crate::memory::{MemoryMailer, MemoryPasswords, MemoryStore, SystemClock, UuidV7};
use crate::ports::{Clock, EventFeed, IdGen, Mailer, Passwords, Queue, Store};
use session_gate::SessionGate;
use signal::OutboxSignal as Signal;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The ticket and workflow engine. Cheap to share: wrap it in an `Arc` (it is `Send + Sync`).
pub struct Engine {
    store: Arc<dyn Store>,
    queue: Option<Arc<dyn Queue>>,
    feed: Option<Arc<dyn EventFeed>>,
    passwords: Arc<dyn Passwords>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    config: EngineConfig,
    match_cache: Mutex<Option<(u64, Arc<MatchIndex>)>>,
    outbox_signal: Signal,
    sessions: SessionGate,
    counters: stats::Counters,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("queue", &self.queue)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A builder over `store`, where everything the engine decides is kept. Without a queue the store's
    /// outbox is the queue (nothing is lost on a crash; see [`EngineBuilder::queue`]); the mailer defaults
    /// to [`MemoryMailer`] (keeps e-mails in memory), the clock to the system clock; set a [`Passwords`]
    /// adapter for logins (without one, setting a password or logging in fails with a clear error rather
    /// than hashing weakly).
    pub fn builder(store: Arc<dyn Store>) -> EngineBuilder {
        EngineBuilder {
            store,
            queue: None,
            feed: None,
            passwords: None,
            mailer: None,
            clock: None,
            ids: None,
            config: EngineConfig::default(),
        }
    }

    /// A builder over the in-memory adapters of every port, for tests, examples and trying things out:
    /// nothing survives the process, and passwords are hashed with the fast [`MemoryPasswords`].
    pub fn in_memory() -> EngineBuilder {
        Engine::builder(Arc::new(MemoryStore::new())).passwords(Arc::new(MemoryPasswords::new()))
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The store port.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The queue port, when messages go through a broker; `None` when the store's outbox is the queue.
    pub fn queue(&self) -> Option<&Arc<dyn Queue>> {
        self.queue.as_ref()
    }

    /// Fires after every commit in this process that wrote outbox messages: a relay or an outbox consumer
    /// waits on it (with a poll as fallback for other processes' writes) so events go out without delay.
    pub fn outbox_signal(&self) -> &Signal {
        &self.outbox_signal
    }

    /// The mailer port.
    pub fn mailer(&self) -> &Arc<dyn Mailer> {
        &self.mailer
    }

    /// The clock port.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// Assembles an [`Engine`] from ports and configuration: [`Engine::builder`] over a store, or
/// [`Engine::in_memory`].
pub struct EngineBuilder {
    store: Arc<dyn Store>,
    queue: Option<Arc<dyn Queue>>,
    feed: Option<Arc<dyn EventFeed>>,
    passwords: Option<Arc<dyn Passwords>>,
    mailer: Option<Arc<dyn Mailer>>,
    clock: Option<Arc<dyn Clock>>,
    ids: Option<Arc<dyn IdGen>>,
    config: EngineConfig,
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// Replaces the store.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// Sends messages through a broker: a relay publishes the outbox to `queue` and consumers read it
    /// there. Without one (the default) the outbox is the queue: consumers claim its rows in the unit
    /// that applies their effect, so a message leaves the database exactly when its effect commits.
    pub fn queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Shows every committed event on a live feed (e.g. a WebSocket hub) right after its commit.
    pub fn feed(mut self, feed: Arc<dyn EventFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// How passwords are hashed (no default outside [`Engine::in_memory`]).
    pub fn passwords(mut self, passwords: Arc<dyn Passwords>) -> Self {
        self.passwords = Some(passwords);
        self
    }

    /// The mailer (default: [`MemoryMailer`]).
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The id generator (default: [`UuidV7`]).
    pub fn ids(mut self, ids: Arc<dyn IdGen>) -> Self {
        self.ids = Some(ids);
        self
    }

    /// The configuration (default: [`EngineConfig::default`]).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks the configuration and builds the engine.
    pub fn build(self) -> Result<Engine> {
        self.config.validate()?;
        Ok(Engine {
            store: self.store,
            queue: self.queue,
            feed: self.feed,
            passwords: self.passwords.unwrap_or_else(|| Arc::new(auth::NoPasswords)),
            mailer: self.mailer.unwrap_or_else(|| Arc::new(MemoryMailer::new())),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            ids: self.ids.unwrap_or_else(|| Arc::new(UuidV7)),
            config: self.config,
            match_cache: Mutex::new(None),
            outbox_signal: Signal::default(),
            sessions: SessionGate::default(),
            counters: stats::Counters::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{NewTicket, TicketEdit};
    use crate::domain::user::Actor;
    use crate::ids::{ActionId, RoleId, SessionId, TaskId, TicketId, TokenId, UserId, WorkflowId};

    fn is_send<T: Send>(_: &T) {}

    /// Shells spawn engine futures on multi-threaded runtimes: every command's future must be `Send`.
    #[test]
    fn command_futures_are_send() {
        let e = Engine::in_memory().build().expect("engine");
        let id = || uuid::Uuid::now_v7();
        let actor = Actor::user(UserId(id()));
        is_send(&e.create_ticket(actor, NewTicket::new("s", "c"), None));
        is_send(&e.update_ticket(actor, TicketId(1).into(), TicketEdit::default()));
        is_send(&e.allocate(TicketId(1)));
        is_send(&e.perform_action(actor, TaskId(id()), ActionId(id()), ""));
        is_send(&e.transfer(actor, TaskId(id()), UserId(id()), ""));
        is_send(&e.escalate(actor, TaskId(id()), "r"));
        is_send(&e.login(
            LoginAttempt {
                email: "a@b.c".into(),
                password: "p".into(),
                client: String::new(),
            },
            None,
        ));
        is_send(&e.refresh(SessionId(id()), TokenId(id()), crate::domain::session::Rotation::Keep));
        is_send(&e.session_ended(SessionId(id())));
        is_send(&e.update_user(actor, UserId(id()), UserChange::default()));
        is_send(&e.update_profile(actor, None, ProfileChange::default()));
        is_send(&e.set_membership(actor, RoleId(id()), UserId(id()), true));
        is_send(&e.publish_workflow(actor, WorkflowId(id())));
        is_send(&e.consume_batch(Consumer::Allocation, 8));
        is_send(&e.consume_signalled(Consumer::Allocation, 8));
        is_send(&e.pump());
        is_send(&e.sla_sweep(chrono::Utc::now()));
        is_send(&e.prune(chrono::Utc::now()));
    }
}
