//! Attachment bytes, content-addressed by SHA-256.

use crate::error::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

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
/// Contract: `put` is idempotent (same bytes, same ref, stored once) and atomic (a reader sees all bytes or
/// none); `get` of an unknown hash is `Ok(None)`; `delete` of an unknown hash is `Ok(false)`; a malformed
/// hash is a validation error, never a path outside the store.
#[async_trait]
pub trait BlobStore: Send + Sync + Debug + 'static {
    /// Stores bytes and returns their ref.
    async fn put(&self, bytes: &[u8]) -> Result<BlobRef>;
    /// The bytes stored under a hash.
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Removes a blob; true if it existed.
    async fn delete(&self, sha256: &str) -> Result<bool>;
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
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
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
    }
}
