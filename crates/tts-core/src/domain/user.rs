//! Users, roles and role membership, and the actor a command runs as.

use crate::ids::{RoleId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The system of TTS's own roles.
pub const TTS_SYSTEM: &str = "tts";
/// The role name that may do everything in a system.
pub const ADMIN_ROLE: &str = "Admin";

/// A person who can request, work on or administer tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Login and contact; unique, stored lower-case.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Deactivated users cannot log in or receive work.
    pub is_active: bool,
    /// Whether the user gets their notifications by e-mail too (when the server sends e-mail); they
    /// choose it in their profile. Stored users from before the setting get it on.
    #[serde(default = "yes")]
    pub email_notifications: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

fn yes() -> bool {
    true
}

/// A role within a system, written `system:role` (e.g. `tts:Admin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Identifier.
    pub id: RoleId,
    /// The owning system, e.g. `tts`.
    pub system: String,
    /// The role name, e.g. `Asset Manager`; unique within the system.
    pub name: String,
}

impl Role {
    /// Whether this is the admin role of TTS.
    pub fn is_admin(&self) -> bool {
        self.system == TTS_SYSTEM && self.name == ADMIN_ROLE
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.name)
    }
}

/// A user holding a role; inactive members keep the role but receive no work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The role.
    pub role: RoleId,
    /// The user.
    pub user: UserId,
    /// Whether the member takes work.
    pub is_active: bool,
}

/// Who runs a command: the authenticated user, whether they hold `tts:Admin`, and whether they are an
/// agent (hold any other active role: they work on tickets, and may file tickets on someone's behalf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// Holds `tts:Admin`.
    pub is_admin: bool,
    /// Holds an active role other than `tts:Admin`.
    #[serde(default)]
    pub is_agent: bool,
}

impl Actor {
    /// A requester: no role.
    pub fn user(user: UserId) -> Self {
        Actor {
            user,
            is_admin: false,
            is_agent: false,
        }
    }

    /// An agent: holds a role, not the admin one.
    pub fn agent(user: UserId) -> Self {
        Actor {
            user,
            is_admin: false,
            is_agent: true,
        }
    }

    /// An admin actor.
    pub fn admin(user: UserId) -> Self {
        Actor {
            user,
            is_admin: true,
            is_agent: false,
        }
    }

    /// The actor a user with these active roles is.
    pub fn with_roles<'r>(user: UserId, roles: impl IntoIterator<Item = &'r Role>) -> Self {
        let mut actor = Actor::user(user);
        for role in roles {
            if role.is_admin() {
                actor.is_admin = true;
            } else {
                actor.is_agent = true;
            }
        }
        actor
    }

    /// The operator at the console (seeding, CLI, schedulers): admin rights, the nil user id.
    pub fn system() -> Self {
        Actor {
            user: UserId(uuid::Uuid::nil()),
            is_admin: true,
            is_agent: false,
        }
    }

    /// Admins and agents: those who work on tickets and may see who holds which role.
    pub fn is_staff(&self) -> bool {
        self.is_admin || self.is_agent
    }

    /// True for [`Actor::system`].
    pub fn is_system(&self) -> bool {
        self.user.0.is_nil()
    }

    /// The user to record in the audit trail (`None` for the system).
    pub fn audit_user(&self) -> Option<UserId> {
        (!self.is_system()).then_some(self.user)
    }
}
