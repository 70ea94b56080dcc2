//! Password hashing: the one part of logging in that is CPU, not data. Credentials themselves live in
//! the store ([`super::store::Credentials`]), so that a user and their password commit together.

use crate::error::Result;
use async_trait::async_trait;
use std::fmt::Debug;

/// Hashes and checks passwords.
///
/// Contract (checked by `tts_core::testkit::passwords`):
/// - `hash` returns a self-describing string (PHC format in the reference adapters) that contains
///   neither the password nor anything it can be recovered from cheaply; two hashes of one password
///   differ (random salt);
/// - `verify(Some(hash), p)` is true exactly when `hash` was made from `p`; a malformed hash is an error,
///   never a match;
/// - `verify(None, p)` is false and costs about as much as a real check, so a login with an unknown
///   e-mail takes as long as one with a wrong password.
#[async_trait]
pub trait Passwords: Send + Sync + Debug + 'static {
    /// Hashes a password with a fresh salt.
    async fn hash(&self, password: &str) -> Result<String>;
    /// Checks a password against a stored hash (or against nothing, in constant cost).
    async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool>;
}
