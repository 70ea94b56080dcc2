//! Logging in and staying logged in: password checks with a throttle per account and client, login
//! sessions with rotating refresh tokens, logout. Tokens themselves are the shell's business (the
//! reference server mints JWTs); the engine keeps the sessions they belong to.

use super::Engine;
use super::command::Cmd;
use super::views::Session;
use crate::domain::login::ThrottleKey;
use crate::domain::session::{EndSessions, RefreshSession, RefreshVerdict, Rotation};
use crate::domain::user::{Actor, User};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::ports::Passwords;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The one message of every refused login: unknown e-mail, wrong password and inactive account look
/// alike.
const DENIED: &str = "invalid e-mail or password";

/// A login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The e-mail (case-insensitive).
    pub email: String,
    /// The password.
    pub password: String,
    /// Who is trying, as the shell identifies clients (the reference server: the client address, IPv6 by
    /// /64); failures are throttled per e-mail and client.
    pub client: String,
}

/// The session a successful login starts: ids chosen by the shell, which puts them in its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSession {
    /// The session id.
    pub id: SessionId,
    /// The first refresh token's id.
    pub refresh: TokenId,
    /// When the first refresh token expires.
    pub expires_at: DateTime<Utc>,
}

/// Stands in when no [`Passwords`] adapter was configured: every use fails with a clear error instead
/// of hashing weakly.
#[derive(Debug)]
pub(crate) struct NoPasswords;

#[async_trait]
impl Passwords for NoPasswords {
    async fn hash(&self, _password: &str) -> Result<String> {
        Err(no_passwords())
    }
    async fn verify(&self, _hash: Option<&str>, _password: &str) -> Result<bool> {
        Err(no_passwords())
    }
}

fn no_passwords() -> Error {
    Error::Backend {
        backend: "passwords",
        kind: ErrorKind::Internal,
        message: "no Passwords adapter is configured (EngineBuilder::passwords)".into(),
    }
}

impl Engine {
    /// Checks a login and, when it succeeds, starts `session` (if given) in the same unit. Inactive
    /// users are refused like wrong passwords. After [`crate::ThrottlePolicy::free_failures`] failures of
    /// one client on one e-mail, that client waits before its next try (`Error::Throttled`), doubling
    /// with each further failure; other clients are not affected, so nobody can lock an owner out.
    pub async fn login(&self, attempt: LoginAttempt, session: Option<NewSession>) -> Result<Session> {
        let key = ThrottleKey::new(&attempt.email, &attempt.client);
        let policy = self.config.login_throttle;
        let (throttle, credential) = {
            let (key, email) = (key.clone(), key.email.clone());
            self.read(Actor::system(), async move |cmd| {
                Ok((cmd.tx.throttle(&key).await?, cmd.tx.credential(&email).await?))
            })
            .await?
        };
        if let Some(retry_after_secs) = policy.wait(throttle.as_ref(), self.clock.now()) {
            return Err(Error::Throttled { retry_after_secs });
        }
        // The hash check is slow CPU work: done outside any unit.
        let hash = credential.as_ref().map(|c| c.hash.clone());
        let matched = self.passwords.verify(hash.as_deref(), &attempt.password).await?;
        self.write(Actor::system(), async move |cmd| {
            let throttle = cmd.tx.throttle(&key).await?;
            if let Some(retry_after_secs) = policy.wait(throttle.as_ref(), cmd.now) {
                return Ok(Err(Error::Throttled { retry_after_secs }));
            }
            let user = match (&credential, matched) {
                (Some(c), true) => cmd.tx.user(c.user).await?.filter(|u| u.is_active),
                _ => None,
            };
            // The password must still be the one just checked.
            let current = match &user {
                Some(u) => cmd.tx.credential_of(u.id).await?.map(|c| c.hash),
                None => None,
            };
            let Some(user) = user.filter(|_| current.is_some() && current == hash) else {
                let next = policy.after_failure(throttle.as_ref(), cmd.now);
                cmd.tx.set_throttle(&key, Some(&next)).await?;
                return Ok(Err(Error::Unauthorized(DENIED.into())));
            };
            if throttle.is_some() {
                cmd.tx.set_throttle(&key, None).await?;
            }
            if let Some(s) = session {
                cmd.tx
                    .start_session(&RefreshSession {
                        id: s.id,
                        user: user.id,
                        current: s.refresh,
                        expires_at: s.expires_at,
                        ended_at: None,
                    })
                    .await?;
            }
            let roles = cmd.tx.roles_of(user.id).await?;
            Ok(Ok(Session { user, roles }))
        })
        .await?
    }

    /// Trades a refresh token of session `id` for new tokens: with [`Rotation::Rotate`] the presented
    /// token is spent and `next` becomes current; presenting a spent token ends the session (somebody
    /// holds a copy). An ended or expired session, or an inactive user, is refused. Returns the user's
    /// current profile and roles, for the new tokens.
    pub async fn refresh(&self, id: SessionId, presented: TokenId, rotation: Rotation) -> Result<Session> {
        self.write(Actor::system(), async move |cmd| {
            let Some(mut session) = cmd.tx.session(id).await? else {
                return Ok(Err(Error::Unauthorized("unknown session".into())));
            };
            match session.judge(presented, rotation, cmd.now) {
                RefreshVerdict::Refuse(why) => return Ok(Err(Error::Unauthorized(why.into()))),
                RefreshVerdict::Reused => {
                    end(cmd, EndSessions::One(id)).await?;
                    return Ok(Err(Error::Unauthorized(
                        "refresh token reused; the session has ended".into(),
                    )));
                }
                RefreshVerdict::Accept => {}
            }
            let user = cmd.tx.user(session.user).await?;
            let Some(user) = user.filter(|u| u.is_active) else {
                end(
                    cmd,
                    EndSessions::OfUser {
                        user: session.user,
                        keep: None,
                    },
                )
                .await?;
                return Ok(Err(Error::Unauthorized("the account is inactive".into())));
            };
            if let Rotation::Rotate { next, expires_at } = rotation {
                session.current = next;
                session.expires_at = expires_at;
                cmd.tx.save_session(&session).await?;
            }
            let roles = cmd.tx.roles_of(user.id).await?;
            Ok(Ok(Session { user, roles }))
        })
        .await?
    }

    /// Ends the actor's session `id` (logout): its refresh token stops working, and so do its access
    /// tokens, from the next request on.
    pub async fn logout(&self, actor: Actor, id: SessionId) -> Result<()> {
        self.write(actor, async move |cmd| match cmd.tx.session(id).await? {
            Some(s) if s.user == actor.user => end(cmd, EndSessions::One(id)).await,
            _ => Err(Error::not_found("session", id)),
        })
        .await
    }

    /// A user's profile and active roles (to mint tokens or build an [`Actor`]).
    pub async fn session(&self, user: UserId) -> Result<Session> {
        self.read(Actor::system(), async move |cmd| {
            let u: User = cmd.tx.user(user).await?.ok_or_else(|| Error::not_found("user", user))?;
            let roles = cmd.tx.roles_of(user).await?;
            Ok(Session { user: u, roles })
        })
        .await
    }
}

/// Ends sessions in the caller's unit and tells the session gate after commit.
pub(crate) async fn end(cmd: &mut Cmd<'_>, which: EndSessions) -> Result<()> {
    let ended = cmd.tx.end_sessions(which, cmd.now).await?;
    cmd.ended_sessions(ended);
    Ok(())
}
