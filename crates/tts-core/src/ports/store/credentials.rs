//! Logins: password hashes by e-mail, and the counters that throttle password guessing.

use crate::domain::login::{Credential, Throttle, ThrottleKey};
use crate::error::Result;
use crate::ids::UserId;
use async_trait::async_trait;

/// Credentials and login throttles. They live in the store so that a user and their password, or an
/// e-mail change and the login it moves, commit together.
///
/// Contract (checked by `tts_core::testkit::store::credentials`):
/// - a user has at most one credential; `set_credential` replaces the user's previous one (also under
///   another e-mail, which stops working); an e-mail that another user logs in with is a conflict;
/// - `credential` finds a credential by e-mail, trimmed and case-insensitive;
/// - `set_throttle(key, None)` deletes the counter; counters are independent per key (e-mail and
///   client); `throttle` locks an existing counter in a write unit (two first failures racing may count
///   once: a guesser gains one free try at most).
#[async_trait]
pub trait Credentials: Send {
    /// The credential an e-mail logs in with.
    async fn credential(&mut self, email: &str) -> Result<Option<Credential>>;
    /// A user's credential.
    async fn credential_of(&mut self, user: UserId) -> Result<Option<Credential>>;
    /// Sets a user's credential.
    async fn set_credential(&mut self, credential: &Credential) -> Result<()>;
    /// The throttle counter of an e-mail tried from a client.
    async fn throttle(&mut self, key: &ThrottleKey) -> Result<Option<Throttle>>;
    /// Writes (or with `None` deletes) a throttle counter.
    async fn set_throttle(&mut self, key: &ThrottleKey, throttle: Option<&Throttle>) -> Result<()>;
}
