//! [`DeadLetters`] in memory.

use super::MemoryUnit;
use crate::domain::delivery::DeadLetter;
use crate::error::Result;
use crate::ids::MessageId;
use crate::ports::store::DeadLetters;
use async_trait::async_trait;

#[async_trait]
impl DeadLetters for MemoryUnit {
    async fn insert_dead_letter(&mut self, letter: &DeadLetter) -> Result<bool> {
        if self.s().dead_letters.contains_key(&letter.id) {
            return Ok(false);
        }
        self.set(|s| &mut s.dead_letters, letter.id, letter.clone());
        Ok(true)
    }

    async fn dead_letter(&mut self, id: MessageId) -> Result<Option<DeadLetter>> {
        Ok(self.s().dead_letters.get(&id).cloned())
    }

    async fn delete_dead_letter(&mut self, id: MessageId) -> Result<bool> {
        Ok(self.remove::<_, DeadLetter, _>(|s| &mut s.dead_letters, id).is_some())
    }
}
