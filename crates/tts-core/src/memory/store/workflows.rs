//! [`Workflows`] in memory.

use super::MemoryUnit;
use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::{Error, Result};
use crate::ids::WorkflowId;
use crate::ports::store::Workflows;
use async_trait::async_trait;
use std::sync::Arc;

/// The unique key of a workflow name.
fn name_key(name: &str) -> String {
    crate::domain::matching::normalize(name)
}

impl MemoryUnit {
    fn bump_revision(&mut self) {
        let rev = self.s().workflows_revision + 1;
        self.bump(|s| &mut s.workflows_revision, rev);
    }
}

#[async_trait]
impl Workflows for MemoryUnit {
    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let name = name_key(&w.definition.name);
        if self.s().workflows.contains_key(&w.id) || self.s().workflow_names.contains_key(&name) {
            return Err(Error::conflict(format!(
                "a workflow named {:?} exists",
                w.definition.name
            )));
        }
        self.set(|s| &mut s.workflow_names, name, w.id);
        self.set(|s| &mut s.workflows, w.id, w.clone());
        self.bump_revision();
        Ok(())
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        let Some(old) = self.s().workflows.get(&w.id).cloned() else {
            return Err(Error::not_found("workflow", w.id));
        };
        let (old_name, new_name) = (name_key(&old.definition.name), name_key(&w.definition.name));
        if old_name != new_name {
            if self.s().workflow_names.contains_key(&new_name) {
                return Err(Error::conflict(format!(
                    "a workflow named {:?} exists",
                    w.definition.name
                )));
            }
            self.remove::<_, WorkflowId, _>(|s| &mut s.workflow_names, old_name);
            self.set(|s| &mut s.workflow_names, new_name, w.id);
        }
        self.set(|s| &mut s.workflows, w.id, w.clone());
        self.bump_revision();
        Ok(())
    }

    async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>> {
        Ok(self.s().workflows.get(&id).cloned())
    }

    async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
        let mut all: Vec<Workflow> = self
            .s()
            .workflows
            .values()
            .filter(|w| status.is_none_or(|st| w.status == st))
            .cloned()
            .collect();
        all.sort_by_cached_key(|w| (name_key(&w.definition.name), w.id));
        Ok(all)
    }

    async fn insert_workflow_version(&mut self, w: &Workflow) -> Result<()> {
        if self.s().workflow_versions.contains_key(&(w.id, w.version)) {
            return Err(Error::conflict(format!(
                "workflow {} version {} exists",
                w.id, w.version
            )));
        }
        self.set(|s| &mut s.workflow_versions, (w.id, w.version), Arc::new(w.clone()));
        Ok(())
    }

    async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>> {
        Ok(self.s().workflow_versions.get(&(id, version)).cloned())
    }

    async fn workflows_revision(&mut self) -> Result<u64> {
        Ok(self.s().workflows_revision)
    }
}
