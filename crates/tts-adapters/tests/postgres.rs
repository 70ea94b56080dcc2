//! The PostgreSQL store against the real server at 127.0.0.1:5432, each test in its own database: the
//! store conformance suite (one test per case, `postgres_store::<trait>::<rule>`, the locking cases on
//! two pools standing in for two servers), what only a server has (concurrent migrations, a server
//! that is down), and what the store counts: its calls per unit, and creates with foreseen ticket keys.

use std::time::Duration;
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;
use tts_core::testkit::store::Fresh;

async fn store(db: &TestDb, connections: u32) -> PgStore {
    let mut config = PgConfig::new(db.url.clone());
    config.max_connections = connections;
    PgStore::connect(&config).await.expect("connect to the test database")
}

tts_core::store_conformance! {
    /// The store suite on PostgreSQL: a throw-away database per case (dropped after the handles, also
    /// when the case panics); the locking cases race two pools of 8 connections on it.
    mod postgres_store {
        fresh: async || {
            let db = TestDb::create().await;
            Fresh::new(store(&db, 4).await).keep(db)
        },
        two_handles: async || {
            let db = TestDb::create().await;
            let (a, b) = (store(&db, 8).await, store(&db, 8).await);
            Fresh::two(a, b).keep(db)
        },
    }
}

/// `Store::traffic` counts what a unit sends: `BEGIN`, each statement, `COMMIT`, one call each.
#[tokio::test]
async fn traffic_counts_every_call_and_commit() {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    let db = TestDb::create().await;
    let store = store(&db, 2).await;
    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    let id = tts_core::MessageId(tts_core::uuid::Uuid::now_v7());
    let now = tts_core::chrono::Utc::now();
    assert!(unit.record_processed("bench", id, now).await.expect("insert"));
    unit.commit().await.expect("commit");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(after.units - before.units, 1);
    assert_eq!(after.round_trips - before.round_trips, 3, "{before:?} -> {after:?}");
    assert_eq!(after.statements - before.statements, 3, "{before:?} -> {after:?}");
    assert_eq!(after.commits - before.commits, 1, "{before:?} -> {after:?}");
}

/// A read unit is a pooled connection without a transaction: its statements are its only calls (no
/// `BEGIN`, no `ROLLBACK`), and a write sent in it is refused before it reaches the database, since
/// nothing would hold it back until a commit.
#[tokio::test]
async fn a_read_unit_sends_only_its_statements_and_refuses_writes() {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    let db = TestDb::create().await;
    let store = store(&db, 2).await;
    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    let id = tts_core::MessageId(tts_core::uuid::Uuid::now_v7());
    assert!(!unit.processed("bench", id).await.expect("a read"));
    drop(unit);
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(
        (
            after.units - before.units,
            after.round_trips - before.round_trips,
            after.commits - before.commits
        ),
        (1, 1, 0),
        "{before:?} -> {after:?}"
    );

    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    let now = tts_core::chrono::Utc::now();
    let refused = unit
        .record_processed("bench", id, now)
        .await
        .expect_err("a write in a read unit");
    assert_eq!(refused.kind(), tts_core::ErrorKind::Internal, "{refused}");
    drop(unit);
    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    assert!(
        !unit.processed("bench", id).await.expect("a read"),
        "the refused write left nothing"
    );
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let db = TestDb::create().await;
    let s = store(&db, 2).await;
    s.migrate().await.expect("second migrate is a no-op");
    store(&db, 2)
        .await
        .migrate()
        .await
        .expect("another server migrating is a no-op");
}

#[tokio::test]
async fn a_down_server_gives_a_clear_error_not_a_hang() {
    let mut config = PgConfig::new("postgres://tts:hunter2@127.0.0.1:1/tts");
    config.acquire_timeout = Duration::from_secs(2);
    let err = PgStore::connect(&config).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("hunter2"), "the password must not leak: {text}");
    assert_eq!(err.kind(), tts_core::ErrorKind::Unavailable);
}

/// A write unit of `store` that took the next ticket keys of `year`, and the number it got.
async fn keys_in_a_new_unit(store: &PgStore, year: i32) -> (Box<dyn tts_core::ports::UnitOfWork>, u32) {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    let (_, seq) = unit.take_ticket_keys(year).await.expect("keys");
    (unit, seq)
}

/// Creates in batches of `n` by an admin (no profile to read), numbered from `from`.
fn creates(n: usize, from: usize) -> Vec<tts_core::CreateRequest> {
    let admin = tts_core::Actor::admin(tts_core::UserId(tts_core::uuid::Uuid::now_v7()));
    (from..from + n)
        .map(|i| tts_core::CreateRequest {
            actor: admin,
            new: tts_core::NewTicket::new(format!("Ticket {i}"), "Keys"),
        })
        .collect()
}

/// The numbers of a batch's tickets, each of which must have been created.
fn numbers(results: Vec<tts_core::Result<tts_core::Ticket>>) -> Vec<u32> {
    results
        .into_iter()
        .map(|r| r.expect("created").ticket_id.seq())
        .collect()
}

/// A store that saw where the ticket counters stand hands out the next keys and moves the counters in
/// the statement that writes the tickets: after the first batch of creates, a batch is one call and one
/// commit (no `BEGIN`, no `COMMIT` of its own), and its numbers follow on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_creates_with_foreseen_keys_is_one_statement() {
    use std::sync::Arc;
    use tts_core::ports::Store;
    let db = TestDb::create().await;
    let store = Arc::new(store(&db, 2).await);
    let engine = tts_core::Engine::builder(store.clone()).build().expect("engine");
    assert_eq!(numbers(engine.create_tickets(creates(2, 0)).await), [1, 2]);
    let before = store.traffic().expect("a SQL store counts");
    assert_eq!(numbers(engine.create_tickets(creates(3, 2)).await), [3, 4, 5]);
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(
        (after.round_trips - before.round_trips, after.commits - before.commits),
        (1, 1),
        "{before:?} -> {after:?}"
    );
}

/// Two servers on one database: a store whose foreseen keys the other server took meanwhile finds out
/// in the statement, keeps nothing of it, and takes its keys again the usual way. Numbers stay
/// consecutive without a duplicate, and ids distinct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreseen_keys_another_server_took_are_taken_again() {
    use std::sync::Arc;
    let db = TestDb::create().await;
    let (a, b) = (store(&db, 2).await, store(&db, 2).await);
    let ea = tts_core::Engine::builder(Arc::new(a)).build().expect("engine");
    let eb = tts_core::Engine::builder(Arc::new(b)).build().expect("engine");
    let mut ids = std::collections::HashSet::new();
    let mut all = Vec::new();
    for (engine, from) in [(&ea, 0), (&eb, 2), (&ea, 4), (&ea, 6), (&eb, 8)] {
        for created in engine.create_tickets(creates(2, from)).await {
            let t = created.expect("created");
            assert!(ids.insert(t.id), "ticket id {} given twice", t.id.0);
            all.push(t.ticket_id.seq());
        }
    }
    assert_eq!(all, (1..=10).collect::<Vec<u32>>(), "in order, no gap, no duplicate");
    let admin = tts_core::Actor::admin(tts_core::UserId(tts_core::uuid::Uuid::now_v7()));
    let page = ea.list_tickets(admin, Default::default()).await.expect("list");
    assert_eq!(page.total, 10, "no ticket of a failed statement was kept");
}

/// The check itself, on the port: a unit that took foreseen keys, which another server then took the
/// usual way, fails to commit with a retryable conflict (not a duplicate number: it wrote no ticket)
/// and moves no counter; the next unit takes the number after the other server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_whose_foreseen_keys_were_taken_fails_to_commit_and_moves_nothing() {
    let db = TestDb::create().await;
    let (a, b) = (store(&db, 2).await, store(&db, 2).await);
    let take = async |s: &PgStore| keys_in_a_new_unit(s, 2030).await;
    let (unit, seq) = take(&a).await;
    assert_eq!(seq, 1);
    unit.commit().await.expect("commit");
    let (foreseen, seq) = take(&a).await;
    assert_eq!(seq, 2, "the number after the last one this store saw");
    let (unit, seq) = take(&b).await;
    assert_eq!(seq, 2);
    unit.commit().await.expect("the other server commits first");
    let lost = foreseen.commit().await.expect_err("the foreseen number was taken");
    assert!(lost.is_retryable(), "{lost}");
    let (_, seq) = take(&b).await;
    assert_eq!(seq, 3, "the failed unit moved no counter");
}

/// Chained foreseen keys: a unit that takes keys while another unit of its store still runs with
/// foreseen ones takes the keys after them. Its statement waits on the counters' row lock behind the
/// first unit's, checks the counters again once the first committed, and commits too: consecutive
/// numbers, each unit one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_chained_after_a_running_one_waits_for_its_commit_and_follows_on() {
    use sqlx::Connection;
    use tts_core::ports::Store;
    let db = TestDb::create().await;
    let store = std::sync::Arc::new(store(&db, 4).await);
    let take = async |s: &PgStore| keys_in_a_new_unit(s, 2032).await;
    let (unit, _) = take(&store).await;
    unit.commit().await.expect("the counters seen");
    let ((first, one), (second, two)) = (take(&store).await, take(&store).await);
    assert_eq!((one, two), (2, 3), "the second follows the running first");

    // Another session holds the id counter's row, so both statements queue on it, the first in front.
    let mut other = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let mut holder = other.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM counters WHERE name = 'ticket_id' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .expect("lock");
    let before = store.traffic().expect("a SQL store counts");
    let first = tokio::spawn(first.commit());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = tokio::spawn(second.commit());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !first.is_finished() && !second.is_finished(),
        "both wait on the row lock"
    );
    holder.commit().await.expect("release");
    first.await.expect("joined").expect("the first commits");
    second
        .await
        .expect("joined")
        .expect("the second commits after it, checked again");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(after.round_trips - before.round_trips, 2, "{before:?} -> {after:?}");
    let (unit, next) = take(&store).await;
    assert_eq!(next, 4, "the forecast follows the second");
    drop(unit);
}

/// A chained unit whose statement reaches the database before the unit it follows finds the counters
/// short of where it foresaw them: it fails to commit with a retryable conflict and moves nothing, the
/// first still commits, and the forecast goes on from there without a pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_unit_that_overtakes_the_one_before_fails_and_moves_nothing() {
    use tts_core::ports::Store;
    let db = TestDb::create().await;
    let store = store(&db, 4).await;
    let take = async |s: &PgStore| keys_in_a_new_unit(s, 2033).await;
    let (unit, _) = take(&store).await;
    unit.commit().await.expect("the counters seen");
    let ((first, one), (second, two)) = (take(&store).await, take(&store).await);
    assert_eq!((one, two), (2, 3));
    let lost = second
        .commit()
        .await
        .expect_err("the counters are not where it foresaw");
    assert!(lost.is_retryable(), "{lost}");
    first.commit().await.expect("the first is unaffected");
    let before = store.traffic().expect("a SQL store counts");
    let (unit, next) = take(&store).await;
    assert_eq!(next, 3, "the failed unit moved nothing");
    unit.commit().await.expect("commit");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(
        after.round_trips - before.round_trips,
        1,
        "foreseen again at once (one call), no pause: {before:?} -> {after:?}"
    );
}

/// Many batches of creates at once on one store, with keys foreseen, chained or taken the usual way as
/// the forecast allows: every ticket is created, numbered without a gap or a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_with_chained_keys_number_every_ticket_once() {
    use std::sync::Arc;
    let db = TestDb::create().await;
    let engine = Arc::new(
        tts_core::Engine::builder(Arc::new(store(&db, 8).await))
            .build()
            .expect("engine"),
    );
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let engine = Arc::clone(&engine);
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for b in 0..10 {
                    seqs.extend(numbers(engine.create_tickets(creates(3, t * 100 + b * 3)).await));
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("joined"));
    }
    all.sort_unstable();
    assert_eq!(all, (1..=240).collect::<Vec<u32>>());
}

/// Version-checked updates of several rows in one unit travel as one statement part on PostgreSQL
/// (`UPDATE ... FROM (VALUES ...)`), still checked row by row: all fresh, every row is written; one
/// stale, the unit fails with a conflict and keeps nothing; one missing, it is not found.
#[tokio::test]
async fn updates_of_several_tickets_in_one_unit_are_one_part_checked_row_by_row() {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    use tts_core::{ErrorKind, NewTicket, Ticket, TicketId, TicketNumber, UserId};
    let db = TestDb::create().await;
    let store = store(&db, 2).await;
    let now = tts_core::chrono::Utc::now();
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    let mut tickets = Vec::new();
    for i in 0..3 {
        let (id, seq) = unit.take_ticket_keys(2031).await.expect("keys");
        let number = TicketNumber::new(2031, seq).expect("number");
        let t = NewTicket::new(format!("Ticket {i}"), "Edits").into_ticket(id, number, UserId(Default::default()), now);
        unit.insert_ticket(&t).await.expect("insert");
        tickets.push(t);
    }
    unit.commit().await.expect("commit");
    let edited = |t: &Ticket| Ticket {
        version: t.version + 1,
        subject: format!("{} (edited)", t.subject),
        ..t.clone()
    };
    let stored = async |id: TicketId| {
        let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
        unit.ticket(id).await.expect("read").expect("the ticket")
    };

    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    for t in &tickets {
        unit.update_ticket(&edited(t)).await.expect("update");
    }
    unit.commit().await.expect("every row is fresh");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(
        after.statements - before.statements,
        3,
        "BEGIN, one update part, COMMIT"
    );
    for t in &tickets {
        assert_eq!(stored(t.id).await, edited(t));
    }

    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    unit.update_ticket(&edited(&edited(&tickets[0]))).await.expect("update");
    unit.update_ticket(&edited(&tickets[1]))
        .await
        .expect("a stale update is held back");
    unit.update_ticket(&edited(&edited(&tickets[2]))).await.expect("update");
    let stale = unit.commit().await.expect_err("one row changed since");
    assert_eq!(stale.kind(), ErrorKind::Conflict, "{stale}");
    assert_eq!(
        stored(tickets[0].id).await,
        edited(&tickets[0]),
        "the failed unit kept nothing"
    );

    let ghost = Ticket {
        id: TicketId(9_999),
        ..edited(&tickets[1])
    };
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    unit.update_ticket(&edited(&edited(&tickets[0]))).await.expect("update");
    unit.update_ticket(&edited(&ghost)).await.expect("held back");
    let missing = unit.commit().await.expect_err("a missing row");
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
}
