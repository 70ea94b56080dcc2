//! Where a task is on its workflow's diagram: the current step, the steps it went through and the
//! actions it took between them, read from the task's assignments (its step history), never from the
//! order of the steps in the definition.
//!
//! How the core records the path: a task starts with a `system` assignment on the start step, and
//! every action that moves it on closes the holder's assignment and opens a `system` assignment on
//! the next step (also when the action loops back to the same step). Transfers and escalations add
//! `transferred` / `escalated` assignments on the *same* step. So the `system` assignments, oldest
//! first, are the steps the task went through, and consecutive ones are the actions it took.

use serde::Serialize;
use std::collections::BTreeSet;
use tts_core::{Assignment, Origin, StepId, Task, TaskId, WorkflowDefinition};
use utoipa::ToSchema;

/// How a step of the diagram stands for one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Work is here now (open tasks only).
    Current,
    /// The task was here (someone had a turn on it) and moved on, or finished here.
    Visited,
    /// The task has not been here.
    Pending,
}

impl StepState {
    /// The wire name, also the SVG class.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Current => "current",
            StepState::Visited => "visited",
            StepState::Pending => "pending",
        }
    }
}

/// One step's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepMark {
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: StepId,
    /// Its state for the task.
    pub state: StepState,
}

/// A move the task made from one step to the next (the same step when an action looped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Traversal {
    /// The step it left.
    #[schema(value_type = String, format = Uuid)]
    pub from_step: StepId,
    /// The step it went to.
    #[schema(value_type = String, format = Uuid)]
    pub to_step: StepId,
}

/// A task's progress over its workflow's steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Marks {
    /// The task.
    #[schema(value_type = String, format = Uuid)]
    pub task_id: TaskId,
    /// Every step of the definition, in definition order, with its state; exactly one is `current`
    /// while the task is open, none once it completed or was cancelled.
    pub steps: Vec<StepMark>,
    /// The moves the task made, each once, in the order first made. The history names steps, not
    /// actions: when two actions join the same two steps, both arrows count as traversed.
    pub traversed: Vec<Traversal>,
}

impl Marks {
    /// The state of `step` (`pending` for a step the definition does not have).
    pub fn state(&self, step: StepId) -> StepState {
        self.steps
            .iter()
            .find(|m| m.step_id == step)
            .map_or(StepState::Pending, |m| m.state)
    }

    /// Whether the task moved from `from` to `to`.
    pub fn is_traversed(&self, from: StepId, to: StepId) -> bool {
        self.traversed.contains(&Traversal {
            from_step: from,
            to_step: to,
        })
    }
}

/// The marks of `task` on `definition` (the version the task is pinned to), from the task's
/// `assignments` (as the engine reads them, oldest first; they are sorted by assignment time again,
/// keeping that order among equal times; other tasks' assignments are ignored).
pub fn marks(definition: &WorkflowDefinition, task: &Task, assignments: &[Assignment]) -> Marks {
    let mut history: Vec<&Assignment> = assignments.iter().filter(|a| a.task == task.id).collect();
    // Oldest first; a stable sort keeps the store's order (oldest first too) among equal times.
    history.sort_by_key(|a| a.assigned_at);
    let visited: BTreeSet<StepId> = history.iter().map(|a| a.step).collect();
    let path: Vec<StepId> = history
        .iter()
        .filter(|a| a.origin == Origin::System)
        .map(|a| a.step)
        .collect();
    let mut traversed = Vec::new();
    for pair in path.windows(2) {
        let t = Traversal {
            from_step: pair[0],
            to_step: pair[1],
        };
        if !traversed.contains(&t) {
            traversed.push(t);
        }
    }
    let current = (!task.status.is_closed()).then_some(task.current_step);
    let mut seen = BTreeSet::new();
    let steps = definition
        .steps
        .iter()
        .filter(|s| seen.insert(s.id))
        .map(|s| StepMark {
            step_id: s.id,
            state: if current == Some(s.id) {
                StepState::Current
            } else if visited.contains(&s.id) || s.id == task.current_step {
                StepState::Visited
            } else {
                StepState::Pending
            },
        })
        .collect();
    Marks {
        task_id: task.id,
        steps,
        traversed,
    }
}
