//! [`Outbox`] in memory, with retention of every kind of bookkeeping.

use super::{MemoryUnit, OutboxRow};
use crate::domain::event::OutboxMessage;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::ports::store::{Bookkeeping, Claimed, Outbox};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl Outbox for MemoryUnit {
    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()> {
        for m in messages {
            if self.s().outbox_index.contains_key(&m.id) {
                return Err(Error::conflict(format!("outbox message {} exists", m.id)));
            }
            let seq = self.s().outbox_seq + 1;
            self.bump(|s| &mut s.outbox_seq, seq);
            self.set(|s| &mut s.outbox_index, m.id, seq);
            let row = OutboxRow {
                due: m.created_at,
                message: m,
                attempts: 0,
            };
            self.set(|s| &mut s.outbox, seq, row);
        }
        Ok(())
    }

    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>> {
        Ok(self
            .s()
            .outbox
            .values()
            .take(limit)
            .map(|r| r.message.clone())
            .collect())
    }

    async fn claim_outbox(&mut self, queue: &str, limit: usize, now: DateTime<Utc>) -> Result<Vec<Claimed>> {
        Ok(self
            .s()
            .outbox
            .values()
            .filter(|r| r.message.queue.as_deref() == Some(queue) && r.due <= now)
            .take(limit)
            .map(claimed)
            .collect())
    }

    async fn outbox_message(&mut self, id: MessageId) -> Result<Option<Claimed>> {
        let s = self.s();
        Ok(s.outbox_index.get(&id).and_then(|seq| s.outbox.get(seq)).map(claimed))
    }

    async fn retry_outbox(&mut self, id: MessageId, due: DateTime<Utc>, _error: &str) -> Result<()> {
        let s = self.s();
        let Some((seq, mut row)) = s
            .outbox_index
            .get(&id)
            .and_then(|seq| s.outbox.get(seq).map(|r| (*seq, r.clone())))
        else {
            return Ok(());
        };
        row.attempts += 1;
        row.due = due;
        self.set(|s| &mut s.outbox, seq, row);
        Ok(())
    }

    async fn lease_outbox(&mut self, id: MessageId, until: DateTime<Utc>) -> Result<()> {
        let s = self.s();
        let Some((seq, mut row)) = s
            .outbox_index
            .get(&id)
            .and_then(|seq| s.outbox.get(seq).map(|r| (*seq, r.clone())))
        else {
            return Ok(());
        };
        row.due = until;
        self.set(|s| &mut s.outbox, seq, row);
        Ok(())
    }

    async fn finish_outbox(&mut self, ids: &[MessageId]) -> Result<()> {
        for id in ids {
            if let Some(seq) = self.remove::<_, u64, _>(|s| &mut s.outbox_index, *id) {
                self.remove::<_, OutboxRow, _>(|s| &mut s.outbox, seq);
            }
        }
        Ok(())
    }

    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool> {
        let key = (consumer.to_string(), id);
        if self.s().processed.contains_key(&key) {
            return Ok(false);
        }
        self.set(|s| &mut s.processed, key, at);
        Ok(true)
    }

    async fn processed(&mut self, consumer: &str, id: MessageId) -> Result<bool> {
        Ok(self.s().processed.contains_key(&(consumer.to_string(), id)))
    }

    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64> {
        let s = self.s();
        let pruned = match kind {
            Bookkeeping::Processed => {
                let old: Vec<_> = s
                    .processed
                    .iter()
                    .filter(|(_, at)| **at < before)
                    .map(|(key, _)| key.clone())
                    .take(limit)
                    .collect();
                for key in &old {
                    self.remove::<_, DateTime<Utc>, _>(|s| &mut s.processed, key.clone());
                }
                old.len()
            }
            Bookkeeping::IdempotencyKeys => {
                let old: Vec<_> = s
                    .idempotency
                    .iter()
                    .filter(|(_, r)| r.created_at < before)
                    .map(|(key, _)| key.clone())
                    .take(limit)
                    .collect();
                for key in &old {
                    self.remove::<_, crate::ports::store::IdempotencyRecord, _>(|s| &mut s.idempotency, key.clone());
                }
                old.len()
            }
            Bookkeeping::Sessions => {
                let old: Vec<_> = s
                    .sessions
                    .values()
                    .filter(|x| x.expires_at < before)
                    .map(|x| x.id)
                    .take(limit)
                    .collect();
                for id in &old {
                    self.remove::<_, crate::domain::session::RefreshSession, _>(|s| &mut s.sessions, *id);
                }
                old.len()
            }
            Bookkeeping::LoginThrottles => {
                let old: Vec<_> = s
                    .throttles
                    .iter()
                    .filter(|(_, t)| t.updated_at < before)
                    .map(|(key, _)| key.clone())
                    .take(limit)
                    .collect();
                for key in &old {
                    self.remove::<_, crate::domain::login::Throttle, _>(|s| &mut s.throttles, key.clone());
                }
                old.len()
            }
        };
        Ok(pruned as u64)
    }
}

fn claimed(row: &OutboxRow) -> Claimed {
    Claimed {
        message: row.message.clone(),
        attempts: row.attempts,
    }
}
