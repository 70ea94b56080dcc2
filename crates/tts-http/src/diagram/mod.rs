//! The workflow diagram: a pure layout ([`layout()`], dagre behind our own types), a task's progress
//! over it ([`marks()`], from the task's step history) and a pure SVG writer ([`svg()`]).
//!
//! The layout and the marks are served as JSON by `GET /workflows/{id}/diagram/` ([`Diagram`]), so a
//! client can draw them its own way; the web UI inlines [`svg()`]'s output. All three functions are
//! pure: the same input always gives the same output, which the tests below check on generated
//! workflows (with and without cycles).

pub mod layout;
pub mod marks;
pub mod svg;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use layout::{EdgePath, Layout, NodeBox, Point, layout};
pub use marks::{Marks, StepMark, StepState, Traversal, marks};
pub use svg::{svg, svg_inline};

use serde::Serialize;
use std::collections::BTreeMap;
use tts_core::ports::UnitOptions;
use tts_core::{Actor, Engine, Error, TaskId, Workflow, WorkflowId};
use utoipa::ToSchema;

/// A workflow's diagram, optionally with one task's progress on it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Diagram {
    /// The workflow.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: WorkflowId,
    /// The version drawn: the workflow's current definition, or with a task the version the task is
    /// pinned to (0 for a never-published draft).
    pub version: u32,
    /// Boxes and arrows, top to bottom from the start step.
    pub layout: Layout,
    /// With `?task=`: the state of every step for that task and the moves it made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marks: Option<Marks>,
}

/// The diagram of `workflow` as `actor` may see it: with `task`, that task (which the actor must be
/// allowed to read, as `GET /tasks/{id}/`, and which must run on this workflow; otherwise it is not
/// found) is marked on the version it is pinned to.
pub async fn diagram(
    engine: &Engine,
    actor: Actor,
    workflow: Workflow,
    task: Option<TaskId>,
) -> tts_core::Result<Diagram> {
    let roles: BTreeMap<_, _> = engine.roles().await?.into_iter().map(|r| (r.id, r.name)).collect();
    let Some(task_id) = task else {
        return Ok(Diagram {
            workflow_id: workflow.id,
            version: workflow.version,
            layout: layout(&workflow.definition, &roles),
            marks: None,
        });
    };
    let view = engine.task(actor, task_id).await?;
    if view.task.workflow_id != workflow.id {
        return Err(Error::not_found("task", task_id));
    }
    // The engine read above has checked the actor may see the task; the version it is pinned to is
    // frozen (published versions never change), so reading it directly needs no further check.
    let pinned = {
        let mut unit = engine.store().begin(UnitOptions::read()).await?;
        unit.workflow_version(workflow.id, view.task.workflow_version).await?
    };
    let definition = match &pinned {
        Some(w) => &w.definition,
        None => &workflow.definition,
    };
    Ok(Diagram {
        workflow_id: workflow.id,
        version: view.task.workflow_version,
        layout: layout(definition, &roles),
        marks: Some(marks(definition, &view.task, &view.assignments)),
    })
}
