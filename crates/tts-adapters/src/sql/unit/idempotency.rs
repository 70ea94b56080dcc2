//! [`Idempotency`] in SQL: `idempotency_keys`, one row per user and key.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::ports::{Idempotency, IdempotencyRecord};
use tts_core::{Result, TicketId, UserId};

#[async_trait]
impl Idempotency for SqlUnit {
    async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
        let sql = "SELECT fingerprint, ticket_id, created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2";
        self.fetch_optional(sql, vec![Arg::Uuid(user.0), Arg::Text(key.to_string())], |r| {
            Ok(IdempotencyRecord {
                user,
                key: key.to_string(),
                fingerprint: r.text(0)?.to_string(),
                ticket: TicketId(r.i64(1)?),
                created_at: r.time(2)?,
            })
        })
        .await
    }

    /// `DO NOTHING` rather than a unique violation: on PostgreSQL the unit stays usable after the
    /// conflict (a violation would abort the transaction), and a concurrent insert of the same key is
    /// waited for, so exactly one of two racing requests records it; the other gets the conflict.
    async fn insert_idempotency_record(&mut self, r: &IdempotencyRecord) -> Result<()> {
        self.defer(Deferred {
            sql: "INSERT INTO idempotency_keys (user_id, key, fingerprint, ticket_id, created_at) \
                  VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING"
                .into(),
            args: vec![
                Arg::Uuid(r.user.0),
                Arg::Text(r.key.clone()),
                Arg::Text(r.fingerprint.clone()),
                Arg::I64(r.ticket.0),
                Arg::Time(r.created_at),
            ],
            expect: Expect::Conflict(format!("idempotency key {:?} already used", r.key)),
            row: Some(format!("idempotency_keys:{}:{}", r.user.0, r.key)),
        })
        .await
    }
}
