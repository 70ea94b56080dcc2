//! # tts-adapters
//!
//! The imperative shell around [`tts_core`]: real backends for the core's ports, and the tokio loops
//! that run the engine's workers ([`worker`]). Every adapter passes the core's conformance testkit
//! unchanged.
//!
//! | port | adapter | feature |
//! |---|---|---|
//! | `Store` | [`sql::sqlite::SqliteStore`] (embedded default: WAL, busy timeout, `synchronous` option) | `sqlite` (default) |
//! | `Store` | [`sql::postgres::PgStore`] (row locks, several servers on one database) | `postgres` |
//! | `Identity` | [`identity::LocalIdentity`] (argon2id, lockout) on the same database | `sqlite` or `postgres` |
//! | `BlobStore` | [`blob::FileBlobStore`] (content-addressed files, atomic writes) | always |
//!
//! Errors of the backends are mapped into `tts_core::Error` kinds at this boundary (unique violation ->
//! conflict, missing row -> not found, pool exhausted or server down -> unavailable); SQL text and
//! passwords never appear in messages.

pub mod blob;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod identity;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod worker;
