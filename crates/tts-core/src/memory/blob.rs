//! An in-memory, content-addressed blob store.

use crate::error::Result;
use crate::ports::blob::{BlobReader, BlobRef, BlobStore, BlobWriter, CHUNK, StagedBlob, StreamHash, check_sha256};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Blobs by hash, with when each was last written.
type BlobMap = HashMap<String, (Arc<Vec<u8>>, DateTime<Utc>)>;
type Blobs = Arc<Mutex<BlobMap>>;

/// Keeps blobs in a map keyed by SHA-256, with when each was last written.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    blobs: Blobs,
}

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn blobs(&self) -> std::sync::MutexGuard<'_, BlobMap> {
        self.blobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Writer {
    blobs: Blobs,
    bytes: Vec<u8>,
    hash: StreamHash,
}

struct Staged {
    blobs: Blobs,
    bytes: Vec<u8>,
    blob: BlobRef,
}

struct Reader {
    bytes: Arc<Vec<u8>>,
    at: usize,
}

#[async_trait]
impl BlobWriter for Writer {
    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.hash.update(chunk);
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<Box<dyn StagedBlob>> {
        let w = *self;
        Ok(Box::new(Staged {
            blobs: w.blobs,
            bytes: w.bytes,
            blob: w.hash.finish(),
        }))
    }
}

#[async_trait]
impl StagedBlob for Staged {
    fn blob(&self) -> &BlobRef {
        &self.blob
    }

    async fn keep(self: Box<Self>) -> Result<BlobRef> {
        let s = *self;
        let mut blobs = s.blobs.lock().unwrap_or_else(|p| p.into_inner());
        blobs.insert(s.blob.sha256.clone(), (Arc::new(s.bytes), Utc::now()));
        Ok(s.blob)
    }
}

#[async_trait]
impl BlobReader for Reader {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let end = (self.at + CHUNK).min(self.bytes.len());
        let chunk = self.bytes[self.at..end].to_vec();
        self.at = end;
        Ok(Some(chunk))
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn writer(&self) -> Result<Box<dyn BlobWriter>> {
        Ok(Box::new(Writer {
            blobs: Arc::clone(&self.blobs),
            bytes: Vec::new(),
            hash: StreamHash::new(),
        }))
    }

    async fn reader(&self, sha256: &str) -> Result<Option<Box<dyn BlobReader>>> {
        check_sha256(sha256)?;
        Ok(self.blobs().get(sha256).map(|(bytes, _)| {
            Box::new(Reader {
                bytes: Arc::clone(bytes),
                at: 0,
            }) as Box<dyn BlobReader>
        }))
    }

    async fn delete(&self, sha256: &str) -> Result<bool> {
        check_sha256(sha256)?;
        Ok(self.blobs().remove(sha256).is_some())
    }

    async fn delete_stale(&self, sha256: &str, written_before: DateTime<Utc>) -> Result<bool> {
        check_sha256(sha256)?;
        let mut blobs = self.blobs();
        match blobs.get(sha256) {
            Some((_, written)) if *written < written_before => Ok(blobs.remove(sha256).is_some()),
            Some(_) | None => Ok(false),
        }
    }
}
