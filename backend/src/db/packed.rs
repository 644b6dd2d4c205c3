//! Reads packed: the rows of a statement as ONE row holding a JSON array, and several such reads
//! as one statement. sqlx hands every SQLite statement to SQLite's worker thread and every row
//! back on its own, and on the pages those hand-offs, not SQLite's work, were most of the time
//! (docs/performance.md, "Where a SQLite transfer page's time goes"). PostgreSQL sends rows
//! cheaply and builds JSON dearly, so its large reads (pages of entries, holdings, lists) come as
//! rows; the small reads beside a page of transfers are packed there too (a transfer's parts and
//! records, what the rules read: [`PackedBatch`]), where each statement saved is a round trip.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use serde::de::DeserializeOwned;

fn corrupt(what: String) -> DbErr {
    DbErr::Custom(what)
}

/// One JSON array column of a packed row, each element a row of the shape `T`.
pub fn packed_array<T: DeserializeOwned>(
    row: &sea_orm::QueryResult,
    column: &str,
) -> Result<Vec<T>, DbErr> {
    let text: String = row.try_get("", column)?;
    parse(&text, column)
}

/// `text`, a packed JSON array of rows, each a `T`.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<Vec<T>, DbErr> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("packed {what}: {e}")))
}

/// The rows of a packed read (`text`, a JSON array of rows; `what` names it in errors), each
/// made a value by `to`, sorted by `id` (an ordered aggregate would copy the list into a
/// temporary b-tree).
pub fn packed_rows<T: DeserializeOwned, V>(
    text: &str,
    what: &str,
    to: impl Fn(T) -> Result<V, DbErr>,
    id: impl Fn(&V) -> i64,
) -> Result<Vec<V>, DbErr> {
    let mut values = parse::<T>(text, what)?
        .into_iter()
        .map(to)
        .collect::<Result<Vec<_>, DbErr>>()?;
    values.sort_unstable_by_key(id);
    Ok(values)
}

/// A time in a packed row: SQLite keeps times as RFC 3339 text, which JSON carries as is.
pub fn packed_time(what: &str, id: i64, text: &str) -> Result<time::OffsetDateTime, DbErr> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| corrupt(format!("{what} {id}: time {text:?}: {e}")))
}

/// A date in a packed row (`YYYY-MM-DD`), as both databases write one into JSON.
pub fn packed_date(what: &str, id: i64, text: &str) -> Result<time::Date, DbErr> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| corrupt(format!("{what} {id}: date {text:?}: {e}")))
}

/// The rows a statement selects (each row `T`, the JSON array of `columns`), read as one
/// packed row.
pub async fn packed_select<T: DeserializeOwned>(
    conn: &impl ConnectionTrait,
    stmt: Statement,
    columns: &str,
) -> Result<Vec<T>, DbErr> {
    let mut batch = PackedBatch::default();
    let read = batch.add(stmt, columns);
    batch.run(conn).await?.take(read)
}

/// The `n`th parameter (from 1) of a statement that a [`PackedBatch`] reads: `$n` on PostgreSQL
/// (the batch renumbers them), an anonymous `?` on SQLite, which numbers those left to right
/// across the whole batch (a `?n` there would name the batch's `n`th parameter).
pub fn batch_placeholder(backend: DatabaseBackend, n: usize) -> String {
    if backend == DatabaseBackend::Postgres {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}

/// A correlated subquery that selects `columns` of the rows of `from` (a table and its WHERE) as
/// one JSON array of arrays, as text: `[]` when there are none, on both databases.
pub fn json_rows(backend: DatabaseBackend, columns: &str, from: &str) -> String {
    if backend == DatabaseBackend::Postgres {
        format!("(SELECT coalesce(json_agg(json_build_array({columns})), '[]')::text FROM {from})")
    } else {
        format!("(SELECT json_group_array(json_array({columns})) FROM {from})")
    }
}

/// The condition "`column` is one of `ids`" on the `n`th parameter, and that parameter: a JSON
/// array on SQLite (`json_each`), an array literal on PostgreSQL (`= ANY`), so that any number
/// of ids is one parameter.
pub fn id_in(
    backend: DatabaseBackend,
    column: &str,
    n: usize,
    ids: &[i64],
) -> (String, sea_orm::Value) {
    let p = super::placeholder(backend, n);
    (one_of(backend, column, &p), ids_parameter(backend, ids))
}

/// [`id_in`] for sea-query's builder, which numbers the parameter among the query's others
/// (its custom expressions' own placeholders: `$1` on PostgreSQL, `?` on SQLite).
pub fn id_in_expr(
    backend: DatabaseBackend,
    column: &str,
    ids: &[i64],
) -> sea_orm::sea_query::SimpleExpr {
    let p = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    sea_orm::sea_query::Expr::cust_with_values(
        one_of(backend, column, p),
        [ids_parameter(backend, ids)],
    )
}

/// "`column` is one of the ids in parameter `p`". On PostgreSQL the array is read through a
/// sub-select, which the planner cannot see into: its plan for these ids costs what its generic
/// plan costs, so it keeps that plan instead of planning each execution anew
/// (`db::transfers::probe_rows` says more).
fn one_of(backend: DatabaseBackend, column: &str, p: &str) -> String {
    if backend == DatabaseBackend::Postgres {
        format!("{column} = ANY((SELECT CAST({p} AS BIGINT[]))::BIGINT[])")
    } else {
        format!("{column} IN (SELECT value FROM json_each({p}))")
    }
}

/// The ids as the one parameter of [`one_of`]: an array literal on PostgreSQL, a JSON array on
/// SQLite.
fn ids_parameter(backend: DatabaseBackend, ids: &[i64]) -> sea_orm::Value {
    if backend == DatabaseBackend::Postgres {
        bigint_array(ids.iter().copied())
    } else {
        serde_json::json!(ids).to_string().into()
    }
}

/// A PostgreSQL `bigint[]` as a bound value: its text form (`{1,2,3}`), which `CAST(... AS
/// BIGINT[])` parses, since the connection binds no array type.
pub fn bigint_array(values: impl IntoIterator<Item = i64>) -> sea_orm::Value {
    let items: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    format!("{{{}}}", items.join(",")).into()
}

/// The columns of entity `E` in the order of its model's fields, which is the order a model
/// deriving `Deserialize` reads a packed row in.
pub fn columns_of<E: sea_orm::EntityTrait>() -> String {
    use sea_orm::{IdenStatic, Iterable};
    E::Column::iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bound parameters one statement may carry: SQLite's default (SQLITE_MAX_VARIABLE_NUMBER),
/// under PostgreSQL's 65,535.
const MAX_PARAMETERS: usize = 32_766;

/// Reads sent together: each is a statement as it would run alone, wrapped by [`json_rows`]
/// (`(SELECT json_group_array(json_array(columns)) FROM (statement))` on SQLite, `json_agg` on
/// PostgreSQL), and all of them are the columns of one statement's one row. Wrapping leaves each
/// statement's plan as it was, and a subquery keeps its ORDER BY under the aggregate (SQLite
/// omits it only under count, min or max: the OmitOrderBy conditions in `sqlite3.c`; PostgreSQL
/// feeds an aggregate a sorted subquery's rows in its order). On PostgreSQL each statement's
/// `$n` are renumbered to follow the ones before it.
#[derive(Default)]
pub struct PackedBatch {
    /// A table the reads may name ([`PackedBatch::reading_from`]): its name and statement.
    table: Option<(&'static str, Statement)>,
    reads: Vec<(Statement, String)>,
}

/// Which read of a batch: its place in [`PackedRows`].
#[derive(Debug, Clone, Copy)]
pub struct ReadId(usize);

/// Each read's rows as a JSON array, in the order the reads were added.
pub struct PackedRows(Vec<String>);

impl PackedBatch {
    /// A batch whose reads may select from `name`, the rows of `stmt`: a common table expression
    /// (`WITH name AS MATERIALIZED (stmt)`), run once per statement however many reads name it.
    /// Its rows have no order: a read that wants one sorts them.
    pub fn reading_from(name: &'static str, stmt: Statement) -> PackedBatch {
        PackedBatch {
            table: Some((name, stmt)),
            reads: Vec::new(),
        }
    }

    /// Adds the read of `stmt`'s rows as JSON arrays of `columns` (names of its result columns).
    pub fn add(&mut self, stmt: Statement, columns: &str) -> ReadId {
        self.reads.push((stmt, columns.to_owned()));
        ReadId(self.reads.len() - 1)
    }

    /// Runs the reads: one statement, or (past SQLite's limit of bound parameters) as few as
    /// fit it. No statement when there is nothing to read.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<PackedRows, DbErr> {
        let count = |stmt: &Statement| stmt.values.as_ref().map_or(0, |v| v.0.len());
        let table = self.table.as_ref();
        let shared = table.map_or(0, |(_, stmt)| count(stmt));
        let mut out = Vec::with_capacity(self.reads.len());
        let mut group: Vec<(Statement, String)> = Vec::new();
        let mut parameters = shared;
        for (stmt, columns) in self.reads {
            let n = count(&stmt);
            if !group.is_empty() && parameters + n > MAX_PARAMETERS {
                out.extend(run_group(conn, table, std::mem::take(&mut group)).await?);
                parameters = shared;
            }
            parameters += n;
            group.push((stmt, columns));
        }
        if !group.is_empty() {
            out.extend(run_group(conn, table, group).await?);
        }
        Ok(PackedRows(out))
    }
}

/// One statement for the reads of `group` (after the batch's table, when it has one), its
/// parameters in their order (SQLite numbers the anonymous `?` from left to right; PostgreSQL's
/// `$n` are shifted past the ones before).
async fn run_group(
    conn: &impl ConnectionTrait,
    table: Option<&(&'static str, Statement)>,
    group: Vec<(Statement, String)>,
) -> Result<Vec<String>, DbErr> {
    let backend = conn.get_database_backend();
    let reads = group.len();
    let mut columns = Vec::with_capacity(reads);
    let mut values = Vec::new();
    let with = match table {
        Some((name, stmt)) => {
            values.extend(stmt.values.iter().flat_map(|v| v.0.iter().cloned()));
            format!("WITH {name} AS MATERIALIZED ({}) ", stmt.sql)
        }
        None => String::new(),
    };
    for (i, (stmt, packed)) in group.into_iter().enumerate() {
        let sql = if backend == DatabaseBackend::Postgres {
            renumbered(&stmt.sql, values.len())
        } else {
            stmt.sql
        };
        let from = format!("({sql}) r{i}");
        columns.push(format!("{} AS p{i}", json_rows(backend, &packed, &from)));
        values.extend(stmt.values.map(|v| v.0).unwrap_or_default());
    }
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("{with}SELECT {}", columns.join(", ")),
            values,
        ))
        .await?
        .ok_or_else(|| corrupt("a packed read returned no row".to_owned()))?;
    (0..reads)
        .map(|i| row.try_get_by_index::<String>(i))
        .collect()
}

/// `sql` with each PostgreSQL parameter `$n` made `$(n + offset)`; `$` in quoted literals and
/// identifiers is left alone.
pub fn renumbered(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote = None;
    let mut chars = sql.char_indices();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let digits: String = sql[at + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<usize>() {
                    out.push_str(&format!("${}", n + offset));
                    for _ in 0..digits.len() {
                        chars.next();
                    }
                    continue;
                }
            }
            (None, _) => {}
        }
        out.push(c);
    }
    out
}

impl PackedRows {
    /// The rows of `read`, each a `T`.
    pub fn take<T: DeserializeOwned>(&self, read: ReadId) -> Result<Vec<T>, DbErr> {
        parse(self.text(read)?, &format!("read {}", read.0))
    }

    /// The rows of `read` as the JSON text the database wrote, for a reader of its own.
    pub fn text(&self, read: ReadId) -> Result<&str, DbErr> {
        self.0
            .get(read.0)
            .map(String::as_str)
            .ok_or_else(|| corrupt(format!("packed read {} was not run", read.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::renumbered;

    #[test]
    fn parameters_are_shifted_past_the_reads_before() {
        assert_eq!(
            renumbered("a = $1 AND b IN ($2, $10)", 3),
            "a = $4 AND b IN ($5, $13)"
        );
        assert_eq!(renumbered("a = $1", 0), "a = $1");
    }

    #[test]
    fn dollars_in_literals_and_identifiers_are_left_alone() {
        assert_eq!(
            renumbered(r#"s = '$1' AND "a$1" = $1 AND t = 'it''s $2'"#, 5),
            r#"s = '$1' AND "a$1" = $6 AND t = 'it''s $2'"#
        );
        assert_eq!(renumbered("$ $a x$", 2), "$ $a x$");
    }
}
