//! A batch of allocations (`consume_batch`) reads and locks each role's pick state once and carries it
//! forward: round robin goes on through the batch exactly as one allocation at a time would, and the
//! next allocation after the batch continues from where the batch left the cursor.

use tts_core::testkit::fixture::one_step;
use tts_core::*;

async fn holder(engine: &Engine, ticket: TicketId) -> UserId {
    let task = engine
        .task_for_ticket(Actor::system(), TicketRef::Id(ticket))
        .await
        .expect("read")
        .expect("allocated");
    let view = engine.task(Actor::system(), task.id).await.expect("task");
    view.assignments.last().expect("assigned").user
}

#[tokio::test]
async fn round_robin_goes_on_through_a_batch_and_after_it() {
    let engine = Engine::in_memory().build().expect("engine");
    let fx = one_step(&engine, 3).await.expect("fixture");
    let users: Vec<UserId> = fx.users.iter().map(|u| u.id).collect();
    let mut tickets = Vec::new();
    for i in 0..7 {
        let new = NewTicket::new(format!("Batch {i}"), "Load");
        tickets.push(
            engine
                .create_ticket(Actor::system(), new, None)
                .await
                .expect("create")
                .ticket
                .id,
        );
    }
    let outcomes = engine.consume_batch(Consumer::Allocation, 32).await.expect("allocate");
    assert_eq!(outcomes.len(), 7, "one batch took every ticket");
    let mut got = Vec::new();
    for t in &tickets {
        got.push(holder(&engine, *t).await);
    }
    let first = users.iter().position(|u| *u == got[0]).expect("a holder of the role");
    let want: Vec<UserId> = (0..7).map(|i| users[(first + i) % 3]).collect();
    assert_eq!(got, want, "each next holder in id order, wrapping around");
    assert_eq!(first, 0, "a fresh role starts with its first holder");
    let after = engine
        .create_ticket(Actor::system(), NewTicket::new("After", "Load"), None)
        .await
        .expect("create")
        .ticket
        .id;
    engine.drain(Consumer::Allocation).await.expect("allocate");
    assert_eq!(
        holder(&engine, after).await,
        users[7 % 3],
        "the cursor was written where the batch left it"
    );
}
