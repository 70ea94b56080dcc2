//! [`Comments`] in memory.

use super::MemoryUnit;
use crate::domain::comment::Comment;
use crate::error::{Error, Result};
use crate::ids::CommentId;
use crate::ports::store::Comments;
use async_trait::async_trait;

#[async_trait]
impl Comments for MemoryUnit {
    async fn insert_comment(&mut self, c: &Comment) -> Result<()> {
        if self.s().comments.contains_key(&c.id) {
            return Err(Error::conflict(format!("comment {} exists", c.id)));
        }
        self.set(|s| &mut s.comments, c.id, Box::new(c.clone()));
        self.push_index(|s| &mut s.ticket_comments, c.ticket, c.id);
        Ok(())
    }

    async fn update_comment(&mut self, c: &Comment) -> Result<()> {
        let Some(stored) = self.s().comments.get(&c.id) else {
            return Err(Error::not_found("comment", c.id));
        };
        if stored.version + 1 != c.version {
            return Err(Error::conflict(format!("comment {} was changed meanwhile", c.id)));
        }
        self.set(|s| &mut s.comments, c.id, Box::new(c.clone()));
        Ok(())
    }

    async fn comment(&mut self, id: CommentId) -> Result<Option<Comment>> {
        Ok(self.s().comments.get(&id).map(|c| (**c).clone()))
    }
}
