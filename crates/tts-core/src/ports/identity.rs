//! Credentials: who a login belongs to. Profiles and roles live in the [`super::Store`].

use crate::error::Result;
use crate::ids::{SessionId, TokenId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt::Debug;

/// A login session: a family of refresh tokens of which only the newest (`current`) may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSession {
    /// The family.
    pub id: SessionId,
    /// Whose session it is.
    pub user: UserId,
    /// The one refresh token of the family that may be presented next.
    pub current: TokenId,
    /// When the current refresh token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Verifies passwords and keeps them.
///
/// Contract:
/// - `verify` returns the user id for a matching e-mail (case-insensitive) and password, else
///   `Error::Unauthorized` with the same message whether the e-mail is unknown or the password wrong;
/// - after `max_failures` consecutive failures the account is locked for the lockout period: `verify`
///   then fails even with the right password until the period has passed; a success resets the count;
/// - passwords are never stored or logged in clear by persistent adapters;
/// - sessions rotate: `rotate_session` accepts only the family's current token, once; presenting any other
///   token of the family (a stolen, already-used one) revokes the whole family, so both the thief and the
///   owner must log in again. Revoked and expired sessions never come back.
#[async_trait]
pub trait Identity: Send + Sync + Debug + 'static {
    /// Sets (or replaces) the password of a user, keyed by e-mail.
    async fn set_password(&self, user: UserId, email: &str, password: &str) -> Result<()>;
    /// Checks a login at time `now`.
    async fn verify(&self, email: &str, password: &str, now: DateTime<Utc>) -> Result<UserId>;
    /// Moves a user's credentials to a new login e-mail (the old one stops working); a no-op for a
    /// user without credentials; a conflict if another user already logs in with that e-mail.
    async fn change_email(&self, user: UserId, new_email: &str) -> Result<()>;

    /// Starts a session (at login) whose current refresh token is `session.current`.
    async fn start_session(&self, session: &RefreshSession) -> Result<()>;
    /// Replaces the family's current token `presented` by `next`, valid until `expires_at`, and returns
    /// the session's user. Unknown, revoked or expired sessions give `Error::Unauthorized`; a `presented`
    /// token that is not the current one revokes the family and gives `Error::Unauthorized`.
    async fn rotate_session(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId>;
    /// Revokes one session (logout); unknown sessions are ignored.
    async fn end_session(&self, id: SessionId) -> Result<()>;
    /// Revokes every session of a user (deactivation, password change); returns how many were live.
    async fn end_user_sessions(&self, user: UserId) -> Result<u64>;
    /// Deletes up to `limit` sessions that expired before `expired_before` (revoked or not: an expired
    /// session is refused either way, so its row is no longer needed); returns how many went.
    async fn prune_sessions(&self, expired_before: DateTime<Utc>, limit: usize) -> Result<u64>;
}
