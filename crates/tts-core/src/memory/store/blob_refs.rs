//! [`BlobRefs`] in memory.

use super::MemoryUnit;
use crate::error::{Error, Result};
use crate::ids::AttachmentId;
use crate::ports::store::BlobRefs;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

impl MemoryUnit {
    fn blob_used(&mut self, sha256: &str) -> bool {
        self.s().blob_refs.values().any(|s| s == sha256)
    }

    fn orphan(&mut self, sha256: &str, at: DateTime<Utc>) {
        if !self.blob_used(sha256) && !self.s().blob_orphans.contains_key(sha256) {
            self.set(|s| &mut s.blob_orphans, sha256.to_string(), at);
        }
    }
}

#[async_trait]
impl BlobRefs for MemoryUnit {
    async fn add_blob_ref(&mut self, attachment: AttachmentId, sha256: &str) -> Result<()> {
        if self.s().blob_refs.contains_key(&attachment) {
            return Err(Error::conflict(format!("attachment {attachment} has a blob already")));
        }
        self.set(|s| &mut s.blob_refs, attachment, sha256.to_string());
        self.remove(|s| &mut s.blob_orphans, sha256.to_string());
        Ok(())
    }

    async fn remove_blob_ref(&mut self, attachment: AttachmentId, at: DateTime<Utc>) -> Result<()> {
        let removed: Option<String> = self.remove(|s| &mut s.blob_refs, attachment);
        if let Some(sha256) = removed {
            self.orphan(&sha256, at);
        }
        Ok(())
    }

    async fn release_blob(&mut self, sha256: &str, at: DateTime<Utc>) -> Result<()> {
        self.orphan(sha256, at);
        Ok(())
    }

    async fn take_orphan_blobs(&mut self, before: DateTime<Utc>, limit: usize) -> Result<Vec<String>> {
        let mut due: Vec<(DateTime<Utc>, String)> = self
            .s()
            .blob_orphans
            .iter()
            .filter(|(_, since)| **since < before)
            .map(|(sha, since)| (*since, sha.clone()))
            .collect();
        due.sort();
        let mut taken = Vec::new();
        for (_, sha256) in due {
            if taken.len() == limit {
                break;
            }
            self.remove(|s| &mut s.blob_orphans, sha256.clone());
            if !self.blob_used(&sha256) {
                taken.push(sha256);
            }
        }
        Ok(taken)
    }
}
