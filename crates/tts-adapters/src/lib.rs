//! # tts-adapters
//!
//! The imperative shell around [`tts_core`]: the tokio loops that run the engine's workers
//! ([`worker`]). The storage, messaging, mail, blob and identity backends (SQLite, PostgreSQL,
//! RabbitMQ, SMTP, file store, argon2id identity) arrive behind cargo features, each passing the core's
//! conformance testkit unchanged.

pub mod worker;
