//! [`Tickets`] in SQL: the `tickets` table (the whole ticket in `data`, its keys beside it) and the
//! `counters` rows of the yearly numbers.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::forecast::Counters;
use crate::sql::values::Arg;
use async_trait::async_trait;
use tts_core::domain::report::left_backlog_at;
use tts_core::ports::Tickets;
use tts_core::{Error, ErrorKind, Priority, Result, Task, Ticket, TicketId, TicketNumber};

/// The key columns of a ticket row.
struct TicketKeys {
    number: String,
    priority_rank: i64,
    category_key: String,
    department_key: Option<String>,
    search_text: String,
}

impl TicketKeys {
    fn of(t: &Ticket) -> Self {
        let number = t.ticket_id.to_string();
        let search_text = format!("{}\n{}\n{}", t.subject, t.description, number).to_lowercase();
        TicketKeys {
            number,
            priority_rank: match t.priority {
                Priority::Low => 0,
                Priority::Medium => 1,
                Priority::High => 2,
                Priority::Critical => 3,
            },
            category_key: t.category.to_lowercase(),
            department_key: t.department.as_deref().map(str::to_lowercase),
            search_text,
        }
    }
}

/// The `n` keys that end where the counters stand in `after`, or `None` when a number would not fit.
fn keys_before(after: Counters, n: u32) -> Option<Vec<(TicketId, u32)>> {
    let n = i64::from(n);
    let last_seq = u32::try_from(after.last_seq).ok()?;
    let first_seq = u32::try_from(after.last_seq - n + 1).ok()?;
    let first_id = after.last_id - n + 1;
    Some(
        (first_id..=after.last_id)
            .map(TicketId)
            .zip(first_seq..=last_seq)
            .collect(),
    )
}

impl SqlUnit {
    /// The `n` keys after where the store foresees the counters of `year`, if it does and this unit has
    /// not taken keys yet (see `sql/forecast.rs`): their move is held back with the unit's writes,
    /// checked to touch both counters where foreseen, and this unit holds them until it ends.
    fn take_foretold_keys(&mut self, year: i32, n: u32) -> Option<Vec<(TicketId, u32)>> {
        if self.keys_taken.is_some() {
            // This unit moved the counters already: the forecast does not know where to.
            return None;
        }
        let taken = self.forecast.as_ref()?.lend(year, n)?;
        let lent = taken.lent()?;
        let keys = keys_before(lent.after, n)?;
        self.deferred.push(Deferred {
            sql: self.dialect.take_foretold_ticket_keys().into(),
            args: vec![
                Arg::I64(i64::from(n)),
                Arg::Text(format!("ticket_seq:{year}")),
                Arg::I64(lent.now.last_id),
                Arg::I64(lent.now.last_seq),
            ],
            expect: Expect::Exactly {
                rows: 2,
                lost: "another unit took the foreseen ticket keys; retry",
            },
            row: Some("counters:ticket keys".into()),
        });
        self.keys_taken = Some(taken);
        Some(keys)
    }
}

/// The counter statement did not return what it must: a bug or a damaged database, not the caller's fault.
fn counters_stuck(backend: &'static str) -> Error {
    Error::Backend {
        backend,
        kind: ErrorKind::Internal,
        message: "the ticket counters did not both move".into(),
    }
}

#[async_trait]
impl Tickets for SqlUnit {
    async fn take_ticket_keys(&mut self, year: i32) -> Result<(TicketId, u32)> {
        let mut keys = self.take_ticket_keys_many(year, 1).await?;
        keys.pop().ok_or_else(|| counters_stuck(self.backend()))
    }

    async fn take_ticket_keys_many(&mut self, year: i32, n: u32) -> Result<Vec<(TicketId, u32)>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if let Some(keys) = self.take_foretold_keys(year, n) {
            return Ok(keys);
        }
        if self.keys_taken.is_none() {
            self.keys_taken = self.forecast.as_ref().map(|f| f.take_usual());
        }
        let year_key = format!("ticket_seq:{year}");
        let sql = self.dialect.take_ticket_keys();
        let rows = self
            .fetch(sql, vec![Arg::Text(year_key), Arg::I64(i64::from(n))], |r| {
                Ok((r.text(0)? == "ticket_id", r.i64(1)?))
            })
            .await?;
        let last_id = rows.iter().find(|(is_id, _)| *is_id).map(|(_, v)| *v);
        let last_seq = rows.iter().find(|(is_id, _)| !*is_id).map(|(_, v)| *v);
        let (Some(last_id), Some(last_seq)) = (last_id, last_seq) else {
            return Err(counters_stuck(self.backend()));
        };
        if last_id < i64::from(n) || last_seq < i64::from(n) {
            return Err(counters_stuck(self.backend()));
        }
        let after = Counters {
            year,
            last_seq,
            last_id,
        };
        if let Some(taken) = &mut self.keys_taken {
            taken.moved(after);
        }
        keys_before(after, n).ok_or_else(|| Error::conflict("the year's ticket sequence is exhausted"))
    }

    async fn insert_ticket(&mut self, t: &Ticket) -> Result<()> {
        let k = TicketKeys::of(t);
        let data = self.json(t)?;
        self.defer(Deferred::any(
            "INSERT INTO tickets (id, year, seq, number, created_by, status, priority, priority_rank, \
             category_key, department_key, is_task_allocated, search_text, created_at, updated_at, version, data, \
             resolved_at, closed_at, done_at, is_unroutable, workflow_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
            vec![
                Arg::I64(t.id.0),
                Arg::I64(i64::from(t.ticket_id.year())),
                Arg::I64(i64::from(t.ticket_id.seq())),
                Arg::Text(k.number),
                Arg::Uuid(t.created_by.0),
                Arg::Text(t.status.as_str().into()),
                Arg::Text(t.priority.as_str().into()),
                Arg::I64(k.priority_rank),
                Arg::Text(k.category_key),
                Arg::OptText(k.department_key),
                Arg::Bool(t.is_task_allocated),
                Arg::Text(k.search_text),
                Arg::Time(t.created_at),
                Arg::Time(t.updated_at),
                Arg::I64(i64::from(t.version)),
                data,
                Arg::OptTime(t.resolved_at),
                Arg::OptTime(t.closed_at),
                Arg::OptTime(left_backlog_at(t)),
                Arg::Bool(t.unroutable.is_some()),
                Arg::OptText(t.workflow_id.map(|w| w.to_string())),
            ],
            Some(format!("tickets:{}", t.id.0)),
        ))
        .await
    }

    async fn update_ticket(&mut self, t: &Ticket) -> Result<()> {
        let k = TicketKeys::of(t);
        let data = self.json(t)?;
        self.defer(Deferred {
            sql: "UPDATE tickets SET status = $2, priority = $3, priority_rank = $4, category_key = $5, \
                  department_key = $6, is_task_allocated = $7, search_text = $8, updated_at = $9, version = $10, \
                  data = $11, resolved_at = $13, closed_at = $14, done_at = $15, is_unroutable = $16, \
                  workflow_id = $17 \
                  WHERE id = $1 AND version = $12"
                .into(),
            args: vec![
                Arg::I64(t.id.0),
                Arg::Text(t.status.as_str().into()),
                Arg::Text(t.priority.as_str().into()),
                Arg::I64(k.priority_rank),
                Arg::Text(k.category_key),
                Arg::OptText(k.department_key),
                Arg::Bool(t.is_task_allocated),
                Arg::Text(k.search_text),
                Arg::Time(t.updated_at),
                Arg::I64(i64::from(t.version)),
                data,
                Arg::I64(i64::from(t.version) - 1),
                Arg::OptTime(t.resolved_at),
                Arg::OptTime(t.closed_at),
                Arg::OptTime(left_backlog_at(t)),
                Arg::Bool(t.unroutable.is_some()),
                Arg::OptText(t.workflow_id.map(|w| w.to_string())),
            ],
            expect: Expect::Versioned {
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
        let sql = format!("SELECT data FROM tickets WHERE id = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::I64(id.0)]).await
    }

    async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>> {
        let sql = format!("SELECT data FROM tickets WHERE number = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::Text(number.to_string())]).await
    }

    async fn ticket_with_task(&mut self, id: TicketId) -> Result<Option<(Ticket, Option<Task>)>> {
        Ok(self.tickets_with_tasks(&[id]).await?.pop())
    }

    /// One statement per [`READ_CHUNK`] ids; `ORDER BY` before `FOR UPDATE`, so PostgreSQL locks the rows
    /// in id order. The workflow revision comes along: an allocation asks for it next (see
    /// `revision_seen`).
    async fn tickets_with_tasks(&mut self, ids: &[TicketId]) -> Result<Vec<(Ticket, Option<Task>)>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(READ_CHUNK) {
            let (is_one, args) = self
                .dialect
                .one_of("t.id", 1, chunk.iter().map(|id| Arg::I64(id.0)).collect());
            let sql = format!(
                "SELECT t.data, k.data, (SELECT value FROM counters WHERE name = 'workflows_revision') \
                 FROM tickets t LEFT JOIN tasks k ON k.ticket_id = t.id WHERE {is_one} ORDER BY t.id{}",
                self.dialect.row_lock_of(self.write, "t")
            );
            let rows = self
                .fetch(sql, args, |r| {
                    Ok((r.json::<Ticket>(0)?, r.opt_json::<Task>(1)?, r.opt_i64(2)?))
                })
                .await?;
            for (ticket, task, revision) in rows {
                self.revision_seen = Some(revision.unwrap_or(0).max(0) as u64);
                found.push((ticket, task));
            }
        }
        Ok(found)
    }
}

/// Most ids in one `IN` list (SQLite allows 32,766 parameters; PostgreSQL 65,535).
const READ_CHUNK: usize = 500;
