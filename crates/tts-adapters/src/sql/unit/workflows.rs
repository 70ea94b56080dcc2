//! [`Workflows`] in SQL: `workflows` (current state), `workflow_versions` (frozen, cached by the
//! store once committed) and the `workflows_revision` counter.

use super::{Deferred, Expect, SqlUnit, name_key};
use crate::sql::values::Arg;
use async_trait::async_trait;
use std::sync::Arc;
use tts_core::ports::Workflows;
use tts_core::{Result, Workflow, WorkflowId, WorkflowStatus};

impl SqlUnit {
    /// Moves the revision counter with the unit's other writes, and forgets the revision seen.
    async fn bump_workflows_revision(&mut self) -> Result<()> {
        self.revision_seen = None;
        self.defer(Deferred::any(
            "INSERT INTO counters (name, value) VALUES ('workflows_revision', 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
            vec![],
            Some("counters:workflows_revision".into()),
        ))
        .await
    }
}

#[async_trait]
impl Workflows for SqlUnit {
    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let data = self.json(w)?;
        self.defer(Deferred::any(
            "INSERT INTO workflows (id, name_key, status, data) VALUES ($1, $2, $3, $4)",
            vec![
                Arg::Uuid(w.id.0),
                Arg::Text(name_key(&w.definition.name)),
                Arg::Text(w.status.as_str().into()),
                data,
            ],
            Some(format!("workflows:{}", w.id.0)),
        ))
        .await?;
        self.bump_workflows_revision().await
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        let data = self.json(w)?;
        self.defer(Deferred {
            sql: "UPDATE workflows SET name_key = $2, status = $3, data = $4 WHERE id = $1".into(),
            args: vec![
                Arg::Uuid(w.id.0),
                Arg::Text(name_key(&w.definition.name)),
                Arg::Text(w.status.as_str().into()),
                data,
            ],
            expect: Expect::Found {
                entity: "workflow",
                shown: w.id.to_string(),
            },
            row: Some(format!("workflows:{}", w.id.0)),
        })
        .await?;
        self.bump_workflows_revision().await
    }

    async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>> {
        let sql = format!("SELECT data FROM workflows WHERE id = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::Uuid(id.0)]).await
    }

    async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
        match status {
            Some(s) => {
                let sql = "SELECT data FROM workflows WHERE status = $1 ORDER BY name_key, id";
                self.all_docs(sql, vec![Arg::Text(s.as_str().into())]).await
            }
            None => {
                self.all_docs("SELECT data FROM workflows ORDER BY name_key, id", vec![])
                    .await
            }
        }
    }

    async fn insert_workflow_version(&mut self, w: &Workflow) -> Result<()> {
        let data = self.json(w)?;
        self.defer(Deferred::any(
            "INSERT INTO workflow_versions (workflow_id, version, data) VALUES ($1, $2, $3)",
            vec![Arg::Uuid(w.id.0), Arg::I64(i64::from(w.version)), data],
            Some(format!("workflow_versions:{}:{}", w.id.0, w.version)),
        ))
        .await?;
        self.fresh_versions.insert((w.id, w.version));
        Ok(())
    }

    async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>> {
        if let Some(w) = self.versions.get((id, version)) {
            return Ok(Some(w));
        }
        let sql = "SELECT data FROM workflow_versions WHERE workflow_id = $1 AND version = $2";
        let found: Option<Workflow> = self
            .one_doc(sql, vec![Arg::Uuid(id.0), Arg::I64(i64::from(version))])
            .await?;
        let found = found.map(Arc::new);
        // A version this unit froze may still roll back: cached only when read by a later unit.
        if let Some(w) = &found
            && !self.fresh_versions.contains(&(id, version))
        {
            self.versions.put((id, version), Arc::clone(w));
        }
        Ok(found)
    }

    async fn workflows_revision(&mut self) -> Result<u64> {
        if let Some(revision) = self.revision_seen {
            return Ok(revision);
        }
        let sql = "SELECT value FROM counters WHERE name = 'workflows_revision'";
        let v = self.fetch_optional(sql, vec![], |r| r.i64(0)).await?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }
}
