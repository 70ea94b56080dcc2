//! Comments on tickets.

use crate::domain::comment::Comment;
use crate::error::Result;
use crate::ids::CommentId;
use async_trait::async_trait;

/// Comments (pages of a ticket's comments are [`super::Queries::list_comments`]).
///
/// Contract (checked by `tts_core::testkit::store::comments`): a comment reads back equal; a duplicate
/// id is a conflict; `update_comment` checks the version (see `Store`) and a missing comment is "not
/// found"; in a write unit, `comment` locks the row.
#[async_trait]
pub trait Comments: Send {
    /// Inserts a comment.
    async fn insert_comment(&mut self, comment: &Comment) -> Result<()>;
    /// Replaces a comment (version check).
    async fn update_comment(&mut self, comment: &Comment) -> Result<()>;
    /// A comment by id.
    async fn comment(&mut self, id: CommentId) -> Result<Option<Comment>>;
}
