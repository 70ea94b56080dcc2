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

/// The rows' arguments, one column per placeholder: `None` (the rows given back) when they do not line
/// up (rows of different lengths, no argument at all, or a placeholder bound to values of two types).
pub(super) fn transpose(rows: Vec<Vec<Arg>>) -> Result<Vec<Column>, Vec<Vec<Arg>>> {
    let Some(first) = rows.first() else {
        return Err(rows);
    };
    let k = first.len();
    let columns: Option<Vec<Column>> = first.iter().map(|a| Column::like(a, rows.len())).collect();
    let Some(mut columns) = columns.filter(|_| k > 0) else {
        return Err(rows);
    };
    let fits = rows
        .iter()
        .all(|row| row.len() == k && row.iter().zip(&columns).all(|(a, c)| c.takes(a)));
    if !fits {
        return Err(rows);
    }
    for row in rows {
        for (a, c) in row.into_iter().zip(columns.iter_mut()) {
            c.push(a);
        }
    }
    Ok(columns)
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
pub(super) fn join_inserts(head: &str, tuple: &str, ops: Vec<Deferred>) -> Result<Deferred, Vec<Deferred>> {
    let (rows, rest) = split(ops);
    let columns = transpose(rows).map_err(|rows| unsplit(rows, rest))?;
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
pub(super) fn join_updates(set: &str, filter: &str, ops: Vec<Deferred>) -> Result<Deferred, Vec<Deferred>> {
    let (rows, rest) = split(ops);
    let columns = match transpose(rows) {
        Ok(columns) => columns,
        Err(rows) => return Err(unsplit(rows, rest)),
    };
    let to_columns = super::merge::placeholders_to_columns;
    let sql = format!("{} FROM {}{}", to_columns(set), rows_of(&columns), to_columns(filter));
    Ok(Deferred {
        sql: sql.into(),
        args: columns.into_iter().map(Arg::Column).collect(),
        expect: super::Expect::Every(rest.into_iter().map(|r| r.expect).collect()),
        row: None,
    })
}

/// What a write keeps when its arguments go into columns.
struct Rest {
    sql: crate::sql::values::Sql,
    expect: super::Expect,
    row: Option<String>,
}

fn split(ops: Vec<Deferred>) -> (Vec<Vec<Arg>>, Vec<Rest>) {
    ops.into_iter()
        .map(|op| {
            (
                op.args,
                Rest {
                    sql: op.sql,
                    expect: op.expect,
                    row: op.row,
                },
            )
        })
        .unzip()
}

fn unsplit(rows: Vec<Vec<Arg>>, rest: Vec<Rest>) -> Vec<Deferred> {
    rows.into_iter()
        .zip(rest)
        .map(|(args, r)| Deferred {
            sql: r.sql,
            args,
            expect: r.expect,
            row: r.row,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::transpose;
    use crate::sql::values::{Arg, Column};

    #[test]
    fn rows_become_one_column_per_placeholder() {
        let rows = vec![
            vec![Arg::I64(1), Arg::OptText(None)],
            vec![Arg::I64(2), Arg::Text("b".into())],
        ];
        let columns = transpose(rows).expect("they line up");
        assert!(matches!(&columns[0], Column::I64(v) if v == &[Some(1), Some(2)]));
        assert!(matches!(&columns[1], Column::Text(v) if v == &[None, Some("b".to_string())]));
    }

    #[test]
    fn rows_that_do_not_line_up_are_given_back() {
        let mixed = vec![vec![Arg::I64(1)], vec![Arg::Text("2".into())]];
        assert_eq!(transpose(mixed).expect_err("two types").len(), 2);
        let ragged = vec![vec![Arg::I64(1)], vec![Arg::I64(2), Arg::I64(3)]];
        assert_eq!(transpose(ragged).expect_err("two lengths").len(), 2);
        assert_eq!(transpose(vec![vec![], vec![]]).expect_err("no argument").len(), 2);
    }
}
