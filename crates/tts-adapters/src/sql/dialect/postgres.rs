//! The primitives on PostgreSQL: binding, reading columns, and a batch as one statement.

use crate::sql::error::db_err;
use crate::sql::traffic::Traffic;
use crate::sql::values::{Arg, Column, JsonDoc, Row, Sql, SqlRow, Write};
use chrono::{DateTime, Utc};
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgPool, PgRow, PgTypeInfo, PgValueFormat};
use sqlx::{AssertSqlSafe, Executor, PgConnection, Postgres, Row as _, TypeInfo, ValueRef};
use std::sync::Arc;
use tts_core::Result;
use uuid::Uuid;

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn err(e: sqlx::Error) -> tts_core::Error {
    db_err("postgres", e)
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
            Arg::Column(Column::I64(v)) => q.bind(v),
            Arg::Column(Column::Text(v)) => q.bind(v),
            Arg::Column(Column::Bool(v)) => q.bind(v),
            Arg::Column(Column::Uuid(v)) => q.bind(v),
            Arg::Column(Column::Time(v)) => q.bind(v),
            Arg::Column(Column::Json(v)) => q.bind(v.into_iter().map(JsonDoc).collect::<Vec<_>>()),
        };
    }
    q
}

/// Commits `tx` on a task of its own, so the commit finishes even when the caller's future is dropped
/// halfway (a client that hangs up, a request timeout): sqlx's `Transaction` rolls back on drop while
/// its commit is in flight, which sent a `ROLLBACK` after the `COMMIT` and made PostgreSQL warn "there
/// is no transaction in progress", and left it to chance whether a cancelled command's unit was kept.
/// Once a unit starts committing it now always ends committed (or failed by the database).
pub(super) async fn commit_to_the_end(tx: sqlx::Transaction<'static, Postgres>) -> Result<()> {
    match tokio::spawn(tx.commit()).await {
        Ok(done) => done.map_err(|e| db_err("postgres", e)),
        Err(e) => Err(tts_core::Error::Backend {
            backend: "postgres",
            kind: tts_core::ErrorKind::Internal,
            message: format!("the commit task failed: {e}"),
        }),
    }
}

pub(super) async fn execute(conn: &mut PgConnection, sql: Sql, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
    query(sql, args).execute(conn).await.map(|done| done.rows_affected())
}

pub(super) async fn fetch<'c, T>(
    executor: impl Executor<'c, Database = Postgres>,
    sql: Sql,
    args: Vec<Arg>,
    mut read: impl FnMut(Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query(sql, args).fetch_all(executor).await.map_err(err)?;
    rows.iter().map(|r| read(Row::new(r, "postgres"))).collect()
}

pub(super) async fn fetch_optional<T>(
    conn: &mut PgConnection,
    sql: Sql,
    args: Vec<Arg>,
    read: impl FnOnce(Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let row = query(sql, args).fetch_optional(conn).await.map_err(err)?;
    row.as_ref().map(|r| read(Row::new(r, "postgres"))).transpose()
}

/// One statement of data-modifying `WITH` parts, each `RETURNING 1` and counted, so every write still
/// reports the rows it touched: `WITH w0 AS (... RETURNING 1), w1 AS (...) SELECT (SELECT COUNT(*) FROM
/// w0), ...`. The parts run on one snapshot, so a batch never writes one row twice (the unit sends what
/// it holds before a second write of a row, see `Dialect::one_write_per_row`).
///
/// A write that must touch an exact number of rows ([`Write::exactly`]) is counted through
/// `tts_lost_race()` (a migration's function) when it touched any other number: that aborts the whole
/// statement as a serialization failure, which the engine runs again.
pub(super) async fn batch(conn: &mut PgConnection, writes: Vec<Write>) -> Result<Vec<u64>> {
    if let [only] = &writes[..]
        && only.exactly.is_none()
    {
        let Write { sql, args, .. } = writes.into_iter().next().expect("one write");
        return execute(conn, sql, args).await.map(|n| vec![n]).map_err(err);
    }
    let n = writes.len();
    let mut with = Vec::with_capacity(n);
    let mut counts = Vec::with_capacity(n);
    let mut all = Vec::new();
    for (i, Write { sql, args, exactly }) in writes.into_iter().enumerate() {
        with.push(format!(
            "w{i} AS ({} RETURNING 1)",
            super::shift_placeholders(&sql, all.len())
        ));
        all.extend(args);
        counts.push(match exactly {
            None => format!("(SELECT COUNT(*) FROM w{i})"),
            Some(rows) => {
                format!("(SELECT CASE WHEN COUNT(*) = {rows} THEN COUNT(*) ELSE tts_lost_race() END FROM w{i})")
            }
        });
    }
    let sql = format!("WITH {} SELECT {}", with.join(", "), counts.join(", "));
    let row = query(Sql::Owned(sql), all).fetch_one(conn).await.map_err(err)?;
    (0..n)
        .map(|i| row.try_get::<i64, _>(i).map(|c| c.max(0) as u64))
        .collect::<Result<_, _>>()
        .map_err(err)
}

/// A write unit's connection: none until the unit sends its first statement that must run before its
/// commit, which opens its transaction (`BEGIN`). A unit whose writes all wait for its commit and whose
/// checks its statement makes itself sends them at the commit as one statement on a pooled connection
/// ([`WriteUnit::write_alone`]): atomic without a transaction, one round trip instead of three.
pub(crate) struct WriteUnit {
    pool: PgPool,
    tx: Option<sqlx::Transaction<'static, Postgres>>,
    traffic: Arc<Traffic>,
}

impl WriteUnit {
    /// A unit on `pool` that has sent nothing yet; its `BEGIN` will be counted in `traffic`.
    pub(crate) fn new(pool: PgPool, traffic: Arc<Traffic>) -> Self {
        WriteUnit {
            pool,
            tx: None,
            traffic,
        }
    }

    /// The unit's transaction, opened now if it was not yet.
    pub(crate) async fn tx(&mut self) -> Result<&mut PgConnection> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            empty => {
                let tx = self.pool.begin().await.map_err(err)?;
                self.traffic.call(1);
                empty.insert(tx)
            }
        };
        Ok(&mut **tx)
    }

    /// Whether the unit's transaction is open.
    pub(crate) fn is_open(&self) -> bool {
        self.tx.is_some()
    }

    /// Sends the unit's writes as its one statement, on a pooled connection without a transaction
    /// (only while none is open: otherwise they go in the transaction).
    pub(crate) async fn write_alone(&mut self, writes: Vec<Write>) -> Result<Vec<u64>> {
        if self.tx.is_some() {
            return batch(self.tx().await?, writes).await;
        }
        let mut conn = self.pool.acquire().await.map_err(err)?;
        batch(&mut conn, writes).await
    }

    /// Commits the transaction, if the unit opened one (see [`commit_to_the_end`]).
    pub(crate) async fn commit(self) -> Result<()> {
        match self.tx {
            Some(tx) => commit_to_the_end(tx).await,
            None => Ok(()),
        }
    }
}

impl SqlRow for PgRow {
    /// `bigint`, `integer` or `smallint`.
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        match self.try_get::<Option<i64>, _>(i) {
            Ok(v) => Ok(v),
            Err(wide) => match self.try_get::<Option<i32>, _>(i) {
                Ok(v) => Ok(v.map(i64::from)),
                Err(_) => match self.try_get::<Option<i16>, _>(i) {
                    Ok(v) => Ok(v.map(i64::from)),
                    Err(_) => Err(wide),
                },
            },
        }
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

    /// The text of a `json` (or `jsonb`) value, as the server sent it: no parse here, the caller
    /// deserializes it once into its type.
    fn opt_json(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        let value = self.try_get_raw(i)?;
        if value.is_null() {
            return Ok(None);
        }
        let decode = |source: Box<dyn std::error::Error + Send + Sync>| sqlx::Error::ColumnDecode {
            index: i.to_string(),
            source,
        };
        let jsonb = match value.type_info().name() {
            "JSON" => false,
            "JSONB" => true,
            other => return Err(decode(format!("expected a json column, found {other}").into())),
        };
        let binary = value.format() == PgValueFormat::Binary;
        let mut bytes = value.as_bytes().map_err(decode)?;
        if binary && jsonb {
            // Binary jsonb starts with its format version (1).
            bytes = bytes.get(1..).unwrap_or_default();
        }
        std::str::from_utf8(bytes).map(Some).map_err(|e| decode(e.into()))
    }
}

/// PostgreSQL's fixed oid of the `json` type.
const JSON_OID: Oid = Oid(114);

/// PostgreSQL's fixed oid of the `json[]` type.
const JSON_ARRAY_OID: Oid = Oid(199);

impl sqlx::postgres::PgHasArrayType for JsonDoc {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(JSON_ARRAY_OID)
    }
}

impl sqlx::Type<Postgres> for JsonDoc {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(JSON_OID)
    }
}

impl Encode<'_, Postgres> for JsonDoc {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // `json`'s binary form is its text.
        buf.extend_from_slice(self.0.get().as_bytes());
        Ok(IsNull::No)
    }
}
