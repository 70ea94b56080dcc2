//! Validation of workflow definitions: every problem, each naming the step or transition at fault.

use super::priority::Priority;
use super::workflow::WorkflowDefinition;
use crate::ids::{ActionId, RoleId, StepId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// One rule a workflow definition breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// The name is blank.
    EmptyName,
    /// The match key has no category.
    EmptyCategory,
    /// There are no steps.
    NoSteps,
    /// No step is marked `is_start`.
    NoStartStep,
    /// More than one step is marked `is_start`.
    MultipleStartSteps {
        /// The marked steps.
        steps: Vec<StepId>,
    },
    /// Two steps share an id.
    DuplicateStepId {
        /// The repeated id.
        step: StepId,
    },
    /// Two transitions share an id.
    DuplicateActionId {
        /// The repeated id.
        transition: ActionId,
    },
    /// A step has a blank name.
    EmptyStepName {
        /// The step.
        step: StepId,
    },
    /// A transition refers to a step that is not in the workflow.
    UnknownStep {
        /// The transition.
        transition: ActionId,
        /// The missing step.
        step: StepId,
    },
    /// A transition leads from a step back to itself.
    SelfLoop {
        /// The transition.
        transition: ActionId,
    },
    /// A transition has a blank name.
    EmptyActionName {
        /// The transition.
        transition: ActionId,
    },
    /// Two actions leaving one step have the same name (case-insensitive).
    DuplicateActionName {
        /// The step.
        step: StepId,
        /// The repeated name.
        name: String,
    },
    /// The step cannot be reached from the start step.
    Unreachable {
        /// The step.
        step: StepId,
    },
    /// The step has no action at all: work would stop there.
    DeadEnd {
        /// The step.
        step: StepId,
    },
    /// The step has actions, but none of its paths ever completes (an exit-less cycle).
    CannotComplete {
        /// The step.
        step: StepId,
    },
    /// `is_end` is set on a step without a completing action, or missing on one with it.
    EndFlagMismatch {
        /// The step.
        step: StepId,
    },
    /// A step weight is zero.
    NonPositiveWeight {
        /// The step.
        step: StepId,
    },
    /// An SLA target is zero.
    NonPositiveSla {
        /// The priority.
        priority: Priority,
    },
    /// A more urgent priority has an SLA target not shorter than a less urgent one.
    SlaOrder {
        /// The more urgent priority.
        higher: Priority,
        /// The less urgent priority.
        lower: Priority,
    },
    /// A step's role (or escalation role) does not exist.
    UnknownRole {
        /// The step.
        step: StepId,
        /// The missing role.
        role: RoleId,
    },
    /// Another active workflow already has the same match key (or is the default).
    DuplicateMatchKey {
        /// The other workflow's name.
        other: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptyName => write!(f, "the workflow name is empty"),
            Problem::EmptyCategory => write!(f, "the match key has no category"),
            Problem::NoSteps => write!(f, "the workflow has no steps"),
            Problem::NoStartStep => write!(f, "no step is marked as the start step"),
            Problem::MultipleStartSteps { steps } => {
                write!(f, "{} steps are marked as start steps", steps.len())
            }
            Problem::DuplicateStepId { step } => write!(f, "step id {step} is used twice"),
            Problem::DuplicateActionId { transition } => {
                write!(f, "transition id {transition} is used twice")
            }
            Problem::EmptyStepName { step } => write!(f, "step {step} has no name"),
            Problem::UnknownStep { transition, step } => {
                write!(f, "transition {transition} refers to unknown step {step}")
            }
            Problem::SelfLoop { transition } => {
                write!(f, "transition {transition} leads back to its own step")
            }
            Problem::EmptyActionName { transition } => {
                write!(f, "transition {transition} has no name")
            }
            Problem::DuplicateActionName { step, name } => {
                write!(f, "step {step} has two actions named {name:?}")
            }
            Problem::Unreachable { step } => {
                write!(f, "step {step} cannot be reached from the start step")
            }
            Problem::DeadEnd { step } => {
                write!(f, "step {step} has no action, so work would stop there")
            }
            Problem::CannotComplete { step } => {
                write!(f, "no path from step {step} ever completes the task")
            }
            Problem::EndFlagMismatch { step } => {
                write!(
                    f,
                    "step {step}: is_end must be set exactly when the step has a completing action"
                )
            }
            Problem::NonPositiveWeight { step } => {
                write!(f, "step {step} has weight 0; weights must be > 0")
            }
            Problem::NonPositiveSla { priority } => write!(f, "the {priority} SLA must be > 0"),
            Problem::SlaOrder { higher, lower } => {
                write!(f, "the {higher} SLA must be shorter than the {lower} SLA")
            }
            Problem::UnknownRole { step, role } => {
                write!(f, "step {step} refers to unknown role {role}")
            }
            Problem::DuplicateMatchKey { other } => {
                write!(f, "active workflow {other:?} already takes these tickets")
            }
        }
    }
}

/// Checks a definition's own rules (graph, names, weights, SLA) and returns every problem found.
///
/// Rules that need the store (roles exist, match key unique among active workflows) are checked by the
/// engine when publishing. An empty result means the definition can be published.
pub fn validate(def: &WorkflowDefinition) -> Vec<Problem> {
    let mut problems = Vec::new();
    if def.name.trim().is_empty() {
        problems.push(Problem::EmptyName);
    }
    if def.match_key.category.trim().is_empty() {
        problems.push(Problem::EmptyCategory);
    }
    check_sla(def, &mut problems);
    if def.steps.is_empty() {
        problems.push(Problem::NoSteps);
        return problems;
    }
    let mut seen = HashSet::new();
    for s in &def.steps {
        if !seen.insert(s.id) {
            problems.push(Problem::DuplicateStepId { step: s.id });
        }
        if s.name.trim().is_empty() {
            problems.push(Problem::EmptyStepName { step: s.id });
        }
        if s.weight == 0 {
            problems.push(Problem::NonPositiveWeight { step: s.id });
        }
    }
    let starts: Vec<StepId> = def.steps.iter().filter(|s| s.is_start).map(|s| s.id).collect();
    match starts.len() {
        0 => problems.push(Problem::NoStartStep),
        1 => {}
        _ => problems.push(Problem::MultipleStartSteps { steps: starts.clone() }),
    }
    let graph = check_transitions(def, &seen, &mut problems);
    if let [start] = starts[..] {
        let reached = closure([start], &graph.forward);
        for s in &def.steps {
            if !reached.contains(&s.id) {
                problems.push(Problem::Unreachable { step: s.id });
            }
        }
    }
    let completes = closure(graph.completing.iter().copied(), &graph.backward);
    for s in &def.steps {
        if !completes.contains(&s.id) {
            let has_exit = graph.forward.get(&s.id).is_some_and(|v| !v.is_empty()) || graph.completing.contains(&s.id);
            problems.push(if has_exit {
                Problem::CannotComplete { step: s.id }
            } else {
                Problem::DeadEnd { step: s.id }
            });
        }
        if s.is_end != graph.completing.contains(&s.id) {
            problems.push(Problem::EndFlagMismatch { step: s.id });
        }
    }
    problems
}

struct Graph {
    forward: HashMap<StepId, Vec<StepId>>,
    backward: HashMap<StepId, Vec<StepId>>,
    completing: HashSet<StepId>,
}

fn check_transitions(def: &WorkflowDefinition, steps: &HashSet<StepId>, problems: &mut Vec<Problem>) -> Graph {
    let mut graph = Graph {
        forward: HashMap::new(),
        backward: HashMap::new(),
        completing: HashSet::new(),
    };
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for t in &def.transitions {
        if !ids.insert(t.id) {
            problems.push(Problem::DuplicateActionId { transition: t.id });
        }
        let name = t.name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        if name.is_empty() {
            problems.push(Problem::EmptyActionName { transition: t.id });
        } else if !names.insert((t.from_step, name)) {
            problems.push(Problem::DuplicateActionName {
                step: t.from_step,
                name: t.name.trim().to_string(),
            });
        }
        let mut known = true;
        for step in std::iter::once(t.from_step).chain(t.to_step) {
            if !steps.contains(&step) {
                problems.push(Problem::UnknownStep { transition: t.id, step });
                known = false;
            }
        }
        if t.to_step == Some(t.from_step) {
            problems.push(Problem::SelfLoop { transition: t.id });
            continue;
        }
        if !known {
            continue;
        }
        match t.to_step {
            None => {
                graph.completing.insert(t.from_step);
            }
            Some(to) => {
                graph.forward.entry(t.from_step).or_default().push(to);
                graph.backward.entry(to).or_default().push(t.from_step);
            }
        }
    }
    graph
}

fn closure(seeds: impl IntoIterator<Item = StepId>, edges: &HashMap<StepId, Vec<StepId>>) -> HashSet<StepId> {
    let mut seen: HashSet<StepId> = HashSet::new();
    let mut stack: Vec<StepId> = seeds.into_iter().collect();
    while let Some(s) = stack.pop() {
        if seen.insert(s) {
            stack.extend(edges.get(&s).into_iter().flatten().copied());
        }
    }
    seen
}

fn check_sla(def: &WorkflowDefinition, problems: &mut Vec<Problem>) {
    let set: Vec<(Priority, u64)> = Priority::ALL
        .iter()
        .rev()
        .filter_map(|&p| def.sla.for_priority(p).map(|v| (p, v)))
        .collect();
    for &(p, v) in &set {
        if v == 0 {
            problems.push(Problem::NonPositiveSla { priority: p });
        }
    }
    for pair in set.windows(2) {
        let ((higher, hv), (lower, lv)) = (pair[0], pair[1]);
        if hv >= lv {
            problems.push(Problem::SlaOrder { higher, lower });
        }
    }
}
