//! An application testing its own workflow with `tts_core::proptest_support`. Run it with:
//!
//! ```text
//! cargo run -p tts-examples --example workflow_check
//! ```
//!
//! It defines the "IT Support" workflow (Triage -> Resolve -> Finalize, with Reject sending work from
//! Resolve back to Triage and Close on Finalize completing the task), checks its graph with
//! `check_workflow` and prints the report, then publishes it next to a second workflow in an in-memory
//! engine and checks with proptest's `TestRunner` that every ticket `tickets_hitting` generates for it
//! routes to it (and that tickets it misses do not). The process exits with status 1 when anything
//! fails, so it can run in CI as it is.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use std::fmt::Debug;
use std::process::ExitCode;
use tts_core::proptest_support::{CheckConfig, check_workflow, ticket_key, tickets_hitting, tickets_missing};
use tts_core::{Actor, Engine, MatchIndex, RoleId, Workflow, WorkflowStatus};
use tts_examples::{facilities, id, it_support};

fn report_failure<T: Debug>(what: &str, result: Result<(), TestError<T>>) -> bool {
    match result {
        Ok(()) => {
            println!("ok: {what}");
            true
        }
        Err(TestError::Fail(reason, input)) => {
            println!("FAILED: {what}: {reason}\n  minimal failing input: {input:#?}");
            false
        }
        Err(TestError::Abort(reason)) => {
            println!("FAILED: {what}: aborted: {reason}");
            false
        }
    }
}

fn main() -> ExitCode {
    // 1. The graph, on its own: no engine needed.
    let placeholder: RoleId = id(900);
    let report = check_workflow(&it_support(placeholder, placeholder), CheckConfig::default());
    println!("{report}\n");
    if !report.is_ok() {
        println!("FAILED: the IT Support workflow is not sound");
        return ExitCode::FAILURE;
    }

    // 2. Routing, through a real (in-memory) engine with the workflows published.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let setup: tts_core::Result<(Engine, Workflow, Vec<Workflow>)> = rt.block_on(async {
        let engine = Engine::in_memory().build()?;
        let admin = Actor::system();
        let agents = engine.create_role(admin, "it", "Agent").await?;
        let leads = engine.create_role(admin, "it", "Lead").await?;
        let staff = engine.create_role(admin, "facilities", "Staff").await?;
        let it = engine.create_workflow(admin, it_support(agents.id, leads.id)).await?;
        let it = engine.publish_workflow(admin, it.id).await?;
        let other = engine.create_workflow(admin, facilities(staff.id)).await?;
        engine.publish_workflow(admin, other.id).await?;
        let active = engine.workflows(Some(WorkflowStatus::Active)).await?;
        Ok((engine, it, active))
    });
    let (engine, it, active) = match setup {
        Ok(s) => s,
        Err(e) => {
            println!("FAILED: publishing the workflows: {e}");
            return ExitCode::FAILURE;
        }
    };
    let index = MatchIndex::build(&active);
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };

    // Property: every IT Support ticket, however its key is spelled, goes to IT Support.
    let mut runner = TestRunner::new(config.clone());
    let hitting = runner.run(&tickets_hitting(std::slice::from_ref(&it)), |ticket| {
        let key = ticket_key(
            &ticket
                .clone()
                .validated()
                .map_err(|e| TestCaseError::fail(e.to_string()))?,
        );
        prop_assert_eq!(
            index.find(&key).map(|m| m.workflow),
            Some(it.id),
            "index decision for {:?}",
            key
        );
        let dry_run = rt
            .block_on(engine.match_dry_run(&key))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(
            dry_run.workflow.map(|w| w.id),
            Some(it.id),
            "engine decision for {:?}",
            key
        );
        Ok(())
    });

    // Property: tickets no active workflow takes stay unallocated (there is no default workflow).
    let mut runner = TestRunner::new(config);
    let missing = runner.run(&tickets_missing(&active), |ticket| {
        let dry_run = rt
            .block_on(engine.match_dry_run(&ticket_key(&ticket)))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            dry_run.workflow.is_none(),
            "{:?} was routed to {:?}",
            ticket,
            dry_run.workflow.map(|w| w.definition.name)
        );
        Ok(())
    });

    let ok = report_failure("every generated IT Support ticket routes to IT Support", hitting)
        & report_failure("tickets no workflow takes stay unrouted", missing);
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
