//! Everything that differs between SQLite and PostgreSQL, and nothing else.
//!
//! The units (`sql/unit/*.rs`) and the list queries (`sql/queries.rs`) are ordinary code written once.
//! They see the database through this module:
//!
//! - [`Dialect`]: the SQL text that differs (row locks, the outbox claim, the ticket counters) and the
//!   few behaviours that do (whether a role's cursor row must exist before it can be locked, whether one
//!   statement may write a row twice);
//! - [`Conn`] (a unit's connection) and [`Reader`] (the read pool of [`crate::sql`]'s `Queries`), each
//!   with a handful of primitive operations: execute with bound [`Arg`]s and get the rows affected, fetch
//!   rows and read them through [`Row`], and send a batch of held-back writes in one round trip;
//! - one file per backend (`sqlite.rs`, `postgres.rs`) implementing those primitives: binding, reading
//!   a column, and how a batch travels.
//!
//! What is the same on both is not abstracted: placeholders are `$1..$n` on both, and so is the upsert
//! syntax (`ON CONFLICT (...) DO UPDATE SET x = excluded.x`), `RETURNING` and row values in `IN`.

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use crate::sql::error::db_err;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::borrow::Cow;
use tts_core::{Error, ErrorKind, Result};
use uuid::Uuid;

/// SQL text: static where it can be, built where it must be.
pub(crate) type Sql = Cow<'static, str>;

/// Which SQL database a unit or a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: one writer at a time (`BEGIN IMMEDIATE` or the group commit), so no row locks.
    #[cfg(feature = "sqlite")]
    Sqlite,
    /// PostgreSQL: row locks in write units.
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Dialect {
    /// The backend's name in errors.
    pub(crate) fn backend(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "sqlite",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => "postgres",
        }
    }

    /// What ends a `SELECT` whose rows a write unit must hold until it ends: `FOR UPDATE` on PostgreSQL;
    /// nothing on SQLite, where a write unit holds the whole database.
    pub(crate) fn row_lock(self, write: bool) -> &'static str {
        match (self, write) {
            #[cfg(feature = "postgres")]
            (Dialect::Postgres, true) => " FOR UPDATE",
            _ => "",
        }
    }

    /// [`Self::row_lock`] of one table of a join (`FOR UPDATE OF t`).
    pub(crate) fn row_lock_of(self, write: bool, table: &str) -> String {
        match self.row_lock(write) {
            "" => String::new(),
            lock => format!("{lock} OF {table}"),
        }
    }

    /// What ends the `SELECT` of outbox rows a relay claims: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
    /// that two relays never take the same message and neither waits for the other.
    pub(crate) fn claim(self, write: bool) -> &'static str {
        match self.row_lock(write) {
            "" => "",
            _ => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Moves the year's ticket counter (`$1` names it) and takes a new ticket id, in one statement that
    /// returns two rows `(name, value)`: the year's counter and `ticket_id`. The year's counter row stays
    /// locked until the unit ends, so concurrent units take consecutive numbers. PostgreSQL takes ids from
    /// a sequence (never locked); SQLite from a second counter row.
    pub(crate) fn take_ticket_keys(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                "INSERT INTO counters (name, value) VALUES ($1, 1), ('ticket_id', 1) \
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                "WITH c AS (INSERT INTO counters (name, value) VALUES ($1, 1) \
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value) \
                 SELECT name, value FROM c UNION ALL SELECT 'ticket_id', nextval('ticket_ids')"
            }
        }
    }

    /// Whether a role's cursor row must be created before a write unit can lock it. On PostgreSQL a
    /// missing row cannot be locked, so the first pick of a role inserts it (then every pick serializes
    /// on it); SQLite's write units exclude each other anyway.
    pub(crate) fn creates_cursor_rows(self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => true,
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => false,
        }
    }

    /// Whether a batch of held-back writes must not write one row twice: PostgreSQL sends a batch as
    /// one statement, whose parts all see the same snapshot.
    pub(crate) fn one_write_per_row(self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => true,
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => false,
        }
    }
}

/// A bound query argument.
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
    /// A JSON document, serialized once (typed `json` on PostgreSQL, see `JsonDoc`).
    Json(Box<RawValue>),
}

impl Arg {
    /// `value` serialized as a JSON document argument.
    pub(crate) fn json(backend: &'static str, value: &impl serde::Serialize) -> Result<Arg> {
        serde_json::value::to_raw_value(value)
            .map(Arg::Json)
            .map_err(|e| Error::Backend {
                backend,
                kind: ErrorKind::Internal,
                message: format!("cannot serialize a row: {e}"),
            })
    }

    /// A count or limit as an argument.
    pub(crate) fn count(n: usize) -> Arg {
        Arg::I64(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A serialized entity bound for a `data` column. On PostgreSQL those columns are `json`: nothing
/// queries inside them, so the server keeps the text as sent instead of parsing it into `jsonb` on every
/// write and printing it back on every read. On SQLite it is text. Each backend file encodes it.
#[derive(Debug)]
pub(crate) struct JsonDoc(pub(crate) Box<RawValue>);

/// One column read of a result row, as each backend implements it. Integers of any width read as
/// `i64`; JSON documents as their text.
pub(crate) trait SqlRow {
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, sqlx::Error>;
    fn opt_bool(&self, i: usize) -> Result<Option<bool>, sqlx::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<&str>, sqlx::Error>;
    fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>, sqlx::Error>;
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, sqlx::Error>;
    fn opt_json(&self, i: usize) -> Result<Option<&str>, sqlx::Error>;
}

/// A result row of either backend, read by column index into core types.
#[derive(Clone, Copy)]
pub(crate) struct Row<'r> {
    row: &'r dyn SqlRow,
    backend: &'static str,
}

impl<'r> Row<'r> {
    pub(crate) fn new(row: &'r dyn SqlRow, backend: &'static str) -> Self {
        Row { row, backend }
    }

    fn decode(&self, e: sqlx::Error) -> Error {
        db_err(self.backend, e)
    }

    fn present<T>(&self, i: usize, v: Option<T>) -> Result<T> {
        v.ok_or_else(|| Error::Backend {
            backend: self.backend,
            kind: ErrorKind::Internal,
            message: format!("column {i} of a stored row is unexpectedly null"),
        })
    }

    pub(crate) fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        self.row.opt_i64(i).map_err(|e| self.decode(e))
    }

    pub(crate) fn i64(&self, i: usize) -> Result<i64> {
        let v = self.opt_i64(i)?;
        self.present(i, v)
    }

    pub(crate) fn bool(&self, i: usize) -> Result<bool> {
        let v = self.row.opt_bool(i).map_err(|e| self.decode(e))?;
        self.present(i, v)
    }

    pub(crate) fn text(&self, i: usize) -> Result<&'r str> {
        let v = self.row.opt_text(i).map_err(|e| self.decode(e))?;
        self.present(i, v)
    }

    pub(crate) fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>> {
        self.row.opt_uuid(i).map_err(|e| self.decode(e))
    }

    pub(crate) fn uuid(&self, i: usize) -> Result<Uuid> {
        let v = self.opt_uuid(i)?;
        self.present(i, v)
    }

    pub(crate) fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        self.row.opt_time(i).map_err(|e| self.decode(e))
    }

    pub(crate) fn time(&self, i: usize) -> Result<DateTime<Utc>> {
        let v = self.opt_time(i)?;
        self.present(i, v)
    }

    /// A JSON document column deserialized, or `None` when it is null (an outer join found nothing).
    pub(crate) fn opt_json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>> {
        let Some(text) = self.row.opt_json(i).map_err(|e| self.decode(e))? else {
            return Ok(None);
        };
        serde_json::from_str(text).map(Some).map_err(|e| Error::Backend {
            backend: self.backend,
            kind: ErrorKind::Internal,
            message: format!("a stored document could not be read: {e}"),
        })
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T> {
        let v = self.opt_json(i)?;
        self.present(i, v)
    }
}

/// The connection of one unit of work.
pub(crate) enum Conn {
    /// A SQLite transaction of its own, or a savepoint of a group commit.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteTx),
    /// A PostgreSQL transaction.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; the number of rows it touched.
    pub(crate) async fn execute(&mut self, sql: Sql, args: Vec<Arg>) -> Result<u64> {
        let result = match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::execute(tx.conn(), sql, args).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(tx) => postgres::execute(tx, sql, args).await,
        };
        result.map_err(|e| db_err(self.dialect().backend(), e))
    }

    /// Runs one query and reads every row with `read`.
    pub(crate) async fn fetch<T>(
        &mut self,
        sql: Sql,
        args: Vec<Arg>,
        read: impl FnMut(Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::fetch(tx.conn(), sql, args, read).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(tx) => postgres::fetch(&mut **tx, sql, args, read).await,
        }
    }

    /// Runs one query and reads its first row, if any, with `read`.
    pub(crate) async fn fetch_optional<T>(
        &mut self,
        sql: Sql,
        args: Vec<Arg>,
        read: impl FnOnce(Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::fetch_optional(tx.conn(), sql, args, read).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(tx) => postgres::fetch_optional(tx, sql, args, read).await,
        }
    }

    /// Sends several writes (each one statement with placeholders from `$1`) in one round trip, in
    /// order; the rows each touched.
    pub(crate) async fn batch(&mut self, writes: Vec<(Sql, Vec<Arg>)>) -> Result<Vec<u64>> {
        let expected = writes.len();
        let touched = match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::batch(tx.conn(), writes).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(tx) => postgres::batch(tx, writes).await,
        }?;
        if touched.len() != expected {
            return Err(Error::Backend {
                backend: self.dialect().backend(),
                kind: ErrorKind::Internal,
                message: format!("a batch of {expected} writes reported {} results", touched.len()),
            });
        }
        Ok(touched)
    }

    /// When earlier units of a SQLite group are not durable yet: the last outbox sequence number that
    /// is, so that the relay never publishes a message whose cause could still be rolled back.
    pub(crate) fn outbox_watermark(&self) -> Option<i64> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => tx.outbox_watermark(),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => None,
        }
    }

    /// Commits (and, in a SQLite group, waits until the group is durable).
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(tx) => tx.commit().await.map_err(|e| db_err("postgres", e)),
        }
    }
}

/// A read pool, for queries outside any unit of work.
#[derive(Clone, Copy)]
pub(crate) enum Reader<'p> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'p sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(&'p sqlx::PgPool),
}

impl Reader<'_> {
    /// Runs one query on a pooled connection and reads every row with `read`.
    pub(crate) async fn fetch<T>(
        self,
        sql: Sql,
        args: Vec<Arg>,
        read: impl FnMut(Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            #[cfg(feature = "sqlite")]
            Reader::Sqlite(pool) => sqlite::fetch(pool, sql, args, read).await,
            #[cfg(feature = "postgres")]
            Reader::Postgres(pool) => postgres::fetch(pool, sql, args, read).await,
        }
    }
}

/// Times outside years 0..=9999 stored as the nearest inside: SQLite's text timestamps sort
/// chronologically only there, and PostgreSQL's `timestamptz` ends soon after.
pub(crate) fn storable(t: DateTime<Utc>) -> DateTime<Utc> {
    let min = DateTime::from_timestamp(-62_167_219_200, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let max = DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    t.clamp(min, max)
}

/// `sql` with every placeholder `$n` renumbered to `$(n + by)`, to place it after other statements'
/// arguments in one batch.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(&d) = chars.peek()
            && d.is_ascii_digit()
        {
            n.push(d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(v) => out.push_str(&(v + by).to_string()),
            Err(_) => out.push_str(&n),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shift_placeholders;

    #[test]
    fn placeholders_shift_past_earlier_arguments() {
        assert_eq!(shift_placeholders("a = $1 AND b = $12", 0), "a = $1 AND b = $12");
        assert_eq!(shift_placeholders("a = $1 AND b = $12", 3), "a = $4 AND b = $15");
        assert_eq!(shift_placeholders("price $ and $", 2), "price $ and $");
    }
}
