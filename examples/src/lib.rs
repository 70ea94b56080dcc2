//! Shared pieces of the examples: the workflow definitions an application would write for itself.
//!
//! `examples/workflow_check.rs` and `examples/tests/workflow_check.rs` test the same definitions, so they
//! live here once.

use std::fmt::Debug;
use std::str::FromStr;
use tts_core::{AssignmentStrategy, MatchKey, Position, RoleId, Sla, Step, StepId, Transition, WorkflowDefinition};

/// A fixed id, so the definition is the same on every run.
pub fn id<T: FromStr<Err: Debug>>(n: u32) -> T {
    format!("00000000-0000-7000-8000-{n:012}")
        .parse()
        .expect("a valid UUID")
}

/// A one-weight, round-robin step with a fixed id.
pub fn step(n: u32, name: &str, role: RoleId, is_start: bool, is_end: bool) -> Step {
    Step {
        id: id(n),
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: String::new(),
        weight: 1,
        escalate_to: None,
        is_start,
        is_end,
        position: Position::default(),
        strategy: AssignmentStrategy::RoundRobin,
    }
}

/// An action with a fixed id.
pub fn action(n: u32, name: &str, from: StepId, to: Option<StepId>) -> Transition {
    Transition {
        id: id(n),
        name: name.into(),
        from_step: from,
        to_step: to,
    }
}

/// The workflow under test: agents triage and resolve, leads finalize.
pub fn it_support(agents: RoleId, leads: RoleId) -> WorkflowDefinition {
    let (triage, resolve, finalize) = (id(1), id(2), id(3));
    WorkflowDefinition {
        name: "IT Support".into(),
        description: "Everything the IT help desk handles.".into(),
        match_key: MatchKey {
            category: "IT Support".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            critical: Some(4 * 3600),
            high: Some(8 * 3600),
            medium: Some(24 * 3600),
            low: Some(72 * 3600),
        },
        steps: vec![
            step(1, "Triage", agents, true, false),
            step(2, "Resolve", agents, false, false),
            step(3, "Finalize", leads, false, true),
        ],
        transitions: vec![
            action(11, "Accept", triage, Some(resolve)),
            action(12, "Resolve", resolve, Some(finalize)),
            action(13, "Reject", resolve, Some(triage)),
            action(14, "Close", finalize, None),
        ],
    }
}

/// Another team's workflow, so routing has a choice to make.
pub fn facilities(staff: RoleId) -> WorkflowDefinition {
    WorkflowDefinition {
        name: "Facilities".into(),
        description: String::new(),
        match_key: MatchKey {
            category: "Facilities".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla::default(),
        steps: vec![step(21, "Fix", staff, true, true)],
        transitions: vec![action(31, "Done", id(21), None)],
    }
}
