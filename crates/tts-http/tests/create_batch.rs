//! `POST /tickets/` in batches (`tts_http::batch`): concurrent creates share commands, and still each
//! gets its own answer: its own ticket, or its own error naming its field; a client that goes away
//! leaves no half-written batch; `create_batch = 1` turns batching off; two batches in flight keep the
//! numbers whole.

mod common;

use common::{ADMIN, Api, EMPLOYEE};
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn body(subject: &str) -> Value {
    json!({"subject": subject, "category": "Technical Support", "priority": "high"})
}

/// The sequence numbers of every ticket, sorted (as the admin sees them all).
async fn numbers(api: &Api) -> Vec<u32> {
    let admin = api.login(ADMIN).await;
    let list = api.get("/tickets/?page_size=100", &admin).await.expect(200).body;
    let mut seqs: Vec<u32> = list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|t| {
            let number = t["ticket_id"].as_str().expect("ticket_id");
            number
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("TKT-YYYY-NNNN")
        })
        .collect();
    seqs.sort_unstable();
    seqs
}

#[tokio::test]
async fn concurrent_creates_share_commands_and_each_gets_its_own_answer() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let before = api.engine.stats().commands_ok;
    // Every fourth request has a blank subject: it alone gets 422.
    let subjects: Vec<String> = (0..40)
        .map(|i| {
            if i % 4 == 3 {
                "  ".to_string()
            } else {
                format!("Batched {i}")
            }
        })
        .collect();
    let replies = join_all(subjects.iter().map(|s| api.post("/tickets/", &employee, body(s)))).await;
    let commands = api.engine.stats().commands_ok - before;
    for (subject, reply) in subjects.iter().zip(&replies) {
        if subject.trim().is_empty() {
            assert_eq!(reply.status, 422, "{}", reply.body);
            assert!(
                reply.body.to_string().contains("subject"),
                "the field is named: {}",
                reply.body
            );
        } else {
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert_eq!(&reply.body["subject"], subject, "each request gets its own ticket");
            assert_eq!(reply.body["is_task_allocated"], false);
        }
    }
    assert!(
        commands < 30,
        "30 tickets were created by fewer commands when they arrived together ({commands})"
    );
    assert_eq!(
        numbers(&api).await,
        (1..=30).collect::<Vec<u32>>(),
        "no gap, no duplicate"
    );
    api.settle().await;
    let admin = api.login(ADMIN).await;
    let unallocated = api
        .get("/tickets/?is_task_allocated=false", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(unallocated["count"], 0, "every batched ticket was allocated");
}

#[tokio::test]
async fn with_batches_of_one_every_create_is_its_own_command() {
    let api = Api::with(|c| {
        c.rate_limits = tts_http::RateLimits::disabled();
        c.create_batch = 1;
    })
    .await;
    let employee = api.login(EMPLOYEE).await;
    let before = api.engine.stats().commands_ok;
    let replies = join_all((0..10).map(|i| api.post("/tickets/", &employee, body(&format!("Alone {i}"))))).await;
    assert!(replies.iter().all(|r| r.status == 201));
    assert_eq!(api.engine.stats().commands_ok - before, 10);
}

/// Clients that hang up while their create waits in a batch: the others are answered, the batch is
/// written whole (the numbers have no gap) and the next create goes on from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_go_away_leave_no_half_written_batch() {
    let api = Arc::new(Api::new().await);
    let employee = api.login(EMPLOYEE).await;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for i in 0..20 {
        let (api, token) = (Arc::clone(&api), employee.clone());
        let task = tokio::spawn(async move { api.post("/tickets/", &token, body(&format!("Maybe {i}"))).await });
        if i % 2 == 0 {
            kept.push(task);
        } else {
            dropped.push(task);
        }
    }
    tokio::task::yield_now().await;
    for task in &dropped {
        task.abort();
    }
    for task in kept {
        assert_eq!(task.await.expect("a kept request").status, 201);
    }
    // Whatever the aborted requests had handed over is written by then or soon: wait for it to settle.
    let mut seqs = numbers(&api).await;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = numbers(&api).await;
        if now == seqs {
            break;
        }
        seqs = now;
    }
    let n = seqs.len() as u32;
    assert!((10..=20).contains(&n), "the 10 kept and some of the abandoned: {n}");
    assert_eq!(seqs, (1..=n).collect::<Vec<u32>>(), "no gap, no duplicate");
    let next = api.post("/tickets/", &employee, body("After")).await.expect(201).body;
    assert!(
        next["ticket_id"]
            .as_str()
            .expect("number")
            .ends_with(&format!("{:04}", n + 1)),
        "the sequence goes on: {next}"
    );
}

/// With two batches in flight, batches commit while the next one prepares: every create still gets its
/// own ticket and the numbers have no gap and no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_batches_in_flight_keep_the_numbers_whole() {
    let api = Api::with(|c| {
        c.rate_limits = tts_http::RateLimits::disabled();
        c.create_batch = 4;
        c.create_batches_in_flight = 2;
    })
    .await;
    let employee = api.login(EMPLOYEE).await;
    let subjects: Vec<String> = (0..40).map(|i| format!("In flight {i}")).collect();
    let replies = join_all(subjects.iter().map(|s| api.post("/tickets/", &employee, body(s)))).await;
    for (subject, reply) in subjects.iter().zip(&replies) {
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(&reply.body["subject"], subject, "each request gets its own ticket");
    }
    assert_eq!(
        numbers(&api).await,
        (1..=40).collect::<Vec<u32>>(),
        "no gap, no duplicate"
    );
}
