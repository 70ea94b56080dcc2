//! PostgreSQL: held-back writes of one statement text as one statement over arrays, whose text is the
//! same whatever number of rows it writes.
//!
//! A batch sent as a multi-row `VALUES` list has a new text for every number of rows, and for every
//! make-up of a unit's batch. Each of the pool's connections then parses, plans and prepares each text
//! apart (one more round trip per prepare), and PostgreSQL plans every execution of a new prepared
//! statement anew. Bound as one array per column ([`Column`]), the text is fixed: `INSERT INTO t (a, b)
//! SELECT v.p1, v.p2 FROM UNNEST($1::int8[], $2::text[]) AS v(p1, p2)`, and a unit that writes the same
//! tables sends the same statement, prepared once per connection.

use super::Deferred;
use crate::sql::values::{Arg, Column};

/// The writes' arguments taken as one column per placeholder, or `None` (nothing taken) when they do
/// not line up: writes with different numbers of arguments, none at all, or a placeholder bound to
/// values of two types.
pub(super) fn columns(ops: &mut [Deferred]) -> Option<Vec<Column>> {
    let first = &ops.first()?.args;
    let mut columns: Vec<Column> = first
        .iter()
        .map(|a| Column::like(a, ops.len()))
        .collect::<Option<_>>()?;
    let fits = |op: &Deferred| op.args.len() == columns.len() && op.args.iter().zip(&columns).all(|(a, c)| c.takes(a));
    if columns.is_empty() || !ops.iter().all(fits) {
        return None;
    }
    for op in ops {
        for (a, c) in std::mem::take(&mut op.args).into_iter().zip(columns.iter_mut()) {
            c.push(a);
        }
    }
    Some(columns)
}

/// `UNNEST($1::t1[], ..., $k::tk[]) AS v(p1, ..., pk)`: the rows of `columns`, their placeholders
/// written as `v.p1` to `v.pk` (see `merge::placeholders_to_columns`).
pub(super) fn rows_of(columns: &[Column]) -> String {
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.pg_type()))
        .collect();
    let names: Vec<String> = (1..=columns.len()).map(|n| format!("p{n}")).collect();
    format!("UNNEST({}) AS v({})", arrays.join(", "), names.join(", "))
}

/// Plain inserts of one statement text (`head` up to `VALUES`, then its one row `tuple`) as one
/// `INSERT ... SELECT ... FROM UNNEST(...)`, or the inserts given back when their arguments do not line
/// up ([`transpose`]).
pub(super) fn join_inserts(head: &str, tuple: &str, mut ops: Vec<Deferred>) -> Result<Deferred, Vec<Deferred>> {
    let Some(columns) = columns(&mut ops) else {
        return Err(ops);
    };
    let inner = tuple
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(tuple);
    let sql = format!(
        "{head}SELECT {} FROM {}",
        super::merge::placeholders_to_columns(inner),
        rows_of(&columns)
    );
    Ok(Deferred::any(sql, columns.into_iter().map(Arg::Column).collect(), None))
}

/// Version-checked updates of one statement text (`set` up to ` WHERE`, then `filter`) as one `UPDATE t
/// SET ... FROM UNNEST(...) WHERE ...`, or the updates given back when their arguments do not line up.
pub(super) fn join_updates(set: &str, filter: &str, mut ops: Vec<Deferred>) -> Result<Deferred, Vec<Deferred>> {
    let Some(columns) = columns(&mut ops) else {
        return Err(ops);
    };
    let to_columns = super::merge::placeholders_to_columns;
    let sql = format!("{} FROM {}{}", to_columns(set), rows_of(&columns), to_columns(filter));
    Ok(Deferred {
        sql: sql.into(),
        args: columns.into_iter().map(Arg::Column).collect(),
        expect: super::Expect::Every(ops.into_iter().map(|op| op.expect).collect()),
        row: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Deferred;
    use super::columns;
    use crate::sql::values::{Arg, Column};

    fn ops(rows: Vec<Vec<Arg>>) -> Vec<Deferred> {
        rows.into_iter()
            .map(|args| Deferred::any("INSERT INTO t (a, b) VALUES ($1, $2)", args, None))
            .collect()
    }

    #[test]
    fn rows_become_one_column_per_placeholder() {
        let mut rows = ops(vec![
            vec![Arg::I64(1), Arg::OptText(None)],
            vec![Arg::I64(2), Arg::Text("b".into())],
        ]);
        let columns = columns(&mut rows).expect("they line up");
        assert!(matches!(&columns[0], Column::I64(v) if v == &[Some(1), Some(2)]));
        assert!(matches!(&columns[1], Column::Text(v) if v == &[None, Some("b".to_string())]));
    }

    #[test]
    fn rows_that_do_not_line_up_keep_their_arguments() {
        for rows in [
            vec![vec![Arg::I64(1)], vec![Arg::Text("2".into())]],
            vec![vec![Arg::I64(1)], vec![Arg::I64(2), Arg::I64(3)]],
            vec![vec![], vec![]],
        ] {
            let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
            let mut rows = ops(rows);
            assert!(columns(&mut rows).is_none());
            assert_eq!(rows.iter().map(|op| op.args.len()).collect::<Vec<_>>(), lengths);
        }
    }
}
