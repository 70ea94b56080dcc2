//! Login sessions: a family of rotating refresh tokens, and the rule that decides a refresh.
//!
//! A session starts at login and ends at logout, at a password change (the user's other sessions), at
//! deactivation and at a role change (every session of the user, so that tokens carrying the old roles
//! stop working). An ended session never comes back; its access tokens are refused from the next
//! request on (see `Engine::session_ended`).

use crate::ids::{SessionId, TokenId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A login session: the family of refresh tokens of one login, of which only `current` may be
/// presented next (when rotation is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshSession {
    /// The family.
    pub id: SessionId,
    /// Whose session it is.
    pub user: UserId,
    /// The refresh token that may be presented next.
    pub current: TokenId,
    /// When the current refresh token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When the session ended (logout, revocation), if it did.
    pub ended_at: Option<DateTime<Utc>>,
}

/// What a refresh does with the session's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// Replace the presented refresh token by `next`, valid until `expires_at`; presenting a spent one
    /// later ends the session (reuse detection). The default.
    Rotate {
        /// The new refresh token.
        next: TokenId,
        /// Its expiry.
        expires_at: DateTime<Utc>,
    },
    /// Keep the presented refresh token: it works until it expires (the seed system's behaviour).
    Keep,
}

/// The decision on a refresh request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// Accepted: issue tokens (and rotate, when asked).
    Accept,
    /// A refresh token of the family that is no longer current was presented: somebody holds a copy.
    /// The session ends for everybody.
    Reused,
    /// Refused without consequences, for the reason given.
    Refuse(&'static str),
}

impl RefreshSession {
    /// Judges a refresh presenting `presented` at `now`. With [`Rotation::Keep`] the session's token is
    /// never replaced, so presenting another one is refused without ending the session.
    pub fn judge(&self, presented: TokenId, rotation: Rotation, now: DateTime<Utc>) -> RefreshVerdict {
        if self.ended_at.is_some() {
            return RefreshVerdict::Refuse("the session has ended");
        }
        if self.expires_at <= now {
            return RefreshVerdict::Refuse("the refresh token has expired");
        }
        match rotation {
            _ if presented == self.current => RefreshVerdict::Accept,
            Rotation::Rotate { .. } => RefreshVerdict::Reused,
            Rotation::Keep => RefreshVerdict::Refuse("not the session's refresh token"),
        }
    }
}

/// Which sessions a command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSessions {
    /// One session (logout, reuse detected).
    One(SessionId),
    /// Every live session of a user, except `keep` (the caller's own at a password change).
    OfUser {
        /// The user.
        user: UserId,
        /// A session to leave alone.
        keep: Option<SessionId>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn session() -> RefreshSession {
        RefreshSession {
            id: SessionId(Uuid::now_v7()),
            user: UserId(Uuid::now_v7()),
            current: TokenId(Uuid::now_v7()),
            expires_at: DateTime::from_timestamp(2_000, 0).expect("time"),
            ended_at: None,
        }
    }

    #[test]
    fn only_the_current_token_rotates_and_a_spent_one_ends_the_family() {
        let s = session();
        let now = DateTime::from_timestamp(1_000, 0).expect("time");
        let rotate = Rotation::Rotate {
            next: TokenId(Uuid::now_v7()),
            expires_at: now,
        };
        assert_eq!(s.judge(s.current, rotate, now), RefreshVerdict::Accept);
        assert_eq!(s.judge(TokenId(Uuid::now_v7()), rotate, now), RefreshVerdict::Reused);
        assert_eq!(s.judge(s.current, Rotation::Keep, now), RefreshVerdict::Accept);
        assert!(matches!(
            s.judge(TokenId(Uuid::now_v7()), Rotation::Keep, now),
            RefreshVerdict::Refuse(_)
        ));
        let late = DateTime::from_timestamp(2_000, 0).expect("time");
        assert!(matches!(s.judge(s.current, rotate, late), RefreshVerdict::Refuse(_)));
        let ended = RefreshSession {
            ended_at: Some(now),
            ..s
        };
        assert!(matches!(
            ended.judge(s.current, Rotation::Keep, now),
            RefreshVerdict::Refuse(_)
        ));
    }
}
