//! Group commit for the SQLite writer: many write units share one durable transaction.
//!
//! With `synchronous=FULL` every `COMMIT` waits for an fsync, which caps a lone writer at roughly one
//! commit per disk flush. Here each write unit runs inside a `SAVEPOINT` of a shared outer transaction
//! (`BEGIN IMMEDIATE` ... `COMMIT`) on the one writer connection. A unit's `commit()` marks its
//! savepoint for release (done in the next unit's first round trip) and then waits until the outer
//! transaction is durably committed, so callers are answered only after their data is on disk, exactly as with one
//! transaction per unit. The unit that finds no other unit waiting for the writer (or the group full)
//! commits the group for everyone.
//!
//! Isolation is unchanged: units still run one at a time on the writer, in arrival order; a unit that
//! fails or is dropped is rolled back to its savepoint without touching the others. If the outer
//! `COMMIT` fails, every unit of the group gets the error (none was acknowledged). Readers on other
//! connections see a group's writes when it commits. Later units of a group do see earlier units'
//! writes before they are durable (they are rolled back together if the commit fails); the one place
//! where that could leak out, the outbox relay publishing messages, only sees outbox rows that were
//! durable when the group began. Between groups the connection goes back to the
//! writer pool, so other users of that pool take turns with the groups.
//!
//! **Timings.** At `debug` level each unit logs how long it waited for the writer (`writer taken`), how
//! long it held it and then waited for the durable commit (`unit committed`), and each group its units,
//! how long it was open and how long its `COMMIT` took (`group committed`); with the create batches' and
//! the checkpoints' lines, `TTS_LOG=tts_adapters::sql=debug,tts_http::batch=debug` shows where a
//! request's time goes (DEVELOPERS.md).

use super::error::db_err;
use super::traffic::Traffic;
use sqlx::pool::PoolConnection;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};
use tts_core::{Error, Result};

/// Units that may share one commit before the group is flushed anyway (bounds latency under load).
const MAX_GROUP: usize = 64;

/// The longest a background unit lets requests go first before it takes its turn anyway.
const MAX_BACKGROUND_DEFER: Duration = Duration::from_millis(5);

/// Whether someone waits for the unit's answer: requests go before background work at the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// A request a client waits for.
    Foreground,
    /// Relay, consumers, sweeps: they wait (a bounded time) while requests queue for the writer.
    Background,
}

/// Who is waiting for the writer.
#[derive(Debug, Default)]
struct Waiting {
    /// Units waiting for the writer, of either priority.
    all: AtomicUsize,
    /// Foreground units waiting for the writer.
    foreground: AtomicUsize,
    /// Signalled when the last waiting foreground unit got the writer.
    foreground_gone: Notify,
}

/// The shared writer: the connection while a group is open, and who waits for its commit.
#[derive(Debug)]
pub(crate) struct GroupWriter {
    pool: SqlitePool,
    state: Arc<Mutex<GroupState>>,
    waiting: Arc<Waiting>,
}

#[derive(Debug)]
struct GroupState {
    /// The writer connection while an outer transaction is open.
    conn: Option<PoolConnection<Sqlite>>,
    /// A unit's savepoint is open: its owner went away without committing.
    unit_open: bool,
    /// The last unit committed and left its savepoint for the next round trip to release.
    release_pending: bool,
    /// Units whose savepoints were released, waiting for the outer commit.
    members: Vec<oneshot::Sender<Result<()>>>,
    /// The store's counts of calls and commits.
    traffic: Arc<Traffic>,
    /// The highest outbox sequence number when the group began: rows up to it are durable.
    durable_outbox_seq: i64,
    /// A foreground unit is among the members: commit as soon as no other request waits.
    has_foreground: bool,
    /// When the open group began (for the debug log of each commit).
    opened: Option<Instant>,
}

impl GroupWriter {
    /// A group writer over the one-connection writer pool, counting its calls in `traffic`.
    pub(crate) fn new(pool: SqlitePool, traffic: Arc<Traffic>) -> Self {
        let state = GroupState {
            conn: None,
            unit_open: false,
            release_pending: false,
            members: Vec::new(),
            traffic,
            durable_outbox_seq: 0,
            has_foreground: false,
            opened: None,
        };
        GroupWriter {
            pool,
            state: Arc::new(Mutex::new(state)),
            waiting: Arc::default(),
        }
    }

    /// Waits for the writer and opens a savepoint for one unit. Runs as its own task, so a caller that
    /// gives up midway never leaves the writer half-opened (the unit is then dropped and rolled back).
    pub(crate) async fn begin(&self, priority: Priority) -> Result<GroupUnit> {
        let (pool, state, waiting) = (self.pool.clone(), self.state.clone(), self.waiting.clone());
        tokio::spawn(async move {
            if priority == Priority::Background {
                let deadline = tokio::time::Instant::now() + MAX_BACKGROUND_DEFER;
                while waiting.foreground.load(Ordering::SeqCst) > 0 {
                    let gone = waiting.foreground_gone.notified();
                    if waiting.foreground.load(Ordering::SeqCst) == 0
                        || tokio::time::timeout_at(deadline, gone).await.is_err()
                    {
                        break;
                    }
                }
            }
            let foreground = priority == Priority::Foreground;
            waiting.all.fetch_add(1, Ordering::SeqCst);
            if foreground {
                waiting.foreground.fetch_add(1, Ordering::SeqCst);
            }
            let asked = Instant::now();
            let mut guard = state.lock_owned().await;
            tracing::debug!(?priority, waited_us = micros(asked.elapsed()), "writer taken");
            waiting.all.fetch_sub(1, Ordering::SeqCst);
            if foreground && waiting.foreground.fetch_sub(1, Ordering::SeqCst) == 1 {
                waiting.foreground_gone.notify_waiters();
            }
            if let Err(e) = open_unit(&pool, &mut guard).await {
                abort(&mut guard, &e).await;
                return Err(e);
            }
            Ok(GroupUnit {
                guard: Some(guard),
                waiting,
                foreground,
                taken: Instant::now(),
            })
        })
        .await
        .map_err(|_| lost())?
    }
}

async fn open_unit(pool: &SqlitePool, state: &mut GroupState) -> Result<()> {
    recover(state).await?;
    let err = |e| db_err("sqlite", e);
    match state.conn.as_mut() {
        // A new group: one round trip opens it, opens the unit's savepoint and reads the watermark.
        None => {
            let mut conn = pool.acquire().await.map_err(err)?;
            state.traffic.call(3);
            let row = sqlx::raw_sql("BEGIN IMMEDIATE; SAVEPOINT unit; SELECT COALESCE(MAX(seq), 0) FROM outbox")
                .fetch_one(&mut *conn)
                .await;
            let seq = match row.and_then(|r| r.try_get::<i64, _>(0)) {
                Ok(seq) => seq,
                Err(e) => {
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                    return Err(err(e));
                }
            };
            state.durable_outbox_seq = seq;
            state.conn = Some(conn);
            state.opened = Some(Instant::now());
        }
        // Releasing the previous unit's savepoint rides along with opening this one.
        Some(conn) => {
            let (sql, statements) = if state.release_pending {
                ("RELEASE unit; SAVEPOINT unit", 2)
            } else {
                ("SAVEPOINT unit", 1)
            };
            state.traffic.call(statements);
            sqlx::raw_sql(sql).execute(&mut **conn).await.map_err(err)?;
            state.release_pending = false;
        }
    }
    state.unit_open = true;
    Ok(())
}

fn lost() -> Error {
    Error::Backend {
        backend: "sqlite",
        kind: tts_core::ErrorKind::Internal,
        message: "group writer lost its connection".into(),
    }
}

/// Undoes the savepoint a dropped unit left open.
async fn recover(state: &mut GroupState) -> Result<()> {
    if !state.unit_open {
        return Ok(());
    }
    let conn = state.conn.as_mut().ok_or_else(lost)?;
    sqlx::raw_sql("ROLLBACK TO unit; RELEASE unit")
        .execute(&mut **conn)
        .await
        .map_err(|e| db_err("sqlite", e))?;
    state.unit_open = false;
    Ok(())
}

/// Rolls the whole group back after a failure it cannot recover from, failing every waiting unit.
async fn abort(state: &mut GroupState, cause: &Error) {
    if let Some(mut conn) = state.conn.take() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    state.unit_open = false;
    state.release_pending = false;
    state.has_foreground = false;
    for m in state.members.drain(..) {
        let _ = m.send(Err(copy_error(cause)));
    }
}

/// Commits the outer transaction and answers every member.
async fn flush(state: &mut GroupState) {
    let Some(mut conn) = state.conn.take() else {
        return;
    };
    state.release_pending = false;
    state.has_foreground = false;
    state.traffic.call(1);
    state.traffic.commit(true);
    let committing = Instant::now();
    let result = sqlx::raw_sql("COMMIT")
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| db_err("sqlite", e));
    tracing::debug!(
        units = state.members.len(),
        open_us = state.opened.take().map_or(0, |t| micros(committing.duration_since(t))),
        commit_us = micros(committing.elapsed()),
        "group committed"
    );
    if result.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    drop(conn);
    for m in state.members.drain(..) {
        let _ = m.send(match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(copy_error(e)),
        });
    }
}

/// A duration in whole microseconds, for the debug logs.
pub(super) fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn copy_error(e: &Error) -> Error {
    Error::Backend {
        backend: "sqlite",
        kind: e.kind(),
        message: format!("group commit failed: {e}"),
    }
}

/// Finishes the writer's turn: recovers a dropped unit's savepoint, and commits the group when nobody
/// else is waiting for the writer (or the group is full).
async fn release(mut guard: OwnedMutexGuard<GroupState>, waiting: &Waiting) {
    if let Err(e) = recover(&mut guard).await {
        abort(&mut guard, &e).await;
        return;
    }
    let nobody = waiting.all.load(Ordering::SeqCst) == 0;
    // A request in the group is answered as soon as no other request could join it.
    let requests_done = guard.has_foreground && waiting.foreground.load(Ordering::SeqCst) == 0;
    if nobody || requests_done || guard.members.len() >= MAX_GROUP {
        flush(&mut guard).await;
    }
}

/// One unit's turn on the shared writer.
#[derive(Debug)]
pub(crate) struct GroupUnit {
    guard: Option<OwnedMutexGuard<GroupState>>,
    waiting: Arc<Waiting>,
    foreground: bool,
    /// When the unit got the writer (for the debug log).
    taken: Instant,
}

impl GroupUnit {
    /// The writer connection, inside this unit's savepoint.
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        let conn = self.guard.as_mut().and_then(|g| g.conn.as_mut());
        conn.expect("a live unit holds the group connection")
    }

    /// When earlier units of the group are not durable yet: the last outbox sequence number that is.
    pub(crate) fn outbox_watermark(&self) -> Option<i64> {
        let state = self.guard.as_ref()?;
        (!state.members.is_empty()).then_some(state.durable_outbox_seq)
    }

    /// Ends the unit successfully and waits until its writes are durable.
    pub(crate) async fn commit(mut self: Box<Self>) -> Result<()> {
        let mut guard = self.guard.take().ok_or_else(lost)?;
        let waiting = self.waiting.clone();
        let foreground = self.foreground;
        // Its own task: once the savepoint is released the group must be committed even if the caller
        // stops waiting.
        let rx = tokio::spawn(async move {
            // The savepoint is released by the next unit's first round trip, or committed by the
            // group's COMMIT: one round trip fewer per unit. At most one savepoint is ever open, so
            // SQLite's statement journal stays shallow.
            guard.unit_open = false;
            guard.release_pending = true;
            guard.has_foreground |= foreground;
            let (tx, rx) = oneshot::channel();
            guard.members.push(tx);
            release(guard, &waiting).await;
            Ok::<_, Error>(rx)
        })
        .await
        .map_err(|_| lost())??;
        let released = Instant::now();
        let result = rx.await.unwrap_or_else(|_| Err(lost()));
        tracing::debug!(
            foreground,
            held_us = micros(released.duration_since(self.taken)),
            durable_us = micros(released.elapsed()),
            "unit committed"
        );
        result
    }
}

impl Drop for GroupUnit {
    fn drop(&mut self) {
        // Dropped without commit (an error, or a read-only use of a write unit): roll back to the
        // savepoint and let the group go on, from a task since this cannot await.
        if let Some(guard) = self.guard.take() {
            let waiting = self.waiting.clone();
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(async move { release(guard, &waiting).await });
                }
                Err(_) => drop(guard),
            }
        }
    }
}
