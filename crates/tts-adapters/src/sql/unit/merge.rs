//! Joining held-back writes of one statement text before a batch is sent: inserts into one multi-row
//! `INSERT` on SQLite; on PostgreSQL inserts into one `INSERT ... SELECT ... FROM UNNEST(...)` and
//! version-checked updates into one `UPDATE ... FROM UNNEST(...)` (`unnest.rs`), so that a batch has one
//! part per statement text instead of one per row, and a text that does not change with the number of
//! rows.

use super::{Deferred, Expect, unnest};
use crate::sql::values::Sql;
use std::collections::HashMap;

/// The held-back writes with those of one statement joined: [`merge_inserts`], and with `any_order`
/// (PostgreSQL) inserts and updates over arrays ([`inserts_over_arrays`], [`merge_updates`]).
pub(super) fn merge(ops: Vec<Deferred>, any_order: bool) -> Vec<Deferred> {
    if any_order {
        merge_updates(merge_inserts(inserts_over_arrays(ops), true))
    } else {
        merge_inserts(ops, false)
    }
}

/// The writes with each group of one statement text that `joins` picks replaced, at its first member's
/// place, by what `join` makes of the group (in the group's order).
fn join_groups(
    ops: Vec<Deferred>,
    joins: impl Fn(&Deferred) -> bool,
    mut join: impl FnMut(Vec<Deferred>) -> Vec<Deferred>,
) -> Vec<Deferred> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if joins(op) {
            groups.entry(op.sql.to_string()).or_default().push(i);
        }
    }
    if groups.is_empty() {
        return ops;
    }
    let mut slots: Vec<Option<Deferred>> = ops.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        let Some(op) = slots[i].take() else { continue };
        let Some(members) = groups.get(op.sql.as_ref()).filter(|m| m[0] == i) else {
            out.push(op);
            continue;
        };
        let mut group = vec![op];
        group.extend(members[1..].iter().filter_map(|&j| slots[j].take()));
        out.extend(join(group));
    }
    out
}

/// PostgreSQL: the plain inserts (`Expect::Any`) of each statement text as one insert over arrays
/// (`unnest::join_inserts`), a single one too, so the text is the same for one row as for fifty. Those
/// whose arguments do not line up are left for [`merge_inserts`].
fn inserts_over_arrays(ops: Vec<Deferred>) -> Vec<Deferred> {
    let plain = |op: &Deferred| matches!(op.expect, Expect::Any) && plain_insert_values(&op.sql).is_some();
    join_groups(ops, plain, |group| {
        let sql = group[0].sql.to_string();
        let at = plain_insert_values(&sql).expect("checked by `plain`");
        let head = sql[..at].trim_end().strip_suffix("VALUES").unwrap_or(&sql[..at]);
        match unnest::join_inserts(head, &sql[at..], group) {
            Ok(joined) => vec![joined],
            Err(back) => back,
        }
    })
}

/// Most arguments one merged insert carries (SQLite allows 32,766 per statement, PostgreSQL 65,535).
const MAX_MERGED_ARGS: usize = 16_000;

/// Held-back writes with plain inserts of the same statement joined into one multi-row `INSERT`: a
/// batch of creates writes its tickets and audit rows as one statement each instead of one per row
/// (fewer statements to prepare and step on SQLite, less to parse and plan on PostgreSQL). Only writes
/// that must touch nothing in particular (`Expect::Any`) are joined.
///
/// With `any_order` (PostgreSQL, which sends a batch as one statement whose parts all see one snapshot
/// and run in no set order, with foreign keys checked at its end) every insert joins the first of its
/// statement, so a command that writes a ticket and its audit row per ticket still sends one part per
/// table. Without it (SQLite runs the batch in order) only adjacent inserts are joined and the order
/// is kept.
pub(super) fn merge_inserts(ops: Vec<Deferred>, any_order: bool) -> Vec<Deferred> {
    let mut out: Vec<Deferred> = Vec::with_capacity(ops.len());
    // Per statement text, the output op that takes its further rows.
    let mut open: HashMap<String, usize> = HashMap::new();
    for op in ops {
        let Some(at) = plain_insert_values(&op.sql).filter(|_| matches!(op.expect, Expect::Any)) else {
            out.push(op);
            continue;
        };
        if let Some(&i) = open.get(op.sql.as_ref())
            && (any_order || i + 1 == out.len())
            && out[i].args.len() + op.args.len() <= MAX_MERGED_ARGS
        {
            let into = &mut out[i];
            let tuple = crate::sql::dialect::shift_placeholders(&op.sql[at..], into.args.len());
            let mut text = into.sql.as_ref().to_string();
            text.push_str(", ");
            text.push_str(&tuple);
            into.sql = Sql::Owned(text);
            into.args.extend(op.args);
            into.row = None;
            continue;
        }
        open.insert(op.sql.as_ref().to_string(), out.len());
        out.push(op);
    }
    out
}

/// Where the one row tuple of a plain `INSERT INTO t (...) VALUES (...)` starts (no `ON CONFLICT`, no
/// `RETURNING`, no `SELECT`), or `None` for any other statement.
fn plain_insert_values(sql: &str) -> Option<usize> {
    if !sql.starts_with("INSERT INTO ") || ["ON CONFLICT", "RETURNING", "SELECT"].iter().any(|w| sql.contains(w)) {
        return None;
    }
    let at = sql.rfind(" VALUES (")? + " VALUES ".len();
    (sql.ends_with(')') && !sql[at..].contains("),")).then_some(at)
}

/// Version-checked updates (`Expect::Versioned`) of one statement text joined into one `UPDATE t SET c =
/// v.p2, ... FROM UNNEST($1, ..., $k) AS v(p1, ..., pk) WHERE id = v.p1 AND ...`, for a batch sent as
/// one statement (PostgreSQL): an allocation that updates thirty tickets sends one part, not thirty,
/// and PostgreSQL plans one join instead of thirty updates, with the same text for one ticket as for
/// thirty. The joined write must touch every row ([`Expect::Every`]); each row is still written at most
/// once per statement (see `Deferred::row`). Updates whose arguments do not line up as arrays join as a
/// `VALUES` list instead.
pub(super) fn merge_updates(ops: Vec<Deferred>) -> Vec<Deferred> {
    let versioned =
        |op: &Deferred| matches!(op.expect, Expect::Versioned { .. }) && plain_update_where(&op.sql).is_some();
    join_groups(ops, versioned, |group| {
        let sql = group[0].sql.to_string();
        let at = plain_update_where(&sql).expect("checked by `versioned`");
        let group = match unnest::join_updates(&sql[..at], &sql[at..], group) {
            Ok(joined) => return vec![joined],
            Err(back) => back,
        };
        let per_row = group[0].args.len().max(1);
        chunk_by_args(group, MAX_MERGED_ARGS / per_row)
            .into_iter()
            .map(join_updates)
            .collect()
    })
}

/// `ops` in runs of at most `n` (at least one).
fn chunk_by_args(ops: Vec<Deferred>, n: usize) -> Vec<Vec<Deferred>> {
    let n = n.max(1);
    let mut chunks: Vec<Vec<Deferred>> = Vec::new();
    for op in ops {
        match chunks.last_mut() {
            Some(last) if last.len() < n => last.push(op),
            _ => chunks.push(vec![op]),
        }
    }
    chunks
}

/// Updates of one statement text as one (see [`merge_updates`]); a single one stays as it is.
fn join_updates(mut ops: Vec<Deferred>) -> Deferred {
    if ops.len() == 1 {
        return ops.pop().expect("one update");
    }
    let sql = ops[0].sql.to_string();
    let at = plain_update_where(&sql).expect("checked by merge_updates");
    let k = ops[0].args.len();
    let columns: Vec<String> = (1..=k).map(|n| format!("p{n}")).collect();
    let rows: Vec<String> = (0..ops.len())
        .map(|r| {
            let ps: Vec<String> = (1..=k).map(|n| format!("${}", r * k + n)).collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    let text = format!(
        "{} FROM (VALUES {}) AS v({}){}",
        placeholders_to_columns(&sql[..at]),
        rows.join(", "),
        columns.join(", "),
        placeholders_to_columns(&sql[at..]),
    );
    let mut args = Vec::with_capacity(k * ops.len());
    let mut each = Vec::with_capacity(ops.len());
    for op in ops {
        args.extend(op.args);
        each.push(op.expect);
    }
    Deferred {
        sql: Sql::Owned(text),
        args,
        expect: Expect::Every(each),
        row: None,
    }
}

/// Where ` WHERE` starts in a plain `UPDATE t SET ... WHERE ...` (no `FROM`, no `RETURNING`, no
/// subquery, one `WHERE`), or `None` for any other statement.
fn plain_update_where(sql: &str) -> Option<usize> {
    if !sql.starts_with("UPDATE ") || [" FROM ", "RETURNING", "SELECT", "("].iter().any(|w| sql.contains(w)) {
        return None;
    }
    let at = sql.find(" WHERE ")?;
    (sql.rfind(" WHERE ") == Some(at)).then_some(at)
}

/// `sql` with every placeholder `$n` written as the column `v.pn` of the joined rows.
pub(super) fn placeholders_to_columns(sql: &str) -> String {
    crate::sql::dialect::map_placeholders(sql, |n| format!("v.p{n}"))
}

#[cfg(test)]
mod tests {
    use super::{Deferred, Expect, merge, merge_inserts};
    use crate::sql::values::{Arg, Column};

    fn insert(table: &str, v: i64) -> Deferred {
        let sql = format!("INSERT INTO {table} (a, b) VALUES ($1, $2)");
        let args = vec![crate::sql::values::Arg::I64(v), crate::sql::values::Arg::I64(v)];
        Deferred::any(sql, args, Some(format!("{table}:{v}")))
    }

    fn update(v: i64) -> Deferred {
        Deferred {
            expect: Expect::Found {
                entity: "task",
                shown: v.to_string(),
            },
            ..Deferred::any("UPDATE tasks SET a = $1", vec![crate::sql::values::Arg::I64(v)], None)
        }
    }

    fn texts(ops: &[Deferred]) -> Vec<(String, usize)> {
        ops.iter().map(|o| (o.sql.to_string(), o.args.len())).collect()
    }

    #[test]
    fn in_order_only_adjacent_inserts_of_one_statement_are_joined() {
        let ops = vec![
            insert("t", 1),
            insert("t", 2),
            insert("a", 1),
            insert("t", 3),
            update(1),
            insert("t", 4),
        ];
        let merged = texts(&merge_inserts(ops, false));
        assert_eq!(
            merged,
            vec![
                ("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)".to_string(), 4),
                ("INSERT INTO a (a, b) VALUES ($1, $2)".to_string(), 2),
                ("INSERT INTO t (a, b) VALUES ($1, $2)".to_string(), 2),
                ("UPDATE tasks SET a = $1".to_string(), 1),
                ("INSERT INTO t (a, b) VALUES ($1, $2)".to_string(), 2),
            ]
        );
    }

    #[test]
    fn in_any_order_every_insert_joins_the_first_of_its_statement() {
        let ops = vec![
            insert("t", 1),
            insert("a", 1),
            insert("t", 2),
            update(1),
            insert("a", 2),
            insert("t", 3),
        ];
        let merged = merge_inserts(ops, true);
        assert_eq!(
            texts(&merged),
            vec![
                (
                    "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)".to_string(),
                    6
                ),
                ("INSERT INTO a (a, b) VALUES ($1, $2), ($3, $4)".to_string(), 4),
                ("UPDATE tasks SET a = $1".to_string(), 1),
            ]
        );
        assert!(
            matches!(merged[2].expect, Expect::Found { .. }),
            "a checked write is never joined"
        );
        assert_eq!(merged[0].row, None, "a joined insert names no single row");
    }

    fn versioned(id: i64, version: i64) -> Deferred {
        Deferred {
            expect: Expect::Versioned {
                entity: "ticket",
                exists: "SELECT 1 FROM tickets WHERE id = $1",
                id: crate::sql::values::Arg::I64(id),
                shown: id.to_string(),
            },
            ..Deferred::any(
                "UPDATE tickets SET version = $2, data = $3 WHERE id = $1 AND version = $4",
                vec![
                    crate::sql::values::Arg::I64(id),
                    crate::sql::values::Arg::I64(version + 1),
                    crate::sql::values::Arg::Text("{}".into()),
                    crate::sql::values::Arg::I64(version),
                ],
                Some(format!("tickets:{id}")),
            )
        }
    }

    #[test]
    fn in_any_order_version_checked_updates_of_one_statement_join_into_one() {
        let ops = vec![
            versioned(1, 3),
            insert("t", 1),
            versioned(2, 5),
            update(1),
            versioned(3, 1),
        ];
        let merged = merge(ops, true);
        assert_eq!(
            texts(&merged),
            vec![
                (
                    "UPDATE tickets SET version = v.p2, data = v.p3 FROM UNNEST($1::int8[], $2::int8[], $3::text[], \
                     $4::int8[]) AS v(p1, p2, p3, p4) WHERE id = v.p1 AND version = v.p4"
                        .to_string(),
                    4
                ),
                (
                    "INSERT INTO t (a, b) SELECT v.p1, v.p2 FROM UNNEST($1::int8[], $2::int8[]) AS v(p1, p2)"
                        .to_string(),
                    2
                ),
                ("UPDATE tasks SET a = $1".to_string(), 1),
            ]
        );
        assert!(matches!(&merged[0].expect, Expect::Every(each) if each.len() == 3));
        assert!(
            matches!(&merged[0].args[0], Arg::Column(Column::I64(ids)) if ids == &[Some(1), Some(2), Some(3)]),
            "the rows' ids are one array, in the writes' order"
        );
        assert_eq!(merged[0].row, None);
    }

    #[test]
    fn in_any_order_the_text_does_not_change_with_the_number_of_rows() {
        let one = merge(vec![insert("t", 1), versioned(1, 3)], true);
        let five = merge((1..=5).flat_map(|i| [insert("t", i), versioned(i, 3)]).collect(), true);
        assert_eq!(texts(&one), texts(&five));
        assert!(matches!(&one[1].expect, Expect::Every(each) if each.len() == 1));
    }

    #[test]
    fn in_any_order_rows_whose_arguments_differ_in_type_join_as_values() {
        let mut odd = insert("t", 2);
        odd.args[1] = Arg::Text("two".into());
        let merged = merge(vec![insert("t", 1), odd], true);
        assert_eq!(
            texts(&merged),
            vec![("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)".to_string(), 4)]
        );
        let mut stale = versioned(2, 5);
        stale.args[2] = Arg::I64(0);
        let merged = merge(vec![versioned(1, 3), stale], true);
        assert!(
            merged[0]
                .sql
                .contains("FROM (VALUES ($1, $2, $3, $4), ($5, $6, $7, $8))")
        );
        assert!(matches!(&merged[0].expect, Expect::Every(each) if each.len() == 2));
    }

    #[test]
    fn in_order_updates_are_never_joined() {
        let merged = merge(vec![versioned(1, 3), versioned(2, 5)], false);
        assert_eq!(merged.len(), 2);
        assert!(merged.iter().all(|op| matches!(op.expect, Expect::Versioned { .. })));
    }
}
