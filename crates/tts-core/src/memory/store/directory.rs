//! [`Directory`] and [`Cursors`] in memory.

use super::{MemoryUnit, State};
use crate::domain::assignment::Candidate;
use crate::domain::user::{Membership, Role, User};
use crate::error::{Error, Result};
use crate::ids::{RoleId, UserId};
use crate::ports::store::{Cursors, Directory, Member, PickState};
use async_trait::async_trait;

fn role_key(r: &Role) -> (String, String) {
    use crate::domain::matching::normalize;
    (normalize(&r.system), normalize(&r.name))
}

fn memberships(s: &State, role: RoleId) -> impl Iterator<Item = &Membership> {
    s.memberships
        .range((role, UserId(uuid::Uuid::nil()))..=(role, UserId(uuid::Uuid::max())))
        .map(|(_, m)| m)
}

#[async_trait]
impl Directory for MemoryUnit {
    async fn insert_user(&mut self, u: &User) -> Result<()> {
        let email = u.email.trim().to_lowercase();
        if self.s().users.contains_key(&u.id) || self.s().user_emails.contains_key(&email) {
            return Err(Error::conflict(format!("a user with e-mail {} exists", u.email)));
        }
        self.set(|s| &mut s.user_emails, email, u.id);
        self.set(|s| &mut s.users, u.id, u.clone());
        Ok(())
    }

    async fn update_user(&mut self, u: &User) -> Result<()> {
        let Some(old) = self.s().users.get(&u.id).cloned() else {
            return Err(Error::not_found("user", u.id));
        };
        let (old_email, new_email) = (old.email.trim().to_lowercase(), u.email.trim().to_lowercase());
        if old_email != new_email {
            if self.s().user_emails.contains_key(&new_email) {
                return Err(Error::conflict(format!("a user with e-mail {} exists", u.email)));
            }
            self.remove::<_, UserId, _>(|s| &mut s.user_emails, old_email);
            self.set(|s| &mut s.user_emails, new_email, u.id);
        }
        self.set(|s| &mut s.users, u.id, u.clone());
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        Ok(self.s().users.get(&id).cloned())
    }

    async fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let id = self.s().user_emails.get(&email.trim().to_lowercase()).copied();
        Ok(id.and_then(|id| self.s().users.get(&id).cloned()))
    }

    async fn insert_role(&mut self, r: &Role) -> Result<()> {
        let key = role_key(r);
        if self.s().roles.contains_key(&r.id) || self.s().role_names.contains_key(&key) {
            return Err(Error::conflict(format!("role {r} exists")));
        }
        self.set(|s| &mut s.role_names, key, r.id);
        self.set(|s| &mut s.roles, r.id, r.clone());
        Ok(())
    }

    async fn role(&mut self, id: RoleId) -> Result<Option<Role>> {
        Ok(self.s().roles.get(&id).cloned())
    }

    async fn roles(&mut self) -> Result<Vec<Role>> {
        let mut all: Vec<Role> = self.s().roles.values().cloned().collect();
        all.sort_by_cached_key(|r| (role_key(r), r.id));
        Ok(all)
    }

    async fn set_membership(&mut self, m: Membership) -> Result<()> {
        if !self.s().roles.contains_key(&m.role) {
            return Err(Error::not_found("role", m.role));
        }
        if !self.s().users.contains_key(&m.user) {
            return Err(Error::not_found("user", m.user));
        }
        self.set(|s| &mut s.memberships, (m.role, m.user), m);
        Ok(())
    }

    async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool> {
        Ok(self
            .remove::<_, Membership, _>(|s| &mut s.memberships, (role, user))
            .is_some())
    }

    async fn role_members(&mut self, role: RoleId) -> Result<Vec<Member>> {
        let s = self.s();
        Ok(memberships(s, role)
            .filter_map(|m| {
                s.users.get(&m.user).map(|u| Member {
                    user: u.clone(),
                    is_active: m.is_active,
                })
            })
            .collect())
    }

    async fn roles_of(&mut self, user: UserId) -> Result<Vec<Role>> {
        let s = self.s();
        let mut roles: Vec<Role> = s
            .memberships
            .values()
            .filter(|m| m.user == user && m.is_active)
            .filter_map(|m| s.roles.get(&m.role).cloned())
            .collect();
        roles.sort_by_cached_key(|r| (role_key(r), r.id));
        Ok(roles)
    }
}

#[async_trait]
impl Cursors for MemoryUnit {
    async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>> {
        let s = self.s();
        Ok(memberships(s, role)
            .map(|m| Candidate {
                user: m.user,
                active: m.is_active && s.users.get(&m.user).is_some_and(|u| u.is_active),
                open_assignments: if with_load {
                    s.user_assignments
                        .get(&m.user)
                        .into_iter()
                        .flatten()
                        .filter(|a| s.assignments.get(a).is_some_and(|a| a.status.is_open()))
                        .count() as u32
                } else {
                    0
                },
            })
            .collect())
    }

    async fn lock_pick_state(&mut self, role: RoleId, with_load: bool) -> Result<PickState> {
        // The whole store is locked by the unit already.
        let candidates = self.candidates(role, with_load).await?;
        let last = self.s().cursors.get(&role).copied();
        Ok(PickState { candidates, last })
    }

    async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()> {
        self.set(|s| &mut s.cursors, role, last);
        Ok(())
    }
}
