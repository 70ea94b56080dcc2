//! Persistence through units of work: every engine command reads and writes through one, atomically.
//!
//! A [`UnitOfWork`] is the sum of one trait per aggregate, each in its own file with its contract:
//!
//! | trait | what it keeps |
//! |---|---|
//! | [`Tickets`] | tickets and their yearly numbers |
//! | [`Workflows`] | workflow definitions and their frozen versions |
//! | [`Directory`] | users, roles and memberships |
//! | [`Cursors`] | who may take a role's work, and the role's round-robin cursor |
//! | [`Tasks`] | workflow runs and their assignments |
//! | [`Audit`] | the audit trail |
//! | [`Outbox`] | events waiting for delivery (the in-process queue), consumer dedup records, retention |
//! | [`DeadLetters`] | messages that will not be delivered again, until an admin acts |
//! | [`Notifications`] | in-app notifications |
//! | [`Comments`] | comments and internal notes on tickets |
//! | [`BlobRefs`] | which attachments use which blob, and the blobs nothing uses |
//! | [`Idempotency`] | `Idempotency-Key` records |
//! | [`Credentials`] | password hashes and login throttles |
//! | [`Sessions`] | login sessions (refresh token families) |
//!
//! Paginated lists and reports, which take no locks and need no unit, are [`Queries`] and [`Reports`] on
//! the store itself.
//!
//! The conformance suite in `tts_core::testkit::store` checks every contract, one module per trait.

mod audit;
mod blob_refs;
mod comments;
mod credentials;
mod cursors;
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

pub use audit::Audit;
pub use blob_refs::BlobRefs;
pub use comments::Comments;
pub use credentials::Credentials;
pub use cursors::{Cursors, PickState};
pub use dead_letters::DeadLetters;
pub use directory::{Directory, Member};
pub use idempotency::{Idempotency, IdempotencyRecord};
pub use notifications::Notifications;
pub use outbox::{Bookkeeping, Claimed, Outbox};
pub use queries::{
    AssignmentQuery, CommentQuery, MAX_PAGE_SIZE, NotificationQuery, Page, PageRequest, PriorityCounts, Queries,
    QueueBacklog, TicketOrdering, TicketQuery,
};
pub use reports::Reports;
pub use sessions::Sessions;
pub use tasks::Tasks;
pub use tickets::Tickets;
pub use workflows::Workflows;

use crate::error::Result;
use async_trait::async_trait;
use std::fmt::Debug;

/// Whether a unit of work will write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only; takes no write locks.
    Read,
    /// Reads and writes; rows read are locked against concurrent writers until commit.
    Write,
}

/// Whether somebody waits for a unit: a store may let units that answer requests go first when both
/// wait for the same resource (the SQLite writer). The unit's guarantees are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitPriority {
    /// A request a client waits for.
    #[default]
    Foreground,
    /// Work nobody waits on: the outbox relay, consumers, sweeps, retention.
    Background,
}

/// How to open a unit of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitOptions {
    /// Read or write.
    pub access: Access,
    /// Foreground or background.
    pub priority: UnitPriority,
}

impl UnitOptions {
    /// A read unit for a request.
    pub const fn read() -> Self {
        UnitOptions {
            access: Access::Read,
            priority: UnitPriority::Foreground,
        }
    }

    /// A write unit for a request.
    pub const fn write() -> Self {
        UnitOptions {
            access: Access::Write,
            priority: UnitPriority::Foreground,
        }
    }

    /// A write unit for background work.
    pub const fn background() -> Self {
        UnitOptions {
            access: Access::Write,
            priority: UnitPriority::Background,
        }
    }

    /// Whether the unit writes.
    pub fn writes(&self) -> bool {
        self.access == Access::Write
    }
}

/// The database behind the engine.
///
/// Contract (checked by `tts_core::testkit::store`):
/// - `begin` opens a unit of work; its writes become visible to others only at `commit`, all together;
///   dropping it without `commit` discards them all;
/// - in an [`Access::Write`] unit, every row read is locked against other writers until the unit ends, so
///   read-decide-write is safe across processes (e.g. the round-robin cursor is read and moved under one
///   lock); a unit that loses a race reports a retryable conflict (`Error::is_retryable`) and the engine
///   runs the whole command again;
/// - `update_*` of a versioned row requires the stored version to be exactly one less than the new one,
///   else `Error::Conflict`; unique rules (ticket number, one task per ticket, workflow name, user e-mail,
///   role name per system, login e-mail) give `Error::Conflict`; a missing row on update gives
///   `Error::NotFound`;
/// - a store may hold a unit's writes back and send them together at its next read, `flush` or commit;
///   a failed write is then reported there instead of by the write itself;
/// - after any error the unit may be unusable (SQL databases abort the transaction): callers drop it and
///   start again; the engine never continues a unit past an error.
#[async_trait]
pub trait Store: Queries + Reports + Send + Sync + Debug + 'static {
    /// Opens a unit of work.
    async fn begin(&self, options: UnitOptions) -> Result<Box<dyn UnitOfWork>>;

    /// The connection pools' use now, for metrics; stores without pools have none.
    fn pools(&self) -> Vec<PoolUse> {
        Vec::new()
    }

    /// What the store has sent to its database since it opened, for metrics and for measuring what a
    /// command costs (statements per ticket); stores without a database report nothing.
    fn traffic(&self) -> Option<StoreTraffic> {
        None
    }
}

/// Counts of what a store's units of work sent to the database (see [`Store::traffic`]). Queries outside
/// a unit (the paginated lists and the reports on the read pool) are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreTraffic {
    /// SQL statements, each statement of a multi-statement call counted.
    pub statements: u64,
    /// Calls to the database: one statement alone or several sent together. On PostgreSQL one network
    /// round trip each; on SQLite one hop to the connection's worker thread and back.
    pub round_trips: u64,
    /// Transactions committed (on SQLite with group commit: one per group, however many units shared it).
    pub commits: u64,
    /// Units of work opened (read and write).
    pub units: u64,
}

/// How many connections of one pool exist and how many wait idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// The pool, e.g. `reader` or `writer`.
    pub name: &'static str,
    /// Open connections.
    pub open: u32,
    /// Of those, idle ones.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// The reads and writes of one atomic command: every aggregate's trait, plus `flush` and `commit`. See
/// [`Store`] for the contract.
#[async_trait]
pub trait UnitOfWork:
    Tickets
    + Workflows
    + Directory
    + Cursors
    + Tasks
    + Audit
    + Outbox
    + DeadLetters
    + Notifications
    + Comments
    + BlobRefs
    + Idempotency
    + Credentials
    + Sessions
    + Send
{
    /// Sends the writes the store has held back, reporting the first that failed. Stores that write at
    /// once need not override it.
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// Makes every write of this unit durable and visible, all together.
    async fn commit(self: Box<Self>) -> Result<()>;
}
