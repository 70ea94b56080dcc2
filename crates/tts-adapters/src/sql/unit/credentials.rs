//! [`Credentials`] in SQL: `credentials` (one per user, unique login e-mail) and `login_throttles`
//! (one counter per e-mail and client).

use super::{Deferred, Expect, SqlUnit, email_key};
use crate::sql::values::{Arg, Row, storable};
use async_trait::async_trait;
use tts_core::ports::Credentials;
use tts_core::{Credential, Result, Throttle, ThrottleKey, UserId};

fn credential(r: &Row<'_>) -> Result<Credential> {
    Ok(Credential {
        user: UserId(r.uuid(0)?),
        email: r.text(1)?.to_string(),
        hash: r.text(2)?.to_string(),
    })
}

#[async_trait]
impl Credentials for SqlUnit {
    async fn credential(&mut self, email: &str) -> Result<Option<Credential>> {
        let sql = format!(
            "SELECT user_id, email, password_hash FROM credentials WHERE email = $1{}",
            self.lock()
        );
        self.fetch_optional(sql, vec![Arg::Text(email_key(email))], |r| credential(&r))
            .await
    }

    async fn credential_of(&mut self, user: UserId) -> Result<Option<Credential>> {
        let sql = format!(
            "SELECT user_id, email, password_hash FROM credentials WHERE user_id = $1{}",
            self.lock()
        );
        self.fetch_optional(sql, vec![Arg::Uuid(user.0)], |r| credential(&r))
            .await
    }

    /// Two writes: the user's credential under another e-mail goes, then the upsert of this one, which
    /// touches nothing when another user owns the e-mail (a conflict). Both name one row, so PostgreSQL
    /// sends them in order in two statements (one statement's parts would see the same snapshot, and
    /// the insert could meet the user's old row in the unique index on `user_id`).
    async fn set_credential(&mut self, c: &Credential) -> Result<()> {
        let email = email_key(&c.email);
        let row = format!("credentials:{}", c.user.0);
        self.defer(Deferred::any(
            "DELETE FROM credentials WHERE user_id = $1 AND email <> $2",
            vec![Arg::Uuid(c.user.0), Arg::Text(email.clone())],
            Some(row.clone()),
        ))
        .await?;
        self.defer(Deferred {
            sql: "INSERT INTO credentials (email, user_id, password_hash) VALUES ($1, $2, $3) \
                  ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash \
                  WHERE credentials.user_id = excluded.user_id"
                .into(),
            args: vec![Arg::Text(email), Arg::Uuid(c.user.0), Arg::Text(c.hash.clone())],
            expect: Expect::Conflict("another user logs in with that e-mail".into()),
            row: Some(row),
        })
        .await
    }

    async fn throttle(&mut self, key: &ThrottleKey) -> Result<Option<Throttle>> {
        let sql = format!(
            "SELECT failures, retry_at, updated_at FROM login_throttles WHERE email = $1 AND client = $2{}",
            self.lock()
        );
        let args = vec![Arg::Text(key.email.clone()), Arg::Text(key.client.clone())];
        self.fetch_optional(sql, args, |r| {
            Ok(Throttle {
                failures: u32::try_from(r.i64(0)?.max(0)).unwrap_or(u32::MAX),
                retry_at: r.opt_time(1)?,
                updated_at: r.time(2)?,
            })
        })
        .await
    }

    async fn set_throttle(&mut self, key: &ThrottleKey, throttle: Option<&Throttle>) -> Result<()> {
        let row = Some(format!("login_throttles:{}\n{}", key.email, key.client));
        let keys = vec![Arg::Text(key.email.clone()), Arg::Text(key.client.clone())];
        let op = match throttle {
            Some(t) => {
                let mut args = keys;
                args.extend([
                    Arg::I64(i64::from(t.failures)),
                    Arg::OptTime(t.retry_at.map(storable)),
                    Arg::Time(storable(t.updated_at)),
                ]);
                Deferred::any(
                    "INSERT INTO login_throttles (email, client, failures, retry_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email, client) DO UPDATE SET \
                     failures = excluded.failures, retry_at = excluded.retry_at, updated_at = excluded.updated_at",
                    args,
                    row,
                )
            }
            None => Deferred::any(
                "DELETE FROM login_throttles WHERE email = $1 AND client = $2",
                keys,
                row,
            ),
        };
        self.defer(op).await
    }
}
