//! [`Comments`] in SQL: the `comments` table.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::ports::Comments;
use tts_core::{Comment, CommentId, Result};

#[async_trait]
impl Comments for SqlUnit {
    async fn insert_comment(&mut self, c: &Comment) -> Result<()> {
        let data = self.json(c)?;
        self.defer(Deferred::any(
            "INSERT INTO comments (id, ticket_id, is_internal, created_at, version, data) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Arg::Uuid(c.id.0),
                Arg::I64(c.ticket.0),
                Arg::Bool(c.is_internal),
                Arg::Time(c.created_at),
                Arg::I64(i64::from(c.version)),
                data,
            ],
            Some(format!("comments:{}", c.id.0)),
        ))
        .await
    }

    async fn update_comment(&mut self, c: &Comment) -> Result<()> {
        let data = self.json(c)?;
        self.defer(Deferred {
            sql: "UPDATE comments SET version = $2, data = $3 WHERE id = $1 AND version = $4".into(),
            args: vec![
                Arg::Uuid(c.id.0),
                Arg::I64(i64::from(c.version)),
                data,
                Arg::I64(i64::from(c.version) - 1),
            ],
            expect: Expect::Versioned {
                entity: "comment",
                exists: "SELECT 1 FROM comments WHERE id = $1",
                id: Arg::Uuid(c.id.0),
                shown: c.id.to_string(),
            },
            row: Some(format!("comments:{}", c.id.0)),
        })
        .await
    }

    async fn comment(&mut self, id: CommentId) -> Result<Option<Comment>> {
        let sql = format!("SELECT data FROM comments WHERE id = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::Uuid(id.0)]).await
    }
}
