//! Embedding TTS in a plain Rust program with the in-memory adapters.
//!
//! Defines the original system's three-step workflow (Triage -> Resolve -> Finalize, with a Reject
//! back-edge), opens tickets, lets the outbox relay and the allocation/notification consumers route them
//! (round-robin across the agents), acts through to completion and prints the story.
//!
//! Run: `cargo run -p tts-examples --example embedded`

use tts_core::uuid::Uuid;
use tts_core::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let engine = Engine::in_memory().build()?;
    let sys = Actor::system();

    // Directory: roles and people.
    let admin_role = engine.create_role(sys, "tts", "Admin").await?;
    let agent_role = engine.create_role(sys, "tts", "Asset Manager").await?;
    let mut admins = Vec::new();
    for name in ["Ada Admin", "Alan Admin"] {
        admins.push(add_user(&engine, name, admin_role.id).await?);
    }
    let mut agents = Vec::new();
    for name in ["Grace Agent", "Linus Agent", "Barbara Agent"] {
        agents.push(add_user(&engine, name, agent_role.id).await?);
    }
    let requester = engine
        .create_user(
            sys,
            NewUser {
                email: "john@example.com".into(),
                full_name: "John Doe".into(),
                password: Some("a long secret".into()),
            },
        )
        .await?;

    // The workflow: Triage (admins) -> Resolve (agents) -> Finalize (admins); Reject goes back to Triage.
    let [triage, resolve, finalize] = [0; 3].map(|_| StepId(Uuid::now_v7()));
    let step = |id, name: &str, role, weight, start, end| Step {
        id,
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: format!("{name}, then choose an action."),
        weight,
        escalate_to: Some(admin_role.id),
        is_start: start,
        is_end: end,
        position: Position::default(),
        strategy: AssignmentStrategy::RoundRobin,
    };
    let action = |name: &str, from, to| Transition {
        id: ActionId(Uuid::now_v7()),
        name: name.into(),
        from_step: from,
        to_step: to,
    };
    let transitions = vec![
        action("Submit", triage, Some(resolve)),
        action("Approve", resolve, Some(finalize)),
        action("Reject", resolve, Some(triage)),
        action("Close", finalize, None),
    ];
    let (submit, approve, reject, close) = (
        transitions[0].id,
        transitions[1].id,
        transitions[2].id,
        transitions[3].id,
    );
    let definition = WorkflowDefinition {
        name: "Asset Check In Workflow".into(),
        description: "Check an asset back in.".into(),
        match_key: MatchKey {
            category: "Asset Check In".into(),
            department: Some("Asset Department".into()),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            critical: Some(4 * 3600),
            high: Some(8 * 3600),
            medium: Some(2 * 86400),
            low: Some(5 * 86400),
        },
        steps: vec![
            step(triage, "Triage Ticket", admin_role.id, 20, true, false),
            step(resolve, "Resolve Ticket", agent_role.id, 60, false, false),
            step(finalize, "Finalize Ticket", admin_role.id, 20, false, true),
        ],
        transitions,
    };
    let draft = engine.create_workflow(sys, definition).await?;
    let workflow = engine.publish_workflow(sys, draft.id).await?;
    println!("published {:?} v{}", workflow.definition.name, workflow.version);

    // Tickets come in; the relay and the consumers route them, as the worker would.
    let me = Actor::user(requester.id);
    let mut tickets = Vec::new();
    for (subject, priority) in [
        ("Laptop back from repair", Priority::High),
        ("Projector returned", Priority::Medium),
        ("Mouse returned", Priority::Low),
    ] {
        let new = NewTicket::new(subject, "Asset Check In")
            .department("Asset Department")
            .priority(priority);
        let t = engine.create_ticket(me, new, None).await?.ticket;
        println!("{} opened: {:?} ({})", t.ticket_id, t.subject, t.priority);
        tickets.push(t);
    }
    run_workers(&engine).await?;

    // Move every ticket to Resolve: round-robin spreads the agents.
    let everyone: Vec<User> = admins.iter().chain(&agents).chain([&requester]).cloned().collect();
    let name = |id: UserId| {
        everyone
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_string(), |u| u.full_name.clone())
    };
    let mut tasks = Vec::new();
    for t in &tickets {
        let task = engine.task_for_ticket(me, t.id.into()).await?.expect("allocated");
        let view = engine.task(sys, task.id).await?;
        let triager = Actor::admin(view.assignments[0].user);
        println!("{}: {} triages", t.ticket_id, name(triager.user));
        if let ActionOutcome::Transitioned {
            assignee, next_step, ..
        } = engine
            .perform_action(triager, task.id, submit, "Looks complete")
            .await?
        {
            println!("{}: -> {} for {}", t.ticket_id, next_step.name, assignee.full_name);
            tasks.push((t.ticket_id, task.id, assignee.id));
        }
    }

    // The first one is rejected once, then everything is approved and closed.
    for (i, (number, task, agent)) in tasks.into_iter().enumerate() {
        let mut holder = Actor::user(agent);
        if i == 0 {
            engine
                .perform_action(holder, task, reject, "Serial number missing")
                .await?;
            let back = engine.task(sys, task).await?;
            let triager = Actor::admin(back.assignments.last().expect("assigned").user);
            println!("{number}: rejected back to {}", name(triager.user));
            if let ActionOutcome::Transitioned { assignee, .. } =
                engine.perform_action(triager, task, submit, "Serial added").await?
            {
                holder = Actor::user(assignee.id);
            }
        }
        let ActionOutcome::Transitioned { assignee, .. } =
            engine.perform_action(holder, task, approve, "Checked in").await?
        else {
            unreachable!("Approve leads to Finalize")
        };
        let outcome = engine
            .perform_action(Actor::admin(assignee.id), task, close, "Filed")
            .await?;
        if let ActionOutcome::Completed { ticket, .. } = outcome {
            println!("{number}: closed by {} -> ticket {}", assignee.full_name, ticket.status);
        }
    }
    run_workers(&engine).await?;

    let first = &tickets[0];
    println!("\nhistory of {}:", first.ticket_id);
    for e in engine.ticket_history(me, first.id.into()).await? {
        println!(
            "  {} {:<16} by {}",
            e.at.format("%H:%M:%S"),
            e.action,
            e.actor.map_or("system".to_string(), name)
        );
    }
    let inbox = engine.notifications(me, None, Default::default()).await?;
    println!(
        "\n{} has {} notifications; latest: {:?}",
        requester.full_name, inbox.total, inbox.items[0].subject
    );
    Ok(())
}

async fn add_user(engine: &Engine, name: &str, role: RoleId) -> Result<User> {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let user = engine
        .create_user(
            Actor::system(),
            NewUser {
                email,
                full_name: name.into(),
                password: None,
            },
        )
        .await?;
    engine.set_membership(Actor::system(), role, user.id, true).await?;
    Ok(user)
}

/// What `tts-server worker` loops: relay the outbox, then let both consumers drain their queues.
async fn run_workers(engine: &Engine) -> Result<()> {
    loop {
        let moved = engine.pump_all().await?;
        let handled = engine.drain(Consumer::Allocation).await? + engine.drain(Consumer::Notifications).await?;
        if moved == 0 && handled == 0 {
            return Ok(());
        }
    }
}
