//! Credentials: who a login belongs to. Profiles and roles live in the [`super::Store`].

use crate::error::Result;
use crate::ids::UserId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt::Debug;

/// Verifies passwords and keeps them.
///
/// Contract:
/// - `verify` returns the user id for a matching e-mail (case-insensitive) and password, else
///   `Error::Unauthorized` with the same message whether the e-mail is unknown or the password wrong;
/// - after `max_failures` consecutive failures the account is locked for the lockout period: `verify`
///   then fails even with the right password until the period has passed; a success resets the count;
/// - passwords are never stored or logged in clear by persistent adapters.
#[async_trait]
pub trait Identity: Send + Sync + Debug + 'static {
    /// Sets (or replaces) the password of a user, keyed by e-mail.
    async fn set_password(&self, user: UserId, email: &str, password: &str) -> Result<()>;
    /// Checks a login at time `now`.
    async fn verify(&self, email: &str, password: &str, now: DateTime<Utc>) -> Result<UserId>;
    /// Moves a user's credentials to a new login e-mail (the old one stops working); a no-op for a
    /// user without credentials; a conflict if another user already logs in with that e-mail.
    async fn change_email(&self, user: UserId, new_email: &str) -> Result<()>;
}
