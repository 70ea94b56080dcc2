//! Reports for admins (everything) and agents (their own figures), named for reading: workflows,
//! steps and agents get their names beside their ids. The figures come from the store's
//! [`crate::ports::Reports`], without a unit; the names from one read unit.

use super::Engine;
use crate::domain::report::{AgentFigures, ReportQuery, SlaReport, StepFigures, TicketReport, UnroutableReport};
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::{StepId, WorkflowId};
use std::collections::{BTreeSet, HashMap};

/// The query as `actor` may run it: admins as asked; agents about themselves only; others not at all.
fn scoped(actor: Actor, mut query: ReportQuery) -> Result<ReportQuery> {
    if actor.is_admin {
        return Ok(query);
    }
    if !actor.is_agent {
        return Err(Error::Forbidden("reports are for agents and admins".into()));
    }
    match query.filter.agent {
        Some(other) if other != actor.user => Err(Error::Forbidden("agents see their own figures only".into())),
        _ => {
            query.filter.agent = Some(actor.user);
            Ok(query)
        }
    }
}

impl Engine {
    /// Tickets created, resolved and ended per bucket, the backlog, and the range's tickets by status,
    /// priority, category and workflow. Agents get the tickets they hold or held an assignment on.
    pub async fn ticket_report(&self, actor: Actor, query: ReportQuery) -> Result<TicketReport> {
        let mut report = self.store.ticket_report(&scoped(actor, query)?).await?;
        let ids: BTreeSet<WorkflowId> = report.by_workflow.iter().filter_map(|c| c.key.parse().ok()).collect();
        let names = self.workflow_names(actor, &ids).await?;
        for c in &mut report.by_workflow {
            c.name = c.key.parse().ok().and_then(|id| names.get(&id).cloned());
        }
        Ok(report)
    }

    /// SLA outcomes of the assignments due in the range, per bucket, workflow and step.
    pub async fn sla_report(&self, actor: Actor, query: ReportQuery) -> Result<SlaReport> {
        let mut report = self.store.sla_report(&scoped(actor, query)?).await?;
        let ids: BTreeSet<WorkflowId> = report.per_workflow.iter().map(|w| w.workflow).collect();
        let names = self.workflow_names(actor, &ids).await?;
        for w in &mut report.per_workflow {
            w.workflow_name = names.get(&w.workflow).cloned();
        }
        let keys: Vec<_> = report
            .per_step
            .iter()
            .map(|s| (s.workflow, s.workflow_version, s.step))
            .collect();
        let steps = self.step_names(actor, keys).await?;
        for s in &mut report.per_step {
            s.step_name = steps.get(&(s.workflow, s.workflow_version, s.step)).cloned();
        }
        Ok(report)
    }

    /// Per agent: open work, actions and their speed, escalations and transfers. An agent gets their
    /// own row only.
    pub async fn agent_report(&self, actor: Actor, query: ReportQuery) -> Result<Vec<AgentFigures>> {
        let mut rows = self.store.agent_report(&scoped(actor, query)?).await?;
        let users: Vec<_> = rows.iter().map(|r| r.user).collect();
        let names = self.display_names(&users).await?;
        for r in &mut rows {
            r.name = names.get(&r.user).cloned();
        }
        Ok(rows)
    }

    /// Time spent per step of each workflow version. An agent gets their own turns only.
    pub async fn step_report(&self, actor: Actor, query: ReportQuery) -> Result<Vec<StepFigures>> {
        let mut rows = self.store.step_report(&scoped(actor, query)?).await?;
        let keys: Vec<_> = rows.iter().map(|s| (s.workflow, s.workflow_version, s.step)).collect();
        let steps = self.step_names(actor, keys).await?;
        for s in &mut rows {
            s.step_name = steps.get(&(s.workflow, s.workflow_version, s.step)).cloned();
        }
        Ok(rows)
    }

    /// Tickets created in the range that wait without a task (admins only: nobody else owns them).
    pub async fn unroutable_report(&self, actor: Actor, query: ReportQuery) -> Result<UnroutableReport> {
        super::users::require_admin(actor)?;
        self.store.unroutable_report(&query).await
    }

    async fn workflow_names(&self, actor: Actor, ids: &BTreeSet<WorkflowId>) -> Result<HashMap<WorkflowId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = ids.clone();
        self.read(actor, async move |cmd| {
            let mut names = HashMap::new();
            for &id in &ids {
                if let Some(w) = cmd.tx.workflow(id).await? {
                    names.insert(id, w.definition.name);
                }
            }
            Ok(names)
        })
        .await
    }

    async fn step_names(
        &self,
        actor: Actor,
        keys: Vec<(WorkflowId, u32, StepId)>,
    ) -> Result<HashMap<(WorkflowId, u32, StepId), String>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.read(actor, async move |cmd| {
            let mut names = HashMap::new();
            let versions: BTreeSet<(WorkflowId, u32)> = keys.iter().map(|&(w, v, _)| (w, v)).collect();
            for (w, v) in versions {
                let Some(flow) = cmd.tx.workflow_version(w, v).await? else {
                    continue;
                };
                for &(_, _, step) in keys.iter().filter(|k| (k.0, k.1) == (w, v)) {
                    if let Some(s) = flow.definition.step(step) {
                        names.insert((w, v, step), s.name.clone());
                    }
                }
            }
            Ok(names)
        })
        .await
    }
}
