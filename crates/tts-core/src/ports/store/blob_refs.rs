//! Which attachments use which blob, and the blobs nothing uses any more (orphans), so that a blob is
//! deleted only when no attachment refers to it.

use crate::error::Result;
use crate::ids::AttachmentId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Blob references.
///
/// Contract (checked by `tts_core::testkit::store::blob_refs`):
/// - `add_blob_ref` records that an attachment uses a blob (a duplicate attachment id is a conflict) and
///   takes the blob off the orphan list;
/// - `remove_blob_ref` forgets an attachment's use (nothing for an unknown one); when no other attachment
///   uses the blob, it becomes an orphan since `at` (keeping an earlier time);
/// - `release_blob` makes a blob an orphan since `at` unless an attachment uses it (an upload whose record
///   failed);
/// - `take_orphan_blobs` returns, oldest first and at most `limit`, the orphans since before `before`
///   that nothing uses, and removes them from the list in this unit (the caller deletes the blobs after
///   commit, sparing any written since).
#[async_trait]
pub trait BlobRefs: Send {
    /// Records that `attachment` uses the blob `sha256`.
    async fn add_blob_ref(&mut self, attachment: AttachmentId, sha256: &str) -> Result<()>;
    /// Forgets `attachment`'s use of its blob.
    async fn remove_blob_ref(&mut self, attachment: AttachmentId, at: DateTime<Utc>) -> Result<()>;
    /// Makes `sha256` an orphan unless something uses it.
    async fn release_blob(&mut self, sha256: &str, at: DateTime<Utc>) -> Result<()>;
    /// Takes the unused orphans older than `before` off the list.
    async fn take_orphan_blobs(&mut self, before: DateTime<Utc>, limit: usize) -> Result<Vec<String>>;
}
