//! `Engine::create_tickets`: several requests' tickets in one command, each answered on its own.

use std::sync::Arc;
use tts_core::testkit::faults::FaultyStore;
use tts_core::testkit::fixture::three_step;
use tts_core::*;

fn request(actor: Actor, subject: &str) -> CreateRequest {
    CreateRequest {
        actor,
        new: NewTicket::new(subject, "Asset Check In")
            .department("Asset Department")
            .priority(Priority::High),
    }
}

/// Good requests get consecutive numbers in request order, with their requester's audit entry and a
/// `ticket.created` event each; a request that breaks its own rules (a blank subject, a requester filing
/// for someone else) gets its own error at its own place, and its neighbours are created anyway.
#[tokio::test]
async fn each_request_gets_its_own_answer_and_bad_ones_fail_alone() {
    let engine = Engine::in_memory().build().expect("engine");
    let fx = three_step(&engine, 2, 3).await.expect("fixture");
    let requester = fx.requester_actor();
    let admin = fx.actor(&fx.admins[0]);
    let mut for_someone_else = request(requester, "Not mine to file");
    for_someone_else.new.employee.email = "someone.else@example.com".into();
    let requests = vec![
        request(requester, "First"),
        request(requester, "   "),
        request(admin, "Filed by an admin"),
        for_someone_else,
        request(requester, "Last"),
    ];
    let results = engine.create_tickets(requests).await;
    assert_eq!(results.len(), 5, "one answer per request");
    let blank = results[1].as_ref().expect_err("a blank subject is refused");
    assert_eq!(blank.kind(), ErrorKind::Invalid);
    assert!(blank.to_string().contains("subject"), "the field is named: {blank}");
    let forbidden = results[3].as_ref().expect_err("a requester files for themselves only");
    assert_eq!(forbidden.kind(), ErrorKind::Forbidden);

    let created: Vec<&Ticket> = [0, 2, 4]
        .iter()
        .map(|&i| results[i].as_ref().expect("a good request is created"))
        .collect();
    let seqs: Vec<u32> = created.iter().map(|t| t.ticket_id.seq()).collect();
    assert_eq!(seqs, [1, 2, 3], "consecutive numbers in request order");
    assert_eq!(created[0].subject, "First");
    assert_eq!(created[0].created_by, fx.requester.id);
    assert_eq!(
        created[0].employee.email, fx.requester.email,
        "a requester's profile fills the employee"
    );
    assert_eq!(created[1].created_by, fx.admins[0].id);
    for t in &created {
        let read = engine.ticket(admin, TicketRef::Id(t.id)).await.expect("stored");
        assert_eq!(&&read, t, "the answer is what was stored");
        let history = engine
            .ticket_history(admin, TicketRef::Id(t.id))
            .await
            .expect("history");
        let entry = history
            .iter()
            .find(|e| e.action == "ticket.created")
            .expect("an audit entry");
        assert_eq!(
            entry.actor,
            Some(t.created_by),
            "the audit names each ticket's own requester"
        );
    }
    let allocated = engine.drain(Consumer::Allocation).await.expect("allocate");
    assert_eq!(allocated, 3, "one ticket.created per batched ticket");
    for t in &created {
        let read = engine.ticket(admin, TicketRef::Id(t.id)).await.expect("stored");
        assert!(
            read.is_task_allocated,
            "every batched ticket's event reached allocation"
        );
    }
    let single = engine
        .create_ticket(requester, NewTicket::new("After the batch", "Asset Check In"), None)
        .await
        .expect("create");
    assert_eq!(single.ticket.ticket_id.seq(), 4, "the sequence goes on after a batch");
}

fn faulty_engine() -> (Engine, FaultyStore) {
    let store = FaultyStore::new(Arc::new(tts_core::memory::MemoryStore::new()));
    let engine = Engine::builder(Arc::new(store.clone()))
        .passwords(Arc::new(tts_core::memory::MemoryPasswords::new()))
        .build()
        .expect("engine");
    (engine, store)
}

/// When the database refuses the shared unit, every ticket of it is created again alone: nobody gets
/// the batch's error, and nothing of the failed unit is kept (no gap, no duplicate).
#[tokio::test]
async fn a_refused_batch_unit_falls_back_to_one_command_per_ticket() {
    let (engine, store) = faulty_engine();
    let fx = three_step(&engine, 1, 1).await.expect("fixture");
    let requester = fx.requester_actor();
    store.fail_next_as("insert_audit", ErrorKind::Invalid);
    let results = engine
        .create_tickets((0..4).map(|i| request(requester, &format!("Ticket {i}"))).collect())
        .await;
    assert!(!store.armed("insert_audit"), "the batch unit hit the fault");
    let seqs: Vec<u32> = results
        .iter()
        .map(|r| {
            r.as_ref()
                .expect("created alone after the batch failed")
                .ticket_id
                .seq()
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4], "the failed unit gave its numbers back");
    let admin = fx.actor(&fx.admins[0]);
    for r in &results {
        let t = r.as_ref().expect("created");
        let history = engine
            .ticket_history(admin, TicketRef::Id(t.id))
            .await
            .expect("history");
        let created = history.iter().filter(|e| e.action == "ticket.created").count();
        assert_eq!(created, 1, "one audit entry per ticket, none left from the failed unit");
    }
}

/// When the database is unavailable, nothing is run again (a commit's outcome may be unknown): every
/// request of the batch gets the outage, and nothing is kept.
#[tokio::test]
async fn an_outage_fails_the_batch_without_running_it_again() {
    let (engine, store) = faulty_engine();
    let fx = three_step(&engine, 1, 1).await.expect("fixture");
    let requester = fx.requester_actor();
    store.fail_next("insert_audit");
    let results = engine
        .create_tickets((0..3).map(|i| request(requester, &format!("Ticket {i}"))).collect())
        .await;
    for r in &results {
        let e = r.as_ref().expect_err("the outage is every request's answer");
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    }
    let next = engine
        .create_ticket(requester, NewTicket::new("Later", "Asset Check In"), None)
        .await
        .expect("create");
    assert_eq!(next.ticket.ticket_id.seq(), 1, "nothing of the failed batch was kept");
}

/// An empty batch does nothing.
#[tokio::test]
async fn an_empty_batch_answers_nothing() {
    let engine = Engine::in_memory().build().expect("engine");
    assert!(engine.create_tickets(Vec::new()).await.is_empty());
}
