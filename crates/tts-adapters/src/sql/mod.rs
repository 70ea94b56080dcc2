//! SQL stores: the whole [`tts_core::ports::Store`] on SQLite (the embedded default) and PostgreSQL.
//!
//! Both dialects share one implementation (`unit.rs`, instantiated per database by a macro) over one
//! schema design: every entity is stored whole as JSON in a `data` column, next to the key columns its
//! constraints and indexes need (unique ticket numbers, one task per ticket, foreign keys, checks on
//! enums, indexes for every list and filter of the API). Queries are runtime-checked (`sqlx::query`),
//! so building never needs a database; migrations are embedded and applied on start.
//!
//! Locking: a write unit on SQLite starts with `BEGIN IMMEDIATE` (one writer at a time, readers go on
//! under WAL); on PostgreSQL every row a write unit reads is read `FOR UPDATE` (the round-robin cursor
//! row is created first if missing, so two servers serialize on it), and the outbox is claimed with
//! `FOR UPDATE SKIP LOCKED`. Frozen workflow versions are immutable, so each store caches them.

mod error;
#[cfg(feature = "sqlite")]
mod group;
mod json_doc;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod unit;

pub use error::redact_url;
