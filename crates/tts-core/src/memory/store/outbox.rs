//! [`Outbox`] in memory, with retention of every kind of bookkeeping.

use super::MemoryUnit;
use crate::domain::event::OutboxMessage;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::ports::store::{Bookkeeping, Outbox};
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
            self.set(|s| &mut s.outbox, seq, m);
        }
        Ok(())
    }

    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>> {
        Ok(self.s().outbox.values().take(limit).cloned().collect())
    }

    async fn mark_outbox_sent(&mut self, ids: &[MessageId]) -> Result<()> {
        for id in ids {
            if let Some(seq) = self.remove::<_, u64, _>(|s| &mut s.outbox_index, *id) {
                self.remove::<_, OutboxMessage, _>(|s| &mut s.outbox, seq);
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
