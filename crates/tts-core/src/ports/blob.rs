//! Attachment bytes, content-addressed by SHA-256, written and read as streams so that a large file is
//! never held in memory whole.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::fmt::Debug;

/// Largest chunk a [`BlobReader`] hands out.
pub const CHUNK: usize = 64 * 1024;

/// Where stored bytes can be found again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobRef {
    /// Lower-case hex SHA-256 of the content: the key.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Stores immutable blobs by their SHA-256.
///
/// Contract (checked by `tts_core::testkit::blob`):
/// - a [`BlobWriter`] takes the bytes in chunks and hashes them; nothing is readable until its
///   [`StagedBlob::keep`], and a writer or staged blob dropped before that leaves nothing behind;
/// - `keep` is atomic (a reader sees all bytes or none) and idempotent: keeping bytes that are stored
///   already replaces them with the same bytes and counts as writing them now (see `delete_stale`);
/// - `reader` of an unknown hash is `Ok(None)`; its chunks, in order, are the bytes;
/// - `delete` removes a blob (`Ok(false)` for an unknown hash); `delete_stale` removes it only if it
///   was last written before `written_before`, so a sweep never deletes bytes an upload has just kept;
/// - a malformed hash is a validation error, never a path outside the store.
#[async_trait]
pub trait BlobStore: Send + Sync + Debug + 'static {
    /// Starts a new blob.
    async fn writer(&self) -> Result<Box<dyn BlobWriter>>;
    /// Opens a stored blob for reading, or `None`.
    async fn reader(&self, sha256: &str) -> Result<Option<Box<dyn BlobReader>>>;
    /// Removes a blob; true if it existed.
    async fn delete(&self, sha256: &str) -> Result<bool>;
    /// Removes a blob only if it was last written before `written_before`; true if it was removed.
    async fn delete_stale(&self, sha256: &str, written_before: DateTime<Utc>) -> Result<bool>;

    /// Stores bytes held in memory and returns their ref (a writer, one chunk, kept).
    async fn put(&self, bytes: &[u8]) -> Result<BlobRef> {
        let mut writer = self.writer().await?;
        writer.write(bytes).await?;
        writer.finish().await?.keep().await
    }

    /// The whole of a stored blob in memory (for small blobs and tests; stream large ones).
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let Some(mut reader) = self.reader(sha256).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(reader.size()).unwrap_or(0));
        while let Some(chunk) = reader.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }
}

/// A blob being written.
#[async_trait]
pub trait BlobWriter: Send {
    /// Appends bytes.
    async fn write(&mut self, chunk: &[u8]) -> Result<()>;
    /// Ends the bytes: durable, hashed, not yet readable under the hash (see [`StagedBlob`]).
    async fn finish(self: Box<Self>) -> Result<Box<dyn StagedBlob>>;
}

/// A written blob waiting to be kept: the caller records it (an attachment row) first and keeps it
/// after, so a failed record leaves no blob; dropping it discards the bytes.
#[async_trait]
pub trait StagedBlob: Send {
    /// Its hash and size.
    fn blob(&self) -> &BlobRef;
    /// Makes it readable under its hash.
    async fn keep(self: Box<Self>) -> Result<BlobRef>;
}

/// A stored blob being read.
#[async_trait]
pub trait BlobReader: Send {
    /// Its size in bytes.
    fn size(&self) -> u64;
    /// The next chunk (at most [`CHUNK`] bytes), or `None` after the last.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>>;
}

/// Checks that a string is a lower-case hex SHA-256 (64 characters).
pub fn check_sha256(sha256: &str) -> Result<()> {
    if sha256.len() == 64 && sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(crate::error::Error::invalid(
            "sha256",
            "must be 64 lower-case hex characters",
        ))
    }
}

/// The lower-case hex SHA-256 of `bytes`: the key of a blob (the `sha2` and `hex` crates do the work).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A SHA-256 computed over bytes that arrive in chunks, with their count: what a [`BlobWriter`] keeps.
#[derive(Debug, Clone, Default)]
pub struct StreamHash {
    hasher: sha2::Sha256,
    size: u64,
}

impl StreamHash {
    /// Nothing hashed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes.
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
    }

    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The ref of everything added.
    pub fn finish(self) -> BlobRef {
        BlobRef {
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut stream = super::StreamHash::new();
        stream.update(b"a");
        stream.update(b"bc");
        assert_eq!(stream.finish().sha256, super::sha256_hex(b"abc"));
    }
}
