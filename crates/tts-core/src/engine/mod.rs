//! The engine: one async method per command, each atomic through one unit of work.
//!
//! Commands load what they need, let the pure domain decide, then write the changes, one audit entry and
//! the outbox messages for their events in the same unit. A unit that loses a race (a retryable backend
//! conflict) is retried from the start, up to [`EngineConfig::max_retries`] times.

mod actions;
mod admin;
mod allocation;
mod assign;
mod config;
mod consumers;
mod reads;
mod relay;
mod retention;
mod signal;
mod sla;
pub mod tickets;
mod unit;
mod views;

pub use admin::check_password;
pub use config::{EngineConfig, QueueNames, Retention};
pub use consumers::{ConsumeOutcome, Consumer};
pub use retention::PruneReport;
pub use signal::OutboxSignal;
pub use views::{
    ActionOutcome, Allocation, AvailableAction, AvailableActions, MatchDryRun, NewUser, Session, SweepReport, TaskView,
    WorkflowReport,
};

use crate::domain::matching::MatchIndex;
use crate::error::Result;
use crate::memory::{MemoryIdentity, MemoryMailer, MemoryQueue, MemoryStore, SystemClock, UuidV7};
use crate::ports::{Clock, IdGen, Identity, Mailer, Queue, Store};
use signal::OutboxSignal as Signal;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The ticket and workflow engine. Cheap to share: wrap it in an `Arc` (it is `Send + Sync`).
pub struct Engine {
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    identity: Arc<dyn Identity>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    config: EngineConfig,
    match_cache: Mutex<Option<(u64, Arc<MatchIndex>)>>,
    outbox_signal: Signal,
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
    /// A builder; every port defaults to its in-memory adapter, the clock to the system clock.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The store port.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The queue port.
    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.queue
    }

    /// Fires after every commit in this process that wrote outbox messages: a relay waits on it (with a
    /// poll as fallback for other processes' writes) so events go out without delay.
    pub fn outbox_signal(&self) -> &Signal {
        &self.outbox_signal
    }

    /// The clock port.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// Assembles an [`Engine`] from ports and configuration.
#[derive(Default)]
pub struct EngineBuilder {
    store: Option<Arc<dyn Store>>,
    queue: Option<Arc<dyn Queue>>,
    identity: Option<Arc<dyn Identity>>,
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
    /// The store (default: [`MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The queue (default: [`MemoryQueue`]).
    pub fn queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// The identity (default: [`MemoryIdentity`]).
    pub fn identity(mut self, identity: Arc<dyn Identity>) -> Self {
        self.identity = Some(identity);
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
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            queue: self.queue.unwrap_or_else(|| Arc::new(MemoryQueue::new())),
            identity: self.identity.unwrap_or_else(|| Arc::new(MemoryIdentity::new())),
            mailer: self.mailer.unwrap_or_else(|| Arc::new(MemoryMailer::new())),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            ids: self.ids.unwrap_or_else(|| Arc::new(UuidV7)),
            config: self.config,
            match_cache: Mutex::new(None),
            outbox_signal: Signal::default(),
        })
    }
}

/// Runs an `async` command body until it succeeds, fails for good, or runs out of retries.
macro_rules! retrying {
    ($engine:expr, $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            match $body.await {
                Err(e) if e.is_retryable() && attempt < $engine.config.max_retries => attempt += 1,
                other => break other,
            }
        }
    }};
}
pub(crate) use retrying;
