//! Local identity: argon2id password hashes and lockout counters in the `credentials` table.
//!
//! Table (see the migrations): `credentials(email TEXT PRIMARY KEY, user_id, password_hash TEXT, failures
//! INTEGER, locked_until)`, keyed by the trimmed, lower-case e-mail.
//!
//! - Hashes are argon2id v19 with the OWASP parameters (m = 19456 KiB, t = 2, p = 1) in PHC string format,
//!   with a random 16-byte salt. Verification uses the parameters stored in each hash, so hashes made with
//!   other parameters keep working.
//! - Hashing runs on tokio's blocking pool, at most one hash per CPU at a time (each takes ~19 MiB), so
//!   logins never stall the async runtime and a login flood cannot exhaust memory.
//! - Lockout counters change in single `UPDATE ... RETURNING` statements, so concurrent failures are
//!   never lost, and a success only counts if the account is not locked and the password hash is still
//!   the one that was verified at that moment.
//! - Refresh sessions live in `refresh_sessions(id, user_id, current_token, expires_at, revoked,
//!   created_at)`. A rotation is one conditional `UPDATE` (id, current token, not revoked, not expired), so
//!   of two processes presenting the same token exactly one wins; the loser sees a token that is no longer
//!   current and revokes the family.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::fmt;
use std::num::NonZero;
use std::sync::{LazyLock, OnceLock};
use tokio::sync::Semaphore;
use tts_core::error::{Error, ErrorKind, Result};
use tts_core::ids::{SessionId, TokenId, UserId};
use tts_core::ports::identity::{Identity, RefreshSession};
use uuid::Uuid;

#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;

/// argon2id parameters recommended by OWASP: 19 MiB of memory, 2 passes, 1 lane.
const ARGON2_PARAMS: Params = match Params::new(19_456, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

/// The one message of every refused login: unknown e-mail, wrong password and locked account look alike.
const DENIED: &str = "invalid e-mail or password";

/// Hashes running at once, process-wide: one per CPU.
static HASH_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, NonZero::get)));

/// A hash with the same cost as real ones, verified when the e-mail is unknown so the timing matches.
static DUMMY_HASH: OnceLock<Option<String>> = OnceLock::new();

const SELECT_CREDENTIALS: &str = "SELECT user_id, password_hash FROM credentials WHERE email = $1";

/// Resets the counters, unless the account is locked at `$3` or the hash changed since it was verified.
const RECORD_SUCCESS: &str = "UPDATE credentials SET failures = 0, locked_until = NULL \
     WHERE email = $1 AND password_hash = $2 AND (locked_until IS NULL OR locked_until <= $3) \
     RETURNING user_id";

/// Counts a failure at `$2` with the limit `$3`, locking until `$4` when the limit is reached.
///
/// An expired lock starts a new count; failures while locked are counted but do not extend the lock. The
/// count saturates at `i32::MAX`. (Every expression sees the row as it was before the update.)
const RECORD_FAILURE: &str = "UPDATE credentials SET \
     failures = CASE WHEN locked_until <= $2 THEN 1 WHEN failures >= 2147483647 THEN failures \
         ELSE failures + 1 END, \
     locked_until = CASE \
         WHEN locked_until > $2 THEN locked_until \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 WHEN failures >= 2147483647 THEN failures \
             ELSE failures + 1 END) >= $3 THEN $4 \
         ELSE NULL END \
     WHERE email = $1 \
     RETURNING failures, locked_until";

/// A user has one login: credentials under the user's former e-mail addresses are removed.
const EMAIL_OWNER: &str = "SELECT user_id FROM credentials WHERE email = $1";

const MOVE_EMAIL: &str = "UPDATE credentials SET email = $1 WHERE user_id = $2";

const DELETE_OTHER_EMAILS: &str = "DELETE FROM credentials WHERE user_id = $2 AND email <> $1";

const UPSERT_CREDENTIALS: &str = "INSERT INTO credentials (email, user_id, password_hash, failures, locked_until) \
     VALUES ($1, $2, $3, 0, NULL) \
     ON CONFLICT (email) DO UPDATE SET user_id = excluded.user_id, \
         password_hash = excluded.password_hash, failures = 0, locked_until = NULL";

const INSERT_SESSION: &str = "INSERT INTO refresh_sessions \
     (id, user_id, current_token, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Replaces the current token `$4` by `$2` (valid until `$3`) if the session is live at `$5`.
const ROTATE_SESSION: &str = "UPDATE refresh_sessions SET current_token = $2, expires_at = $3 \
     WHERE id = $1 AND current_token = $4 AND NOT revoked AND expires_at > $5 \
     RETURNING user_id";

const SELECT_SESSION: &str = "SELECT current_token, revoked, expires_at FROM refresh_sessions WHERE id = $1";

const REVOKE_SESSION: &str = "UPDATE refresh_sessions SET revoked = $2 WHERE id = $1";

const REVOKE_USER_SESSIONS: &str = "UPDATE refresh_sessions SET revoked = $2 WHERE user_id = $1 AND NOT revoked";
/// Deletes a batch of expired sessions (the batch chosen by primary key, the same on both dialects).
const PRUNE_SESSIONS: &str = "DELETE FROM refresh_sessions WHERE id IN \
     (SELECT id FROM refresh_sessions WHERE expires_at < $1 LIMIT $2)";

/// Lockout policy of a [`LocalIdentity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityConfig {
    /// Consecutive failures that lock an account (values below 1 act as 1).
    pub max_failures: u32,
    /// How long a lock lasts, counted from the failure that set it.
    pub lockout: Duration,
}

impl Default for IdentityConfig {
    /// 10 failures lock the account for 15 minutes.
    fn default() -> Self {
        IdentityConfig {
            max_failures: 10,
            lockout: Duration::minutes(15),
        }
    }
}

/// The database holding the `credentials` table.
#[derive(Clone)]
enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool and `$backend` to the backend's name.
macro_rules! with_pool {
    ($db:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => {
                let $backend: &'static str = "sqlite";
                $body
            }
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => {
                let $backend: &'static str = "postgres";
                $body
            }
        }
    };
}

/// An [`Identity`] over the `credentials` table of the application's SQL database.
///
/// - `set_password` stores an argon2id hash (never the password) under the trimmed, lower-case e-mail,
///   replacing any previous one, resetting the lockout counters and removing the user's credentials under
///   other e-mail addresses; an empty password or e-mail is a validation error;
/// - `verify` accepts the e-mail in any case; an unknown e-mail, a wrong password and a locked account all
///   give the same [`Error::Unauthorized`], and an unknown e-mail still costs one hash verification;
/// - after [`IdentityConfig::max_failures`] consecutive failures the account is locked for
///   [`IdentityConfig::lockout`]; a success resets the count;
/// - database errors are [`Error::Backend`] (`sqlite` or `postgres`; pool timeout, I/O, busy database or
///   server shutdown are `Unavailable`, anything else `Internal`) without SQL text, e-mails or passwords.
///
/// The schema comes from the migrations; this type does not create tables.
#[derive(Clone)]
pub struct LocalIdentity {
    db: Db,
    config: IdentityConfig,
}

impl LocalIdentity {
    /// An identity on a SQLite database (migrated, with the `credentials` table).
    #[cfg(feature = "sqlite")]
    pub fn sqlite(pool: SqlitePool, config: IdentityConfig) -> Self {
        LocalIdentity {
            db: Db::Sqlite(pool),
            config,
        }
    }

    /// An identity on a PostgreSQL database (migrated, with the `credentials` table).
    #[cfg(feature = "postgres")]
    pub fn postgres(pool: PgPool, config: IdentityConfig) -> Self {
        LocalIdentity {
            db: Db::Postgres(pool),
            config,
        }
    }

    /// The lockout policy.
    pub fn config(&self) -> IdentityConfig {
        self.config
    }

    /// The backend's name: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        with_pool!(&self.db, |_pool, backend| backend)
    }

    async fn load(&self, email: &str) -> Result<Option<(Uuid, String)>> {
        with_pool!(&self.db, |pool, backend| {
            sqlx::query_as::<_, (Uuid, String)>(SELECT_CREDENTIALS)
                .bind(email)
                .fetch_optional(pool)
                .await
                .map_err(|e| db_error(backend, "read credentials", &e))
        })
    }

    /// Resets the counters after a verified password; `None` if the account is locked (or the hash changed).
    async fn record_success(&self, email: &str, hash: &str, now: DateTime<Utc>) -> Result<Option<Uuid>> {
        with_pool!(&self.db, |pool, backend| {
            sqlx::query_scalar::<_, Uuid>(RECORD_SUCCESS)
                .bind(email)
                .bind(hash)
                .bind(now)
                .fetch_optional(pool)
                .await
                .map_err(|e| db_error(backend, "record a login", &e))
        })
    }

    /// Counts a failure; the new count and lock, or `None` if the credentials vanished meanwhile.
    async fn record_failure(&self, email: &str, now: DateTime<Utc>) -> Result<Option<(i32, Option<DateTime<Utc>>)>> {
        let max = i32::try_from(self.config.max_failures.max(1)).unwrap_or(i32::MAX);
        let until = lock_end(now, self.config.lockout);
        with_pool!(&self.db, |pool, backend| {
            sqlx::query_as::<_, (i32, Option<DateTime<Utc>>)>(RECORD_FAILURE)
                .bind(email)
                .bind(now)
                .bind(max)
                .bind(until)
                .fetch_optional(pool)
                .await
                .map_err(|e| db_error(backend, "record a login failure", &e))
        })
    }
}

impl LocalIdentity {
    /// Revokes one session; returns whether a row exists.
    async fn revoke(&self, id: SessionId) -> Result<bool> {
        with_pool!(&self.db, |pool, backend| {
            sqlx::query(REVOKE_SESSION)
                .bind(id.0)
                .bind(true)
                .execute(pool)
                .await
                .map(|done| done.rows_affected() > 0)
                .map_err(|e| db_error(backend, "end a session", &e))
        })
    }
}

impl fmt::Debug for LocalIdentity {
    /// Shows the backend and policy; never the pool (its options may hold a database password) or hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("backend", &self.backend())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Identity for LocalIdentity {
    async fn set_password(&self, user: UserId, email: &str, password: &str) -> Result<()> {
        if password.is_empty() {
            return Err(Error::invalid("password", "must not be empty"));
        }
        let email = normalize(email);
        if email.is_empty() {
            return Err(Error::invalid("email", "must not be empty"));
        }
        let hash = hash_password(password.to_owned()).await?;
        with_pool!(&self.db, |pool, backend| {
            let map = |e: sqlx::Error| db_error(backend, "store credentials", &e);
            let mut tx = pool.begin().await.map_err(map)?;
            sqlx::query(DELETE_OTHER_EMAILS)
                .bind(&email)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            sqlx::query(UPSERT_CREDENTIALS)
                .bind(&email)
                .bind(user.0)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            tx.commit().await.map_err(map)
        })
    }

    async fn change_email(&self, user: UserId, new_email: &str) -> Result<()> {
        let email = normalize(new_email);
        if email.is_empty() {
            return Err(Error::invalid("email", "must not be empty"));
        }
        with_pool!(&self.db, |pool, backend| {
            let map = |e: sqlx::Error| db_error(backend, "change the login e-mail", &e);
            let mut tx = pool.begin().await.map_err(map)?;
            let owner: Option<Uuid> = sqlx::query_scalar(EMAIL_OWNER)
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
            if owner.is_some_and(|o| o != user.0) {
                return Err(Error::conflict("another user logs in with that e-mail"));
            }
            sqlx::query(MOVE_EMAIL)
                .bind(&email)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            tx.commit().await.map_err(map)
        })
    }

    async fn verify(&self, email: &str, password: &str, now: DateTime<Utc>) -> Result<UserId> {
        let email = normalize(email);
        let Some((user, stored)) = self.load(&email).await? else {
            verify_password(password.to_owned(), None).await?;
            return Err(denied());
        };
        if verify_password(password.to_owned(), Some(stored.clone())).await? {
            return match self.record_success(&email, &stored, now).await? {
                Some(id) => Ok(UserId(id)),
                None => {
                    tracing::info!(user = %user, "login refused: account locked");
                    Err(denied())
                }
            };
        }
        if let Some((failures, Some(until))) = self.record_failure(&email, now).await?
            && i64::from(failures) == i64::from(self.config.max_failures.max(1))
        {
            tracing::warn!(user = %user, %until, "account locked after repeated login failures");
        }
        Err(denied())
    }

    async fn start_session(&self, session: &RefreshSession) -> Result<()> {
        let expires_at = clamp_time(session.expires_at);
        let now = clamp_time(Utc::now());
        with_pool!(&self.db, |pool, backend| {
            sqlx::query(INSERT_SESSION)
                .bind(session.id.0)
                .bind(session.user.0)
                .bind(session.current.0)
                .bind(expires_at)
                .bind(false)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        Error::conflict(format!("session {} exists", session.id))
                    }
                    _ => db_error(backend, "start a session", &e),
                })
        })
    }

    async fn rotate_session(
        &self,
        id: SessionId,
        presented: TokenId,
        next: TokenId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        let expires_at = clamp_time(expires_at);
        let now = clamp_time(now);
        let rotated = with_pool!(&self.db, |pool, backend| {
            sqlx::query_scalar::<_, Uuid>(ROTATE_SESSION)
                .bind(id.0)
                .bind(next.0)
                .bind(expires_at)
                .bind(presented.0)
                .bind(now)
                .fetch_optional(pool)
                .await
                .map_err(|e| db_error(backend, "rotate a session", &e))
        })?;
        if let Some(user) = rotated {
            return Ok(UserId(user));
        }
        // Nothing changed: find out why. A token that is no longer current never becomes current again, so
        // a reused token seen here stays reused whatever else happens meanwhile.
        let row = with_pool!(&self.db, |pool, backend| {
            sqlx::query_as::<_, (Uuid, bool, DateTime<Utc>)>(SELECT_SESSION)
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(|e| db_error(backend, "read a session", &e))
        })?;
        let deny = |why: &str| Err(Error::Unauthorized(why.into()));
        match row {
            None => deny("unknown session"),
            Some((_, true, _)) => deny("session revoked"),
            Some((_, false, until)) if until <= now => deny("refresh token expired"),
            Some((current, false, _)) if current != presented.0 => {
                self.revoke(id).await?;
                tracing::warn!(session = %id, "refresh token reused; the session is revoked");
                deny("refresh token reused; the session is revoked")
            }
            // Only reachable if the row changed between the two statements in a way rotation cannot cause.
            Some(_) => deny("session changed concurrently"),
        }
    }

    async fn end_session(&self, id: SessionId) -> Result<()> {
        self.revoke(id).await.map(|_| ())
    }

    async fn end_user_sessions(&self, user: UserId) -> Result<u64> {
        with_pool!(&self.db, |pool, backend| {
            sqlx::query(REVOKE_USER_SESSIONS)
                .bind(user.0)
                .bind(true)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(|e| db_error(backend, "end a user's sessions", &e))
        })
    }

    async fn prune_sessions(&self, expired_before: DateTime<Utc>, limit: usize) -> Result<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        with_pool!(&self.db, |pool, backend| {
            sqlx::query(PRUNE_SESSIONS)
                .bind(clamp_time(expired_before))
                .bind(limit)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(|e| db_error(backend, "delete expired sessions", &e))
        })
    }
}

fn denied() -> Error {
    Error::Unauthorized(DENIED.into())
}

/// The key of the credentials table: trimmed, lower-case e-mail.
fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `now + lockout`, kept within years 0..=9999 (timestamps sort as text in SQLite and must fit PostgreSQL).
fn lock_end(now: DateTime<Utc>, lockout: Duration) -> DateTime<Utc> {
    now.checked_add_signed(lockout).map_or(max_time(), clamp_time)
}

/// The latest timestamp stored: the end of year 9999.
fn max_time() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t` kept within years 0..=9999, where SQLite's text timestamps sort chronologically and PostgreSQL's fit.
fn clamp_time(t: DateTime<Utc>) -> DateTime<Utc> {
    let min = DateTime::from_timestamp(-62_167_219_200, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    t.clamp(min, max_time())
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, ARGON2_PARAMS)
}

/// Runs `f` on the blocking pool once a hashing slot is free.
async fn run_hashing<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let permit = HASH_SLOTS
        .acquire()
        .await
        .map_err(|_| internal("password hashing is shut down"))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|_| internal("password hashing task failed"))
}

/// An argon2id PHC string for a password, with a random salt.
async fn hash_password(password: String) -> Result<String> {
    run_hashing(move || hasher().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await?
        .map_err(|e| internal(format!("could not hash the password: {e}")))
}

/// Whether the password matches the PHC string; `None` verifies against a dummy hash (and is false).
async fn verify_password(password: String, stored: Option<String>) -> Result<bool> {
    run_hashing(move || match stored {
        Some(stored) => check_password(password.as_bytes(), &stored),
        None => {
            if let Some(dummy) = DUMMY_HASH.get_or_init(dummy_hash) {
                std::hint::black_box(check_password(password.as_bytes(), dummy));
            }
            false
        }
    })
    .await
}

fn dummy_hash() -> Option<String> {
    match hasher().hash_password_with_salt(b"not a password of anyone", b"tts-dummy-salt!!") {
        Ok(hash) => Some(hash.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "cannot compute the dummy password hash");
            None
        }
    }
}

/// Verifies a password against a stored PHC string; a malformed hash is logged and never matches.
fn check_password(password: &[u8], stored: &str) -> bool {
    let parsed = match PasswordHash::new(stored) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is malformed");
            return false;
        }
    };
    match Argon2::default().verify_password(password, &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::PasswordInvalid) => false,
        Err(e) => {
            tracing::error!(error = %e, "stored password hash cannot be verified");
            false
        }
    }
}

fn internal(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: "argon2",
        kind: ErrorKind::Internal,
        message: message.into(),
    }
}

/// Maps a sqlx error without its SQL, bound values or connection string.
fn db_error(backend: &'static str, action: &str, err: &sqlx::Error) -> Error {
    let (kind, detail) = match err {
        sqlx::Error::PoolTimedOut => (ErrorKind::Unavailable, "timed out waiting for a connection".to_owned()),
        sqlx::Error::PoolClosed => (ErrorKind::Unavailable, "the connection pool is closed".to_owned()),
        sqlx::Error::WorkerCrashed => (ErrorKind::Unavailable, "the connection worker crashed".to_owned()),
        sqlx::Error::Io(e) => (ErrorKind::Unavailable, format!("I/O error: {e}")),
        sqlx::Error::Tls(_) => (ErrorKind::Unavailable, "TLS error".to_owned()),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let transient = transient_label(backend, &code);
            let kind = if transient.is_some() {
                ErrorKind::Unavailable
            } else {
                ErrorKind::Internal
            };
            let mut detail = format!("database error {code}");
            if let Some(label) = transient {
                detail = format!("{detail} ({label})");
            }
            if let Some(constraint) = db.constraint() {
                detail = format!("{detail} (constraint {constraint})");
            }
            (kind, detail)
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => (
            ErrorKind::Internal,
            "unexpected data in the credentials table".to_owned(),
        ),
        _ => (ErrorKind::Internal, "unexpected database error".to_owned()),
    };
    Error::Backend {
        backend,
        kind,
        message: format!("could not {action}: {detail}"),
    }
}

/// What a database error code that means "busy or down, try again later" is, or `None` for other codes.
fn transient_label(backend: &str, code: &str) -> Option<&'static str> {
    if backend == "sqlite" {
        // The primary result code is the low byte of an extended one.
        return match code.parse::<u32>().ok()? & 0xff {
            5 => Some("database busy"),
            6 => Some("table locked"),
            10 => Some("I/O error"),
            13 => Some("disk full"),
            14 => Some("cannot open the database file"),
            _ => None,
        };
    }
    // PostgreSQL SQLSTATE classes and codes.
    match code {
        "40001" => Some("serialization failure"),
        "40P01" => Some("deadlock"),
        c if c.starts_with("08") => Some("connection failure"),
        c if c.starts_with("53") => Some("insufficient resources"),
        c if c.starts_with("57P") => Some("server shutting down or starting"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_codes() {
        assert_eq!(transient_label("sqlite", "5"), Some("database busy"));
        assert_eq!(transient_label("sqlite", "517"), Some("database busy"));
        assert_eq!(transient_label("sqlite", "2067"), None);
        assert_eq!(transient_label("sqlite", ""), None);
        assert!(transient_label("postgres", "57P01").is_some());
        assert!(transient_label("postgres", "08006").is_some());
        assert_eq!(transient_label("postgres", "23505"), None);
    }

    #[test]
    fn lock_end_is_capped() {
        let now = Utc::now();
        assert_eq!(lock_end(now, Duration::minutes(15)), now + Duration::minutes(15));
        assert!(
            lock_end(now, Duration::MAX)
                .to_rfc3339()
                .starts_with("9999-12-31T23:59:59")
        );
        assert!(
            clamp_time(DateTime::<Utc>::MIN_UTC)
                .to_rfc3339()
                .starts_with("0000-01-01T00:00:00")
        );
        assert_eq!(clamp_time(now), now);
    }

    #[test]
    fn db_errors_hide_details() {
        let err = db_error("postgres", "read credentials", &sqlx::Error::PoolTimedOut);
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(
            err.to_string(),
            "postgres backend error: could not read credentials: timed out waiting for a connection"
        );
        let err = db_error("sqlite", "read credentials", &sqlx::Error::RowNotFound);
        assert_eq!(err.kind(), ErrorKind::Internal);
    }
}
