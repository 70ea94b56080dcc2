//! Users and profiles: creating users with their password, changing them, and a user's own profile.
//! A user and their login (credential, sessions) change in one command, all or nothing.

use super::Engine;
use super::command::Cmd;
use super::views::NewUser;
use crate::domain::login::Credential;
use crate::domain::session::EndSessions;
use crate::domain::user::{Actor, User};
use crate::error::{Error, Problems, Result};
use crate::ids::{SessionId, UserId};
use crate::ports::store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Checks a password against the policy (length only; composition rules do not help).
pub fn check_password(password: &str) -> Result<()> {
    let mut p = Problems::default();
    password_problem(&mut p, "password", password);
    p.finish(())
}

fn password_problem(p: &mut Problems, field: &str, password: &str) {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        p.push(
            field,
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        );
    }
}

/// Longest e-mail address in characters, as sent (RFC 5321's path limit less the angle brackets).
const MAX_EMAIL_CHARS: usize = 254;

/// The e-mail address as stored (trimmed, lower case), recording a problem when the address as sent is
/// too long (the documented `maxLength` counts what the client sent, spaces included) or is not an
/// address: one `@`-separated local part and dotted domain, no spaces or control characters.
fn normalized_email(p: &mut Problems, sent: &str) -> String {
    let email = sent.trim().to_lowercase();
    let ok = sent.chars().count() <= MAX_EMAIL_CHARS
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        p.push("email", "must be a valid e-mail address");
    }
    email
}

/// Records a problem when a name is blank or longer than `max` characters.
pub(crate) fn check_name(p: &mut Problems, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        p.push(field, "must not be empty");
    } else if value.chars().count() > max {
        p.push(field, format!("must be at most {max} characters"));
    }
}

/// Refuses non-admins.
pub(crate) fn require_admin(actor: Actor) -> Result<()> {
    if actor.is_admin {
        Ok(())
    } else {
        Err(Error::Forbidden("this needs the tts:Admin role".into()))
    }
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    /// New login and contact e-mail (the login moves with it).
    #[serde(default)]
    pub email: Option<String>,
    /// New display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// False deactivates: the user's sessions end and they get no new work (admins only).
    #[serde(default)]
    pub is_active: Option<bool>,
    /// New password (admins only; the user's sessions end).
    #[serde(default)]
    pub password: Option<String>,
}

/// A change a user makes to their own profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    /// New display name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// New password; needs `current_password`. Every other session of the user ends.
    #[serde(default)]
    pub new_password: Option<String>,
    /// The current password, required to set a new one.
    #[serde(default)]
    pub current_password: Option<String>,
    /// Whether to get notifications by e-mail too.
    #[serde(default)]
    pub email_notifications: Option<bool>,
}

impl Engine {
    /// Creates a user (admin only), with their password when given: both commit together, so a user is
    /// never left without the password they were created with.
    pub async fn create_user(&self, actor: Actor, new: NewUser) -> Result<User> {
        require_admin(actor)?;
        let mut p = Problems::default();
        let email = normalized_email(&mut p, &new.email);
        check_name(&mut p, "full_name", &new.full_name, 150);
        if let Some(pw) = &new.password {
            password_problem(&mut p, "password", pw);
        }
        p.finish(())?;
        // Hashing is CPU work that may fail: done before anything is written, outside the unit.
        let hash = match &new.password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let full_name = new.full_name.trim().to_string();
        self.write(actor, async move |cmd| {
            let user = User {
                id: cmd.id(),
                email: email.clone(),
                full_name: full_name.clone(),
                is_active: true,
                email_notifications: true,
                created_at: cmd.now,
            };
            cmd.tx.insert_user(&user).await?;
            if let Some(hash) = &hash {
                let credential = Credential {
                    user: user.id,
                    email: user.email.clone(),
                    hash: hash.clone(),
                };
                cmd.tx.set_credential(&credential).await?;
            }
            cmd.audit(
                "user.created",
                None,
                None,
                serde_json::Value::Null,
                json!({"user": user.id, "email": user.email, "password_set": hash.is_some()}),
            )
            .await?;
            Ok(user)
        })
        .await
    }

    /// Changes a user, all in one command: admins may change everything; users may change their own
    /// name and e-mail. The login moves with the e-mail; a new password or a deactivation ends the
    /// user's sessions.
    pub async fn update_user(&self, actor: Actor, id: UserId, change: UserChange) -> Result<User> {
        if !actor.is_admin && (actor.user != id || change.is_active.is_some() || change.password.is_some()) {
            return Err(if actor.user == id {
                Error::Forbidden("only admins may (de)activate users or set their password".into())
            } else {
                Error::not_found("user", id)
            });
        }
        let mut p = Problems::default();
        if let Some(n) = &change.full_name {
            check_name(&mut p, "full_name", n, 150);
        }
        let email = change.email.as_deref().map(|e| normalized_email(&mut p, e));
        if let Some(pw) = &change.password {
            password_problem(&mut p, "password", pw);
        }
        p.finish(())?;
        let hash = match &change.password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        self.write(actor, async move |cmd| {
            let edit = Edit {
                id,
                full_name: change.full_name.clone(),
                email: email.clone(),
                is_active: change.is_active,
                email_notifications: None,
                hash: hash.clone(),
                keep_session: None,
            };
            edit_user(cmd, edit).await
        })
        .await
    }

    /// Sets a user's password (admin, or the user through [`Self::update_profile`]); the user's
    /// sessions end.
    pub async fn set_password(&self, actor: Actor, id: UserId, password: &str) -> Result<()> {
        let change = UserChange {
            password: Some(password.to_string()),
            ..UserChange::default()
        };
        self.update_user(actor, id, change).await.map(|_| ())
    }

    /// Changes the actor's own profile in one command. A new password needs the current one and ends
    /// every session of the user but `current_session` (the one making the request).
    pub async fn update_profile(
        &self,
        actor: Actor,
        current_session: Option<SessionId>,
        change: ProfileChange,
    ) -> Result<User> {
        let mut p = Problems::default();
        if let Some(n) = &change.full_name {
            check_name(&mut p, "full_name", n, 150);
        }
        if let Some(pw) = &change.new_password {
            password_problem(&mut p, "password", pw);
            if change.current_password.is_none() {
                p.push("current_password", "required to set a new password");
            }
        }
        p.finish(())?;
        let mut expected_hash = None;
        let mut hash = None;
        if let (Some(new), Some(current)) = (&change.new_password, &change.current_password) {
            let user = actor.user;
            let stored = self
                .read(actor, async move |cmd| cmd.tx.credential_of(user).await)
                .await?;
            let stored = stored.map(|c| c.hash);
            if !self.passwords.verify(stored.as_deref(), current).await? {
                return Err(Error::invalid("current_password", "does not match"));
            }
            expected_hash = stored;
            hash = Some(self.passwords.hash(new).await?);
        }
        self.write(actor, async move |cmd| {
            if hash.is_some() {
                let now_hash = cmd.tx.credential_of(actor.user).await?.map(|c| c.hash);
                if now_hash != expected_hash {
                    return Err(Error::conflict(
                        "the password changed meanwhile; check the current password again",
                    ));
                }
            }
            let edit = Edit {
                id: actor.user,
                full_name: change.full_name.clone(),
                email: None,
                is_active: None,
                email_notifications: change.email_notifications,
                hash: hash.clone(),
                keep_session: current_session,
            };
            edit_user(cmd, edit).await
        })
        .await
    }

    /// A page of users (admin only).
    pub async fn list_users(&self, actor: Actor, page: PageRequest) -> Result<Page<User>> {
        require_admin(actor)?;
        self.store.list_users(page).await
    }
}

/// What [`edit_user`] changes.
struct Edit {
    id: UserId,
    full_name: Option<String>,
    email: Option<String>,
    is_active: Option<bool>,
    email_notifications: Option<bool>,
    /// A new password hash.
    hash: Option<String>,
    /// With a new password: the session that stays.
    keep_session: Option<SessionId>,
}

/// Applies a user edit in the caller's unit: profile, login and sessions together.
async fn edit_user(cmd: &mut Cmd<'_>, edit: Edit) -> Result<User> {
    let id = edit.id;
    let mut user = cmd.tx.user(id).await?.ok_or_else(|| Error::not_found("user", id))?;
    let before = json!({"email": user.email, "full_name": user.full_name, "is_active": user.is_active,
        "email_notifications": user.email_notifications});
    if let Some(n) = edit.full_name {
        user.full_name = n.trim().to_string();
    }
    let email_changed = edit.email.as_ref().is_some_and(|e| *e != user.email);
    if let Some(e) = edit.email {
        user.email = e;
    }
    let deactivated = edit.is_active == Some(false) && user.is_active;
    if let Some(a) = edit.is_active {
        user.is_active = a;
    }
    if let Some(on) = edit.email_notifications {
        user.email_notifications = on;
    }
    cmd.tx.update_user(&user).await?;
    let hash = match edit.hash.clone() {
        Some(hash) => Some(hash),
        None if email_changed => cmd.tx.credential_of(id).await?.map(|c| c.hash),
        None => None,
    };
    if let Some(hash) = hash {
        let credential = Credential {
            user: id,
            email: user.email.clone(),
            hash,
        };
        cmd.tx.set_credential(&credential).await?;
    }
    if deactivated || edit.hash.is_some() {
        let keep = if deactivated { None } else { edit.keep_session };
        let ended = cmd
            .tx
            .end_sessions(EndSessions::OfUser { user: id, keep }, cmd.now)
            .await?;
        cmd.ended_sessions(ended);
    }
    let after = json!({
        "email": user.email, "full_name": user.full_name, "is_active": user.is_active,
        "email_notifications": user.email_notifications, "password_changed": edit.hash.is_some(),
    });
    cmd.audit("user.updated", None, None, before, after).await?;
    Ok(user)
}
