//! Workflow definitions and their frozen, published versions.

use crate::domain::workflow::{Workflow, WorkflowStatus};
use crate::error::Result;
use crate::ids::WorkflowId;
use async_trait::async_trait;
use std::sync::Arc;

/// Workflows.
///
/// Contract (checked by `tts_core::testkit::store::workflows`):
/// - workflow names are unique (case- and space-insensitive): a second one is a conflict;
/// - `update_workflow` of a missing workflow is "not found";
/// - a version, once inserted, never changes: inserting `(id, version)` twice is a conflict, and
///   `workflow_version` returns it as inserted (stores may cache versions, hence `Arc`);
/// - `workflows_revision` changes whenever a workflow is inserted or updated, in the writing unit and
///   for everyone after its commit (the engine caches its match index by it); a dropped unit leaves it
///   as committed, so a number may come back for another state: never cache anything keyed by a
///   revision the same unit moved;
/// - `workflow` locks the row in a write unit.
#[async_trait]
pub trait Workflows: Send {
    /// Inserts a workflow.
    async fn insert_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    /// Replaces a workflow's current state.
    async fn update_workflow(&mut self, workflow: &Workflow) -> Result<()>;
    /// A workflow's current state.
    async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>>;
    /// Workflows, optionally only those with one status, ordered by name.
    async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>>;
    /// Freezes a published version.
    async fn insert_workflow_version(&mut self, workflow: &Workflow) -> Result<()>;
    /// A frozen version.
    async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>>;
    /// A counter that moves whenever any workflow is inserted or updated.
    async fn workflows_revision(&mut self) -> Result<u64>;
}
