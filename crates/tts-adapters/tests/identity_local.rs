//! The local identity passes the core's identity suite on SQLite and PostgreSQL, stores argon2id hashes,
//! counts concurrent failures exactly and lets exactly one of concurrent refresh-token rotations win.
//!
//! The PostgreSQL tests (feature `postgres`) need a server on 127.0.0.1:5432 with trust authentication for
//! `postgres` or `root`; they fail, not skip, when it is unreachable.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tts_adapters::identity::{IdentityConfig, LocalIdentity};
use tts_core::ids::{SessionId, TokenId};
use tts_core::ports::{Identity, RefreshSession};
use tts_core::{Error, ErrorKind, UserId};

const HASH_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// A small policy, so the lockout check needs few (slow) hashes.
fn small_policy() -> IdentityConfig {
    IdentityConfig {
        max_failures: 4,
        lockout: Duration::minutes(5),
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_760_000_000, 0).expect("valid timestamp")
}

fn fresh() -> (UserId, String) {
    let id = uuid::Uuid::now_v7();
    (UserId(id), format!("User-{}@Example.com", id.simple()))
}

/// A credentials row as stored: (password_hash, failures, locked_until).
type Row = (String, i32, Option<DateTime<Utc>>);

/// Reads credentials rows straight from the database.
trait Peek {
    async fn row(&self, email: &str) -> Option<Row>;
}

/// Hashes are argon2id PHC strings with the OWASP parameters and a random salt, never the password.
async fn stores_argon2id_hashes(identity: &LocalIdentity, db: &impl Peek) {
    let (user, email) = fresh();
    let password = "s3cret pass phrase";
    identity
        .set_password(user, &email, password)
        .await
        .expect("set password");
    let (hash, failures, locked) = db
        .row(&email.to_lowercase())
        .await
        .expect("row under the lower-case e-mail");
    assert!(hash.starts_with(HASH_PREFIX), "unexpected hash format: {hash}");
    assert!(!hash.contains(password), "the hash must not contain the password");
    assert_eq!((failures, locked), (0, None));
    let (other, other_email) = fresh();
    identity
        .set_password(other, &other_email, password)
        .await
        .expect("set password");
    let (other_hash, _, _) = db.row(&other_email.to_lowercase()).await.expect("row");
    assert_ne!(hash, other_hash, "salts are random");
    let debug = format!("{identity:?}");
    assert!(
        !debug.contains("argon2") && !debug.contains(password),
        "Debug shows no hashes: {debug}"
    );

    let err = identity
        .set_password(user, &email, "")
        .await
        .expect_err("empty password");
    match err {
        Error::Validation(fields) => assert_eq!(fields[0].field, "password"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Replacing a user's password under a new e-mail retires the old login.
async fn one_login_per_user(identity: &LocalIdentity, db: &impl Peek) {
    let (user, old_email) = fresh();
    identity
        .set_password(user, &old_email, "first password")
        .await
        .expect("set");
    let new_email = format!("renamed-{}", old_email.to_lowercase());
    identity
        .set_password(user, &new_email, "second password")
        .await
        .expect("set");
    assert!(
        db.row(&old_email.to_lowercase()).await.is_none(),
        "the old login is gone"
    );
    assert_eq!(
        identity
            .verify(&old_email, "first password", t0())
            .await
            .expect_err("old login")
            .kind(),
        ErrorKind::Unauthorized
    );
    assert_eq!(
        identity
            .verify(&new_email, "second password", t0())
            .await
            .expect("new login"),
        user
    );
}

/// Concurrent wrong passwords are all counted, lock the account once, and the lock holds the right password.
async fn concurrent_failures_are_counted_exactly(identity: LocalIdentity, db: &impl Peek) {
    let config = identity.config();
    assert_eq!(config.max_failures, 10, "this check expects the default policy");
    let identity = Arc::new(identity);
    let (user, email) = fresh();
    identity
        .set_password(user, &email, "correct horse battery")
        .await
        .expect("set password");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let identity = Arc::clone(&identity);
        let email = email.clone();
        tasks.spawn(async move { identity.verify(&email, "wrong", t0()).await });
    }
    while let Some(result) = tasks.join_next().await {
        let err = result.expect("task").expect_err("wrong password");
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
    }
    let (_, failures, locked_until) = db.row(&email.to_lowercase()).await.expect("row");
    assert_eq!(failures, 20, "every concurrent failure is counted");
    assert_eq!(
        locked_until,
        Some(t0() + config.lockout),
        "locked from the failure that reached the limit, not extended"
    );
    let locked = identity
        .verify(&email, "correct horse battery", t0() + Duration::seconds(1))
        .await
        .expect_err("locked");
    assert_eq!(locked.kind(), ErrorKind::Unauthorized);
    let after = t0() + config.lockout + Duration::seconds(1);
    assert_eq!(
        identity
            .verify(&email, "correct horse battery", after)
            .await
            .expect("lock expired"),
        user
    );
    assert_eq!(
        db.row(&email.to_lowercase()).await.expect("row").1,
        0,
        "success resets the count"
    );
}

/// Concurrent rotations presenting the same current token: exactly one wins, the others see a reused token,
/// and the family is revoked (the winner's new token fails too).
async fn concurrent_rotations_one_wins(identity: LocalIdentity) {
    let identity = Arc::new(identity);
    for _ in 0..10 {
        let (user, _) = fresh();
        let session = RefreshSession {
            id: SessionId(uuid::Uuid::now_v7()),
            user,
            current: TokenId(uuid::Uuid::now_v7()),
            expires_at: t0() + Duration::hours(1),
        };
        identity.start_session(&session).await.expect("start session");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let identity = Arc::clone(&identity);
            let next = TokenId(uuid::Uuid::now_v7());
            tasks.spawn(async move {
                let rotated = identity
                    .rotate_session(session.id, session.current, next, t0() + Duration::hours(2), t0())
                    .await;
                (next, rotated)
            });
        }
        let mut winners = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("task") {
                (next, Ok(who)) => {
                    assert_eq!(who, user);
                    winners.push(next);
                }
                (_, Err(e)) => assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one concurrent rotation wins");
        let after = identity
            .rotate_session(
                session.id,
                winners[0],
                TokenId(uuid::Uuid::now_v7()),
                t0() + Duration::hours(3),
                t0(),
            )
            .await
            .expect_err("the losers revoked the family");
        assert_eq!(after.kind(), ErrorKind::Unauthorized);
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::SqlitePool;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;

    struct Db(SqlitePool);

    impl Peek for Db {
        async fn row(&self, email: &str) -> Option<Row> {
            sqlx::query_as("SELECT password_hash, failures, locked_until FROM credentials WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.0)
                .await
                .expect("read credentials")
        }
    }

    /// A migrated SQLite database in a temp file (WAL).
    async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let options = SqliteConnectOptions::from_str(&url)
            .expect("sqlite url")
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("open sqlite");
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.expect("migrate");
        pool
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_small_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let identity = LocalIdentity::sqlite(pool(&dir).await, small_policy());
        tts_core::testkit::identity::run_all(&identity, 4, Duration::minutes(5)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_default_policy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let identity = LocalIdentity::sqlite(pool(&dir).await, IdentityConfig::default());
        tts_core::testkit::identity::run_all(&identity, 10, Duration::minutes(15)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2id_hashes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = pool(&dir).await;
        let identity = LocalIdentity::sqlite(pool.clone(), small_policy());
        stores_argon2id_hashes(&identity, &Db(pool)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_login_per_user_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = pool(&dir).await;
        let identity = LocalIdentity::sqlite(pool.clone(), small_policy());
        one_login_per_user(&identity, &Db(pool)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_failures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = pool(&dir).await;
        let identity = LocalIdentity::sqlite(pool.clone(), IdentityConfig::default());
        concurrent_failures_are_counted_exactly(identity, &Db(pool)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_rotations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let identity = LocalIdentity::sqlite(pool(&dir).await, IdentityConfig::default());
        concurrent_rotations_one_wins(identity).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_pool_is_unavailable_without_secrets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = pool(&dir).await;
        let identity = LocalIdentity::sqlite(pool.clone(), small_policy());
        pool.close().await;
        let err = identity
            .verify("someone@example.com", "hunter2", t0())
            .await
            .expect_err("closed pool");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        let message = err.to_string();
        assert!(message.starts_with("sqlite backend error"), "{message}");
        for secret in ["hunter2", "someone@example.com", "SELECT", "credentials WHERE"] {
            assert!(!message.contains(secret), "{message} leaks {secret}");
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::postgres::PgPoolOptions;
    use sqlx::{AssertSqlSafe, PgPool};
    use std::future::Future;

    const SERVERS: [&str; 2] = ["postgres://postgres@127.0.0.1:5432", "postgres://root@127.0.0.1:5432"];

    struct Db(PgPool);

    impl Peek for Db {
        async fn row(&self, email: &str) -> Option<Row> {
            sqlx::query_as("SELECT password_hash, failures, locked_until FROM credentials WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.0)
                .await
                .expect("read credentials")
        }
    }

    /// Connects to the `postgres` database as the first user that works; panics if the server is unreachable.
    async fn admin() -> (PgPool, &'static str) {
        let mut errors = Vec::new();
        for server in SERVERS {
            match PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(std::time::Duration::from_secs(10))
                .connect(&format!("{server}/postgres"))
                .await
            {
                Ok(pool) => return (pool, server),
                Err(e) => errors.push(format!("{server}: {e}")),
            }
        }
        panic!("PostgreSQL is unreachable on 127.0.0.1:5432: {}", errors.join("; "));
    }

    /// Runs `body` on a fresh, migrated database, then drops the database, even if `body` panicked.
    async fn with_database<F, Fut>(body: F)
    where
        F: FnOnce(PgPool) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (admin, server) = admin().await;
        let name = format!("tts_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create database");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&format!("{server}/{name}"))
            .await
            .expect("connect to the test database");
        let migrated = sqlx::migrate!("./migrations/postgres").run(&pool).await;
        let outcome = match &migrated {
            Ok(()) => Some(tokio::spawn(body(pool.clone())).await),
            Err(_) => None,
        };
        pool.close().await;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await
            .expect("drop database");
        admin.close().await;
        if let Err(e) = migrated {
            panic!("migration failed: {e}");
        }
        if let Some(Err(e)) = outcome {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("test body did not finish: {e}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_small_policy() {
        with_database(|pool| async move {
            let identity = LocalIdentity::postgres(pool, small_policy());
            tts_core::testkit::identity::run_all(&identity, 4, Duration::minutes(5)).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_default_policy() {
        with_database(|pool| async move {
            let identity = LocalIdentity::postgres(pool, IdentityConfig::default());
            tts_core::testkit::identity::run_all(&identity, 10, Duration::minutes(15)).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2id_hashes_and_one_login_per_user() {
        with_database(|pool| async move {
            let identity = LocalIdentity::postgres(pool.clone(), small_policy());
            let db = Db(pool);
            stores_argon2id_hashes(&identity, &db).await;
            one_login_per_user(&identity, &db).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_failures() {
        with_database(|pool| async move {
            let identity = LocalIdentity::postgres(pool.clone(), IdentityConfig::default());
            concurrent_failures_are_counted_exactly(identity, &Db(pool)).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_rotations() {
        with_database(|pool| async move {
            concurrent_rotations_one_wins(LocalIdentity::postgres(pool, IdentityConfig::default())).await;
        })
        .await;
    }
}
