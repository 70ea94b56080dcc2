//! [`Sessions`] in SQL: `refresh_sessions`, one row per login session; `ended_at` is set once.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::{Arg, storable};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::ports::Sessions;
use tts_core::{EndSessions, RefreshSession, Result, SessionId, TokenId, UserId};

#[async_trait]
impl Sessions for SqlUnit {
    async fn start_session(&mut self, s: &RefreshSession) -> Result<()> {
        self.defer(Deferred::any(
            "INSERT INTO refresh_sessions (id, user_id, current_token, expires_at, ended_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Arg::Uuid(s.id.0),
                Arg::Uuid(s.user.0),
                Arg::Uuid(s.current.0),
                Arg::Time(storable(s.expires_at)),
                Arg::OptTime(s.ended_at.map(storable)),
                Arg::Time(Utc::now()),
            ],
            Some(format!("refresh_sessions:{}", s.id.0)),
        ))
        .await
    }

    async fn session(&mut self, id: SessionId) -> Result<Option<RefreshSession>> {
        let sql = format!(
            "SELECT user_id, current_token, expires_at, ended_at FROM refresh_sessions WHERE id = $1{}",
            self.lock()
        );
        self.fetch_optional(sql, vec![Arg::Uuid(id.0)], |r| {
            Ok(RefreshSession {
                id,
                user: UserId(r.uuid(0)?),
                current: TokenId(r.uuid(1)?),
                expires_at: r.time(2)?,
                ended_at: r.opt_time(3)?,
            })
        })
        .await
    }

    async fn save_session(&mut self, s: &RefreshSession) -> Result<()> {
        self.defer(Deferred {
            sql: "UPDATE refresh_sessions SET user_id = $2, current_token = $3, expires_at = $4, ended_at = $5 \
                  WHERE id = $1"
                .into(),
            args: vec![
                Arg::Uuid(s.id.0),
                Arg::Uuid(s.user.0),
                Arg::Uuid(s.current.0),
                Arg::Time(storable(s.expires_at)),
                Arg::OptTime(s.ended_at.map(storable)),
            ],
            expect: Expect::Found {
                entity: "session",
                shown: s.id.to_string(),
            },
            row: Some(format!("refresh_sessions:{}", s.id.0)),
        })
        .await
    }

    async fn end_sessions(&mut self, which: EndSessions, at: DateTime<Utc>) -> Result<Vec<SessionId>> {
        let at = Arg::Time(storable(at));
        let (sql, args) = match which {
            EndSessions::One(id) => (
                "UPDATE refresh_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL RETURNING id",
                vec![at, Arg::Uuid(id.0)],
            ),
            EndSessions::OfUser { user, keep } => (
                "UPDATE refresh_sessions SET ended_at = $1 \
                 WHERE user_id = $2 AND ended_at IS NULL AND ($3 IS NULL OR id <> $3) RETURNING id",
                vec![at, Arg::Uuid(user.0), Arg::OptUuid(keep.map(|k| k.0))],
            ),
        };
        let mut ended = self.fetch(sql, args, |r| Ok(SessionId(r.uuid(0)?))).await?;
        ended.sort();
        Ok(ended)
    }
}
