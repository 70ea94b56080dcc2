//! The whole [`Store`] contract at work: the seed system's story run through the engine on the store
//! (create, allocate through the outbox and the consumer, act to completion, read history, lists and
//! notifications).

use super::support::engine;
use crate::domain::priority::Priority;
use crate::domain::ticket::{NewTicket, TicketStatus};
use crate::engine::{ActionOutcome, Consumer};
use crate::ports::store::Store;
use crate::testkit::fixture::three_step;
use std::sync::Arc;

/// The seed's story end to end: a ticket is numbered 1, allocated once through the outbox, submitted,
/// approved and closed by the right people in round-robin order, resolved, with five history entries,
/// one notification for the admin, and visible to the agent who held it.
pub async fn the_seed_story_runs_end_to_end(store: Arc<dyn Store>) {
    let engine = engine(store, None);
    let fx = three_step(&engine, 2, 3).await.expect("the three-step fixture");
    let new = NewTicket::new("Laptop check-in", "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High);
    let t = engine
        .create_ticket(fx.requester_actor(), new, None)
        .await
        .expect("create a ticket")
        .ticket;
    assert_eq!(t.ticket_id.seq(), 1, "the first ticket of the year is number 1");
    engine.pump_all().await.expect("relay the outbox");
    assert_eq!(
        engine.drain(Consumer::Allocation).await.expect("allocate"),
        1,
        "one allocation message"
    );
    engine.pump_all().await.expect("relay the outbox");
    engine.drain(Consumer::Notifications).await.expect("notify");
    let task = engine
        .task_for_ticket(fx.requester_actor(), t.id.into())
        .await
        .expect("the ticket's task")
        .expect("the ticket was allocated");
    let admin = fx.actor(&fx.admins[0]);
    let out = engine
        .perform_action(admin, task.id, fx.submit, "ok")
        .await
        .expect("submit");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("submitting moves the task on")
    };
    assert_eq!(
        assignee.id, fx.agents[0].id,
        "the first agent in id order gets the work"
    );
    let agent = fx.actor(&fx.agents[0]);
    let out = engine
        .perform_action(agent, task.id, fx.approve, "done")
        .await
        .expect("approve");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("approving moves the task on")
    };
    assert_eq!(
        assignee.id, fx.admins[1].id,
        "the admin cursor moved on to the second admin"
    );
    let out = engine
        .perform_action(fx.actor(&fx.admins[1]), task.id, fx.close, "closed")
        .await
        .expect("close");
    assert!(
        matches!(out, ActionOutcome::Completed { .. }),
        "closing completes the task"
    );
    let ticket = engine
        .ticket(fx.requester_actor(), t.id.into())
        .await
        .expect("read the ticket");
    assert_eq!(
        ticket.status,
        TicketStatus::Resolved,
        "a completed task resolves the ticket"
    );
    let history = engine
        .ticket_history(fx.requester_actor(), t.id.into())
        .await
        .expect("read the history");
    assert_eq!(history.len(), 5, "created, allocated and three actions: {history:?}");
    let notes = engine
        .notifications(admin, None, Default::default())
        .await
        .expect("notifications");
    assert_eq!(notes.total, 1, "the first admin was notified of the assignment");
    let listed = engine
        .list_tickets(agent, Default::default())
        .await
        .expect("the agent's list");
    assert_eq!(listed.total, 1, "agents see tickets whose task they held");
}
