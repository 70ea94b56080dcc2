//! [`Queries`] for both SQL stores: the paginated lists and the ended sessions, read on the read pool
//! without a unit of work and without locks.
//!
//! A page is one round trip: the page's rows, each carrying the total from an uncorrelated
//! `(SELECT COUNT(*) ...)` that both databases evaluate once per statement (and answer from an index
//! where the filter allows). A page past the end has no row to carry the total, so only then a second
//! statement counts.

use super::dialect::Reader;
use super::values::{Arg, storable};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tts_core::ports::store::{
    AssignmentQuery, CommentQuery, NotificationQuery, Page, PageRequest, PriorityCounts, Queries, QueueBacklog,
    TicketOrdering, TicketQuery,
};
use tts_core::{
    Assignment, Comment, DeadLetter, Error, ErrorKind, Notification, Priority, Result, SessionId, Ticket, TicketStatus,
    User, UserId,
};

/// A `WHERE` clause built condition by condition, with numbered placeholders.
#[derive(Debug, Default)]
struct Filter {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// Adds a condition; every `?` in `sql` is the placeholder of `arg`.
    fn add(&mut self, sql: &str, arg: Arg) {
        self.args.push(arg);
        let placeholder = format!("${}", self.args.len());
        self.conditions.push(sql.replace('?', &placeholder));
    }

    /// Adds `{column} IN (...)`, or `NOT IN` when `negated`, with a placeholder per value.
    fn add_in(&mut self, column: &str, negated: bool, values: impl IntoIterator<Item = Arg>) {
        let mut placeholders = Vec::new();
        for value in values {
            self.args.push(value);
            placeholders.push(format!("${}", self.args.len()));
        }
        let not = if negated { "NOT " } else { "" };
        self.conditions
            .push(format!("{column} {not}IN ({})", placeholders.join(", ")));
    }

    /// Adds a condition without arguments.
    fn add_plain(&mut self, sql: &str) {
        self.conditions.push(sql.to_string());
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// `%needle%` for a `LIKE ... ESCAPE '\'`, lower-case, with `%`, `_` and `\` escaped.
fn like_pattern(needle: &str) -> String {
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

/// One page of the JSON documents of `table` matching `filter`, in `order`, with the total.
async fn page<T: DeserializeOwned>(
    reader: Reader<'_>,
    table: &str,
    filter: Filter,
    order: &str,
    page: PageRequest,
) -> Result<Page<T>> {
    let where_clause = filter.where_clause();
    let n = filter.args.len();
    let sql = format!(
        "SELECT data, (SELECT COUNT(*) FROM {table}{where_clause}) FROM {table}{where_clause} \
         ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut args = filter.args.clone();
    args.push(Arg::I64(i64::from(page.page_size)));
    args.push(Arg::I64(i64::try_from(page.offset()).unwrap_or(i64::MAX)));
    let rows = reader
        .fetch(sql.into(), args, |r| Ok((r.json::<T>(0)?, r.i64(1)?)))
        .await?;
    let total = match rows.first() {
        Some((_, total)) => *total,
        None if page.offset() == 0 => 0,
        None => {
            let sql = format!("SELECT COUNT(*) FROM {table}{where_clause}");
            let counts = reader.fetch(sql.into(), filter.args, |r| r.i64(0)).await?;
            counts.first().copied().unwrap_or(0)
        }
    };
    Ok(Page {
        items: rows.into_iter().map(|(item, _)| item).collect(),
        total: total.max(0) as u64,
    })
}

/// The `WHERE` of the tickets matching `q` (without its priority unless `with_priority`).
///
/// The scopes' assignment conditions are `EXISTS` on the user's assignments of the ticket, answered
/// from the index `assignments_user_tickets (user_id, ticket_id, is_open, ended_by_holder)`.
fn ticket_filter(q: &TicketQuery, with_priority: bool) -> Filter {
    let mut f = Filter::default();
    if let Some(u) = q.visible_to {
        f.add(
            "(created_by = ? OR id IN (SELECT t.ticket_id FROM tasks t JOIN assignments a ON a.task_id = t.id \
             WHERE a.user_id = ?))",
            Arg::Uuid(u.0),
        );
    }
    if let Some(u) = q.created_by {
        f.add("created_by = ?", Arg::Uuid(u.0));
    }
    if let Some(u) = q.assigned_to {
        f.add(
            "EXISTS (SELECT 1 FROM assignments a WHERE a.ticket_id = tickets.id AND a.user_id = ? AND a.is_open)",
            Arg::Uuid(u.0),
        );
    }
    if let Some(u) = q.acted_by {
        f.add(
            "EXISTS (SELECT 1 FROM assignments a WHERE a.ticket_id = tickets.id AND a.user_id = ? \
             AND a.ended_by_holder)",
            Arg::Uuid(u.0),
        );
    }
    if let Some(done) = q.is_done {
        let statuses = TicketStatus::DONE.map(|s| Arg::Text(s.as_str().into()));
        f.add_in("status", !done, statuses);
    }
    if let Some(s) = q.status {
        f.add("status = ?", Arg::Text(s.as_str().into()));
    }
    if let Some(p) = q.priority.filter(|_| with_priority) {
        f.add("priority = ?", Arg::Text(p.as_str().into()));
    }
    if let Some(c) = &q.category {
        f.add("category_key = ?", Arg::Text(c.to_lowercase()));
    }
    if let Some(d) = &q.department {
        f.add("department_key = ?", Arg::Text(d.to_lowercase()));
    }
    if let Some(a) = q.is_task_allocated {
        f.add("is_task_allocated = ?", Arg::Bool(a));
    }
    if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
        f.add("search_text LIKE ? ESCAPE '\\'", Arg::Text(like_pattern(s)));
    }
    f
}

async fn list_tickets(reader: Reader<'_>, q: &TicketQuery) -> Result<Page<Ticket>> {
    let order = match q.ordering {
        TicketOrdering::NewestFirst => "created_at DESC, id DESC",
        TicketOrdering::OldestFirst => "created_at ASC, id ASC",
        TicketOrdering::PriorityDesc => "priority_rank DESC, created_at DESC, id DESC",
        TicketOrdering::UpdatedDesc => "updated_at DESC, id DESC",
    };
    page(reader, "tickets", ticket_filter(q, true), order, q.page).await
}

async fn count_tickets_by_priority(reader: Reader<'_>, q: &TicketQuery) -> Result<PriorityCounts> {
    let backend = reader.dialect().backend();
    let f = ticket_filter(q, false);
    let sql = format!(
        "SELECT priority, COUNT(*) FROM tickets{} GROUP BY priority",
        f.where_clause()
    );
    let rows = reader
        .fetch(sql.into(), f.args, |r| Ok((r.text(0)?.to_string(), r.i64(1)?)))
        .await?;
    let mut counts = PriorityCounts::default();
    for (priority, n) in rows {
        let priority: Priority = priority.parse().map_err(|_| Error::Backend {
            backend,
            kind: ErrorKind::Internal,
            message: format!("a ticket row has the unknown priority {priority:?}"),
        })?;
        counts.add(priority, n.max(0) as u64);
    }
    Ok(counts)
}

async fn list_assignments(reader: Reader<'_>, q: &AssignmentQuery) -> Result<Page<Assignment>> {
    let mut f = Filter::default();
    if let Some(u) = q.user {
        f.add("user_id = ?", Arg::Uuid(u.0));
    }
    if q.open_only {
        f.add_plain("is_open");
    }
    page(reader, "assignments", f, "assigned_at DESC, id DESC", q.page).await
}

async fn list_notifications(reader: Reader<'_>, q: &NotificationQuery) -> Result<Page<Notification>> {
    let mut f = Filter::default();
    if let Some(u) = q.user {
        f.add("user_id = ?", Arg::Uuid(u.0));
    }
    if let Some(r) = q.is_read {
        f.add("is_read = ?", Arg::Bool(r));
    }
    page(reader, "notifications", f, "created_at DESC, id DESC", q.page).await
}

async fn outbox_backlog(reader: Reader<'_>) -> Result<Vec<QueueBacklog>> {
    let sql = "SELECT queue, COUNT(*), MIN(created_at) FROM outbox GROUP BY queue ORDER BY queue NULLS FIRST";
    reader
        .fetch(sql.into(), Vec::new(), |r| {
            Ok(QueueBacklog {
                queue: r.opt_text(0)?.map(str::to_string),
                messages: r.i64(1)?.max(0) as u64,
                oldest: r.opt_time(2)?,
            })
        })
        .await
}

async fn dead_letter_backlog(reader: Reader<'_>) -> Result<Vec<QueueBacklog>> {
    let sql = "SELECT queue, COUNT(*), MIN(failed_at) FROM dead_letters GROUP BY queue ORDER BY queue";
    reader
        .fetch(sql.into(), Vec::new(), |r| {
            Ok(QueueBacklog {
                queue: r.opt_text(0)?.map(str::to_string),
                messages: r.i64(1)?.max(0) as u64,
                oldest: r.opt_time(2)?,
            })
        })
        .await
}

async fn list_comments(reader: Reader<'_>, q: &CommentQuery) -> Result<Page<Comment>> {
    let mut f = Filter::default();
    f.add("ticket_id = ?", Arg::I64(q.ticket.0));
    if !q.include_internal {
        f.add_plain("NOT is_internal");
    }
    page(reader, "comments", f, "created_at, id", q.page).await
}

async fn list_users(reader: Reader<'_>, p: PageRequest) -> Result<Page<User>> {
    page(reader, "users", Filter::default(), "email, id", p).await
}

async fn list_dead_letters(reader: Reader<'_>, p: PageRequest) -> Result<Page<DeadLetter>> {
    page(reader, "dead_letters", Filter::default(), "failed_at DESC, id DESC", p).await
}

async fn user(reader: Reader<'_>, id: UserId) -> Result<Option<User>> {
    let rows = reader
        .fetch(
            "SELECT data FROM users WHERE id = $1".into(),
            vec![Arg::Uuid(id.0)],
            |r| r.json::<User>(0),
        )
        .await?;
    Ok(rows.into_iter().next())
}

async fn sessions_ended_since(reader: Reader<'_>, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
    let sql = "SELECT id, ended_at FROM refresh_sessions WHERE ended_at > $1 ORDER BY ended_at, id";
    let since = storable(since);
    reader
        .fetch(sql.into(), vec![Arg::Time(since)], |r| {
            Ok((SessionId(r.uuid(0)?), r.time(1)?))
        })
        .await
}

#[cfg(feature = "sqlite")]
#[async_trait]
impl Queries for super::sqlite::SqliteStore {
    async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>> {
        list_tickets(self.reader(), query).await
    }

    async fn count_tickets_by_priority(&self, query: &TicketQuery) -> Result<PriorityCounts> {
        count_tickets_by_priority(self.reader(), query).await
    }

    async fn list_assignments(&self, query: &AssignmentQuery) -> Result<Page<Assignment>> {
        list_assignments(self.reader(), query).await
    }

    async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>> {
        list_notifications(self.reader(), query).await
    }

    async fn outbox_backlog(&self) -> Result<Vec<QueueBacklog>> {
        outbox_backlog(self.reader()).await
    }

    async fn dead_letter_backlog(&self) -> Result<Vec<QueueBacklog>> {
        dead_letter_backlog(self.reader()).await
    }

    async fn list_comments(&self, query: &CommentQuery) -> Result<Page<Comment>> {
        list_comments(self.reader(), query).await
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        list_users(self.reader(), page).await
    }

    async fn list_dead_letters(&self, page: PageRequest) -> Result<Page<DeadLetter>> {
        list_dead_letters(self.reader(), page).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        user(self.reader(), id).await
    }

    async fn sessions_ended_since(&self, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
        sessions_ended_since(self.reader(), since).await
    }
}

#[cfg(feature = "postgres")]
#[async_trait]
impl Queries for super::postgres::PgStore {
    async fn list_tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>> {
        list_tickets(self.reader(), query).await
    }

    async fn count_tickets_by_priority(&self, query: &TicketQuery) -> Result<PriorityCounts> {
        count_tickets_by_priority(self.reader(), query).await
    }

    async fn list_assignments(&self, query: &AssignmentQuery) -> Result<Page<Assignment>> {
        list_assignments(self.reader(), query).await
    }

    async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>> {
        list_notifications(self.reader(), query).await
    }

    async fn outbox_backlog(&self) -> Result<Vec<QueueBacklog>> {
        outbox_backlog(self.reader()).await
    }

    async fn dead_letter_backlog(&self) -> Result<Vec<QueueBacklog>> {
        dead_letter_backlog(self.reader()).await
    }

    async fn list_comments(&self, query: &CommentQuery) -> Result<Page<Comment>> {
        list_comments(self.reader(), query).await
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        list_users(self.reader(), page).await
    }

    async fn list_dead_letters(&self, page: PageRequest) -> Result<Page<DeadLetter>> {
        list_dead_letters(self.reader(), page).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        user(self.reader(), id).await
    }

    async fn sessions_ended_since(&self, since: DateTime<Utc>) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
        sessions_ended_since(self.reader(), since).await
    }
}

#[cfg(test)]
mod tests {
    use super::{Filter, like_pattern};
    use crate::sql::values::Arg;

    #[test]
    fn filters_number_their_placeholders_once_per_argument() {
        let mut f = Filter::default();
        f.add("(a = ? OR b = ?)", Arg::I64(1));
        f.add_plain("open");
        f.add("c = ?", Arg::I64(2));
        assert_eq!(f.where_clause(), " WHERE (a = $1 OR b = $1) AND open AND c = $2");
        assert_eq!(f.args.len(), 2);
    }

    #[test]
    fn lists_get_a_placeholder_per_value_after_the_others() {
        let mut f = Filter::default();
        f.add("a = ?", Arg::I64(1));
        f.add_in("status", true, [Arg::I64(2), Arg::I64(3)]);
        f.add_in("kind", false, [Arg::I64(4)]);
        assert_eq!(
            f.where_clause(),
            " WHERE a = $1 AND status NOT IN ($2, $3) AND kind IN ($4)"
        );
        assert_eq!(f.args.len(), 4);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }
}
