//! The primitives on SQLite: binding, reading columns, and one worker call per batch.

use crate::sql::error::db_err;
use crate::sql::group::GroupUnit;
use crate::sql::values::{Arg, JsonDoc, Row, Sql, SqlRow, Write};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteArguments, SqliteArgumentsBuffer, SqliteRow, SqliteTypeInfo};
use sqlx::{AssertSqlSafe, Executor, Row as _, Sqlite, SqliteConnection};
use tts_core::Result;
use uuid::Uuid;

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// The transaction a SQLite unit runs in.
pub(crate) enum SqliteTx {
    /// A transaction of its own (read units; write units without group commit: `BEGIN IMMEDIATE`).
    Own(sqlx::Transaction<'static, Sqlite>),
    /// A savepoint in a shared group transaction (see `group.rs`).
    Grouped(Box<GroupUnit>),
}

impl SqliteTx {
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteTx::Own(tx) => tx,
            SqliteTx::Grouped(g) => g.conn(),
        }
    }

    pub(crate) fn outbox_watermark(&self) -> Option<i64> {
        match self {
            SqliteTx::Own(_) => None,
            SqliteTx::Grouped(g) => g.outbox_watermark(),
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            SqliteTx::Own(tx) => tx.commit().await.map_err(err),
            SqliteTx::Grouped(g) => g.commit().await,
        }
    }
}

fn err(e: sqlx::Error) -> tts_core::Error {
    db_err("sqlite", e)
}

fn query(sql: Sql, args: Vec<Arg>) -> Query<'static> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
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
            Arg::Json(v) => q.bind(JsonDoc(v)),
            // Never sent to SQLite (see `Column`); were it, the statement would get the JSON array.
            Arg::Column(c) => q.bind(serde_json::to_string(&c).unwrap_or_default()),
        };
    }
    q
}

pub(super) async fn execute(conn: &mut SqliteConnection, sql: Sql, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
    query(sql, args).execute(conn).await.map(|done| done.rows_affected())
}

pub(super) async fn fetch<'c, T>(
    executor: impl Executor<'c, Database = Sqlite>,
    sql: Sql,
    args: Vec<Arg>,
    mut read: impl FnMut(Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query(sql, args).fetch_all(executor).await.map_err(err)?;
    rows.iter().map(|r| read(Row::new(r, "sqlite"))).collect()
}

pub(super) async fn fetch_optional<T>(
    conn: &mut SqliteConnection,
    sql: Sql,
    args: Vec<Arg>,
    read: impl FnOnce(Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let row = query(sql, args).fetch_optional(conn).await.map_err(err)?;
    row.as_ref().map(|r| read(Row::new(r, "sqlite"))).transpose()
}

/// The statements joined into one multi-statement query (placeholders renumbered into one argument
/// list), so the whole batch is one call to the connection's worker thread: one hop there and back
/// instead of one per statement, which on the single writer is what a command waits for (the store
/// bench measured one more statement at ~27 µs against ~300 µs for a whole one-row commit).
///
/// It is sent through the [`Executor::execute_many`] trait method, which is not deprecated, rather
/// than through `Query::execute_many` / `Query::fetch_many`, which are (sqlx marks the multi-statement
/// form of `Query` deprecated, launchbadge/sqlx#3108; `raw_sql` cannot bind arguments). The driver
/// steps every statement in that one worker call and reports each statement's rows affected. Should a
/// later sqlx refuse several statements in one query, the batch fails loudly (the conformance suite
/// runs batches in every case) and the fallback is one `execute` per statement.
pub(super) async fn batch(conn: &mut SqliteConnection, writes: Vec<Write>) -> Result<Vec<u64>> {
    if writes.len() == 1 {
        let Write { sql, args, .. } = writes.into_iter().next().expect("one write");
        return execute(conn, sql, args).await.map(|n| vec![n]).map_err(err);
    }
    let mut parts = Vec::with_capacity(writes.len());
    let mut all = Vec::new();
    for Write { sql, args, .. } in writes {
        parts.push(super::shift_placeholders(&sql, all.len()));
        all.extend(args);
    }
    let q = query(Sql::Owned(parts.join(";\n")), all);
    conn.execute_many(q)
        .map_ok(|done| done.rows_affected())
        .try_collect()
        .await
        .map_err(err)
}

impl SqlRow for SqliteRow {
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(i)
    }

    fn opt_bool(&self, i: usize) -> Result<Option<bool>, sqlx::Error> {
        self.try_get(i)
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        self.try_get(i)
    }

    fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>, sqlx::Error> {
        self.try_get(i)
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        self.try_get(i)
    }

    fn opt_json(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        self.try_get(i)
    }
}

impl sqlx::Type<Sqlite> for JsonDoc {
    fn type_info() -> SqliteTypeInfo {
        <str as sqlx::Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for JsonDoc {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.get().to_owned(), buf)
    }
}
