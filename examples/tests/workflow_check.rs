//! The IT Support workflow's own property tests, as an application would write them
//! (`cargo test -p tts-examples --test workflow_check`).

use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use tts_core::proptest_support::{
    CheckConfig, check_workflow, random_walk, role_memberships, ticket_key, tickets_hitting, tickets_missing,
};
use tts_core::{
    ActionId, ActionOutcome, Actor, Allocation, Engine, MatchIndex, Membership, NewTicket, NewUser, RoleId, TaskStatus,
    TicketStatus, UserId, Workflow, WorkflowStatus,
};
use tts_examples::{facilities, id, it_support};

/// Role ids standing in for the engine's, where only the graph matters.
fn placeholder_roles() -> (RoleId, RoleId) {
    (id(901), id(902))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
}

/// An engine with both workflows published, shared by the routing properties.
struct Published {
    rt: tokio::runtime::Runtime,
    engine: Engine,
    it: Workflow,
    active: Vec<Workflow>,
}

fn published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let rt = runtime();
        let (engine, it, active) = rt
            .block_on(async {
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
                Ok::<_, tts_core::Error>((engine, it, active))
            })
            .expect("the workflows publish");
        Published { rt, engine, it, active }
    })
}

#[test]
fn the_graph_is_sound() {
    let (agents, leads) = placeholder_roles();
    let report = check_workflow(&it_support(agents, leads), CheckConfig::default());
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.longest_acyclic_path, 3);
    assert_eq!(report.shortest_completion, Some(3));
    assert!(report.never_available_actions.is_empty(), "{report}");
}

#[test]
fn a_broken_edit_is_caught() {
    // Someone drops the Close action: Finalize becomes a dead end.
    let (agents, leads) = placeholder_roles();
    let mut def = it_support(agents, leads);
    def.transitions.retain(|t| t.name != "Close");
    def.steps[2].is_end = false;
    let report = check_workflow(&def, CheckConfig::default());
    assert!(!report.is_ok());
    assert!(!report.every_walk_can_complete, "{report}");
    assert_eq!(report.completed_walks, 0);
}

/// Failing cases are saved to `examples/proptest-regressions/workflow_check.txt` and replayed first.
fn persisted(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/workflow_check.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(persisted(256))]

    #[test]
    fn every_it_ticket_routes_to_it_support(ticket in tickets_hitting(std::slice::from_ref(&published().it))) {
        let p = published();
        let ticket = ticket.validated().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let key = ticket_key(&ticket);
        prop_assert_eq!(MatchIndex::build(&p.active).find(&key).map(|m| m.workflow), Some(p.it.id));
        let dry_run = p.rt.block_on(p.engine.match_dry_run(&key)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(dry_run.workflow.map(|w| w.id), Some(p.it.id));
    }

    #[test]
    fn tickets_no_workflow_takes_stay_unrouted(ticket in tickets_missing(&published().active)) {
        let p = published();
        let dry_run =
            p.rt.block_on(p.engine.match_dry_run(&ticket_key(&ticket))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(dry_run.workflow.is_none());
    }

    #[test]
    fn walks_only_take_offered_actions(walk in random_walk(&it_support(placeholder_roles().0, placeholder_roles().1), 30)) {
        let (agents, leads) = placeholder_roles();
        let def = it_support(agents, leads);
        let mut at = def.start_step().map(|s| s.id);
        for a in &walk {
            let t = def.transition(*a).expect("a known action");
            prop_assert_eq!(Some(t.from_step), at);
            at = t.to_step;
        }
    }
}

/// Plays one whole task through a fresh engine: the staff from `memberships`, the ticket, then the walk's
/// actions, each taken by whoever the engine assigned the step to.
async fn play(memberships: &[Membership], ticket: NewTicket, walk: &[ActionId]) -> tts_core::Result<()> {
    let engine = Engine::in_memory().build()?;
    let admin = Actor::system();
    let agents = engine.create_role(admin, "it", "Agent").await?.id;
    let leads = engine.create_role(admin, "it", "Lead").await?.id;
    let (placeholder_agents, _) = placeholder_roles();
    let mut users: HashMap<UserId, UserId> = HashMap::new();
    let mut active: BTreeSet<(RoleId, UserId)> = BTreeSet::new();
    for m in memberships {
        let user = match users.get(&m.user) {
            Some(&u) => u,
            None => {
                let n = users.len();
                let new = NewUser {
                    email: format!("user{n}@example.com"),
                    full_name: format!("User {n}"),
                    password: None,
                };
                let u = engine.create_user(admin, new).await?.id;
                users.insert(m.user, u);
                u
            }
        };
        let role = if m.role == placeholder_agents { agents } else { leads };
        engine.set_membership(admin, role, user, m.is_active).await?;
        if m.is_active {
            active.insert((role, user));
        }
    }
    let def = it_support(agents, leads);
    let wf = engine.create_workflow(admin, def.clone()).await?;
    engine.publish_workflow(admin, wf.id).await?;
    let requester = NewUser {
        email: "requester@example.com".into(),
        full_name: "Requester".into(),
        password: None,
    };
    let requester = engine.create_user(admin, requester).await?;
    let ticket = engine
        .create_ticket(Actor::user(requester.id), ticket, None)
        .await?
        .ticket;
    let Allocation::Allocated { task, mut assignment } = engine.allocate(ticket.id).await? else {
        panic!("an IT Support ticket was not allocated");
    };
    let mut completed = false;
    for &action in walk {
        let role = def.step(assignment.step).expect("a known step").role_id;
        assert!(
            active.contains(&(role, assignment.user)),
            "assigned to someone not active in the step's role"
        );
        match engine
            .perform_action(Actor::user(assignment.user), task.id, action, "")
            .await?
        {
            ActionOutcome::Transitioned { assignment: next, .. } => assignment = next,
            ActionOutcome::Completed { task, ticket } => {
                assert_eq!(task.status, TaskStatus::Completed);
                assert_eq!(ticket.status, TicketStatus::Resolved);
                completed = true;
            }
        }
    }
    let last_completes = walk
        .last()
        .and_then(|a| def.transition(*a))
        .is_some_and(|t| t.to_step.is_none());
    assert_eq!(
        completed, last_completes,
        "the task completes exactly when the walk does"
    );
    Ok(())
}

proptest! {
    #![proptest_config(persisted(24))]

    /// Whole tasks through the engine: random staff, a ticket IT Support takes, and a random walk played
    /// by whoever the engine assigns.
    #[test]
    fn walks_run_through_the_engine(
        memberships in role_memberships(&[placeholder_roles().0, placeholder_roles().1], 4),
        ticket in tickets_hitting(std::slice::from_ref(&published().it)),
        walk in random_walk(&it_support(placeholder_roles().0, placeholder_roles().1), 12),
    ) {
        let outcome = runtime().block_on(play(&memberships, ticket, &walk));
        prop_assert!(outcome.is_ok(), "engine error: {:?}", outcome.err());
    }
}
