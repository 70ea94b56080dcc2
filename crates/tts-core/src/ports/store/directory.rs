//! The directory: users, roles and who holds which role.

use crate::domain::user::{Membership, Role, User};
use crate::error::Result;
use crate::ids::{RoleId, UserId};
use async_trait::async_trait;

/// A member of a role with their profile, as role listings show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Whether the membership is active (inactive members keep the role but take no work).
    pub is_active: bool,
}

/// Users, roles and memberships.
///
/// Contract (checked by `tts_core::testkit::store::directory`):
/// - user e-mails are unique (case-insensitive) and role names are unique per system (case- and
///   space-insensitive): a duplicate is a conflict; updating a missing user is "not found";
/// - `user_by_email` finds a user by e-mail in any case;
/// - `set_membership` adds or updates a membership of an existing role and user ("not found" for
///   either missing); `remove_membership` says whether one existed;
/// - `role_members` lists a role's members with their users, ordered by user id, in one read;
/// - `roles_of` lists the roles a user holds through an *active* membership, ordered by system, then
///   name.
#[async_trait]
pub trait Directory: Send {
    /// Inserts a user.
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    /// Replaces a user.
    async fn update_user(&mut self, user: &User) -> Result<()>;
    /// A user by id.
    async fn user(&mut self, id: UserId) -> Result<Option<User>>;
    /// A user by e-mail (compared lower-case).
    async fn user_by_email(&mut self, email: &str) -> Result<Option<User>>;
    /// Inserts a role.
    async fn insert_role(&mut self, role: &Role) -> Result<()>;
    /// A role by id.
    async fn role(&mut self, id: RoleId) -> Result<Option<Role>>;
    /// All roles ordered by system, then name.
    async fn roles(&mut self) -> Result<Vec<Role>>;
    /// Adds or updates a membership.
    async fn set_membership(&mut self, membership: Membership) -> Result<()>;
    /// Removes a membership; true if it existed.
    async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool>;
    /// The members of a role with their users, ordered by user id.
    async fn role_members(&mut self, role: RoleId) -> Result<Vec<Member>>;
    /// The roles a user actively holds, ordered by system, then name.
    async fn roles_of(&mut self, user: UserId) -> Result<Vec<Role>>;
}
