//! [`Idempotency`] in memory.

use super::MemoryUnit;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::ports::store::{Idempotency, IdempotencyRecord};
use async_trait::async_trait;

#[async_trait]
impl Idempotency for MemoryUnit {
    async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
        Ok(self.s().idempotency.get(&(user, key.to_string())).cloned())
    }

    async fn insert_idempotency_record(&mut self, record: &IdempotencyRecord) -> Result<()> {
        let key = (record.user, record.key.clone());
        if self.s().idempotency.contains_key(&key) {
            return Err(Error::conflict(format!(
                "idempotency key {:?} already used",
                record.key
            )));
        }
        self.set(|s| &mut s.idempotency, key, record.clone());
        Ok(())
    }
}
