//! Dead letters: messages no consumer will try again, kept for an admin.

use crate::domain::delivery::DeadLetter;
use crate::error::Result;
use crate::ids::MessageId;
use async_trait::async_trait;

/// The dead-letter table.
///
/// Contract (checked by `tts_core::testkit::store::dead_letters`):
/// - a dead letter is kept with every field as written until it is deleted;
/// - `insert_dead_letter` of an id that is already there changes nothing and returns false (a message
///   delivered twice by a broker may fail twice);
/// - `dead_letter` in a write unit locks the row until the unit ends, so two admins replaying one letter
///   replay it once;
/// - `delete_dead_letter` returns whether there was one.
#[async_trait]
pub trait DeadLetters: Send {
    /// Keeps a dead letter; false when one with its id exists.
    async fn insert_dead_letter(&mut self, letter: &DeadLetter) -> Result<bool>;
    /// One dead letter.
    async fn dead_letter(&mut self, id: MessageId) -> Result<Option<DeadLetter>>;
    /// Deletes a dead letter; false when there was none.
    async fn delete_dead_letter(&mut self, id: MessageId) -> Result<bool>;
}
