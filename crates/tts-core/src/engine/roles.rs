//! Roles and memberships: who may take which steps of a workflow. A membership change ends the user's
//! sessions, so tokens carrying their old roles stop working at once.

use super::Engine;
use super::auth::end;
use super::users::{check_name, require_admin};
use crate::domain::session::EndSessions;
use crate::domain::user::{Actor, Membership, Role};
use crate::error::{Error, Problems, Result};
use crate::ids::{RoleId, UserId};
use crate::ports::store::Member;
use serde_json::json;

impl Engine {
    /// Creates a role `system:name` (admin only).
    pub async fn create_role(&self, actor: Actor, system: &str, name: &str) -> Result<Role> {
        require_admin(actor)?;
        let mut p = Problems::default();
        check_name(&mut p, "system", system, 50);
        check_name(&mut p, "name", name, 150);
        p.finish(())?;
        let (system, name) = (system.trim().to_string(), name.trim().to_string());
        self.write(actor, async move |cmd| {
            let role = Role {
                id: cmd.id(),
                system: system.clone(),
                name: name.clone(),
            };
            cmd.tx.insert_role(&role).await?;
            cmd.audit(
                "role.created",
                None,
                None,
                serde_json::Value::Null,
                json!({"role": role.id, "name": role.to_string()}),
            )
            .await?;
            Ok(role)
        })
        .await
    }

    /// Every role, ordered by system, then name.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        self.read(Actor::system(), async |cmd| cmd.tx.roles().await).await
    }

    /// The members of a role with their profiles (admins and agents only: it lists e-mails).
    pub async fn role_members(&self, actor: Actor, role: RoleId) -> Result<Vec<Member>> {
        if !actor.is_staff() {
            return Err(Error::Forbidden(
                "only admins and agents may list the members of a role".into(),
            ));
        }
        self.read(actor, async move |cmd| {
            cmd.tx.role(role).await?.ok_or_else(|| Error::not_found("role", role))?;
            cmd.tx.role_members(role).await
        })
        .await
    }

    /// Grants a role, or changes whether the member takes work (admin only). The user's sessions end,
    /// so they log in again with their new roles.
    pub async fn set_membership(&self, actor: Actor, role: RoleId, user: UserId, is_active: bool) -> Result<Member> {
        require_admin(actor)?;
        self.write(actor, async move |cmd| {
            let m = Membership { role, user, is_active };
            cmd.tx.set_membership(m).await?;
            end(cmd, EndSessions::OfUser { user, keep: None }).await?;
            cmd.audit(
                "role.member_set",
                None,
                None,
                serde_json::Value::Null,
                json!({"role": role, "user": user, "is_active": is_active}),
            )
            .await?;
            let profile = cmd.tx.user(user).await?.ok_or_else(|| Error::not_found("user", user))?;
            Ok(Member {
                user: profile,
                is_active,
            })
        })
        .await
    }

    /// Revokes a role (admin only); the user's open work stays with them and their sessions end.
    pub async fn remove_membership(&self, actor: Actor, role: RoleId, user: UserId) -> Result<()> {
        require_admin(actor)?;
        self.write(actor, async move |cmd| {
            if !cmd.tx.remove_membership(role, user).await? {
                return Err(Error::not_found("membership", format!("{role}/{user}")));
            }
            end(cmd, EndSessions::OfUser { user, keep: None }).await?;
            cmd.audit(
                "role.member_removed",
                None,
                None,
                json!({"role": role, "user": user}),
                serde_json::Value::Null,
            )
            .await
        })
        .await
    }
}
