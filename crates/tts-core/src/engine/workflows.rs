//! Workflow life cycle: drafts, edits, validation, publishing (freezing a version), pausing and
//! archiving through the status table in the domain, and matching dry runs.

use super::Engine;
use super::command::Cmd;
use super::users::require_admin;
use super::views::{MatchDryRun, WorkflowReport};
use crate::domain::matching::TicketKey;
use crate::domain::user::Actor;
use crate::domain::validation::{Problem, validate};
use crate::domain::workflow::{Workflow, WorkflowDefinition, WorkflowStatus};
use crate::error::{Error, Result};
use crate::ids::WorkflowId;
use serde_json::json;
use std::collections::BTreeSet;

impl Engine {
    /// Creates a draft workflow (admin only). Drafts are never matched; publish to activate.
    pub async fn create_workflow(&self, actor: Actor, def: WorkflowDefinition) -> Result<Workflow> {
        require_admin(actor)?;
        if def.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        self.write(actor, async move |cmd| {
            let w = Workflow {
                id: cmd.id(),
                status: WorkflowStatus::Draft,
                version: 0,
                definition: def.clone(),
                created_at: cmd.now,
                updated_at: cmd.now,
            };
            cmd.tx.insert_workflow(&w).await?;
            cmd.audit(
                "workflow.created",
                None,
                None,
                serde_json::Value::Null,
                json!({"workflow": w.id, "name": w.definition.name}),
            )
            .await?;
            Ok(w)
        })
        .await
    }

    /// Replaces a draft or paused workflow's definition (admin only); running tasks keep their version.
    pub async fn update_workflow(&self, actor: Actor, id: WorkflowId, def: WorkflowDefinition) -> Result<Workflow> {
        require_admin(actor)?;
        self.write(actor, async move |cmd| {
            let mut w = load(cmd, id).await?;
            if !w.status.is_editable() {
                return Err(Error::conflict(format!(
                    "workflow is {}; pause it before editing",
                    w.status
                )));
            }
            w.definition = def.clone();
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
            Ok(w)
        })
        .await
    }

    /// A workflow's current state.
    pub async fn workflow(&self, id: WorkflowId) -> Result<Workflow> {
        self.read(Actor::system(), async move |cmd| load(cmd, id).await).await
    }

    /// Workflows, optionally with one status, ordered by name.
    pub async fn workflows(&self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
        self.read(Actor::system(), async move |cmd| cmd.tx.workflows(status).await)
            .await
    }

    /// Every problem that would stop publishing, plus roles nobody active holds.
    pub async fn validate_workflow(&self, id: WorkflowId) -> Result<WorkflowReport> {
        self.read(Actor::system(), async move |cmd| {
            let w = load(cmd, id).await?;
            report(cmd, w).await
        })
        .await
    }

    /// Validates and freezes a new version, then activates it (admin only). Refused with every problem.
    /// Publishing an active workflow changes nothing.
    pub async fn publish_workflow(&self, actor: Actor, id: WorkflowId) -> Result<Workflow> {
        require_admin(actor)?;
        self.write(actor, async move |cmd| {
            let w = load(cmd, id).await?;
            if w.status == WorkflowStatus::Active {
                return Ok(w);
            }
            check_move(&w, WorkflowStatus::Active)?;
            let WorkflowReport {
                mut workflow, problems, ..
            } = report(cmd, w).await?;
            if !problems.is_empty() {
                return Err(Error::InvalidWorkflow(problems));
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
            Ok(workflow)
        })
        .await
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
        self.write(actor, async move |cmd| {
            let mut w = load(cmd, id).await?;
            check_move(&w, to)?;
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
            Ok(w)
        })
        .await
    }

    /// Which active workflow would take a ticket with this key, and why (nothing is written).
    pub async fn match_dry_run(&self, key: &TicketKey) -> Result<MatchDryRun> {
        let key = key.clone();
        self.read(Actor::system(), async move |cmd| {
            let explanation = cmd.engine.match_index(cmd.tx.as_mut()).await?.explain(&key);
            let workflow = match &explanation.decision {
                Some(m) => cmd.tx.workflow(m.workflow).await?,
                None => None,
            };
            Ok(MatchDryRun { explanation, workflow })
        })
        .await
    }
}

async fn load(cmd: &mut Cmd<'_>, id: WorkflowId) -> Result<Workflow> {
    cmd.tx
        .workflow(id)
        .await?
        .ok_or_else(|| Error::not_found("workflow", id))
}

/// Refuses a move the workflow status table does not allow.
fn check_move(w: &Workflow, to: WorkflowStatus) -> Result<()> {
    if w.status.can_move_to(to) {
        Ok(())
    } else {
        Err(Error::IllegalTransition {
            entity: "workflow",
            from: w.status.to_string(),
            to: to.to_string(),
        })
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
