//! Fast password hashing for tests and examples: salted SHA-256 (`sha2`), cheap on purpose so test
//! suites that log in thousands of times stay fast. Not for production: use a slow, memory-hard hash
//! (the reference server uses argon2id, `tts_adapters::identity::Argon2Passwords`).

use crate::error::{Error, Result};
use crate::ports::Passwords;
use async_trait::async_trait;
use sha2::{Digest, Sha256};

const SCHEME: &str = "$tts-test-sha256$";

/// Salted SHA-256 hashes in the form `$tts-test-sha256$<salt hex>$<digest hex>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryPasswords;

impl MemoryPasswords {
    /// The hasher.
    pub fn new() -> Self {
        MemoryPasswords
    }
}

fn digest(salt: &[u8], password: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait]
impl Passwords for MemoryPasswords {
    async fn hash(&self, password: &str) -> Result<String> {
        let salt = uuid::Uuid::new_v4();
        Ok(format!(
            "{SCHEME}{}${}",
            hex::encode(salt.as_bytes()),
            hex::encode(digest(salt.as_bytes(), password))
        ))
    }

    async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool> {
        let Some(hash) = hash else {
            // Same work as a real check.
            let _ = digest(&[0; 16], password);
            return Ok(false);
        };
        let malformed = || Error::invalid("password_hash", "not a hash of this adapter");
        let rest = hash.strip_prefix(SCHEME).ok_or_else(malformed)?;
        let (salt, expected) = rest.split_once('$').ok_or_else(malformed)?;
        let salt = hex::decode(salt).map_err(|_| malformed())?;
        let expected = hex::decode(expected).map_err(|_| malformed())?;
        Ok(constant_time_eq(&digest(&salt, password), &expected))
    }
}
