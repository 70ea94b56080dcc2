//! [`Cursors`] in SQL: a role's holders (`memberships` joined with `users`) and its round-robin
//! cursor (`cursors`, one row per role).

use super::{Deferred, SqlUnit};
use crate::sql::values::{Arg, Row};
use async_trait::async_trait;
use tts_core::ports::{Cursors, PickState};
use tts_core::{Candidate, Result, RoleId, UserId};

/// A holder's open assignments, or 0 when the strategy does not need them.
fn load_column(with_load: bool) -> &'static str {
    if with_load {
        "(SELECT COUNT(*) FROM assignments a WHERE a.user_id = m.user_id AND a.is_open)"
    } else {
        "CAST(0 AS BIGINT)"
    }
}

fn candidate(r: &Row<'_>) -> Result<Candidate> {
    Ok(Candidate {
        user: UserId(r.uuid(0)?),
        active: r.bool(1)?,
        open_assignments: u32::try_from(r.i64(2)?.max(0)).unwrap_or(u32::MAX),
    })
}

#[async_trait]
impl Cursors for SqlUnit {
    async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>> {
        let sql = format!(
            "SELECT m.user_id, m.is_active AND u.is_active, {} \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY m.user_id",
            load_column(with_load)
        );
        self.fetch(sql, vec![Arg::Uuid(role.0)], |r| candidate(&r)).await
    }

    /// One statement reads the holders and the cursor, locking the cursor row in a write unit
    /// (PostgreSQL). On a role's first pick there is no row to lock yet: PostgreSQL creates it (a
    /// concurrent creator is waited for by the insert) and locks it, so from then on every pick of the
    /// role serializes on it.
    async fn lock_pick_state(&mut self, role: RoleId, with_load: bool) -> Result<PickState> {
        let sql = format!(
            "WITH cur AS (SELECT role_id, last_user FROM cursors WHERE role_id = $1{}) \
             SELECT m.user_id, m.is_active AND u.is_active, {}, cur.last_user, cur.role_id IS NOT NULL \
             FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN cur ON 1 = 1 \
             WHERE m.role_id = $1 ORDER BY m.user_id",
            self.lock(),
            load_column(with_load)
        );
        let rows = self
            .fetch(sql, vec![Arg::Uuid(role.0)], |r| {
                Ok((candidate(&r)?, r.opt_uuid(3)?, r.bool(4)?))
            })
            .await?;
        let has_row = rows.first().is_some_and(|(_, _, has_row)| *has_row);
        let mut last = rows.first().and_then(|(_, last, _)| last.map(UserId));
        let candidates: Vec<Candidate> = rows.into_iter().map(|(c, _, _)| c).collect();
        if !candidates.is_empty() && !has_row && self.write && self.dialect.creates_cursor_rows() {
            self.execute(
                "INSERT INTO cursors (role_id, last_user) VALUES ($1, NULL) ON CONFLICT (role_id) DO NOTHING",
                vec![Arg::Uuid(role.0)],
            )
            .await?;
            let sql = format!("SELECT last_user FROM cursors WHERE role_id = $1{}", self.lock());
            last = self
                .fetch_optional(sql, vec![Arg::Uuid(role.0)], |r| r.opt_uuid(0))
                .await?
                .flatten()
                .map(UserId);
        }
        Ok(PickState { candidates, last })
    }

    async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()> {
        self.defer(Deferred::any(
            "INSERT INTO cursors (role_id, last_user) VALUES ($1, $2) \
             ON CONFLICT (role_id) DO UPDATE SET last_user = excluded.last_user",
            vec![Arg::Uuid(role.0), Arg::Uuid(last.0)],
            Some(format!("cursors:{}", role.0)),
        ))
        .await
    }
}
