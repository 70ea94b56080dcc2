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
