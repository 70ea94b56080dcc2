//! The unit of work shared by both SQL dialects, written once and instantiated per database.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tts_core::domain::matching::normalize;
use tts_core::ids::WorkflowId;
use tts_core::{Priority, Ticket, Workflow};
use uuid::Uuid;

/// Which SQL dialect a unit speaks; the few places they differ branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Frozen workflow versions read so far (they never change once committed).
#[derive(Debug, Default)]
pub(crate) struct VersionCache(Mutex<HashMap<(WorkflowId, u32), Arc<Workflow>>>);

impl VersionCache {
    pub(crate) fn get(&self, key: (WorkflowId, u32)) -> Option<Arc<Workflow>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned()
    }

    pub(crate) fn put(&self, key: (WorkflowId, u32), w: Arc<Workflow>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key, w);
    }
}

/// What the shared unit-of-work code needs from a transaction it shares with other units (SQLite group
/// commit, see `group.rs`).
#[async_trait::async_trait]
pub(crate) trait GroupedTx<DB: sqlx::Database>: Send + std::fmt::Debug {
    /// The connection to run statements on.
    fn conn(&mut self) -> &mut DB::Connection;
    /// The same, shared.
    fn conn_ref(&self) -> &DB::Connection;
    /// When earlier units of the group are not durable yet: the last outbox sequence number that is, so
    /// the relay never publishes a message whose cause could still be rolled back.
    fn outbox_watermark(&self) -> Option<i64>;
    /// Ends the unit successfully and waits until its writes are durable.
    async fn commit(self: Box<Self>) -> tts_core::Result<()>;
}

/// The transaction a unit runs in: its own, or a savepoint in a shared group transaction.
pub(crate) enum UnitTx<DB: sqlx::Database> {
    /// One transaction per unit.
    Own(sqlx::Transaction<'static, DB>),
    /// A savepoint in a group transaction.
    Grouped(Box<dyn GroupedTx<DB>>),
}

impl<DB: sqlx::Database> std::ops::Deref for UnitTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        match self {
            UnitTx::Own(tx) => tx,
            UnitTx::Grouped(g) => g.conn_ref(),
        }
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for UnitTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            UnitTx::Own(tx) => tx,
            UnitTx::Grouped(g) => g.conn(),
        }
    }
}

/// One open transaction plus what the shared code needs to know about it.
pub(crate) struct SqlUnit<DB: sqlx::Database> {
    pub(crate) tx: UnitTx<DB>,
    pub(crate) write: bool,
    pub(crate) dialect: Dialect,
    pub(crate) backend: &'static str,
    pub(crate) versions: Arc<VersionCache>,
    /// Versions inserted by this unit: not cached until committed.
    pub(crate) fresh_versions: HashSet<(WorkflowId, u32)>,
    /// Writes not sent yet (see [`Deferred`]).
    pub(crate) deferred: Vec<Deferred>,
    /// The workflow revision read along with the ticket an allocation locks (`ticket_with_task`), so
    /// that `workflows_revision` needs no statement of its own; forgotten when this unit changes a
    /// workflow.
    pub(crate) revision_seen: Option<u64>,
}

/// A dynamically bound query argument (list filters, deferred writes).
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    Text(String),
    Bool(bool),
    Uuid(Uuid),
    OptI64(Option<i64>),
    OptText(Option<String>),
    OptUuid(Option<Uuid>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    /// A JSON document, serialized once when the write is deferred.
    Json(Box<sqlx::types::JsonRawValue>),
}

impl Arg {
    /// `value` as a JSON argument.
    pub(crate) fn json(backend: &'static str, value: &impl serde::Serialize) -> tts_core::Result<Arg> {
        crate::sql::json_doc::JsonDoc::of(backend, value).map(|doc| Arg::Json(doc.0))
    }
}

/// A write the unit holds back until it next reads or commits, so that one command's writes reach the
/// database together: one round trip instead of one per row, and the hot rows a command locks (the
/// year's ticket counter, a role's cursor) are held for less time.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// One statement; its placeholders are numbered from `$1`.
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    /// What the rows it touched must show.
    pub(crate) expect: Expect,
    /// The row it writes, as `table:key`: one PostgreSQL statement must not write a row twice.
    pub(crate) row: Option<String>,
}

/// What a deferred write must have touched.
#[derive(Debug)]
pub(crate) enum Expect {
    /// Anything (inserts fail on their own; upserts always touch their row).
    Any,
    /// Exactly one row, else the row is missing (not found) or was changed (conflict). `exists` is a query
    /// on `$1 = id` telling the two apart.
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
}

/// `sql` with every placeholder `$n` renumbered to `$(n + by)`, to place it after other statements'
/// arguments in one batch.
pub(crate) fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(&(_, d)) = chars.peek()
            && d.is_ascii_digit()
        {
            n.push(d);
            chars.next();
        }
        if let Ok(v) = n.parse::<usize>() {
            out.push_str(&(v + by).to_string());
        } else {
            out.push_str(&n);
        }
    }
    out
}

/// The derived key columns of a ticket row.
pub(crate) struct TicketKeys {
    pub(crate) number: String,
    pub(crate) status: &'static str,
    pub(crate) priority: &'static str,
    pub(crate) priority_rank: i64,
    pub(crate) category_key: String,
    pub(crate) department_key: Option<String>,
    pub(crate) search_text: String,
}

impl TicketKeys {
    pub(crate) fn of(t: &Ticket) -> Self {
        let number = t.ticket_id.to_string();
        let search_text = format!("{}\n{}\n{}", t.subject, t.description, number).to_lowercase();
        TicketKeys {
            number,
            status: t.status.as_str(),
            priority: t.priority.as_str(),
            priority_rank: priority_rank(t.priority),
            category_key: t.category.to_lowercase(),
            department_key: t.department.as_deref().map(str::to_lowercase),
            search_text,
        }
    }
}

pub(crate) fn priority_rank(p: Priority) -> i64 {
    match p {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    }
}

/// The unique key of a workflow name, role name or system.
pub(crate) fn name_key(s: &str) -> String {
    normalize(s)
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Builds a `WHERE` clause with numbered placeholders as conditions are added.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub(crate) conditions: Vec<String>,
    pub(crate) args: Vec<Arg>,
}

impl Filter {
    /// Adds a condition; `?` in `sql` is replaced by the next placeholder number (once per `?`,
    /// each `?` binding `arg` again).
    pub(crate) fn add(&mut self, sql: &str, arg: &Arg) {
        let mut out = String::new();
        for (i, part) in sql.split('?').enumerate() {
            if i > 0 {
                self.args.push(arg.clone());
                out.push_str(&format!("${}", self.args.len()));
            }
            out.push_str(part);
        }
        self.conditions.push(out);
    }

    /// Adds a condition without arguments.
    pub(crate) fn add_plain(&mut self, sql: &str) {
        self.conditions.push(sql.to_string());
    }

    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The next placeholder number.
    pub(crate) fn next(&self) -> usize {
        self.args.len() + 1
    }
}

/// Implements `UnitOfWork` for `SqlUnit<$db>`; the bodies are the same for every database.
macro_rules! sql_unit_of_work {
    ($db:ty) => {
        use crate::sql::error::db_err;
        use crate::sql::unit::{like_pattern, name_key, Arg, Dialect, Filter, SqlUnit, TicketKeys};
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::types::Json;
        use sqlx::{AssertSqlSafe, Row};
        use std::sync::Arc;
        use tts_core::domain::assignment::Candidate;
        use tts_core::ids::*;
        use tts_core::ports::store::{
            AssignmentQuery, Bookkeeping, IdempotencyRecord, NotificationQuery, Page, PageRequest, TicketOrdering, TicketQuery,
        };
        use tts_core::ports::UnitOfWork;
        use tts_core::{
            Assignment, AuditEntry, Error, Membership, Notification, OutboxMessage, Result, Role, Task, Ticket,
            TicketNumber, User, Workflow, WorkflowStatus,
        };

        type Q<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>;

        fn bind_all(mut q: Q<'_>, args: Vec<Arg>) -> Q<'_> {
            for a in args {
                q = match a {
                    Arg::I64(v) => q.bind(v),
                    Arg::Text(v) => q.bind(v),
                    Arg::Bool(v) => q.bind(v),
                    Arg::Uuid(v) => q.bind(v),
                    Arg::OptI64(v) => q.bind(v),
                    Arg::OptText(v) => q.bind(v),
                    Arg::OptUuid(v) => q.bind(v),
                    Arg::Time(v) => q.bind(v),
                    Arg::OptTime(v) => q.bind(v),
                    Arg::Json(v) => q.bind(crate::sql::json_doc::JsonDoc(v)),
                };
            }
            q
        }

        impl SqlUnit<$db> {
            fn err(&self) -> impl Fn(sqlx::Error) -> Error + use<> {
                let backend = self.backend;
                move |e| db_err(backend, e)
            }

            /// `sql` with `{LOCK}` replaced by the row lock of a write unit on PostgreSQL.
            fn locked(&self, sql: &'static str) -> AssertSqlSafe<String> {
                let lock = if self.write && self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
                AssertSqlSafe(sql.replace("{LOCK}", lock))
            }

            async fn one_json<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
                &mut self,
                sql: AssertSqlSafe<String>,
                args: Vec<Arg>,
            ) -> Result<Option<T>> {
                self.send_deferred().await?;
                let err = self.err();
                let row = bind_all(sqlx::query(sql), args).fetch_optional(&mut *self.tx).await.map_err(&err)?;
                row.map(|r| r.try_get::<Json<T>, _>(0).map(|j| j.0)).transpose().map_err(err)
            }

            async fn all_json<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
                &mut self,
                sql: AssertSqlSafe<String>,
                args: Vec<Arg>,
            ) -> Result<Vec<T>> {
                self.send_deferred().await?;
                let err = self.err();
                let rows = bind_all(sqlx::query(sql), args).fetch_all(&mut *self.tx).await.map_err(&err)?;
                rows.into_iter().map(|r| r.try_get::<Json<T>, _>(0).map(|j| j.0)).collect::<Result<_, _>>().map_err(err)
            }

            async fn count(&mut self, sql: String, args: Vec<Arg>) -> Result<u64> {
                self.send_deferred().await?;
                let err = self.err();
                let row = bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_one(&mut *self.tx).await.map_err(&err)?;
                Ok(row.try_get::<i64, _>(0).map_err(err)?.max(0) as u64)
            }

            async fn page_json<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
                &mut self,
                table: &str,
                filter: Filter,
                order: &str,
                page: PageRequest,
            ) -> Result<Page<T>> {
                let where_clause = filter.where_clause();
                let total = self.count(format!("SELECT COUNT(*) FROM {table}{where_clause}"), filter.args.clone()).await?;
                let n = filter.next();
                let sql = format!("SELECT data FROM {table}{where_clause} ORDER BY {order} LIMIT ${n} OFFSET ${}", n + 1);
                let mut args = filter.args;
                args.push(Arg::I64(i64::from(page.page_size)));
                args.push(Arg::I64(page.offset() as i64));
                let items = self.all_json(AssertSqlSafe(sql), args).await?;
                Ok(Page { items, total })
            }

            async fn bump_counter(&mut self, name: &str) -> Result<i64> {
                self.send_deferred().await?;
                let err = self.err();
                sqlx::query_scalar::<_, i64>(
                    "INSERT INTO counters (name, value) VALUES ($1, 1) \
                     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
                )
                .bind(name.to_string())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(err)
            }

            /// Whether `sql` finds a row. Does not send deferred writes (the caller has, or must).
            async fn exists(&mut self, sql: &'static str, arg: Arg) -> Result<bool> {
                let err = self.err();
                Ok(bind_all(sqlx::query(sql), vec![arg]).fetch_optional(&mut *self.tx).await.map_err(err)?.is_some())
            }

            /// Holds a write back until the unit next reads or commits (see [`crate::sql::unit::Deferred`]).
            async fn defer(&mut self, op: crate::sql::unit::Deferred) -> Result<()> {
                // One PostgreSQL statement cannot write a row twice: send what is pending first.
                if self.dialect == Dialect::Postgres
                    && let Some(row) = &op.row
                    && self.deferred.iter().any(|d| d.row.as_ref() == Some(row))
                {
                    self.send_deferred().await?;
                }
                self.deferred.push(op);
                Ok(())
            }

            /// Sends the deferred writes in one round trip and checks what each touched. PostgreSQL: one
            /// statement of data-modifying `WITH` parts; SQLite: the statements in one prepared batch.
            async fn send_deferred(&mut self) -> Result<()> {
                if self.deferred.is_empty() {
                    return Ok(());
                }
                let ops = std::mem::take(&mut self.deferred);
                let err = self.err();
                let touched: Vec<u64> = if ops.len() == 1 {
                    let op = &ops[0];
                    let done = bind_all(sqlx::query(AssertSqlSafe(op.sql.clone())), op.args.clone())
                        .execute(&mut *self.tx)
                        .await
                        .map_err(&err)?;
                    vec![done.rows_affected()]
                } else {
                    let mut parts = Vec::with_capacity(ops.len());
                    let mut args = Vec::new();
                    for op in &ops {
                        parts.push(crate::sql::unit::shift_placeholders(&op.sql, args.len()));
                        args.extend(op.args.iter().cloned());
                    }
                    match self.dialect {
                        Dialect::Postgres => {
                            let with: Vec<String> =
                                parts.iter().enumerate().map(|(i, p)| format!("w{i} AS ({p} RETURNING 1)")).collect();
                            let counts: Vec<String> =
                                (0..parts.len()).map(|i| format!("(SELECT COUNT(*) FROM w{i})")).collect();
                            let sql = format!("WITH {} SELECT {}", with.join(", "), counts.join(", "));
                            let row = bind_all(sqlx::query(AssertSqlSafe(sql)), args)
                                .fetch_one(&mut *self.tx)
                                .await
                                .map_err(&err)?;
                            (0..parts.len())
                                .map(|i| row.try_get::<i64, _>(i).map(|n| n.max(0) as u64))
                                .collect::<Result<_, _>>()
                                .map_err(&err)?
                        }
                        Dialect::Sqlite => {
                            use futures_util::TryStreamExt;
                            // SQLite runs every statement of one prepared query in one call on its
                            // worker thread, yielding one result per statement (sqlx marks this
                            // multi-statement form deprecated, see launchbadge/sqlx#3108; the version is
                            // pinned and the conformance suites cover it).
                            #[allow(deprecated)]
                            let mut results = bind_all(sqlx::query(AssertSqlSafe(parts.join(";\n"))), args)
                                .fetch_many(&mut *self.tx);
                            let mut touched = Vec::with_capacity(parts.len());
                            while let Some(step) = results.try_next().await.map_err(&err)? {
                                if let sqlx::Either::Left(done) = step {
                                    touched.push(done.rows_affected());
                                }
                            }
                            touched
                        }
                    }
                };
                if touched.len() != ops.len() {
                    return Err(Error::Backend {
                        backend: self.backend,
                        kind: tts_core::ErrorKind::Internal,
                        message: format!("a batch of {} writes reported {} results", ops.len(), touched.len()),
                    });
                }
                for (op, n) in ops.into_iter().zip(touched) {
                    if n > 0 {
                        continue;
                    }
                    match op.expect {
                        crate::sql::unit::Expect::Any => {}
                        crate::sql::unit::Expect::Versioned { entity, exists, id, shown } => {
                            return Err(self.stale_or_missing(entity, exists, id, shown).await);
                        }
                        crate::sql::unit::Expect::Found { entity, shown } => return Err(Error::not_found(entity, shown)),
                        crate::sql::unit::Expect::Conflict(message) => return Err(Error::conflict(message)),
                    }
                }
                Ok(())
            }

            /// After an update matched no row: missing row -> not found, else a stale version -> conflict.
            async fn stale_or_missing(&mut self, entity: &'static str, sql: &'static str, id: Arg, shown: String) -> Error {
                match self.exists(sql, id).await {
                    Ok(true) => Error::conflict(format!("{entity} {shown} changed concurrently; reload and retry")),
                    Ok(false) => Error::not_found(entity, shown),
                    Err(e) => e,
                }
            }
        }

        #[async_trait]
        impl UnitOfWork for SqlUnit<$db> {
            async fn flush(&mut self) -> Result<()> {
                self.send_deferred().await
            }

            async fn commit(mut self: Box<Self>) -> Result<()> {
                self.send_deferred().await?;
                let this = *self;
                let err = this.err();
                match this.tx {
                    crate::sql::unit::UnitTx::Own(tx) => tx.commit().await.map_err(err)?,
                    crate::sql::unit::UnitTx::Grouped(g) => g.commit().await?,
                }
                let _ = &this.fresh_versions;
                Ok(())
            }

            async fn next_ticket_id(&mut self) -> Result<TicketId> {
                self.send_deferred().await?;
                match self.dialect {
                    Dialect::Postgres => {
                        let err = self.err();
                        let id = sqlx::query_scalar::<_, i64>("SELECT nextval('ticket_ids')")
                            .fetch_one(&mut *self.tx)
                            .await
                            .map_err(err)?;
                        Ok(TicketId(id))
                    }
                    Dialect::Sqlite => self.bump_counter("ticket_id").await.map(TicketId),
                }
            }

            async fn next_ticket_seq(&mut self, year: i32) -> Result<u32> {
                let v = self.bump_counter(&format!("ticket_seq:{year}")).await?;
                u32::try_from(v).map_err(|_| Error::conflict("the year's ticket sequence is exhausted"))
            }

            async fn next_ticket_keys(&mut self, year: i32) -> Result<(TicketId, u32)> {
                self.send_deferred().await?;
                let err = self.err();
                let year_key = format!("ticket_seq:{year}");
                // One statement bumps the year's counter (locking it until commit) and takes an id.
                let (id, seq): (i64, i64) = match self.dialect {
                    Dialect::Postgres => sqlx::query_as(
                        "WITH c AS (INSERT INTO counters (name, value) VALUES ($1, 1) \
                         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value) \
                         SELECT nextval('ticket_ids'), c.value FROM c",
                    )
                    .bind(year_key)
                    .fetch_one(&mut *self.tx)
                    .await
                    .map_err(err)?,
                    Dialect::Sqlite => {
                        let rows: Vec<(String, i64)> = sqlx::query_as(
                            "INSERT INTO counters (name, value) VALUES ($1, 1), ('ticket_id', 1) \
                             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value",
                        )
                        .bind(year_key.clone())
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(err)?;
                        let value = |name: &str| rows.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
                        match (value("ticket_id"), value(&year_key)) {
                            (Some(id), Some(seq)) => (id, seq),
                            _ => {
                                return Err(Error::Backend {
                                    backend: self.backend,
                                    kind: tts_core::ErrorKind::Internal,
                                    message: "the ticket counters did not both move".into(),
                                });
                            }
                        }
                    }
                };
                let seq = u32::try_from(seq).map_err(|_| Error::conflict("the year's ticket sequence is exhausted"))?;
                Ok((TicketId(id), seq))
            }

            async fn insert_ticket(&mut self, t: &Ticket) -> Result<()> {
                let k = TicketKeys::of(t);
                let data = Arg::json(self.backend, t)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO tickets (id, year, seq, number, created_by, status, priority, priority_rank, \
                          category_key, department_key, is_task_allocated, search_text, created_at, updated_at, version, data) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                        .into(),
                    args: vec![
                        Arg::I64(t.id.0),
                        Arg::I64(i64::from(t.ticket_id.year())),
                        Arg::I64(i64::from(t.ticket_id.seq())),
                        Arg::Text(k.number),
                        Arg::Uuid(t.created_by.0),
                        Arg::Text(k.status.into()),
                        Arg::Text(k.priority.into()),
                        Arg::I64(k.priority_rank),
                        Arg::Text(k.category_key),
                        Arg::OptText(k.department_key),
                        Arg::Bool(t.is_task_allocated),
                        Arg::Text(k.search_text),
                        Arg::Time(t.created_at),
                        Arg::Time(t.updated_at),
                        Arg::I64(i64::from(t.version)),
                        data,
                    ],
                    expect: crate::sql::unit::Expect::Any,
                    row: Some(format!("tickets:{}", t.id.0)),
                })
                .await
            }

            async fn update_ticket(&mut self, t: &Ticket) -> Result<()> {
                let k = TicketKeys::of(t);
                let data = Arg::json(self.backend, t)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "UPDATE tickets SET status = $2, priority = $3, priority_rank = $4, category_key = $5, \
                          department_key = $6, is_task_allocated = $7, search_text = $8, updated_at = $9, version = $10, \
                          data = $11 WHERE id = $1 AND version = $12"
                        .into(),
                    args: vec![
                        Arg::I64(t.id.0),
                        Arg::Text(k.status.into()),
                        Arg::Text(k.priority.into()),
                        Arg::I64(k.priority_rank),
                        Arg::Text(k.category_key),
                        Arg::OptText(k.department_key),
                        Arg::Bool(t.is_task_allocated),
                        Arg::Text(k.search_text),
                        Arg::Time(t.updated_at),
                        Arg::I64(i64::from(t.version)),
                        data,
                        Arg::I64(i64::from(t.version) - 1),
                    ],
                    expect: crate::sql::unit::Expect::Versioned {
                        entity: "ticket",
                        exists: "SELECT 1 FROM tickets WHERE id = $1",
                        id: Arg::I64(t.id.0),
                        shown: t.id.to_string(),
                    },
                    row: Some(format!("tickets:{}", t.id.0)),
                })
                .await
            }

            async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>> {
                let sql = self.locked("SELECT data FROM tickets WHERE id = $1{LOCK}");
                self.one_json(sql, vec![Arg::I64(id.0)]).await
            }

            async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>> {
                let sql = self.locked("SELECT data FROM tickets WHERE number = $1{LOCK}");
                self.one_json(sql, vec![Arg::Text(number.to_string())]).await
            }

            async fn list_tickets(&mut self, q: &TicketQuery) -> Result<Page<Ticket>> {
                let mut f = Filter::default();
                if let Some(u) = q.visible_to {
                    f.add(
                        "(created_by = ? OR id IN (SELECT t.ticket_id FROM tasks t JOIN assignments a ON a.task_id = t.id WHERE a.user_id = ?))",
                        &Arg::Uuid(u.0),
                    );
                }
                if let Some(s) = q.status {
                    f.add("status = ?", &Arg::Text(s.as_str().into()));
                }
                if let Some(p) = q.priority {
                    f.add("priority = ?", &Arg::Text(p.as_str().into()));
                }
                if let Some(c) = &q.category {
                    f.add("category_key = ?", &Arg::Text(c.to_lowercase()));
                }
                if let Some(d) = &q.department {
                    f.add("department_key = ?", &Arg::Text(d.to_lowercase()));
                }
                if let Some(a) = q.is_task_allocated {
                    f.add("is_task_allocated = ?", &Arg::Bool(a));
                }
                if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
                    f.add("search_text LIKE ? ESCAPE '\\'", &Arg::Text(like_pattern(s)));
                }
                let order = match q.ordering {
                    TicketOrdering::NewestFirst => "created_at DESC, id DESC",
                    TicketOrdering::OldestFirst => "created_at ASC, id ASC",
                    TicketOrdering::PriorityDesc => "priority_rank DESC, created_at DESC, id DESC",
                    TicketOrdering::UpdatedDesc => "updated_at DESC, id DESC",
                };
                self.page_json("tickets", f, order, q.page).await
            }

            async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                sqlx::query("INSERT INTO workflows (id, name_key, status, data) VALUES ($1, $2, $3, $4)")
                    .bind(w.id.0)
                    .bind(name_key(&w.definition.name))
                    .bind(w.status.as_str())
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, w)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                self.revision_seen = None;
                self.bump_counter("workflows_revision").await?;
                Ok(())
            }

            async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                let done = sqlx::query("UPDATE workflows SET name_key = $2, status = $3, data = $4 WHERE id = $1")
                    .bind(w.id.0)
                    .bind(name_key(&w.definition.name))
                    .bind(w.status.as_str())
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, w)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                if done.rows_affected() == 0 {
                    return Err(Error::not_found("workflow", w.id));
                }
                self.revision_seen = None;
                self.bump_counter("workflows_revision").await?;
                Ok(())
            }

            async fn workflow(&mut self, id: WorkflowId) -> Result<Option<Workflow>> {
                let sql = self.locked("SELECT data FROM workflows WHERE id = $1{LOCK}");
                self.one_json(sql, vec![Arg::Uuid(id.0)]).await
            }

            async fn workflows(&mut self, status: Option<WorkflowStatus>) -> Result<Vec<Workflow>> {
                match status {
                    Some(s) => {
                        let sql = AssertSqlSafe("SELECT data FROM workflows WHERE status = $1 ORDER BY name_key".to_string());
                        self.all_json(sql, vec![Arg::Text(s.as_str().into())]).await
                    }
                    None => self.all_json(AssertSqlSafe("SELECT data FROM workflows ORDER BY name_key".to_string()), vec![]).await,
                }
            }

            async fn insert_workflow_version(&mut self, w: &Workflow) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                sqlx::query("INSERT INTO workflow_versions (workflow_id, version, data) VALUES ($1, $2, $3)")
                    .bind(w.id.0)
                    .bind(i64::from(w.version))
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, w)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                self.fresh_versions.insert((w.id, w.version));
                Ok(())
            }

            async fn workflow_version(&mut self, id: WorkflowId, version: u32) -> Result<Option<Arc<Workflow>>> {
                if let Some(w) = self.versions.get((id, version)) {
                    return Ok(Some(w));
                }
                let sql = AssertSqlSafe("SELECT data FROM workflow_versions WHERE workflow_id = $1 AND version = $2".to_string());
                let found: Option<Workflow> = self.one_json(sql, vec![Arg::Uuid(id.0), Arg::I64(i64::from(version))]).await?;
                let found = found.map(Arc::new);
                if let Some(w) = &found
                    && !self.fresh_versions.contains(&(id, version))
                {
                    self.versions.put((id, version), Arc::clone(w));
                }
                Ok(found)
            }

            async fn workflows_revision(&mut self) -> Result<u64> {
                if let Some(revision) = self.revision_seen {
                    return Ok(revision);
                }
                self.send_deferred().await?;
                let err = self.err();
                let v = sqlx::query_scalar::<_, i64>("SELECT value FROM counters WHERE name = 'workflows_revision'")
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(err)?;
                Ok(v.unwrap_or(0).max(0) as u64)
            }

            async fn insert_user(&mut self, u: &User) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                sqlx::query("INSERT INTO users (id, email, is_active, data) VALUES ($1, $2, $3, $4)")
                    .bind(u.id.0)
                    .bind(u.email.trim().to_lowercase())
                    .bind(u.is_active)
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, u)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                Ok(())
            }

            async fn update_user(&mut self, u: &User) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                let done = sqlx::query("UPDATE users SET email = $2, is_active = $3, data = $4 WHERE id = $1")
                    .bind(u.id.0)
                    .bind(u.email.trim().to_lowercase())
                    .bind(u.is_active)
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, u)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                if done.rows_affected() == 0 {
                    return Err(Error::not_found("user", u.id));
                }
                Ok(())
            }

            async fn user(&mut self, id: UserId) -> Result<Option<User>> {
                self.one_json(AssertSqlSafe("SELECT data FROM users WHERE id = $1".into()), vec![Arg::Uuid(id.0)]).await
            }

            async fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
                let sql = AssertSqlSafe("SELECT data FROM users WHERE email = $1".into());
                self.one_json(sql, vec![Arg::Text(email.trim().to_lowercase())]).await
            }

            async fn list_users(&mut self, page: PageRequest) -> Result<Page<User>> {
                self.page_json("users", Filter::default(), "email", page).await
            }

            async fn insert_role(&mut self, r: &Role) -> Result<()> {
                self.send_deferred().await?;
                let err = self.err();
                sqlx::query("INSERT INTO roles (id, system_key, name_key, data) VALUES ($1, $2, $3, $4)")
                    .bind(r.id.0)
                    .bind(name_key(&r.system))
                    .bind(name_key(&r.name))
                    .bind(crate::sql::json_doc::JsonDoc::of(self.backend, r)?)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                Ok(())
            }

            async fn role(&mut self, id: RoleId) -> Result<Option<Role>> {
                self.one_json(AssertSqlSafe("SELECT data FROM roles WHERE id = $1".into()), vec![Arg::Uuid(id.0)]).await
            }

            async fn roles(&mut self) -> Result<Vec<Role>> {
                self.all_json(AssertSqlSafe("SELECT data FROM roles ORDER BY system_key, name_key".into()), vec![]).await
            }

            async fn upsert_membership(&mut self, m: Membership) -> Result<()> {
                self.send_deferred().await?;
                if !self.exists("SELECT 1 FROM roles WHERE id = $1", Arg::Uuid(m.role.0)).await? {
                    return Err(Error::not_found("role", m.role));
                }
                if !self.exists("SELECT 1 FROM users WHERE id = $1", Arg::Uuid(m.user.0)).await? {
                    return Err(Error::not_found("user", m.user));
                }
                let err = self.err();
                sqlx::query(
                    "INSERT INTO memberships (role_id, user_id, is_active) VALUES ($1, $2, $3) \
                     ON CONFLICT (role_id, user_id) DO UPDATE SET is_active = excluded.is_active",
                )
                .bind(m.role.0)
                .bind(m.user.0)
                .bind(m.is_active)
                .execute(&mut *self.tx)
                .await
                .map_err(err)?;
                Ok(())
            }

            async fn remove_membership(&mut self, role: RoleId, user: UserId) -> Result<bool> {
                self.send_deferred().await?;
                let err = self.err();
                let done = sqlx::query("DELETE FROM memberships WHERE role_id = $1 AND user_id = $2")
                    .bind(role.0)
                    .bind(user.0)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn role_members(&mut self, role: RoleId) -> Result<Vec<Membership>> {
                self.send_deferred().await?;
                let err = self.err();
                let rows = sqlx::query("SELECT user_id, is_active FROM memberships WHERE role_id = $1 ORDER BY user_id")
                    .bind(role.0)
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(&err)?;
                rows.into_iter()
                    .map(|r| Ok(Membership { role, user: UserId(r.try_get(0)?), is_active: r.try_get(1)? }))
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(err)
            }

            async fn user_roles(&mut self, user: UserId) -> Result<Vec<Membership>> {
                self.send_deferred().await?;
                let err = self.err();
                let rows = sqlx::query("SELECT role_id, is_active FROM memberships WHERE user_id = $1 ORDER BY role_id")
                    .bind(user.0)
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(&err)?;
                rows.into_iter()
                    .map(|r| Ok(Membership { role: RoleId(r.try_get(0)?), user, is_active: r.try_get(1)? }))
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(err)
            }

            async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>> {
                self.send_deferred().await?;
                let err = self.err();
                let sql = if with_load {
                    "SELECT m.user_id, m.is_active AND u.is_active, \
                     (SELECT COUNT(*) FROM assignments a WHERE a.user_id = m.user_id AND a.is_open) \
                     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY m.user_id"
                } else {
                    "SELECT m.user_id, m.is_active AND u.is_active, CAST(0 AS BIGINT) \
                     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY m.user_id"
                };
                let rows = sqlx::query(sql).bind(role.0).fetch_all(&mut *self.tx).await.map_err(&err)?;
                rows.into_iter()
                    .map(|r| {
                        let load: i64 = r.try_get(2)?;
                        Ok(Candidate { user: UserId(r.try_get(0)?), active: r.try_get(1)?, open_assignments: load.max(0) as u32 })
                    })
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(err)
            }

            async fn cursor(&mut self, role: RoleId) -> Result<Option<UserId>> {
                self.send_deferred().await?;
                let err = self.err();
                let sql = self.locked("SELECT last_user FROM cursors WHERE role_id = $1{LOCK}").0;
                let mut row = sqlx::query(AssertSqlSafe(sql.clone())).bind(role.0).fetch_optional(&mut *self.tx).await.map_err(&err)?;
                if row.is_none() && self.write && self.dialect == Dialect::Postgres {
                    // A role's first allocation creates the row, so that concurrent units serialize on its
                    // lock; a concurrent creator is waited for by the insert, then the row is locked.
                    sqlx::query("INSERT INTO cursors (role_id, last_user) VALUES ($1, NULL) ON CONFLICT (role_id) DO NOTHING")
                        .bind(role.0)
                        .execute(&mut *self.tx)
                        .await
                        .map_err(&err)?;
                    row = sqlx::query(AssertSqlSafe(sql)).bind(role.0).fetch_optional(&mut *self.tx).await.map_err(&err)?;
                }
                let last: Option<uuid::Uuid> = match row {
                    Some(r) => r.try_get(0).map_err(&err)?,
                    None => None,
                };
                Ok(last.map(UserId))
            }

            async fn candidates_and_cursor(&mut self, role: RoleId, with_load: bool) -> Result<(Vec<Candidate>, Option<UserId>)> {
                self.send_deferred().await?;
                let err = self.err();
                let load = if with_load {
                    "(SELECT COUNT(*) FROM assignments a WHERE a.user_id = m.user_id AND a.is_open)"
                } else {
                    "CAST(0 AS BIGINT)"
                };
                let lock = if self.write && self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
                let sql = format!(
                    "WITH cur AS (SELECT role_id, last_user FROM cursors WHERE role_id = $1{lock}) \
                     SELECT m.user_id, m.is_active AND u.is_active, {load}, cur.last_user, cur.role_id IS NOT NULL \
                     FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN cur ON 1 = 1 \
                     WHERE m.role_id = $1 ORDER BY m.user_id"
                );
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(role.0).fetch_all(&mut *self.tx).await.map_err(&err)?;
                let mut candidates = Vec::with_capacity(rows.len());
                let mut last = None;
                let mut cursor_row = false;
                for r in &rows {
                    let open: i64 = r.try_get(2).map_err(&err)?;
                    candidates.push(Candidate {
                        user: UserId(r.try_get(0).map_err(&err)?),
                        active: r.try_get(1).map_err(&err)?,
                        open_assignments: open.max(0) as u32,
                    });
                    last = r.try_get::<Option<uuid::Uuid>, _>(3).map_err(&err)?.map(UserId);
                    cursor_row = r.try_get(4).map_err(&err)?;
                }
                if !rows.is_empty() && !cursor_row && self.write {
                    // The role's first pick: `cursor` creates and locks the row.
                    last = self.cursor(role).await?;
                }
                Ok((candidates, last))
            }

            async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()> {
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO cursors (role_id, last_user) VALUES ($1, $2) \
                          ON CONFLICT (role_id) DO UPDATE SET last_user = excluded.last_user"
                        .into(),
                    args: vec![Arg::Uuid(role.0), Arg::Uuid(last.0)],
                    expect: crate::sql::unit::Expect::Any,
                    row: Some(format!("cursors:{}", role.0)),
                })
                .await
            }

            async fn insert_task(&mut self, t: &Task) -> Result<()> {
                let data = Arg::json(self.backend, t)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO tasks (id, ticket_id, status, version, data) VALUES ($1, $2, $3, $4, $5)".into(),
                    args: vec![Arg::Uuid(t.id.0), Arg::I64(t.ticket.0), Arg::Text(t.status.as_str().into()), Arg::I64(i64::from(t.version)), data],
                    expect: crate::sql::unit::Expect::Any,
                    row: Some(format!("tasks:{}", t.id.0)),
                })
                .await
            }

            async fn update_task(&mut self, t: &Task) -> Result<()> {
                let data = Arg::json(self.backend, t)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "UPDATE tasks SET status = $2, version = $3, data = $4 WHERE id = $1 AND version = $5".into(),
                    args: vec![
                        Arg::Uuid(t.id.0),
                        Arg::Text(t.status.as_str().into()),
                        Arg::I64(i64::from(t.version)),
                        data,
                        Arg::I64(i64::from(t.version) - 1),
                    ],
                    expect: crate::sql::unit::Expect::Versioned {
                        entity: "task",
                        exists: "SELECT 1 FROM tasks WHERE id = $1",
                        id: Arg::Uuid(t.id.0),
                        shown: t.id.to_string(),
                    },
                    row: Some(format!("tasks:{}", t.id.0)),
                })
                .await
            }

            async fn task(&mut self, id: TaskId) -> Result<Option<Task>> {
                let sql = self.locked("SELECT data FROM tasks WHERE id = $1{LOCK}");
                self.one_json(sql, vec![Arg::Uuid(id.0)]).await
            }

            async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>> {
                let sql = self.locked("SELECT data FROM tasks WHERE ticket_id = $1{LOCK}");
                self.one_json(sql, vec![Arg::I64(ticket.0)]).await
            }

            async fn ticket_with_task(&mut self, id: TicketId) -> Result<Option<(Ticket, Option<Task>)>> {
                self.send_deferred().await?;
                let err = self.err();
                let lock = if self.write && self.dialect == Dialect::Postgres { " FOR UPDATE OF t" } else { "" };
                // The workflow revision comes along: an allocation asks for it next (see `revision_seen`).
                let sql = format!(
                    "SELECT t.data, k.data, (SELECT value FROM counters WHERE name = 'workflows_revision') \
                     FROM tickets t LEFT JOIN tasks k ON k.ticket_id = t.id WHERE t.id = $1{lock}"
                );
                let row = sqlx::query(AssertSqlSafe(sql)).bind(id.0).fetch_optional(&mut *self.tx).await.map_err(&err)?;
                let Some(row) = row else { return Ok(None) };
                let ticket = row.try_get::<Json<Ticket>, _>(0).map_err(&err)?.0;
                let task = row.try_get::<Option<Json<Task>>, _>(1).map_err(&err)?.map(|j| j.0);
                let revision: Option<i64> = row.try_get(2).map_err(&err)?;
                self.revision_seen = Some(revision.unwrap_or(0).max(0) as u64);
                Ok(Some((ticket, task)))
            }

            async fn insert_assignment(&mut self, a: &Assignment) -> Result<()> {
                let data = Arg::json(self.backend, a)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, \
                          sla_warned, history_len, version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                        .into(),
                    args: vec![
                        Arg::Uuid(a.id.0),
                        Arg::Uuid(a.task.0),
                        Arg::Uuid(a.user.0),
                        Arg::Text(a.status.as_str().into()),
                        Arg::Bool(a.status.is_open()),
                        Arg::Time(a.assigned_at),
                        Arg::OptTime(a.warn_at),
                        Arg::OptTime(a.target_resolution),
                        Arg::Bool(a.sla_warned),
                        Arg::I64(a.history.len() as i64),
                        Arg::I64(i64::from(a.version)),
                        data,
                    ],
                    expect: crate::sql::unit::Expect::Any,
                    row: Some(format!("assignments:{}", a.id.0)),
                })
                .await
            }

            async fn update_assignment(&mut self, a: &Assignment) -> Result<()> {
                let data = Arg::json(self.backend, a)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "UPDATE assignments SET status = $2, is_open = $3, warn_at = $4, target = $5, sla_warned = $6, \
                          history_len = $7, version = $8, data = $9 WHERE id = $1 AND version = $10 AND history_len <= $7"
                        .into(),
                    args: vec![
                        Arg::Uuid(a.id.0),
                        Arg::Text(a.status.as_str().into()),
                        Arg::Bool(a.status.is_open()),
                        Arg::OptTime(a.warn_at),
                        Arg::OptTime(a.target_resolution),
                        Arg::Bool(a.sla_warned),
                        Arg::I64(a.history.len() as i64),
                        Arg::I64(i64::from(a.version)),
                        data,
                        Arg::I64(i64::from(a.version) - 1),
                    ],
                    expect: crate::sql::unit::Expect::Versioned {
                        entity: "assignment",
                        exists: "SELECT 1 FROM assignments WHERE id = $1",
                        id: Arg::Uuid(a.id.0),
                        shown: a.id.to_string(),
                    },
                    row: Some(format!("assignments:{}", a.id.0)),
                })
                .await
            }

            async fn assignment(&mut self, id: AssignmentId) -> Result<Option<Assignment>> {
                let sql = self.locked("SELECT data FROM assignments WHERE id = $1{LOCK}");
                self.one_json(sql, vec![Arg::Uuid(id.0)]).await
            }

            async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>> {
                let sql = self.locked("SELECT data FROM assignments WHERE task_id = $1 ORDER BY assigned_at, id{LOCK}");
                self.all_json(sql, vec![Arg::Uuid(task.0)]).await
            }

            async fn list_assignments(&mut self, q: &AssignmentQuery) -> Result<Page<Assignment>> {
                let mut f = Filter::default();
                if let Some(u) = q.user {
                    f.add("user_id = ?", &Arg::Uuid(u.0));
                }
                if q.open_only {
                    f.add_plain("is_open");
                }
                self.page_json("assignments", f, "assigned_at DESC, id DESC", q.page).await
            }

            async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>> {
                self.send_deferred().await?;
                let err = self.err();
                let sql = self.locked(
                    "SELECT data FROM assignments WHERE is_open AND ((NOT sla_warned AND warn_at <= $1) \
                     OR (status <> 'breached' AND target <= $1)) ORDER BY target, id LIMIT $2{LOCK}",
                );
                let rows = sqlx::query(sql).bind(now).bind(limit as i64).fetch_all(&mut *self.tx).await.map_err(&err)?;
                rows.into_iter().map(|r| r.try_get::<Json<Assignment>, _>(0).map(|j| j.0)).collect::<Result<_, _>>().map_err(err)
            }

            async fn insert_audit(&mut self, e: AuditEntry) -> Result<()> {
                let data = Arg::json(self.backend, &e)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO audit (id, at, ticket_id, task_id, data) VALUES ($1, $2, $3, $4, $5)".into(),
                    args: vec![Arg::Uuid(e.id.0), Arg::Time(e.at), Arg::OptI64(e.ticket.map(|t| t.0)), Arg::OptUuid(e.task.map(|t| t.0)), data],
                    expect: crate::sql::unit::Expect::Any,
                    row: None,
                })
                .await
            }

            async fn ticket_audit(&mut self, ticket: TicketId) -> Result<Vec<AuditEntry>> {
                let sql = AssertSqlSafe("SELECT data FROM audit WHERE ticket_id = $1 ORDER BY seq".into());
                self.all_json(sql, vec![Arg::I64(ticket.0)]).await
            }

            async fn task_audit(&mut self, task: TaskId) -> Result<Vec<AuditEntry>> {
                let sql = AssertSqlSafe("SELECT data FROM audit WHERE task_id = $1 ORDER BY seq".into());
                self.all_json(sql, vec![Arg::Uuid(task.0)]).await
            }

            async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()> {
                // One multi-row INSERT per hundred events, sent with the unit's other writes.
                for chunk in messages.chunks(100) {
                    let rows: Vec<String> =
                        (0..chunk.len()).map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
                    let mut args = Vec::with_capacity(3 * chunk.len());
                    for m in chunk {
                        args.extend([Arg::Uuid(m.id.0), Arg::Time(m.created_at), Arg::json(self.backend, m)?]);
                    }
                    self.defer(crate::sql::unit::Deferred {
                        sql: format!("INSERT INTO outbox (id, created_at, data) VALUES {}", rows.join(", ")),
                        args,
                        expect: crate::sql::unit::Expect::Any,
                        row: None,
                    })
                    .await?;
                }
                Ok(())
            }

            async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>> {
                let lock = if self.write && self.dialect == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
                let watermark = match &self.tx {
                    crate::sql::unit::UnitTx::Grouped(g) => g.outbox_watermark(),
                    crate::sql::unit::UnitTx::Own(_) => None,
                };
                let durable = if watermark.is_some() { " AND seq <= $2" } else { "" };
                let sql = format!("SELECT data FROM outbox WHERE sent_at IS NULL{durable} ORDER BY seq LIMIT $1{lock}");
                let mut args = vec![Arg::I64(limit as i64)];
                args.extend(watermark.map(Arg::I64));
                self.all_json(AssertSqlSafe(sql), args).await
            }

            async fn mark_outbox_sent(&mut self, ids: &[MessageId], _at: DateTime<Utc>) -> Result<()> {
                self.send_deferred().await?;
                for chunk in ids.chunks(500) {
                    let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
                    // Sent messages are deleted: the outbox stays small; the audit trail keeps the history.
                    let sql = format!("DELETE FROM outbox WHERE id IN ({})", placeholders.join(", "));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.0);
                    }
                    let err = self.err();
                    q.execute(&mut *self.tx).await.map_err(err)?;
                }
                Ok(())
            }

            async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool> {
                self.send_deferred().await?;
                let err = self.err();
                let done = sqlx::query(
                    "INSERT INTO processed (consumer, message_id, processed_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (consumer, message_id) DO NOTHING",
                )
                .bind(consumer.to_string())
                .bind(id.0)
                .bind(at)
                .execute(&mut *self.tx)
                .await
                .map_err(err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64> {
                self.send_deferred().await?;
                let err = self.err();
                // Row values select the batch: the same statement on both dialects, by primary key.
                let sql = match kind {
                    Bookkeeping::Processed => {
                        "DELETE FROM processed WHERE (consumer, message_id) IN \
                         (SELECT consumer, message_id FROM processed WHERE processed_at < $1 LIMIT $2)"
                    }
                    Bookkeeping::IdempotencyKeys => {
                        "DELETE FROM idempotency_keys WHERE (user_id, key) IN \
                         (SELECT user_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)"
                    }
                };
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let done = sqlx::query(sql).bind(before).bind(limit).execute(&mut *self.tx).await.map_err(err)?;
                Ok(done.rows_affected())
            }

            async fn idempotency_record(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
                self.send_deferred().await?;
                let err = self.err();
                let row = sqlx::query(
                    "SELECT fingerprint, ticket_id, created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                )
                .bind(user.0)
                .bind(key.to_string())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(&err)?;
                let Some(row) = row else { return Ok(None) };
                let decode = || -> Result<IdempotencyRecord, sqlx::Error> {
                    Ok(IdempotencyRecord {
                        user,
                        key: key.to_string(),
                        fingerprint: row.try_get(0)?,
                        ticket: TicketId(row.try_get(1)?),
                        created_at: row.try_get::<DateTime<Utc>, _>(2)?,
                    })
                };
                decode().map(Some).map_err(err)
            }

            async fn insert_idempotency_record(&mut self, r: &IdempotencyRecord) -> Result<()> {
                // DO NOTHING rather than a unique violation: on PostgreSQL the unit stays usable after the
                // conflict (a violation would abort the transaction), and a concurrent insert of the same key
                // is waited for, so exactly one of two racing requests records it.
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO idempotency_keys (user_id, key, fingerprint, ticket_id, created_at) \
                          VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING"
                        .into(),
                    args: vec![Arg::Uuid(r.user.0), Arg::Text(r.key.clone()), Arg::Text(r.fingerprint.clone()), Arg::I64(r.ticket.0), Arg::Time(r.created_at)],
                    expect: crate::sql::unit::Expect::Conflict(format!("idempotency key {:?} already used", r.key)),
                    row: Some(format!("idempotency_keys:{}:{}", r.user.0, r.key)),
                })
                .await
            }

            async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
                let data = Arg::json(self.backend, n)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "INSERT INTO notifications (id, user_id, is_read, created_at, data) VALUES ($1, $2, $3, $4, $5)".into(),
                    args: vec![Arg::Uuid(n.id.0), Arg::Uuid(n.user_id.0), Arg::Bool(n.is_read), Arg::Time(n.created_at), data],
                    expect: crate::sql::unit::Expect::Any,
                    row: Some(format!("notifications:{}", n.id.0)),
                })
                .await
            }

            async fn update_notification(&mut self, n: &Notification) -> Result<()> {
                let data = Arg::json(self.backend, n)?;
                self.defer(crate::sql::unit::Deferred {
                    sql: "UPDATE notifications SET is_read = $2, data = $3 WHERE id = $1".into(),
                    args: vec![Arg::Uuid(n.id.0), Arg::Bool(n.is_read), data],
                    expect: crate::sql::unit::Expect::Found { entity: "notification", shown: n.id.to_string() },
                    row: Some(format!("notifications:{}", n.id.0)),
                })
                .await
            }

            async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>> {
                self.one_json(AssertSqlSafe("SELECT data FROM notifications WHERE id = $1".into()), vec![Arg::Uuid(id.0)]).await
            }

            async fn list_notifications(&mut self, q: &NotificationQuery) -> Result<Page<Notification>> {
                let mut f = Filter::default();
                if let Some(u) = q.user {
                    f.add("user_id = ?", &Arg::Uuid(u.0));
                }
                if let Some(r) = q.is_read {
                    f.add("is_read = ?", &Arg::Bool(r));
                }
                self.page_json("notifications", f, "created_at DESC, id DESC", q.page).await
            }

            async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64> {
                let unread: Vec<Notification> = self
                    .all_json(
                        AssertSqlSafe("SELECT data FROM notifications WHERE user_id = $1 AND NOT is_read".into()),
                        vec![Arg::Uuid(user.0)],
                    )
                    .await?;
                for mut n in unread.iter().cloned() {
                    n.is_read = true;
                    n.read_at = Some(at);
                    self.update_notification(&n).await?;
                }
                Ok(unread.len() as u64)
            }
        }
    };
}

pub(crate) use sql_unit_of_work;
