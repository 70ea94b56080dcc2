//! SQL stores: the whole [`tts_core::ports::Store`] on SQLite (the embedded default) and PostgreSQL.
//!
//! Both databases share one implementation over one schema design: every entity is stored whole as
//! JSON in a `data` column, next to the key columns its constraints and indexes need (unique ticket
//! numbers, one task per ticket, foreign keys, checks on enums, indexes for every list and filter of
//! the API). Queries are runtime-checked (`sqlx::query`), so building never needs a database;
//! migrations are embedded and applied on start.
//!
//! | module | what |
//! |---|---|
//! | `unit/` | the unit of work: one file per aggregate trait of the port, plain code for both databases |
//! | `queries.rs` | the paginated lists (`Queries`), on the read pool |
//! | `reports.rs` | the reports (`Reports`): grouped aggregates over indexed columns, on the read pool |
//! | `dialect/` | everything that differs between the databases: SQL text (row locks, counters) and the primitives (bind, read a column, send a batch) per backend |
//! | `values.rs` | what both share: statement text, bound arguments (`Arg`), result rows read by column (`Row`) |
//! | `sqlite.rs`, `postgres.rs` | opening each store, its pools and migrations |
//! | `group.rs` | SQLite group commit |
//! | `forecast.rs` | the next ticket keys a PostgreSQL store foresees, so a batch of creates is one statement |
//! | `traffic.rs` | counts of the statements, calls and commits the units send (`Store::traffic`) |
//!
//! Locking: a write unit on SQLite starts with `BEGIN IMMEDIATE` (or joins a group commit: one writer at
//! a time, readers go on under WAL); on PostgreSQL every row a write unit reads is read `FOR UPDATE` (the
//! round-robin cursor row is created first if missing, so two servers serialize on it), and the outbox
//! is claimed with `FOR UPDATE SKIP LOCKED`. Frozen workflow versions are immutable, so each store
//! caches them.

#[cfg(feature = "sqlite")]
mod checkpoint;
mod dialect;
mod error;
mod forecast;
#[cfg(feature = "sqlite")]
mod group;
#[cfg(feature = "postgres")]
pub mod postgres;
mod queries;
mod reports;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod traffic;
mod unit;
mod values;

pub use crate::redact::redact_url;

/// A pool's use now, for metrics.
pub(crate) fn pool_use<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> tts_core::ports::PoolUse {
    tts_core::ports::PoolUse {
        name,
        open: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}
