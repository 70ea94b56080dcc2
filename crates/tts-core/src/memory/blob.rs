//! An in-memory, content-addressed blob store.

use crate::error::Result;
use crate::ports::blob::sha256_hex;
use crate::ports::blob::{BlobRef, BlobStore, check_sha256};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Keeps blobs in a map keyed by SHA-256.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    blobs: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(&self, bytes: &[u8]) -> Result<BlobRef> {
        let sha256 = sha256_hex(bytes);
        let mut blobs = self.blobs.lock().unwrap_or_else(|p| p.into_inner());
        blobs.entry(sha256.clone()).or_insert_with(|| Arc::new(bytes.to_vec()));
        Ok(BlobRef {
            sha256,
            size: bytes.len() as u64,
        })
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        check_sha256(sha256)?;
        let blobs = self.blobs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(blobs.get(sha256).map(|b| b.as_ref().clone()))
    }

    async fn delete(&self, sha256: &str) -> Result<bool> {
        check_sha256(sha256)?;
        Ok(self
            .blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sha256)
            .is_some())
    }
}
