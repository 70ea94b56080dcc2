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
use crate::sql::values::{Arg, Row, Sql, Write};
use tts_core::domain::report::Bucket;
use tts_core::{Error, ErrorKind, Result};

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

    /// Moves the year's ticket counter (`$1` names it) and the ticket id counter by `$2`, in one
    /// statement returning rows `(name, value)`: each counter's new value, the last number (or id) of
    /// the `$2` taken. Both rows stay locked until the unit ends, so concurrent units take consecutive
    /// numbers. The rows are named in the same order as in [`Self::take_foretold_ticket_keys`], so
    /// the two statements lock them in one order.
    pub(crate) fn take_ticket_keys(self) -> &'static str {
        "INSERT INTO counters (name, value) VALUES ('ticket_id', $2), ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING name, value"
    }

    /// Moves the ticket id counter from `$3` and the year's counter (`$2` names it) from `$4` by `$1`,
    /// each only if it still stands there: the keys a store foresaw (`sql/forecast.rs`), taken by the
    /// statement that writes their tickets. It touches two rows when both stood where foreseen (a
    /// missing row is created where it would have been moved to), fewer when another unit moved one.
    pub(crate) fn take_foretold_ticket_keys(self) -> &'static str {
        "INSERT INTO counters (name, value) VALUES ('ticket_id', $3 + $1), ($2, $4 + $1) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE counters.value = excluded.value - $1"
    }

    /// Whether the database takes a column of many rows as one array argument ([`crate::sql::values::Column`]):
    /// PostgreSQL does, SQLite does not.
    pub(crate) fn binds_arrays(self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => false,
            #[cfg(feature = "postgres")]
            Dialect::Postgres => true,
        }
    }

    /// `column` is one of `values`, their placeholders numbered from `$first`, and the arguments to bind:
    /// on PostgreSQL `column = ANY($first)` with the values as one array ([`Column`]), one statement
    /// text whatever their number (values of two types fall back to the list); on SQLite `column IN
    /// ($first, ...)`.
    pub(crate) fn one_of(self, column: &str, first: usize, values: Vec<Arg>) -> (String, Vec<Arg>) {
        let values = if self.binds_arrays() {
            match crate::sql::values::Column::of(values) {
                Ok(array) => return (format!("{column} = ANY(${first})"), vec![Arg::Column(array)]),
                Err(values) => values,
            }
        } else {
            values
        };
        let list: Vec<String> = (first..first + values.len()).map(|i| format!("${i}")).collect();
        (format!("{column} IN ({})", list.join(", ")), values)
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

    /// The first day of the report bucket `column` (a timestamp) falls in, as `YYYY-MM-DD` text (UTC;
    /// weeks start on Monday).
    pub(crate) fn bucket_start(self, bucket: Bucket, column: &str) -> String {
        match self {
            #[cfg(feature = "sqlite")]
            // Times are stored as RFC 3339 text in UTC (`YYYY-MM-DDTHH:MM:SS...+00:00`): the day is its
            // first ten characters, which is cheaper than parsing the whole time.
            Dialect::Sqlite => match bucket {
                Bucket::Day => format!("substr({column}, 1, 10)"),
                Bucket::Week => format!("date(substr({column}, 1, 10), 'weekday 0', '-6 days')"),
                Bucket::Month => format!("substr({column}, 1, 7) || '-01'"),
            },
            #[cfg(feature = "postgres")]
            Dialect::Postgres => format!(
                "to_char(date_trunc('{}', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
                bucket.as_str()
            ),
        }
    }

    /// `INDEXED BY index` after a table name on SQLite, nothing on PostgreSQL: for a lookup that must
    /// walk one index in its order (SQLite's planner, once it has statistics, may prefer a range index
    /// and a sort; naming an index it cannot use is an error, not a slow plan).
    pub(crate) fn indexed_by(self, index: &str) -> String {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                let _ = index;
                String::new()
            }
        }
    }

    /// Whether a batch of held-back writes travels as one statement whose parts all see the same
    /// snapshot and run in no set order (PostgreSQL), rather than as statements run in order (SQLite).
    pub(crate) fn batch_is_one_statement(self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => true,
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => false,
        }
    }

    /// Whether a batch of held-back writes must not write one row twice: so on PostgreSQL, where a
    /// batch is one statement (see [`Self::batch_is_one_statement`]).
    pub(crate) fn one_write_per_row(self) -> bool {
        self.batch_is_one_statement()
    }
}

/// The connection of one unit of work.
pub(crate) enum Conn {
    /// A SQLite transaction of its own, or a savepoint of a group commit.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteTx),
    /// A PostgreSQL write unit, whose transaction opens at its first statement (see
    /// [`postgres::WriteUnit`]).
    #[cfg(feature = "postgres")]
    Postgres(postgres::WriteUnit),
    /// A PostgreSQL read unit: a pooled connection with no transaction. At PostgreSQL's `READ COMMITTED`
    /// every statement sees its own snapshot inside a transaction too, so `BEGIN` and its `ROLLBACK`
    /// would only add two round trips. It refuses writes (they would not wait for a commit).
    #[cfg(feature = "postgres")]
    PostgresRead(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) | Conn::PostgresRead(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; the number of rows it touched.
    pub(crate) async fn execute(&mut self, sql: Sql, args: Vec<Arg>) -> Result<u64> {
        let result = match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::execute(tx.conn(), sql, args).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(unit) => postgres::execute(unit.tx().await?, sql, args).await,
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(_) => return Err(read_only()),
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
            Conn::Postgres(unit) => postgres::fetch(unit.tx().await?, sql, args, read).await,
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(conn) => postgres::fetch(&mut **conn, sql, args, read).await,
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
            Conn::Postgres(unit) => postgres::fetch_optional(unit.tx().await?, sql, args, read).await,
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(conn) => postgres::fetch_optional(conn, sql, args, read).await,
        }
    }

    /// Sends several writes (each one statement with placeholders from `$1`) in one round trip, in
    /// order; the rows each touched. `last`: they are the unit's last, sent as it commits; a
    /// PostgreSQL write unit that has not opened its transaction then sends them without one (see
    /// [`Conn::writes_alone`]).
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub(crate) async fn batch(&mut self, writes: Vec<Write>, last: bool) -> Result<Vec<u64>> {
        let expected = writes.len();
        let touched = match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => sqlite::batch(tx.conn(), writes).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(unit) if last => unit.write_alone(writes).await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(unit) => postgres::batch(unit.tx().await?, writes).await,
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(_) => Err(read_only()),
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
            Conn::Postgres(_) | Conn::PostgresRead(_) => None,
        }
    }

    /// Whether the unit's last writes, sent as it commits, would go without a transaction as one
    /// statement that commits on its own: so on a PostgreSQL write unit that has not opened its
    /// transaction, once every write's check can be made inside the statement.
    pub(crate) fn writes_alone(&self) -> bool {
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(unit) = self {
            return !unit.is_open();
        }
        false
    }

    /// Whether [`Conn::commit`] sends a `COMMIT` of this unit's own (not so for a unit of a SQLite group,
    /// which its group commits, nor for a PostgreSQL read unit, nor a write unit that never opened its
    /// transaction).
    pub(crate) fn commits_alone(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => !matches!(tx, sqlite::SqliteTx::Grouped(_)),
            #[cfg(feature = "postgres")]
            Conn::Postgres(unit) => unit.is_open(),
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(_) => false,
        }
    }

    /// Commits (and, in a SQLite group, waits until the group is durable).
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(unit) => unit.commit().await,
            #[cfg(feature = "postgres")]
            Conn::PostgresRead(_) => Ok(()),
        }
    }
}

/// The error of a write sent in a read unit: a bug in the caller, refused before it reaches the database.
#[cfg(feature = "postgres")]
fn read_only() -> Error {
    Error::Backend {
        backend: "postgres",
        kind: ErrorKind::Internal,
        message: "a read unit cannot write; open a write unit".into(),
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
    /// The database the pool talks to.
    pub(crate) fn dialect(self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Reader::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Reader::Postgres(_) => Dialect::Postgres,
        }
    }

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

impl<'p> Reader<'p> {
    /// A read transaction on one pooled connection, for a read of several statements that must agree
    /// with each other (a report's counts and the ranks picked from them).
    pub(crate) async fn snapshot(self) -> Result<Snapshot> {
        match self {
            #[cfg(feature = "sqlite")]
            // Deferred: WAL mode fixes the snapshot at the transaction's first read.
            Reader::Sqlite(pool) => Ok(Snapshot::Sqlite(pool.begin().await.map_err(|e| db_err("sqlite", e))?)),
            #[cfg(feature = "postgres")]
            Reader::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(|e| db_err("postgres", e))?;
                sqlx::Executor::execute(&mut *tx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await
                    .map_err(|e| db_err("postgres", e))?;
                Ok(Snapshot::Postgres(tx))
            }
        }
    }
}

/// A read transaction (see [`Reader::snapshot`]): every statement in it sees the same committed state.
pub(crate) enum Snapshot {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Snapshot {
    /// Runs one query in the snapshot and reads every row with `read`.
    pub(crate) async fn fetch<T>(
        &mut self,
        sql: Sql,
        args: Vec<Arg>,
        read: impl FnMut(Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            #[cfg(feature = "sqlite")]
            Snapshot::Sqlite(tx) => sqlite::fetch(&mut **tx, sql, args, read).await,
            #[cfg(feature = "postgres")]
            Snapshot::Postgres(tx) => postgres::fetch(&mut **tx, sql, args, read).await,
        }
    }

    /// Ends the read transaction (nothing was written).
    pub(crate) async fn end(self) -> Result<()> {
        match self {
            #[cfg(feature = "sqlite")]
            Snapshot::Sqlite(tx) => tx.commit().await.map_err(|e| db_err("sqlite", e)),
            #[cfg(feature = "postgres")]
            Snapshot::Postgres(tx) => postgres::commit_to_the_end(tx).await,
        }
    }
}

/// `sql` with every placeholder `$n` renumbered to `$(n + by)`, to place it after other statements'
/// arguments in one batch.
pub(crate) fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    map_placeholders(sql, |n| format!("${}", n + by))
}

/// `sql` with every placeholder `$n` replaced by `to(n)` (a `$` not followed by digits stays as it is).
pub(crate) fn map_placeholders(sql: &str, to: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
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
            Ok(v) => out.push_str(&to(v)),
            Err(_) => {
                out.push('$');
                out.push_str(&n);
            }
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
