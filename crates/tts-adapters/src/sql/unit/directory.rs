//! [`Directory`] in SQL: `users` (unique lower-case e-mail), `roles` (unique per system) and
//! `memberships`.

use super::{Deferred, Expect, SqlUnit, email_key, name_key};
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::ports::{Directory, Member};
use tts_core::{Error, Membership, Result, Role, RoleId, User, UserId};

#[async_trait]
impl Directory for SqlUnit {
    async fn insert_user(&mut self, u: &User) -> Result<()> {
        let data = self.json(u)?;
        self.defer(Deferred::any(
            "INSERT INTO users (id, email, is_active, data) VALUES ($1, $2, $3, $4)",
            vec![
                Arg::Uuid(u.id.0),
                Arg::Text(email_key(&u.email)),
                Arg::Bool(u.is_active),
                data,
            ],
            Some(format!("users:{}", u.id.0)),
        ))
        .await
    }

    async fn update_user(&mut self, u: &User) -> Result<()> {
        let data = self.json(u)?;
        self.defer(Deferred {
            sql: "UPDATE users SET email = $2, is_active = $3, data = $4 WHERE id = $1".into(),
            args: vec![
                Arg::Uuid(u.id.0),
                Arg::Text(email_key(&u.email)),
                Arg::Bool(u.is_active),
                data,
            ],
            expect: Expect::Found {
                entity: "user",
                shown: u.id.to_string(),
            },
            row: Some(format!("users:{}", u.id.0)),
        })
        .await
    }

    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        self.one_doc("SELECT data FROM users WHERE id = $1", vec![Arg::Uuid(id.0)])
            .await
    }

    async fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        self.one_doc(
            "SELECT data FROM users WHERE email = $1",
            vec![Arg::Text(email_key(email))],
        )
        .await
    }

    async fn insert_role(&mut self, r: &Role) -> Result<()> {
        let data = self.json(r)?;
        self.defer(Deferred::any(
            "INSERT INTO roles (id, system_key, name_key, data) VALUES ($1, $2, $3, $4)",
            vec![
                Arg::Uuid(r.id.0),
                Arg::Text(name_key(&r.system)),
                Arg::Text(name_key(&r.name)),
                data,
            ],
            Some(format!("roles:{}", r.id.0)),
        ))
        .await
    }

    async fn role(&mut self, id: RoleId) -> Result<Option<Role>> {
        self.one_doc("SELECT data FROM roles WHERE id = $1", vec![Arg::Uuid(id.0)])
            .await
    }

    async fn roles(&mut self) -> Result<Vec<Role>> {
        self.all_docs("SELECT data FROM roles ORDER BY system_key, name_key, id", vec![])
            .await
    }

    async fn set_membership(&mut self, m: Membership) -> Result<()> {
        // Which of the two is missing, told apart in one read; the write goes with the unit's others.
        let sql = "SELECT (SELECT COUNT(*) FROM roles WHERE id = $1), (SELECT COUNT(*) FROM users WHERE id = $2)";
        let found = self
            .fetch_optional(sql, vec![Arg::Uuid(m.role.0), Arg::Uuid(m.user.0)], |r| {
                Ok((r.i64(0)? > 0, r.i64(1)? > 0))
            })
            .await?;
        match found {
            Some((true, true)) => {}
            Some((false, _)) | None => return Err(Error::not_found("role", m.role)),
            Some((true, false)) => return Err(Error::not_found("user", m.user)),
        }
        self.defer(Deferred::any(
            "INSERT INTO memberships (role_id, user_id, is_active) VALUES ($1, $2, $3) \
             ON CONFLICT (role_id, user_id) DO UPDATE SET is_active = excluded.is_active",
            vec![Arg::Uuid(m.role.0), Arg::Uuid(m.user.0), Arg::Bool(m.is_active)],
            Some(format!("memberships:{}:{}", m.role.0, m.user.0)),
        ))
        .await
    }

    async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool> {
        let sql = "DELETE FROM memberships WHERE role_id = $1 AND user_id = $2";
        Ok(self.execute(sql, vec![Arg::Uuid(role.0), Arg::Uuid(user.0)]).await? > 0)
    }

    async fn role_members(&mut self, role: RoleId) -> Result<Vec<Member>> {
        let sql = "SELECT u.data, m.is_active FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.role_id = $1 ORDER BY m.user_id";
        self.fetch(sql, vec![Arg::Uuid(role.0)], |r| {
            Ok(Member {
                user: r.json(0)?,
                is_active: r.bool(1)?,
            })
        })
        .await
    }

    async fn roles_of(&mut self, user: UserId) -> Result<Vec<Role>> {
        let sql = "SELECT r.data FROM memberships m JOIN roles r ON r.id = m.role_id \
                   WHERE m.user_id = $1 AND m.is_active ORDER BY r.system_key, r.name_key, r.id";
        self.all_docs(sql, vec![Arg::Uuid(user.0)]).await
    }
}
