//! The unit of work of both SQL stores: one [`SqlUnit`], one file per aggregate trait of the port.
//!
//! | file | trait |
//! |---|---|
//! | `tickets.rs` | `Tickets` |
//! | `workflows.rs` | `Workflows` |
//! | `directory.rs` | `Directory` |
//! | `cursors.rs` | `Cursors` |
//! | `tasks.rs` | `Tasks` |
//! | `audit.rs` | `Audit` |
//! | `outbox.rs` | `Outbox` (with retention of every `Bookkeeping` kind) |
//! | `notifications.rs` | `Notifications` |
//! | `comments.rs` | `Comments` |
//! | `blob_refs.rs` | `BlobRefs` |
//! | `idempotency.rs` | `Idempotency` |
//! | `credentials.rs` | `Credentials` (and login throttles) |
//! | `sessions.rs` | `Sessions` |
//!
//! The code is the same for both databases; where they differ it asks the unit's [`Dialect`].
//! `merge.rs` joins the held-back writes of one statement before they are sent; on PostgreSQL
//! `unnest.rs` binds the joined rows as arrays, so the statement's text does not change with their number.
//!
//! **Held-back writes.** Writes whose result the engine does not read back go through
//! [`SqlUnit::defer`] and are sent together at the unit's next read, `flush` or commit
//! ([`SqlUnit::send_deferred`]): one round trip per command instead of one per row. Every read and every
//! direct write goes through [`SqlUnit::fetch`], [`SqlUnit::fetch_optional`] or [`SqlUnit::execute`],
//! which send them first, so a unit always reads its own writes. A held-back write says what it must
//! have touched ([`Expect`]) so that a stale version is still a conflict and a missing row still "not
//! found", and names its row ([`Deferred::row`]) so that PostgreSQL never writes one row twice in one
//! statement.

mod audit;
mod blob_refs;
mod comments;
mod credentials;
mod cursors;
mod dead_letters;
mod directory;
mod idempotency;
mod merge;
mod notifications;
mod outbox;
mod sessions;
mod tasks;
mod tickets;
mod unnest;
mod workflows;

use super::dialect::{Conn, Dialect};
use super::forecast::{KeyForecast, KeysTaken};
use super::traffic::Traffic;
use super::values::{Arg, Row, Sql, Write};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tts_core::Workflow;
use tts_core::ids::WorkflowId;
use tts_core::ports::UnitOfWork;
use tts_core::{Error, Result};

/// Frozen workflow versions read so far (they never change once committed), shared by a store's units.
#[derive(Debug, Default)]
pub(crate) struct VersionCache(Mutex<HashMap<(WorkflowId, u32), Arc<Workflow>>>);

impl VersionCache {
    fn get(&self, key: (WorkflowId, u32)) -> Option<Arc<Workflow>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned()
    }

    fn put(&self, key: (WorkflowId, u32), w: Arc<Workflow>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key, w);
    }
}

/// One open transaction of either database, and what the unit remembers while it runs.
pub(crate) struct SqlUnit {
    conn: Conn,
    dialect: Dialect,
    /// A write unit: reads lock what they return (PostgreSQL).
    write: bool,
    versions: Arc<VersionCache>,
    /// The store's counts of what its units send.
    traffic: Arc<Traffic>,
    /// Versions inserted by this unit: not cached until committed.
    fresh_versions: HashSet<(WorkflowId, u32)>,
    /// Writes not sent yet (see [`Deferred`]).
    deferred: Vec<Deferred>,
    /// The workflow revision read along with the ticket an allocation locks (`ticket_with_task`), so
    /// that `workflows_revision` needs no statement of its own; forgotten when this unit writes a
    /// workflow.
    revision_seen: Option<u64>,
    /// Tasks this unit wrote or read: their ticket, workflow id and version, which the assignments it
    /// inserts copy (see `insert_assignment`).
    task_keys: HashMap<tts_core::TaskId, (i64, String, i64)>,
    /// The store's forecast of its ticket counters (PostgreSQL; see `sql/forecast.rs`).
    forecast: Option<Arc<KeyForecast>>,
    /// Where this unit moved the ticket counters, told to the forecast when it ends.
    keys_taken: Option<KeysTaken>,
}

/// A write the unit holds back until it next reads or commits, so that one command's writes reach the
/// database together: one round trip instead of one per row, and the hot rows a command locks (the
/// year's ticket counter, a role's cursor) are held for less time.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// One statement; its placeholders are numbered from `$1`.
    pub(crate) sql: Sql,
    pub(crate) args: Vec<Arg>,
    /// What the rows it touched must show.
    pub(crate) expect: Expect,
    /// The row it writes, as `table:key`: one PostgreSQL statement must not write a row twice.
    pub(crate) row: Option<String>,
}

impl Deferred {
    /// A write that may touch anything (an insert fails on its own; an upsert always touches its row).
    pub(crate) fn any(sql: impl Into<Sql>, args: Vec<Arg>, row: Option<String>) -> Self {
        Deferred {
            sql: sql.into(),
            args,
            expect: Expect::Any,
            row,
        }
    }
}

/// What a held-back write must have touched.
#[derive(Debug)]
pub(crate) enum Expect {
    /// Anything.
    Any,
    /// Exactly one row, else the row is missing (not found) or was changed (conflict). `exists` is a
    /// query on `$1 = id` telling the two apart.
    Versioned {
        entity: &'static str,
        exists: &'static str,
        id: Arg,
        shown: String,
    },
    /// At least one row, else not found.
    Found { entity: &'static str, shown: String },
    /// At least one row, else a conflict saying this.
    Conflict(String),
    /// Exactly this many rows, else another unit got there first: a retryable conflict saying this.
    /// PostgreSQL checks it inside the batch's statement (see [`Write::exactly`]).
    Exactly { rows: u64, lost: &'static str },
    /// One row for each of these version-checked writes, joined into one statement (see
    /// `merge::merge_updates`).
    Every(Vec<Expect>),
}

impl Expect {
    /// Whether the batch's own statement makes this check, so the batch may be sent without a
    /// transaction to roll back.
    fn checked_in_statement(&self) -> bool {
        matches!(self, Expect::Any | Expect::Exactly { .. })
    }
}

impl SqlUnit {
    /// A unit on `conn`, whose opening the store has already counted in `traffic`; `forecast` is the
    /// store's forecast of its ticket counters, if it keeps one.
    pub(crate) fn new(
        conn: Conn,
        write: bool,
        versions: Arc<VersionCache>,
        traffic: Arc<Traffic>,
        forecast: Option<Arc<KeyForecast>>,
    ) -> Self {
        SqlUnit {
            dialect: conn.dialect(),
            conn,
            write,
            versions,
            traffic,
            fresh_versions: HashSet::new(),
            deferred: Vec::new(),
            revision_seen: None,
            task_keys: HashMap::new(),
            forecast,
            keys_taken: None,
        }
    }

    fn backend(&self) -> &'static str {
        self.dialect.backend()
    }

    /// The row lock for reads of this unit (see [`Dialect::row_lock`]).
    fn lock(&self) -> &'static str {
        self.dialect.row_lock(self.write)
    }

    /// `value` as a JSON document argument.
    fn json(&self, value: &impl serde::Serialize) -> Result<Arg> {
        Arg::json(self.backend(), value)
    }

    /// Runs a query after sending held-back writes; reads every row with `read`.
    async fn fetch<T>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
        read: impl FnMut(Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.send_deferred().await?;
        self.traffic.call(1);
        self.conn.fetch(sql.into(), args, read).await
    }

    /// Runs a query after sending held-back writes; reads its first row, if any, with `read`.
    async fn fetch_optional<T>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
        read: impl FnOnce(Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.send_deferred().await?;
        self.traffic.call(1);
        self.conn.fetch_optional(sql.into(), args, read).await
    }

    /// The JSON document in the first column of the first row, if any.
    async fn one_doc<T: DeserializeOwned>(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<T>> {
        self.fetch_optional(sql, args, |r| r.json(0)).await
    }

    /// The JSON documents in the first column of every row.
    async fn all_docs<T: DeserializeOwned>(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<T>> {
        self.fetch(sql, args, |r| r.json(0)).await
    }

    /// Runs a write at once (after sending held-back writes); the rows it touched.
    async fn execute(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        self.send_deferred().await?;
        self.traffic.call(1);
        self.conn.execute(sql.into(), args).await
    }

    /// Holds a write back until the unit next reads or commits (see [`Deferred`]).
    async fn defer(&mut self, op: Deferred) -> Result<()> {
        if self.dialect.one_write_per_row()
            && let Some(row) = &op.row
            && self.deferred.iter().any(|d| d.row.as_ref() == Some(row))
        {
            self.send_deferred().await?;
        }
        self.deferred.push(op);
        Ok(())
    }

    /// Sends the held-back writes in one round trip and checks what each touched.
    async fn send_deferred(&mut self) -> Result<()> {
        self.send(false).await
    }

    /// [`Self::send_deferred`]; `last`: as the unit commits, when a PostgreSQL unit that has not opened
    /// its transaction sends them as one statement without one, if that statement can make every check
    /// (see [`Conn::writes_alone`]); that statement is then the unit's commit, and counted as one.
    async fn send(&mut self, last: bool) -> Result<()> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let alone = last && self.conn.writes_alone() && self.deferred.iter().all(|op| op.expect.checked_in_statement());
        let ops = merge::merge(
            std::mem::take(&mut self.deferred),
            self.dialect.batch_is_one_statement(),
        );
        let mut writes = Vec::with_capacity(ops.len());
        let mut expects = Vec::with_capacity(ops.len());
        for op in ops {
            let exactly = match op.expect {
                Expect::Exactly { rows, .. } => Some(rows),
                _ => None,
            };
            writes.push(Write {
                sql: op.sql,
                args: op.args,
                exactly,
            });
            expects.push(op.expect);
        }
        self.traffic.call(writes.len());
        let touched = self.conn.batch(writes, alone).await?;
        if alone {
            self.traffic.commit(self.write);
        }
        for (expect, n) in expects.into_iter().zip(touched) {
            if let Expect::Exactly { rows, lost } = expect {
                if n != rows {
                    return Err(Error::Backend {
                        backend: self.backend(),
                        kind: tts_core::ErrorKind::Conflict,
                        message: lost.into(),
                    });
                }
                continue;
            }
            if let Expect::Every(each) = expect {
                if n != each.len() as u64 {
                    return Err(self.some_missed(each).await?);
                }
                continue;
            }
            if n > 0 {
                continue;
            }
            match expect {
                Expect::Any | Expect::Exactly { .. } | Expect::Every(_) => {}
                versioned @ Expect::Versioned { .. } => return Err(self.some_missed(vec![versioned]).await?),
                Expect::Found { entity, shown } => return Err(Error::not_found(entity, shown)),
                Expect::Conflict(message) => return Err(Error::conflict(message)),
            }
        }
        Ok(())
    }

    /// Why version-checked writes touched fewer rows than they must: the first whose row is missing is
    /// not found; when every row is there, one of them changed concurrently.
    async fn some_missed(&mut self, each: Vec<Expect>) -> Result<Error> {
        let mut changed = Vec::new();
        let mut kind = "row";
        for expect in each {
            let Expect::Versioned {
                entity,
                exists,
                id,
                shown,
            } = expect
            else {
                continue;
            };
            self.traffic.call(1);
            if self
                .conn
                .fetch_optional(exists.into(), vec![id], |_| Ok(()))
                .await?
                .is_none()
            {
                return Ok(Error::not_found(entity, shown));
            }
            kind = entity;
            changed.push(shown);
        }
        let which = match &changed[..] {
            [one] => format!("{kind} {one}"),
            many => format!("one of {kind}s {}", many.join(", ")),
        };
        Ok(Error::conflict(format!(
            "{which} changed concurrently; reload and retry"
        )))
    }
}

#[async_trait]
impl UnitOfWork for SqlUnit {
    async fn flush(&mut self) -> Result<()> {
        self.send_deferred().await
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.send(true).await?;
        let SqlUnit {
            conn,
            traffic,
            write,
            keys_taken,
            ..
        } = *self;
        // A unit of a SQLite group commits with its group: the group counts that `COMMIT` (group.rs).
        if conn.commits_alone() {
            traffic.call(1);
            traffic.commit(write);
        }
        conn.commit().await?;
        if let Some(keys) = keys_taken {
            keys.committed();
        }
        Ok(())
    }
}

/// The unique key of a workflow name, role name or system: case- and space-insensitive.
fn name_key(s: &str) -> String {
    tts_core::domain::matching::normalize(s)
}

/// The unique key of an e-mail: trimmed, lower-case.
fn email_key(s: &str) -> String {
    s.trim().to_lowercase()
}
