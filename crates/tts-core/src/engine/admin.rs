//! Directory and workflow administration: users, roles, memberships, workflow life cycle, login.

use super::unit::Cmd;
use super::views::{MatchDryRun, NewUser, Session, WorkflowReport};
use super::{Engine, retrying};
use crate::domain::matching::TicketKey;
use crate::domain::user::{Actor, Membership, Role, User};
use crate::domain::validation::{Problem, validate};
use crate::domain::workflow::{Workflow, WorkflowDefinition, WorkflowStatus};
use crate::error::{Error, Problems, Result};
use crate::ids::{RoleId, UserId, WorkflowId};
use crate::ports::store::{Access, Page, PageRequest};
use serde_json::json;
use std::collections::BTreeSet;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 128;

fn require_admin(actor: Actor) -> Result<()> {
    if actor.is_admin {
        Ok(())
    } else {
        Err(Error::Forbidden("this needs the tts:Admin role".into()))
    }
}

/// Checks a password against the policy (length only; composition rules do not help).
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(Error::invalid(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

fn check_email(p: &mut Problems, email: &str) {
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !email.chars().any(char::is_whitespace);
    if !ok {
        p.push("email", "must be a valid e-mail address");
    }
}

fn check_name(p: &mut Problems, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        p.push(field, "must not be empty");
    } else if value.chars().count() > max {
        p.push(field, format!("must be at most {max} characters"));
    }
}

impl Engine {
    /// Creates a user (admin only); with a password the user can log in.
    pub async fn create_user(&self, actor: Actor, new: NewUser) -> Result<User> {
        require_admin(actor)?;
        let email = new.email.trim().to_lowercase();
        let mut p = Problems::default();
        check_email(&mut p, &email);
        check_name(&mut p, "full_name", &new.full_name, 150);
        if let Some(pw) = &new.password
            && let Err(Error::Validation(mut f)) = check_password(pw)
        {
            p.push(
                f.remove(0).field,
                format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            );
        }
        p.finish(())?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let user = User {
            id: cmd.id(),
            email,
            full_name: new.full_name.trim().to_string(),
            is_active: true,
            created_at: cmd.now,
        };
        cmd.tx.insert_user(&user).await?;
        cmd.audit(
            "user.created",
            None,
            None,
            serde_json::Value::Null,
            json!({"user": user.id, "email": user.email}),
        )
        .await?;
        cmd.commit().await?;
        // After the commit: an identity on the same database must not wait on this unit's write lock.
        if let Some(pw) = &new.password {
            self.identity.set_password(user.id, &user.email, pw).await?;
        }
        Ok(user)
    }

    /// Changes a user's name, e-mail or active flag (admin, or the user for name and e-mail).
    pub async fn update_user(
        &self,
        actor: Actor,
        id: UserId,
        full_name: Option<String>,
        email: Option<String>,
        is_active: Option<bool>,
    ) -> Result<User> {
        if !actor.is_admin && (actor.user != id || is_active.is_some()) {
            return Err(if actor.user == id {
                Error::Forbidden("only admins may (de)activate users".into())
            } else {
                Error::not_found("user", id)
            });
        }
        let mut p = Problems::default();
        if let Some(n) = &full_name {
            check_name(&mut p, "full_name", n, 150);
        }
        let email = email.map(|e| e.trim().to_lowercase());
        if let Some(e) = &email {
            check_email(&mut p, e);
        }
        p.finish(())?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let mut user = cmd.tx.user(id).await?.ok_or_else(|| Error::not_found("user", id))?;
        let before = json!({"email": user.email, "full_name": user.full_name, "is_active": user.is_active});
        if let Some(n) = full_name {
            user.full_name = n.trim().to_string();
        }
        if let Some(e) = email {
            user.email = e;
        }
        if let Some(a) = is_active {
            user.is_active = a;
        }
        cmd.tx.update_user(&user).await?;
        cmd.audit(
            "user.updated",
            None,
            None,
            before.clone(),
            json!({"email": user.email, "full_name": user.full_name, "is_active": user.is_active}),
        )
        .await?;
        cmd.commit().await?;
        if before["email"] != user.email.as_str() {
            self.identity.change_email(user.id, &user.email).await?;
        }
        Ok(user)
    }

    /// Sets a user's password (admin, or the user).
    pub async fn set_password(&self, actor: Actor, id: UserId, password: &str) -> Result<()> {
        if !actor.is_admin && actor.user != id {
            return Err(Error::not_found("user", id));
        }
        check_password(password)?;
        let mut cmd = Cmd::open(self, Access::Read, actor.audit_user()).await?;
        let user = cmd.tx.user(id).await?.ok_or_else(|| Error::not_found("user", id))?;
        self.identity.set_password(user.id, &user.email, password).await
    }

    /// Checks a login; inactive users are refused like wrong passwords.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let user_id = self.identity.verify(email, password, self.clock.now()).await?;
        let mut cmd = Cmd::open(self, Access::Read, Some(user_id)).await?;
        let user = cmd
            .tx
            .user(user_id)
            .await?
            .filter(|u| u.is_active)
            .ok_or_else(|| Error::Unauthorized("invalid e-mail or password".into()))?;
        let roles = self.active_roles(&mut cmd, user_id).await?;
        Ok(Session { user, roles })
    }

    /// A user's profile and active roles (to mint tokens or build an [`Actor`]).
    pub async fn session(&self, user: UserId) -> Result<Session> {
        let mut cmd = Cmd::open(self, Access::Read, Some(user)).await?;
        let u = cmd.tx.user(user).await?.ok_or_else(|| Error::not_found("user", user))?;
        let roles = self.active_roles(&mut cmd, user).await?;
        Ok(Session { user: u, roles })
    }

    async fn active_roles(&self, cmd: &mut Cmd<'_>, user: UserId) -> Result<Vec<Role>> {
        let mut roles = Vec::new();
        for m in cmd.tx.user_roles(user).await?.into_iter().filter(|m| m.is_active) {
            if let Some(r) = cmd.tx.role(m.role).await? {
                roles.push(r);
            }
        }
        roles.sort_by(|a, b| (&a.system, &a.name).cmp(&(&b.system, &b.name)));
        Ok(roles)
    }

    /// A page of users (admin only).
    pub async fn list_users(&self, actor: Actor, page: PageRequest) -> Result<Page<User>> {
        require_admin(actor)?;
        Cmd::open(self, Access::Read, None).await?.tx.list_users(page).await
    }

    /// Creates a role `system:name` (admin only).
    pub async fn create_role(&self, actor: Actor, system: &str, name: &str) -> Result<Role> {
        require_admin(actor)?;
        let mut p = Problems::default();
        check_name(&mut p, "system", system, 50);
        check_name(&mut p, "name", name, 150);
        p.finish(())?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let role = Role {
            id: cmd.id(),
            system: system.trim().to_string(),
            name: name.trim().to_string(),
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
        cmd.commit().await?;
        Ok(role)
    }

    /// Every role.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        Cmd::open(self, Access::Read, None).await?.tx.roles().await
    }

    /// The memberships of a role.
    pub async fn role_members(&self, role: RoleId) -> Result<Vec<Membership>> {
        let mut cmd = Cmd::open(self, Access::Read, None).await?;
        cmd.tx.role(role).await?.ok_or_else(|| Error::not_found("role", role))?;
        cmd.tx.role_members(role).await
    }

    /// Grants a role, or changes whether the member takes work (admin only).
    pub async fn set_membership(
        &self,
        actor: Actor,
        role: RoleId,
        user: UserId,
        is_active: bool,
    ) -> Result<Membership> {
        require_admin(actor)?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let m = Membership { role, user, is_active };
        cmd.tx.upsert_membership(m).await?;
        cmd.audit(
            "role.member_set",
            None,
            None,
            serde_json::Value::Null,
            json!({"role": role, "user": user, "is_active": is_active}),
        )
        .await?;
        cmd.commit().await?;
        Ok(m)
    }

    /// Revokes a role (admin only).
    pub async fn remove_membership(&self, actor: Actor, role: RoleId, user: UserId) -> Result<()> {
        require_admin(actor)?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        if !cmd.tx.remove_membership(role, user).await? {
            return Err(Error::not_found("membership", format!("{role}/{user}")));
        }
        cmd.audit(
            "role.member_removed",
            None,
            None,
            json!({"role": role, "user": user}),
            serde_json::Value::Null,
        )
        .await?;
        cmd.commit().await
    }

    /// Creates a draft workflow (admin only). Drafts are never matched; publish to activate.
    pub async fn create_workflow(&self, actor: Actor, def: WorkflowDefinition) -> Result<Workflow> {
        require_admin(actor)?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let w = Workflow {
            id: cmd.id(),
            status: WorkflowStatus::Draft,
            version: 0,
            definition: def,
            created_at: cmd.now,
            updated_at: cmd.now,
        };
        if w.definition.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        cmd.tx.insert_workflow(&w).await?;
        cmd.audit(
            "workflow.created",
            None,
            None,
            serde_json::Value::Null,
            json!({"workflow": w.id, "name": w.definition.name}),
        )
        .await?;
        cmd.commit().await?;
        Ok(w)
    }

    /// Replaces a draft or paused workflow's definition (admin only); running tasks keep their version.
    pub async fn update_workflow(&self, actor: Actor, id: WorkflowId, def: WorkflowDefinition) -> Result<Workflow> {
        require_admin(actor)?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let mut w = cmd
            .tx
            .workflow(id)
            .await?
            .ok_or_else(|| Error::not_found("workflow", id))?;
        if !matches!(w.status, WorkflowStatus::Draft | WorkflowStatus::Paused) {
            return Err(Error::conflict(format!(
                "workflow is {}; pause it before editing",
                w.status
            )));
        }
        w.definition = def;
        w.updated_at = cmd.now;
        cmd.tx.update_workflow(&w).await?;
        cmd.audit(
            "workflow.updated",
            None,
            None,
            serde_json::Value::Null,
            json!({"workflow": w.id}),
        )
        .await?;
        cmd.commit().await?;
        Ok(w)
    }

    /// A workflow's current state.
    pub async fn workflow(&self, id: WorkflowId) -> Result<Workflow> {
        Cmd::open(self, Access::Read, None)
            .await?
            .tx
            .workflow(id)
            .await?
            .ok_or_else(|| Error::not_found("workflow", id))
    }

    /// Workflows, optionally with one status.
    pub async fn workflows(&self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
        Cmd::open(self, Access::Read, None).await?.tx.workflows(status).await
    }

    /// Every problem that would stop publishing, plus roles nobody active holds.
    pub async fn validate_workflow(&self, id: WorkflowId) -> Result<WorkflowReport> {
        let mut cmd = Cmd::open(self, Access::Read, None).await?;
        let w = cmd
            .tx
            .workflow(id)
            .await?
            .ok_or_else(|| Error::not_found("workflow", id))?;
        report(&mut cmd, w).await
    }

    /// Validates and freezes a new version, then activates it (admin only). Refused with every problem.
    pub async fn publish_workflow(&self, actor: Actor, id: WorkflowId) -> Result<Workflow> {
        require_admin(actor)?;
        retrying!(self, self.publish_once(actor, id))
    }

    async fn publish_once(&self, actor: Actor, id: WorkflowId) -> Result<Workflow> {
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let w = cmd
            .tx
            .workflow(id)
            .await?
            .ok_or_else(|| Error::not_found("workflow", id))?;
        if w.status == WorkflowStatus::Archived {
            return Err(Error::conflict("archived workflows cannot be published"));
        }
        let WorkflowReport {
            mut workflow, problems, ..
        } = report(&mut cmd, w).await?;
        if !problems.is_empty() {
            return Err(Error::InvalidWorkflow(problems));
        }
        if workflow.status == WorkflowStatus::Active {
            return Ok(workflow);
        }
        workflow.version += 1;
        workflow.status = WorkflowStatus::Active;
        workflow.updated_at = cmd.now;
        cmd.tx.insert_workflow_version(&workflow).await?;
        cmd.tx.update_workflow(&workflow).await?;
        cmd.audit(
            "workflow.published",
            None,
            None,
            serde_json::Value::Null,
            json!({"workflow": id, "version": workflow.version}),
        )
        .await?;
        cmd.commit().await?;
        Ok(workflow)
    }

    /// Stops matching an active workflow (admin only); running tasks go on.
    pub async fn pause_workflow(&self, actor: Actor, id: WorkflowId) -> Result<Workflow> {
        self.set_workflow_status(actor, id, WorkflowStatus::Paused).await
    }

    /// Retires a workflow for good (admin only); running tasks go on.
    pub async fn archive_workflow(&self, actor: Actor, id: WorkflowId) -> Result<Workflow> {
        self.set_workflow_status(actor, id, WorkflowStatus::Archived).await
    }

    async fn set_workflow_status(&self, actor: Actor, id: WorkflowId, to: WorkflowStatus) -> Result<Workflow> {
        require_admin(actor)?;
        let mut cmd = Cmd::open(self, Access::Write, actor.audit_user()).await?;
        let mut w = cmd
            .tx
            .workflow(id)
            .await?
            .ok_or_else(|| Error::not_found("workflow", id))?;
        let ok = match to {
            WorkflowStatus::Paused => w.status == WorkflowStatus::Active,
            WorkflowStatus::Archived => w.status != WorkflowStatus::Archived,
            _ => false,
        };
        if !ok {
            return Err(Error::IllegalTransition {
                entity: "workflow",
                from: w.status.to_string(),
                to: to.to_string(),
            });
        }
        let from = w.status;
        w.status = to;
        w.updated_at = cmd.now;
        cmd.tx.update_workflow(&w).await?;
        cmd.audit(
            "workflow.status_changed",
            None,
            None,
            json!({"status": from}),
            json!({"workflow": id, "status": to}),
        )
        .await?;
        cmd.commit().await?;
        Ok(w)
    }

    /// Which active workflow would take a ticket with this key, and why (nothing is written).
    pub async fn match_dry_run(&self, key: &TicketKey) -> Result<MatchDryRun> {
        let mut cmd = Cmd::open(self, Access::Read, None).await?;
        let explanation = self.match_index(cmd.tx.as_mut()).await?.explain(key);
        let workflow = match &explanation.decision {
            Some(m) => cmd.tx.workflow(m.workflow).await?,
            None => None,
        };
        Ok(MatchDryRun { explanation, workflow })
    }
}

async fn report(cmd: &mut Cmd<'_>, w: Workflow) -> Result<WorkflowReport> {
    let def = &w.definition;
    let mut problems = validate(def);
    let mut empty_roles = BTreeSet::new();
    for step in &def.steps {
        for role in std::iter::once(step.role_id).chain(step.escalate_to) {
            if cmd.tx.role(role).await?.is_none() {
                problems.push(Problem::UnknownRole { step: step.id, role });
            } else if !cmd.tx.candidates(role, false).await?.iter().any(|c| c.active) {
                empty_roles.insert(role);
            }
        }
    }
    let key = |k: &crate::domain::workflow::MatchKey| {
        use crate::domain::matching::normalize;
        let n = |o: &Option<String>| o.as_deref().map(normalize).filter(|s| !s.is_empty());
        (normalize(&k.category), n(&k.subcategory), n(&k.department), k.priority)
    };
    for other in cmd.tx.workflows(Some(WorkflowStatus::Active)).await? {
        if other.id == w.id {
            continue;
        }
        if key(&other.definition.match_key) == key(&def.match_key) || (def.is_default && other.definition.is_default) {
            problems.push(Problem::DuplicateMatchKey {
                other: other.definition.name.clone(),
            });
        }
    }
    Ok(WorkflowReport {
        workflow: w,
        problems,
        roles_without_active_users: empty_roles.into_iter().collect(),
    })
}
