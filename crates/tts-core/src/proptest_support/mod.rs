//! Property testing for *your* workflows (feature `proptest`).
//!
//! An application embedding TTS defines its own workflows: which tickets each takes (the match key) and
//! which steps and actions move the work on. This module lets the application's test suite check those
//! definitions the way TTS checks itself:
//!
//! - [`check_workflow`] takes many random walks through a definition (seeded, so a run is repeatable) and
//!   reports what could go wrong: [`validate`](crate::validate) problems, steps a task can reach but never
//!   complete from, unreachable steps, actions no walk ever offered, and the longest and shortest way to
//!   completion. [`CheckReport::is_ok`] is the one-line assertion; its `Display` is a readable summary.
//! - [`strategies`] holds [proptest] strategies over your definitions: tickets your active workflows
//!   take ([`tickets_hitting`]) or none of them takes ([`tickets_missing`]), walks through a workflow
//!   ([`random_walk`]) and role memberships where every role has someone to assign
//!   ([`role_memberships`]).
//!
//! Enable it in the application's dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! tts-core = { version = "0.1", features = ["proptest"] }
//! proptest = "1"
//! ```
//!
//! and test your definitions:
//!
//! ```
//! use proptest::prelude::*;
//! use tts_core::proptest_support::{CheckConfig, check_workflow, random_walk, tickets_hitting, ticket_key};
//! use tts_core::{MatchIndex, MatchKey, Step, Transition, Workflow, WorkflowDefinition, WorkflowStatus};
//! use uuid::Uuid;
//!
//! fn my_workflow() -> WorkflowDefinition {
//!     let (triage, resolve) = (tts_core::StepId(Uuid::from_u128(1)), tts_core::StepId(Uuid::from_u128(2)));
//!     let role = tts_core::RoleId(Uuid::from_u128(10));
//!     let step = |id, name: &str, is_start, is_end| Step {
//!         id, name: name.into(), role_id: role, description: String::new(), instruction: String::new(),
//!         weight: 1, escalate_to: None, is_start, is_end, position: Default::default(), strategy: Default::default(),
//!     };
//!     let action = |n, name: &str, from_step, to_step| Transition {
//!         id: tts_core::ActionId(Uuid::from_u128(n)), name: name.into(), from_step, to_step,
//!     };
//!     WorkflowDefinition {
//!         name: "Printers".into(),
//!         description: String::new(),
//!         match_key: MatchKey { category: "Printers".into(), ..Default::default() },
//!         is_default: false,
//!         sla: Default::default(),
//!         steps: vec![step(triage, "Triage", true, false), step(resolve, "Resolve", false, true)],
//!         transitions: vec![action(20, "Accept", triage, Some(resolve)), action(21, "Close", resolve, None)],
//!     }
//! }
//!
//! // The graph is sound.
//! let report = check_workflow(&my_workflow(), CheckConfig::default());
//! assert!(report.is_ok(), "{report}");
//!
//! // Every ticket it should take, it takes.
//! let workflow = Workflow {
//!     id: tts_core::WorkflowId(Uuid::from_u128(100)),
//!     status: WorkflowStatus::Active,
//!     version: 1,
//!     definition: my_workflow(),
//!     created_at: Default::default(),
//!     updated_at: Default::default(),
//! };
//! let index = MatchIndex::build([&workflow]);
//! proptest!(|(ticket in tickets_hitting(std::slice::from_ref(&workflow)))| {
//!     let decision = index.find(&ticket_key(&ticket));
//!     prop_assert_eq!(decision.map(|m| m.workflow), Some(workflow.id));
//! });
//!
//! // Walks only ever take actions of the step they are on.
//! proptest!(|(walk in random_walk(&my_workflow(), 10))| {
//!     prop_assert!(walk.len() <= 10);
//! });
//! ```

pub mod checker;
pub mod strategies;

pub use checker::{CheckConfig, CheckReport, check_workflow};
pub use strategies::{random_walk, role_memberships, ticket_key, tickets_hitting, tickets_missing};

/// Definitions the unit tests of this module share.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::domain::workflow::{
        AssignmentStrategy, MatchKey, Position, Step, Transition, Workflow, WorkflowDefinition, WorkflowStatus,
    };
    use crate::ids::{ActionId, RoleId, StepId, WorkflowId};
    use uuid::Uuid;

    /// An id of any kind from a small number.
    pub(crate) fn id<T: From<Uuid>>(n: u128) -> T {
        T::from(Uuid::from_u128(n))
    }

    /// A step done by role 1000.
    pub(crate) fn step(n: u128, name: &str, is_start: bool, is_end: bool) -> Step {
        Step {
            id: id(n),
            name: name.into(),
            role_id: id::<RoleId>(1000),
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

    /// An action from step `from` to step `to` (`None` completes).
    pub(crate) fn action(n: u128, name: &str, from: u128, to: Option<u128>) -> Transition {
        Transition {
            id: id::<ActionId>(n),
            name: name.into(),
            from_step: id::<StepId>(from),
            to_step: to.map(id),
        }
    }

    /// A definition with the given key, steps and actions.
    pub(crate) fn definition(
        name: &str,
        key: MatchKey,
        steps: Vec<Step>,
        transitions: Vec<Transition>,
    ) -> WorkflowDefinition {
        WorkflowDefinition {
            name: name.into(),
            description: String::new(),
            match_key: key,
            is_default: false,
            sla: crate::domain::workflow::Sla::default(),
            steps,
            transitions,
        }
    }

    /// Triage -> Resolve -> Finalize, Reject from Resolve back to Triage, Close on Finalize completes.
    pub(crate) fn canonical() -> WorkflowDefinition {
        definition(
            "IT Support",
            MatchKey {
                category: "IT Support".into(),
                ..MatchKey::default()
            },
            vec![
                step(1, "Triage", true, false),
                step(2, "Resolve", false, false),
                step(3, "Finalize", false, true),
            ],
            vec![
                action(11, "Accept", 1, Some(2)),
                action(12, "Resolve", 2, Some(3)),
                action(13, "Reject", 2, Some(1)),
                action(14, "Close", 3, None),
            ],
        )
    }

    /// A stored workflow around the canonical graph with this key.
    pub(crate) fn workflow(n: u128, status: WorkflowStatus, key: MatchKey, is_default: bool) -> Workflow {
        let mut definition = canonical();
        definition.name = format!("workflow {n}");
        definition.match_key = key;
        definition.is_default = is_default;
        Workflow {
            id: id::<WorkflowId>(n),
            status,
            version: 1,
            definition,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }
}
