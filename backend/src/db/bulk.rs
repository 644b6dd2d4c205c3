//! Bulk inserts for the import paths: tens of thousands of rows per statement, passed as ONE
//! JSON array parameter that the database unpacks itself (`jsonb_each` on SQLite,
//! `jsonb_array_elements` on PostgreSQL); and [`read_page`], their counterpart for the readers
//! of whole tables (verification), which reads a keyset page as ONE row.
//!
//! Why not sea-orm's `insert_many`: it binds every value as its own parameter, which caps a
//! statement at a few hundred rows (the parameter limits) and spends most of an import building
//! and binding values (about 60,000 delegated lines/s on SQLite, a few thousand on PostgreSQL).
//! One text parameter per 10,000 rows costs one round trip and one parse, and on PostgreSQL it
//! is close to `COPY`, which sea-orm does not expose inside its transactions. Each row is
//! serialised as a JSON array (a tuple), in the order of the columns given. On SQLite,
//! `jsonb_each` rather than `json_each`: it hands each row to the `->>` extractors as binary
//! JSON, where `json_each` renders it back to text that each row's first `->>` parses again
//! (a fifth of the delegated import's time).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use serde::Serialize;

/// A keyset page read as one row: the last key of the page and its rows as a JSON array.
pub struct PackedPage {
    /// The page's greatest key, for the next page's `key > $1`; `None` when the page is empty.
    pub last: Option<i64>,
    pub json: String,
}

/// Reads the page that `sql` selects after `after`: `sql` takes the key and a row limit as its
/// two parameters and returns one row with `last` (the page's greatest key) and `page` (its
/// rows as a JSON array, in any order). The key comes separately so that a reader can ask for
/// the next page before it parses this one (see `services::ledger::verify`).
pub async fn read_page(
    conn: &impl ConnectionTrait,
    sql: &str,
    after: i64,
    limit: i64,
) -> Result<PackedPage, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            [after.into(), limit.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(PackedPage {
            last: None,
            json: String::new(),
        });
    };
    // An empty page is `[]` from SQLite's `json_group_array` and NULL from `json_agg`.
    let last: Option<i64> = row.try_get("", "last")?;
    let json: Option<String> = row.try_get("", "page")?;
    Ok(PackedPage {
        last,
        json: json.unwrap_or_default(),
    })
}

/// Rows per statement: one parameter of a few megabytes.
const ROWS: usize = 10_000;

/// How a JSON value becomes the column's SQL value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON integer (or null).
    Int,
    /// A JSON string (or null).
    Text,
    /// A `YYYY-MM-DD` string (or null): SQLite stores it as that text, as sqlx does.
    Date,
    /// An RFC 3339 string (or null): SQLite stores it as that text, as sqlx does.
    Timestamp,
    /// Lower-case hex of the bytes.
    Blob,
}

/// `INSERT INTO table (columns) ...` of `rows`, each a tuple in the order of `columns`, with an
/// optional `ON CONFLICT ...` clause (the same text on both databases).
pub async fn insert<T: Serialize>(
    conn: &impl ConnectionTrait,
    table: &str,
    columns: &[(&str, Kind)],
    rows: &[T],
    on_conflict: Option<&str>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = statement(conn.get_database_backend(), table, columns, on_conflict);
    for chunk in rows.chunks(ROWS) {
        insert_chunk(conn, &sql, table, chunk).await?;
    }
    Ok(())
}

/// Runs `sql` (a statement of [`statement`]'s form) with `chunk` as its JSON parameter.
async fn insert_chunk<T: Serialize>(
    conn: &impl ConnectionTrait,
    sql: &str,
    table: &str,
    chunk: &[T],
) -> Result<sea_orm::ExecResult, DbErr> {
    let json = serde_json::to_string(chunk)
        .map_err(|e| DbErr::Custom(format!("bulk rows for {table}: {e}")))?;
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        [json.into()],
    ))
    .await
}

/// [`insert`] of `rows` into `table`, and the same rows into `copy`, a table of the same
/// columns, without sending or unpacking them twice: the imports' live holdings and the
/// snapshot that verification replays from.
///
/// PostgreSQL copies the rows the insert returns (one statement with a writable CTE). SQLite
/// has no writable CTEs, so each chunk is copied by its rowids: a single `INSERT` into a rowid
/// table numbers its rows consecutively after the greatest rowid, and `begin_write`'s
/// `IMMEDIATE` transaction holds SQLite's only write lock, so the chunk's rows are exactly the
/// `rows_affected` ending at `last_insert_rowid`. The copy's count is checked against the chunk
/// all the same, so a numbering that broke that assumption fails the import instead of
/// snapshotting the wrong rows.
pub async fn insert_with_copy<T: Serialize>(
    conn: &impl ConnectionTrait,
    table: &str,
    copy: &str,
    columns: &[(&str, Kind)],
    rows: &[T],
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let names = columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "WITH inserted AS ({} RETURNING {names}) INSERT INTO {copy} ({names}) \
             SELECT {names} FROM inserted",
            statement(backend, table, columns, None)
        ),
        _ => statement(backend, table, columns, None),
    };
    let copy_by_rowid = format!(
        "INSERT INTO {copy} ({names}) SELECT {names} FROM {table} WHERE id BETWEEN ? AND ?"
    );
    for chunk in rows.chunks(ROWS) {
        let inserted = insert_chunk(conn, &sql, table, chunk).await?;
        if backend == DatabaseBackend::Postgres {
            continue;
        }
        let count = inserted.rows_affected();
        let last = inserted.last_insert_id() as i64;
        let first = last - count as i64 + 1;
        let copied = conn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                copy_by_rowid.clone(),
                [first.into(), last.into()],
            ))
            .await?
            .rows_affected();
        if count != chunk.len() as u64 || copied != count {
            return Err(DbErr::Custom(format!(
                "bulk copy of {table} into {copy}: {} rows sent, {count} inserted, {copied} \
                 copied (rowids {first}..={last} were not the insert's own)",
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// The statement that unpacks the JSON parameter into `table`.
fn statement(
    backend: DatabaseBackend,
    table: &str,
    columns: &[(&str, Kind)],
    on_conflict: Option<&str>,
) -> String {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match backend {
            DatabaseBackend::Postgres => match kind {
                Kind::Int => format!("(value ->> {i})::bigint"),
                Kind::Text => format!("value ->> {i}"),
                Kind::Date => format!("(value ->> {i})::date"),
                Kind::Timestamp => format!("(value ->> {i})::timestamptz"),
                Kind::Blob => format!("decode(value ->> {i}, 'hex')"),
            },
            _ => match kind {
                Kind::Blob => format!("unhex(value ->> {i})"),
                _ => format!("value ->> {i}"),
            },
        })
        .collect();
    let (source, filter) = match backend {
        DatabaseBackend::Postgres => ("jsonb_array_elements($1::jsonb)", ""),
        // SQLite needs a WHERE before an upsert's ON CONFLICT after INSERT ... SELECT.
        _ => ("jsonb_each(?)", " WHERE true"),
    };
    let mut sql = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {source}{filter}",
        names.join(", "),
        values.join(", ")
    );
    if let Some(clause) = on_conflict {
        sql.push(' ');
        sql.push_str(clause);
    }
    sql
}

/// A date as the databases store it (`YYYY-MM-DD`).
pub fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A time as RFC 3339, the text sqlx stores on SQLite (so rows written here read back equal).
pub fn timestamp(t: time::OffsetDateTime) -> Result<String, DbErr> {
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| DbErr::Custom(format!("time {t} does not format as RFC 3339: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_unpack_each_column_by_position() {
        let cols = [("a", Kind::Int), ("b", Kind::Blob), ("c", Kind::Date)];
        assert_eq!(
            statement(
                DatabaseBackend::Sqlite,
                "t",
                &cols,
                Some("ON CONFLICT DO NOTHING")
            ),
            "INSERT INTO t (a, b, c) SELECT value ->> 0, unhex(value ->> 1), value ->> 2 \
             FROM jsonb_each(?) WHERE true ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            statement(DatabaseBackend::Postgres, "t", &cols, None),
            "INSERT INTO t (a, b, c) SELECT (value ->> 0)::bigint, decode(value ->> 1, 'hex'), \
             (value ->> 2)::date FROM jsonb_array_elements($1::jsonb)"
        );
    }

    #[test]
    fn dates_and_times_are_stored_as_sqlx_writes_them() {
        let d = time::macros::date!(2026 - 01 - 05);
        assert_eq!(date(d), "2026-01-05");
        let t = time::macros::datetime!(2026-01-05 07:08:09 UTC);
        assert_eq!(timestamp(t).unwrap(), "2026-01-05T07:08:09Z");
    }
}
