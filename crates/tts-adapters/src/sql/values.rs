//! The vocabulary the SQL code of both databases shares: statement text, bound arguments and result
//! rows read by column. Each backend file in `dialect/` binds an [`Arg`] and implements [`SqlRow`].

use crate::sql::error::db_err;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::borrow::Cow;
use tts_core::{Error, ErrorKind, Result};
use uuid::Uuid;

/// SQL text: static where it can be, built where it must be.
pub(crate) type Sql = Cow<'static, str>;

/// One write of a batch of held-back writes.
#[derive(Debug)]
pub(crate) struct Write {
    pub(crate) sql: Sql,
    pub(crate) args: Vec<Arg>,
    /// For a write that must touch exactly this many rows: PostgreSQL checks it inside the batch's own
    /// statement and aborts the statement when it fails, so a batch sent without a transaction is
    /// still all or nothing (see `dialect::postgres::batch`). SQLite leaves the check to the unit,
    /// whose transaction rolls back.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) exactly: Option<u64>,
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
    /// One column of many rows, bound as one PostgreSQL array (see [`Column`]).
    Column(Column),
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

/// The values of one column of many rows, bound on PostgreSQL as one array: a write of n rows is then
/// `INSERT ... SELECT ... FROM UNNEST($1, ...)` and a list of n ids `= ANY($1)`, one statement text
/// whatever n is. PostgreSQL parses, plans and caches that text once per connection instead of once
/// per batch size (see `sql/unit/unnest.rs`). SQLite has no arrays; it is never sent one (it would get
/// the JSON array).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Column {
    I64(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Uuid(Vec<Option<Uuid>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Json(Vec<Box<RawValue>>),
}

impl Column {
    /// An empty column of `arg`'s type, room for `n` values; `None` for an argument that is itself a column.
    pub(crate) fn like(arg: &Arg, n: usize) -> Option<Column> {
        Some(match arg {
            Arg::I64(_) | Arg::OptI64(_) => Column::I64(Vec::with_capacity(n)),
            Arg::Text(_) | Arg::OptText(_) => Column::Text(Vec::with_capacity(n)),
            Arg::Bool(_) => Column::Bool(Vec::with_capacity(n)),
            Arg::Uuid(_) | Arg::OptUuid(_) => Column::Uuid(Vec::with_capacity(n)),
            Arg::Time(_) | Arg::OptTime(_) => Column::Time(Vec::with_capacity(n)),
            Arg::Json(_) => Column::Json(Vec::with_capacity(n)),
            Arg::Column(_) => return None,
        })
    }

    /// Whether `arg` fits this column's type.
    pub(crate) fn takes(&self, arg: &Arg) -> bool {
        matches!(
            (self, arg),
            (Column::I64(_), Arg::I64(_) | Arg::OptI64(_))
                | (Column::Text(_), Arg::Text(_) | Arg::OptText(_))
                | (Column::Bool(_), Arg::Bool(_))
                | (Column::Uuid(_), Arg::Uuid(_) | Arg::OptUuid(_))
                | (Column::Time(_), Arg::Time(_) | Arg::OptTime(_))
                | (Column::Json(_), Arg::Json(_))
        )
    }

    /// Appends `arg`, which must fit ([`Self::takes`]); one that does not is left out and `false` returned.
    pub(crate) fn push(&mut self, arg: Arg) -> bool {
        match (self, arg) {
            (Column::I64(c), Arg::I64(v)) => c.push(Some(v)),
            (Column::I64(c), Arg::OptI64(v)) => c.push(v),
            (Column::Text(c), Arg::Text(v)) => c.push(Some(v)),
            (Column::Text(c), Arg::OptText(v)) => c.push(v),
            (Column::Bool(c), Arg::Bool(v)) => c.push(Some(v)),
            (Column::Uuid(c), Arg::Uuid(v)) => c.push(Some(v)),
            (Column::Uuid(c), Arg::OptUuid(v)) => c.push(v),
            (Column::Time(c), Arg::Time(v)) => c.push(Some(v)),
            (Column::Time(c), Arg::OptTime(v)) => c.push(v),
            (Column::Json(c), Arg::Json(v)) => c.push(v),
            _ => return false,
        }
        true
    }

    /// `args` as one column, when they are all of one type (and none is a column); else `args` back.
    pub(crate) fn of(args: Vec<Arg>) -> Result<Column, Vec<Arg>> {
        let column = args.first().and_then(|a| Column::like(a, args.len()));
        let Some(mut column) = column.filter(|c| args.iter().all(|a| c.takes(a))) else {
            return Err(args);
        };
        for a in args {
            column.push(a);
        }
        Ok(column)
    }

    /// The PostgreSQL array type, as written in a cast.
    pub(crate) fn pg_type(&self) -> &'static str {
        match self {
            Column::I64(_) => "int8[]",
            Column::Text(_) => "text[]",
            Column::Bool(_) => "bool[]",
            Column::Uuid(_) => "uuid[]",
            Column::Time(_) => "timestamptz[]",
            Column::Json(_) => "json[]",
        }
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

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&'r str>> {
        self.row.opt_text(i).map_err(|e| self.decode(e))
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

/// Times outside years 0..=9999 stored as the nearest inside: SQLite's text timestamps sort
/// chronologically only there, and PostgreSQL's `timestamptz` ends soon after.
pub(crate) fn storable(t: DateTime<Utc>) -> DateTime<Utc> {
    let min = DateTime::from_timestamp(-62_167_219_200, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let max = DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    t.clamp(min, max)
}
