//! Migrations that rewrite data, run on databases holding rows written before them: the report
//! columns of migration 8 are filled from the documents (the tickets' end times, the tasks' workflow
//! versions, the assignments' steps, origins, end times, breaches and turn lengths), and migration 10's
//! `ended_by_holder` of the assignments (the ticket list's `acted` scope), on SQLite and on PostgreSQL;
//! and migration 12's ticket id counter on PostgreSQL, which starts after the ids given out before it.

use sqlx::{Connection, Executor, Row};
use std::borrow::Cow;
use tts_adapters::testkit::TestDb;

/// The first migration that rewrites rows for the reports.
const REPORTS: i64 = 20261130000008;

/// Rows as the store wrote them before migration 8: a user; a resolved ticket whose task ran version 2
/// of a workflow and whose one assignment (escalated in, once breached) ended 1 h 30 min 0.25 s after
/// it began; an unroutable open ticket; a rejected ticket. `{u}` is the user id, `{t}` the task id, in
/// the dialect's literal form.
const ROWS: &str = "
INSERT INTO users (id, email, is_active, data) VALUES ({u}, 'a@example.com', TRUE, '{}');
INSERT INTO tickets (id, year, seq, number, created_by, status, priority, priority_rank, category_key,
    department_key, is_task_allocated, search_text, created_at, updated_at, version, data) VALUES
  (1, 2026, 1, 'TX20260000001', {u}, 'resolved', 'high', 2, 'it', NULL, TRUE, '', {created}, {ended}, 3, '{\"id\": 1}'),
  (2, 2026, 2, 'TX20260000002', {u}, 'open', 'low', 0, 'it', NULL, FALSE, '', {created}, {created}, 1,
     '{\"id\": 2, \"unroutable\": {\"reason\": \"no workflow matches\"}}'),
  (3, 2026, 3, 'TX20260000003', {u}, 'rejected', 'low', 0, 'it', NULL, FALSE, '', {created}, {ended}, 2, '{\"id\": 3}');
INSERT INTO tasks (id, ticket_id, status, version, data) VALUES ({t}, 1, 'completed', 2,
  '{\"workflow_id\": \"0190a000-0000-7000-8000-0000000000f1\", \"workflow_version\": 2}');
INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, sla_warned,
    history_len, version, data) VALUES ({a}, {t}, {u}, 'resolved', FALSE, {created}, NULL, NULL, FALSE, 2, 2,
  '{\"step\": \"0190a000-0000-7000-8000-0000000000e1\", \"origin\": \"escalated\",
    \"acted_at\": \"2026-01-10T11:30:00.250Z\", \"history\": [{\"status\": \"new\"}, {\"status\": \"breached\"}]}');
";

fn rows(u: &str, t: &str, a: &str, created: &str, ended: &str) -> String {
    ROWS.replace("{u}", u)
        .replace("{t}", t)
        .replace("{a}", a)
        .replace("{created}", created)
        .replace("{ended}", ended)
}

/// `migrator` cut to the migrations before `version`.
fn before(mut migrator: sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
    let kept: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = Cow::Owned(kept);
    migrator
}

/// What the migration made of the rows, in one shape for both databases.
#[derive(Debug, PartialEq)]
struct Filled {
    /// Per ticket: resolved, closed and done (as "set" flags), unroutable, workflow.
    tickets: Vec<(i64, bool, bool, bool, bool, Option<String>)>,
    /// The assignment: ticket, workflow, version, step, origin, breached, turn length.
    assignment: (i64, String, i64, String, String, bool, i64),
    /// Whether its end time is the document's.
    acted_at_kept: bool,
}

fn expected() -> Filled {
    let wf = "0190a000-0000-7000-8000-0000000000f1".to_string();
    Filled {
        tickets: vec![
            (1, true, false, true, false, Some(wf.clone())),
            (2, false, false, false, true, None),
            (3, false, true, true, false, None),
        ],
        assignment: (
            1,
            wf,
            2,
            "0190a000-0000-7000-8000-0000000000e1".into(),
            "escalated".into(),
            true,
            5_400_250,
        ),
        acted_at_kept: true,
    }
}

const TICKETS: &str = "SELECT id, resolved_at IS NOT NULL, closed_at IS NOT NULL, done_at IS NOT NULL, \
    is_unroutable, workflow_id FROM tickets ORDER BY id";

#[tokio::test]
async fn migration_8_fills_the_report_columns_of_existing_rows_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tts.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
    before(sqlx::migrate!("./migrations/sqlite"), REPORTS)
        .run(&mut conn)
        .await
        .expect("migrations before 8");
    let sql = rows(
        "X'0190a0000000700080000000000000a1'",
        "X'0190a0000000700080000000000000b1'",
        "X'0190a0000000700080000000000000c1'",
        "'2026-01-10T10:00:00+00:00'",
        "'2026-01-10T12:00:00+00:00'",
    );
    conn.execute(sqlx::AssertSqlSafe(sql)).await.expect("old rows");
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut conn)
        .await
        .expect("migrate");

    let tickets = sqlx::query(TICKETS)
        .fetch_all(&mut conn)
        .await
        .expect("tickets")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    let a = sqlx::query(
        "SELECT ticket_id, workflow_id, workflow_version, step_id, origin, breached, turn_ms, \
         acted_at = '2026-01-10T11:30:00.250+00:00' FROM assignments",
    )
    .fetch_one(&mut conn)
    .await
    .expect("assignment");
    let filled = Filled {
        tickets,
        assignment: (a.get(0), a.get(1), a.get(2), a.get(3), a.get(4), a.get(5), a.get(6)),
        acted_at_kept: a.get(7),
    };
    assert_eq!(filled, expected());
    let doc: String = sqlx::query_scalar("SELECT json_extract(data, '$.workflow_id') FROM tickets WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("document");
    assert_eq!(
        doc, "0190a000-0000-7000-8000-0000000000f1",
        "the ticket's document names its workflow"
    );
}

#[tokio::test]
async fn migration_8_fills_the_report_columns_of_existing_rows_on_postgres() {
    let db = TestDb::create().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    before(sqlx::migrate!("./migrations/postgres"), REPORTS)
        .run(&mut conn)
        .await
        .expect("migrations before 8");
    let sql = rows(
        "'0190a000-0000-7000-8000-0000000000a1'",
        "'0190a000-0000-7000-8000-0000000000b1'",
        "'0190a000-0000-7000-8000-0000000000c1'",
        "'2026-01-10T10:00:00+00:00'",
        "'2026-01-10T12:00:00+00:00'",
    );
    conn.execute(sqlx::AssertSqlSafe(sql)).await.expect("old rows");
    sqlx::migrate!("./migrations/postgres")
        .run(&mut conn)
        .await
        .expect("migrate");

    let tickets = sqlx::query(TICKETS)
        .fetch_all(&mut conn)
        .await
        .expect("tickets")
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    let a = sqlx::query(
        "SELECT ticket_id, workflow_id, workflow_version::bigint, step_id, origin, breached, turn_ms, \
         acted_at = '2026-01-10T11:30:00.250+00:00'::timestamptz FROM assignments",
    )
    .fetch_one(&mut conn)
    .await
    .expect("assignment");
    let filled = Filled {
        tickets,
        assignment: (a.get(0), a.get(1), a.get(2), a.get(3), a.get(4), a.get(5), a.get(6)),
        acted_at_kept: a.get(7),
    };
    assert_eq!(filled, expected());
    let doc: String = sqlx::query_scalar("SELECT data->>'workflow_id' FROM tickets WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("document");
    assert_eq!(
        doc, "0190a000-0000-7000-8000-0000000000f1",
        "the ticket's document names its workflow"
    );
    let _ = conn.close().await;
    drop(db);
}

/// The migration that adds the ticket list's scope column.
const SCOPES: i64 = 20261202000010;

/// Turns as the store wrote them before migration 10, on one ticket's task, with whether their holder's
/// own move ended them: acted (yes), cancelled by the holder (yes), escalated by the SLA sweep (no),
/// transferred by someone else (no), open (no, even when the holder started it). `{u}`, `{v}`, `{t}` and
/// `{a1}`..`{a5}` are ids in the dialect's literal form, `{U}` and `{V}` the users' ids as text.
const TURNS: &str = "
INSERT INTO users (id, email, is_active, data) VALUES ({u}, 'u@example.com', TRUE, '{}'), ({v}, 'v@example.com', TRUE, '{}');
INSERT INTO tickets (id, year, seq, number, created_by, status, priority, priority_rank, category_key,
    department_key, is_task_allocated, search_text, created_at, updated_at, version, data) VALUES
  (1, 2026, 1, 'TX20260000001', {u}, 'in_progress', 'high', 2, 'it', NULL, TRUE, '', {at}, {at}, 2, '{\"id\": 1}');
INSERT INTO tasks (id, ticket_id, status, version, data) VALUES ({t}, 1, 'in_progress', 2, '{}');
INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, sla_warned,
    history_len, version, data, ticket_id) VALUES
  ({a1}, {t}, {u}, 'resolved', FALSE, {at}, NULL, NULL, FALSE, 2, 2,
     '{\"user\": \"{U}\", \"history\": [{\"status\": \"new\", \"by\": null}, {\"status\": \"resolved\", \"by\": \"{U}\"}]}', 1),
  ({a2}, {t}, {u}, 'cancelled', FALSE, {at}, NULL, NULL, FALSE, 2, 2,
     '{\"user\": \"{U}\", \"history\": [{\"status\": \"new\", \"by\": null}, {\"status\": \"cancelled\", \"by\": \"{U}\"}]}', 1),
  ({a3}, {t}, {u}, 'escalated', FALSE, {at}, NULL, NULL, FALSE, 3, 3,
     '{\"user\": \"{U}\", \"history\": [{\"status\": \"new\", \"by\": null}, {\"status\": \"in_progress\", \"by\": \"{U}\"},
       {\"status\": \"escalated\", \"by\": null}]}', 1),
  ({a4}, {t}, {u}, 'reassigned', FALSE, {at}, NULL, NULL, FALSE, 2, 2,
     '{\"user\": \"{U}\", \"history\": [{\"status\": \"new\", \"by\": null}, {\"status\": \"reassigned\", \"by\": \"{V}\"}]}', 1),
  ({a5}, {t}, {v}, 'in_progress', TRUE, {at}, NULL, NULL, FALSE, 2, 2,
     '{\"user\": \"{V}\", \"history\": [{\"status\": \"new\", \"by\": null}, {\"status\": \"in_progress\", \"by\": \"{V}\"}]}', 1);
";

/// The ids of [`TURNS`], as text.
const U: &str = "0190a000-0000-7000-8000-0000000000a1";
const V: &str = "0190a000-0000-7000-8000-0000000000a2";
const T: &str = "0190a000-0000-7000-8000-0000000000b1";

fn assignment_id(n: u8) -> String {
    format!("0190a000-0000-7000-8000-0000000000c{n}")
}

/// [`TURNS`] with ids written by `literal` (a uuid's text to the dialect's literal).
fn turns(literal: impl Fn(&str) -> String, at: &str) -> String {
    let mut sql = TURNS
        .replace("{U}", U)
        .replace("{V}", V)
        .replace("{u}", &literal(U))
        .replace("{v}", &literal(V))
        .replace("{t}", &literal(T))
        .replace("{at}", at);
    for n in 1..=5 {
        sql = sql.replace(&format!("{{a{n}}}"), &literal(&assignment_id(n)));
    }
    sql
}

/// Which of the turns their holder ended, in the order of their ids.
const ENDED_BY_HOLDER: [bool; 5] = [true, true, false, false, false];

#[tokio::test]
async fn migration_10_marks_the_turns_their_holder_ended_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tts.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
    before(sqlx::migrate!("./migrations/sqlite"), SCOPES)
        .run(&mut conn)
        .await
        .expect("migrations before 10");
    let sql = turns(
        |id| format!("X'{}'", id.replace('-', "")),
        "'2026-01-10T10:00:00+00:00'",
    );
    conn.execute(sqlx::AssertSqlSafe(sql)).await.expect("old rows");
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut conn)
        .await
        .expect("migrate");
    let marks: Vec<bool> = sqlx::query_scalar("SELECT ended_by_holder FROM assignments ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("assignments");
    assert_eq!(marks, ENDED_BY_HOLDER);
}

#[tokio::test]
async fn migration_10_marks_the_turns_their_holder_ended_on_postgres() {
    let db = TestDb::create().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    before(sqlx::migrate!("./migrations/postgres"), SCOPES)
        .run(&mut conn)
        .await
        .expect("migrations before 10");
    let sql = turns(|id| format!("'{id}'"), "'2026-01-10T10:00:00+00:00'");
    conn.execute(sqlx::AssertSqlSafe(sql)).await.expect("old rows");
    sqlx::migrate!("./migrations/postgres")
        .run(&mut conn)
        .await
        .expect("migrate");
    let marks: Vec<bool> = sqlx::query_scalar("SELECT ended_by_holder FROM assignments ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("assignments");
    assert_eq!(marks, ENDED_BY_HOLDER);
    let _ = conn.close().await;
    drop(db);
}

/// Migration 12 on PostgreSQL: ticket ids move from a sequence to a counter row, which starts after
/// every id the sequence gave out (also one whose ticket was rolled back) and every id in use.
#[tokio::test]
async fn migration_12_starts_the_ticket_id_counter_after_every_id_given_out() {
    for (given_out, in_use, counter) in [(5, 3, 5), (2, 9, 9), (0, 0, 0)] {
        let db = TestDb::create().await;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        before(sqlx::migrate!("./migrations/postgres"), 20261207000012)
            .run(&mut conn)
            .await
            .expect("migrations before 12");
        for _ in 0..given_out {
            conn.execute("SELECT nextval('ticket_ids')").await.expect("an id");
        }
        if in_use > 0 {
            let user = "'0190a000-0000-7000-8000-0000000000a1'";
            conn.execute(sqlx::AssertSqlSafe(format!(
                "INSERT INTO users (id, email, is_active, data) VALUES ({user}, 'a@example.com', TRUE, '{{}}'); \
                 INSERT INTO tickets (id, year, seq, number, created_by, status, priority, priority_rank, \
                 category_key, is_task_allocated, search_text, created_at, updated_at, version, data) VALUES \
                 ({in_use}, 2026, 1, 'TKT-2026-0001', {user}, 'open', 'low', 0, 'it', FALSE, '', now(), now(), 1, '{{}}')"
            )))
            .await
            .expect("a ticket");
        }
        sqlx::migrate!("./migrations/postgres")
            .run(&mut conn)
            .await
            .expect("migrate");
        let value: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'ticket_id'")
            .fetch_one(&mut conn)
            .await
            .expect("the ticket id counter");
        assert_eq!(value, counter, "{given_out} ids given out, id {in_use} in use");
        let _ = conn.close().await;
        drop(db);
    }
}
