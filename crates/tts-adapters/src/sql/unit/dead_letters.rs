//! [`DeadLetters`] in SQL: the `dead_letters` table (the letter as a document beside its key columns).

use super::SqlUnit;
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::ports::DeadLetters;
use tts_core::{DeadLetter, MessageId, Result};

#[async_trait]
impl DeadLetters for SqlUnit {
    async fn insert_dead_letter(&mut self, letter: &DeadLetter) -> Result<bool> {
        let sql = "INSERT INTO dead_letters (id, queue, failed_at, data) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (id) DO NOTHING";
        let args = vec![
            Arg::Uuid(letter.id.0),
            Arg::Text(letter.queue.clone()),
            Arg::Time(letter.failed_at),
            self.json(letter)?,
        ];
        Ok(self.execute(sql, args).await? == 1)
    }

    async fn dead_letter(&mut self, id: MessageId) -> Result<Option<DeadLetter>> {
        let sql = format!("SELECT data FROM dead_letters WHERE id = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::Uuid(id.0)]).await
    }

    async fn delete_dead_letter(&mut self, id: MessageId) -> Result<bool> {
        let sql = "DELETE FROM dead_letters WHERE id = $1";
        Ok(self.execute(sql, vec![Arg::Uuid(id.0)]).await? == 1)
    }
}
