//! [`Outbox`] in SQL: `outbox` (the in-process queue; delivered rows are deleted), `processed` (consumer
//! dedup), and retention of every kind of bookkeeping.

use super::{Deferred, SqlUnit};
use crate::sql::values::{Arg, Column, Row, storable};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::ports::{Bookkeeping, Claimed, Outbox};
use tts_core::{MessageId, OutboxMessage, Result};

/// Ids per `INSERT` into `processed`.
const INSERT_CHUNK: usize = 100;

/// Ids per `DELETE`. Both chunk sizes stay far below either database's argument limit.
const DELETE_CHUNK: usize = 500;

#[async_trait]
impl Outbox for SqlUnit {
    /// One row per message, sent with the unit's other writes; the merge joins them into one statement.
    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()> {
        for m in &messages {
            let args = vec![
                Arg::Uuid(m.id.0),
                Arg::Time(m.created_at),
                self.json(m)?,
                Arg::OptText(m.queue.clone()),
                Arg::Time(storable(m.created_at)),
            ];
            let sql = "INSERT INTO outbox (id, created_at, data, queue, available_at) VALUES ($1, $2, $3, $4, $5)";
            self.defer(Deferred::any(sql, args, None)).await?;
        }
        Ok(())
    }

    /// In a write unit on PostgreSQL the rows are claimed (`FOR UPDATE SKIP LOCKED`). In a SQLite group
    /// whose earlier units are not durable yet, only rows that were durable when the group began (a relay
    /// publishes outside the database, so it must not publish what a failed group commit would undo).
    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>> {
        let watermark = self.conn.outbox_watermark();
        let durable = if watermark.is_some() { " AND seq <= $2" } else { "" };
        let sql = format!(
            "SELECT data FROM outbox WHERE sent_at IS NULL{durable} ORDER BY seq LIMIT $1{}",
            self.dialect.claim(self.write)
        );
        let mut args = vec![Arg::count(limit)];
        args.extend(watermark.map(Arg::I64));
        self.all_docs(sql, args).await
    }

    /// Unlike the relay, a consumer may take rows a not yet durable unit of its SQLite group wrote: its
    /// effect commits with them or not at all.
    async fn claim_outbox(&mut self, queue: &str, limit: usize, now: DateTime<Utc>) -> Result<Vec<Claimed>> {
        let sql = format!(
            "SELECT data, attempts FROM outbox WHERE queue = $1 AND available_at <= $2 ORDER BY seq LIMIT $3{}",
            self.dialect.claim(self.write)
        );
        let args = vec![
            Arg::Text(queue.to_string()),
            Arg::Time(storable(now)),
            Arg::count(limit),
        ];
        self.fetch(sql, args, claimed).await
    }

    async fn outbox_message(&mut self, id: MessageId) -> Result<Option<Claimed>> {
        let sql = format!("SELECT data, attempts FROM outbox WHERE id = $1{}", self.lock());
        self.fetch_optional(sql, vec![Arg::Uuid(id.0)], claimed).await
    }

    async fn retry_outbox(&mut self, id: MessageId, due: DateTime<Utc>, error: &str) -> Result<()> {
        let sql = "UPDATE outbox SET attempts = attempts + 1, available_at = $2, last_error = $3 WHERE id = $1";
        let args = vec![Arg::Uuid(id.0), Arg::Time(storable(due)), Arg::Text(error.to_string())];
        self.defer(Deferred::any(sql, args, Some(format!("outbox:{}", id.0))))
            .await
    }

    async fn lease_outbox(&mut self, id: MessageId, until: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE outbox SET available_at = $2 WHERE id = $1";
        let args = vec![Arg::Uuid(id.0), Arg::Time(storable(until))];
        self.defer(Deferred::any(sql, args, Some(format!("outbox:{}", id.0))))
            .await
    }

    /// Delivered messages are deleted: the outbox stays small; the audit trail keeps the history.
    async fn finish_outbox(&mut self, ids: &[MessageId]) -> Result<()> {
        for chunk in ids.chunks(DELETE_CHUNK) {
            let (is_one, args) = self
                .dialect
                .one_of("id", 1, chunk.iter().map(|id| Arg::Uuid(id.0)).collect());
            let sql = format!("DELETE FROM outbox WHERE {is_one}");
            self.defer(Deferred::any(sql, args, None)).await?;
        }
        Ok(())
    }

    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool> {
        let sql = "INSERT INTO processed (consumer, message_id, processed_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (consumer, message_id) DO NOTHING";
        let args = vec![Arg::Text(consumer.to_string()), Arg::Uuid(id.0), Arg::Time(at)];
        Ok(self.execute(sql, args).await? == 1)
    }

    /// One `INSERT ... ON CONFLICT DO NOTHING RETURNING` per chunk of ids: the ids it returns are the
    /// fresh ones.
    async fn record_processed_many(
        &mut self,
        consumer: &str,
        ids: &[MessageId],
        at: DateTime<Utc>,
    ) -> Result<Vec<bool>> {
        let mut inserted = std::collections::HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut args = vec![Arg::Text(consumer.to_string()), Arg::Time(at)];
            // PostgreSQL: the ids as one array, so the text is the same for any number of them.
            let rows = if self.dialect.binds_arrays() {
                args.push(Arg::Column(Column::Uuid(chunk.iter().map(|id| Some(id.0)).collect())));
                "SELECT $1, m, $2 FROM UNNEST($3::uuid[]) AS m".to_string()
            } else {
                args.extend(chunk.iter().map(|id| Arg::Uuid(id.0)));
                let tuples: Vec<String> = (0..chunk.len()).map(|i| format!("($1, ${}, $2)", i + 3)).collect();
                format!("VALUES {}", tuples.join(", "))
            };
            let sql = format!(
                "INSERT INTO processed (consumer, message_id, processed_at) {rows} \
                 ON CONFLICT (consumer, message_id) DO NOTHING RETURNING message_id"
            );
            inserted.extend(self.fetch(sql, args, |r| r.uuid(0)).await?);
        }
        // A repeated id was inserted (at most) once: only its first place is fresh.
        Ok(ids.iter().map(|id| inserted.remove(&id.0)).collect())
    }

    async fn processed(&mut self, consumer: &str, id: MessageId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM processed WHERE consumer = $1 AND message_id = $2";
        let args = vec![Arg::Text(consumer.to_string()), Arg::Uuid(id.0)];
        let n = self.fetch_optional(sql, args, |r| r.i64(0)).await?;
        Ok(n.unwrap_or(0) > 0)
    }

    /// Each kind deletes a batch chosen by primary key (row values in `IN`: the same statement on both
    /// databases), oldest by the kind's timestamp column, which has an index.
    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64> {
        let sql = match kind {
            Bookkeeping::Processed => {
                "DELETE FROM processed WHERE (consumer, message_id) IN \
                 (SELECT consumer, message_id FROM processed WHERE processed_at < $1 LIMIT $2)"
            }
            Bookkeeping::IdempotencyKeys => {
                "DELETE FROM idempotency_keys WHERE (user_id, key) IN \
                 (SELECT user_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)"
            }
            Bookkeeping::Sessions => {
                "DELETE FROM refresh_sessions WHERE id IN \
                 (SELECT id FROM refresh_sessions WHERE expires_at < $1 LIMIT $2)"
            }
            Bookkeeping::LoginThrottles => {
                "DELETE FROM login_throttles WHERE (email, client) IN \
                 (SELECT email, client FROM login_throttles WHERE updated_at < $1 LIMIT $2)"
            }
        };
        self.execute(sql, vec![Arg::Time(storable(before)), Arg::count(limit)])
            .await
    }
}

/// A claimed outbox row: `data, attempts`.
fn claimed(r: Row<'_>) -> Result<Claimed> {
    Ok(Claimed {
        message: r.json(0)?,
        attempts: u32::try_from(r.i64(1)?).unwrap_or(u32::MAX),
    })
}
