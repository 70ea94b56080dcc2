//! An in-memory identity for tests and examples.
//!
//! It keeps passwords in process memory only (never persisted) and compares them in constant time; the
//! persistent local identity (argon2id) lives in tts-adapters.

use crate::error::{Error, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::ports::identity::{Identity, RefreshSession};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Lockout policy: `max_failures` consecutive failures lock the account for `lockout`.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Failures before locking.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lockout: Duration,
}

impl Default for LockoutPolicy {
    /// The seed's policy: 10 failures lock for 15 minutes.
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 10,
            lockout: Duration::minutes(15),
        }
    }
}

#[derive(Debug)]
struct Account {
    user: UserId,
    password: Vec<u8>,
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
}

/// Credentials in a map, with lockout.
#[derive(Debug, Default)]
pub struct MemoryIdentity {
    policy: LockoutPolicy,
    accounts: Mutex<HashMap<String, Account>>,
    sessions: Mutex<HashMap<SessionId, Session>>,
}

#[derive(Debug)]
struct Session {
    session: RefreshSession,
    revoked: bool,
}

impl MemoryIdentity {
    /// An empty identity with the default lockout policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty identity with a custom lockout policy.
    pub fn with_policy(policy: LockoutPolicy) -> Self {
        MemoryIdentity {
            policy,
            accounts: Mutex::default(),
            sessions: Mutex::default(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

#[async_trait]
impl Identity for MemoryIdentity {
    async fn set_password(&self, user: UserId, email: &str, password: &str) -> Result<()> {
        if password.is_empty() {
            return Err(Error::invalid("password", "must not be empty"));
        }
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.insert(
            email.trim().to_lowercase(),
            Account {
                user,
                password: password.as_bytes().to_vec(),
                failures: 0,
                locked_until: None,
            },
        );
        Ok(())
    }

    async fn change_email(&self, user: UserId, new_email: &str) -> Result<()> {
        let new_email = new_email.trim().to_lowercase();
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if accounts.get(&new_email).is_some_and(|a| a.user != user) {
            return Err(Error::conflict("another user logs in with that e-mail"));
        }
        let Some(old) = accounts.iter().find(|(_, a)| a.user == user).map(|(e, _)| e.clone()) else {
            return Ok(());
        };
        if let Some(account) = accounts.remove(&old) {
            accounts.insert(new_email, account);
        }
        Ok(())
    }

    async fn verify(&self, email: &str, password: &str, now: DateTime<Utc>) -> Result<UserId> {
        let denied = || Error::Unauthorized("invalid e-mail or password".into());
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let account = accounts.get_mut(&email.trim().to_lowercase()).ok_or_else(denied)?;
        if let Some(until) = account.locked_until {
            if now < until {
                return Err(Error::Unauthorized(
                    "account locked after repeated failures; try again later".into(),
                ));
            }
            account.locked_until = None;
            account.failures = 0;
        }
        if constant_time_eq(&account.password, password.as_bytes()) {
            account.failures = 0;
            return Ok(account.user);
        }
        account.failures += 1;
        if account.failures >= self.policy.max_failures {
            account.locked_until = Some(now + self.policy.lockout);
        }
        Err(denied())
    }

    async fn start_session(&self, session: &RefreshSession) -> Result<()> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.contains_key(&session.id) {
            return Err(Error::conflict(format!("session {} exists", session.id)));
        }
        sessions.insert(
            session.id,
            Session {
                session: *session,
                revoked: false,
            },
        );
        Ok(())
    }

    async fn rotate_session(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        let denied = |why: &str| Error::Unauthorized(why.into());
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let s = sessions.get_mut(&id).ok_or_else(|| denied("unknown session"))?;
        if s.revoked {
            return Err(denied("session revoked"));
        }
        if s.session.expires_at <= now {
            return Err(denied("refresh token expired"));
        }
        if s.session.current != presented {
            s.revoked = true;
            return Err(denied("refresh token reused; the session is revoked"));
        }
        s.session.current = next;
        s.session.expires_at = expires_at;
        Ok(s.session.user)
    }

    async fn end_session(&self, id: SessionId) -> Result<()> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = sessions.get_mut(&id) {
            s.revoked = true;
        }
        Ok(())
    }

    async fn end_user_sessions(&self, user: UserId) -> Result<u64> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut ended = 0;
        for s in sessions.values_mut().filter(|s| s.session.user == user && !s.revoked) {
            s.revoked = true;
            ended += 1;
        }
        Ok(ended)
    }

    async fn prune_sessions(&self, expired_before: DateTime<Utc>, limit: usize) -> Result<u64> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let expired: Vec<SessionId> = sessions
            .iter()
            .filter(|(_, s)| s.session.expires_at < expired_before)
            .map(|(id, _)| *id)
            .take(limit)
            .collect();
        for id in &expired {
            sessions.remove(id);
        }
        Ok(expired.len() as u64)
    }
}
