//! # tts-adapters
//!
//! The imperative shell around [`tts_core`]: real backends for the core's ports, and the tokio loops
//! that run the engine's workers ([`worker`]). Every adapter passes the core's conformance testkit
//! unchanged.
//!
//! | port | adapter | feature |
//! |---|---|---|
//! | `Store` (+ `Queries`) | [`sql::sqlite::SqliteStore`] (embedded default: WAL, busy timeout, `synchronous` option, group commit) | `sqlite` (default) |
//! | `Store` (+ `Queries`) | [`sql::postgres::PgStore`] (row locks, several servers on one database) | `postgres` |
//! | `Passwords` | [`identity::Argon2Passwords`] (argon2id, OWASP parameters, on the blocking pool) | always |
//! | `BlobStore` | [`blob::FileBlobStore`] (content-addressed files, atomic writes) | always |
//! | `Queue` | `amqp::AmqpQueue` (RabbitMQ: quorum queues, confirms, delayed retries, reconnect) | `amqp` |
//! | `EventFeed` | `amqp::AmqpFeed` (the live feed across servers, a fan-out exchange) | `amqp` |
//! | `Mailer` | `mail::smtp::SmtpMailer` (plain text + HTML, TLS per URL, pooled connections) | `smtp` |
//!
//! Credentials, login throttles and sessions are part of the store, so a user and their password commit
//! together; the passwords adapter only hashes and checks.
//!
//! Errors of the backends are mapped into `tts_core::Error` kinds at this boundary (unique violation ->
//! conflict, missing row -> not found, pool exhausted or server down -> unavailable); SQL text and
//! passwords never appear in messages.
//!
//! ## Crates doing the work
//!
//! | crate | what for |
//! |---|---|
//! | `sqlx` | SQLite and PostgreSQL drivers, pools, embedded migrations (queries checked at run time) |
//! | `argon2` | argon2id password hashes in PHC strings ([`identity::Argon2Passwords`]) |
//! | `tokio` | the blocking pool for hashing, file I/O of the blob store, the worker loops |
//! | `sha2` + `hex` (through `tts_core::ports::blob::sha256_hex`) | content addresses of blobs |
//! | `futures-util` | reading the per-statement results of a SQLite batch; the consumer streams of lapin |
//! | `lapin` | the AMQP 0-9-1 client for RabbitMQ (connection, channels, confirms, consumers) |
//! | `lettre` | building MIME messages and speaking SMTP (with rustls for TLS) |
//! | `url` | parsing database and broker URLs to hide their passwords ([`redact`]) |

#[cfg(feature = "amqp")]
pub mod amqp;
pub mod blob;
pub mod identity;
pub mod mail;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "amqp", feature = "smtp"))]
pub mod redact;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod worker;
