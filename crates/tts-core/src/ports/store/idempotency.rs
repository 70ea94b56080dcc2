//! Records of requests made under an `Idempotency-Key`.

use crate::error::Result;
use crate::ids::{TicketId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A request made under an `Idempotency-Key`: the key, a fingerprint of the request body, and the ticket
/// the first request created. Retries with the same key and fingerprint get that ticket back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Who sent the request; keys are scoped per user.
    pub user: UserId,
    /// The client's key (1..=255 visible ASCII characters).
    pub key: String,
    /// A digest of the request body (hex SHA-256 in the reference server).
    pub fingerprint: String,
    /// The ticket the first request created.
    pub ticket: TicketId,
    /// When the first request was made.
    pub created_at: DateTime<Utc>,
}

/// Idempotency records.
///
/// Contract (checked by `tts_core::testkit::store::idempotency`): keys are scoped per user; a record
/// reads back equal; inserting a key the user already used is a conflict, also when two units race (the
/// record is written in the ticket's own unit, so exactly one of two racing requests creates a ticket).
#[async_trait]
pub trait Idempotency: Send {
    /// The record of `user`'s request under `key`, if any.
    async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>>;
    /// Records a request.
    async fn insert_idempotency_record(&mut self, record: &IdempotencyRecord) -> Result<()>;
}
