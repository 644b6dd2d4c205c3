//! What the web caches are keyed on (`web::cache`): cheap, indexed reads that change whenever the
//! figures they stand for may have changed, so a page reads a key instead of a whole table.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};
use serde::{Deserialize, Serialize};

use super::entities::{organisation, user};

/// The ledger as a cache key: the last entry's `seq`; `None` when empty. The ledger is
/// append-only (its triggers refuse updates and deletes), so its head's number names it.
pub type LedgerKey = Option<i64>;

/// The [`LedgerKey`], read with one indexed query.
pub async fn ledger_key(conn: &impl ConnectionTrait) -> Result<LedgerKey, DbErr> {
    Ok(super::ledger::head(conn).await?.map(|h| h.seq))
}

/// The ledger's head as `(seq, hash)`, for what is published under it (the public log's
/// `ETag`): a database built again from scratch may reach the same `seq` with other entries.
pub type LedgerHead = Option<(i64, String)>;

/// The [`LedgerHead`], read with one indexed query.
pub async fn ledger_head(conn: &impl ConnectionTrait) -> Result<LedgerHead, DbErr> {
    Ok(super::ledger::head(conn).await?.map(|h| (h.seq, h.hash)))
}

/// The key of the organisation and user counts: the newest of each (rows are never deleted
/// from `organisations` and `users`, so a count is valid as long as this is unchanged).
pub async fn people_key(conn: &impl ConnectionTrait) -> Result<(Option<i64>, Option<i64>), DbErr> {
    // Both maxima in one statement; each is read from its primary key's index.
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT {}", *PEOPLE_KEY_COLUMNS),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the newest ids: no row".into()))?;
    Ok((row.try_get("", "organisations")?, row.try_get("", "users")?))
}

/// The columns [`people_key`] reads, `organisations` and `users`, for a statement's select list
/// (the admin's attention page reads them beside its own, `db::users::attention`).
pub static PEOPLE_KEY_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{NEWEST_ORGANISATION} AS organisations, (SELECT max(id) FROM users) AS users")
});

/// The newest organisation's id, a key part of several figures: organisations are never
/// deleted, and imports insert them by the thousand without moving a revision on SQLite
/// (PostgreSQL's statement triggers count them, [`KeyParts`]).
const NEWEST_ORGANISATION: &str = "(SELECT max(id) FROM organisations)";

/// How many organisations and users there are.
pub async fn people_counts(conn: &impl ConnectionTrait) -> Result<(u64, u64), DbErr> {
    Ok((
        organisation::Entity::find().count(conn).await?,
        user::Entity::find().count(conn).await?,
    ))
}

/// The key of the holdings figures: the ledger head (finalized transfers move holdings), the
/// newest organisation, and the latest import (a registry imported again keeps its row but gets
/// a new `imported_at`), as the database writes it; on PostgreSQL the organisations' and the
/// imports' revisions instead ([`KeyParts`]).
pub type HoldingsKey = (LedgerKey, Option<i64>, Option<String>);

/// Reads the [`HoldingsKey`] in one statement: each part a walk of an index that stops at its
/// first row (three statements before, each a round trip on PostgreSQL), or on PostgreSQL a
/// probe of `revisions` ([`KeyParts`]).
pub async fn holdings_key(conn: &impl ConnectionTrait) -> Result<HoldingsKey, DbErr> {
    let parts = KeyParts::of(conn.get_database_backend());
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT {}, {}, {} AS organisation",
                parts.head, parts.imported, parts.organisations
            ),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the holdings' key: no row".into()))?;
    Ok((
        head_of(&row)?,
        row.try_get("", "organisation")?,
        row.try_get("", "fresh_imported")?,
    ))
}

/// The key parts that more than one key reads, as each database gives them: on SQLite walks of
/// the tables; on PostgreSQL probes of the rows of `revisions` that statement triggers keep
/// (migration `key_revisions`): the ledger's head as itself (appends are serialised, so the
/// inserting statement sees it), the organisations and the imports as revisions.
struct KeyParts {
    /// The [`LedgerKey`], as `fresh_seq`.
    head: &'static str,
    /// The latest import's time, or the imports' revision, as `fresh_imported`.
    imported: &'static str,
    /// The newest organisation's id, or the organisations' revision (a value, no alias).
    organisations: &'static str,
}

impl KeyParts {
    fn of(backend: sea_orm::DatabaseBackend) -> KeyParts {
        match backend {
            sea_orm::DatabaseBackend::Postgres => KeyParts {
                head: "(SELECT nullif(revision, 0) FROM revisions WHERE name = 'ledger') \
                       AS fresh_seq",
                imported: "(SELECT CAST(revision AS TEXT) FROM revisions \
                           WHERE name = 'imports') AS fresh_imported",
                organisations: "(SELECT revision FROM revisions WHERE name = 'organisations')",
            },
            _ => KeyParts {
                head: HEAD_COLUMNS,
                imported: IMPORTED_COLUMN,
                organisations: NEWEST_ORGANISATION,
            },
        }
    }
}

/// The [`LedgerKey`] as [`head_of`] reads it: a walk of the primary key that stops at once.
const HEAD_COLUMNS: &str =
    "(SELECT seq FROM ledger_entries ORDER BY seq DESC LIMIT 1) AS fresh_seq";

/// The latest import's time, as the database writes it.
const IMPORTED_COLUMN: &str =
    "(SELECT CAST(max(imported_at) AS TEXT) FROM registry_imports) AS fresh_imported";

/// The [`LedgerKey`] of a row that selected [`HEAD_COLUMNS`].
fn head_of(row: &sea_orm::QueryResult) -> Result<LedgerKey, DbErr> {
    row.try_get("", "fresh_seq")
}

/// The key of what a page of transfers shows (the queue's steps and their rules' findings): the
/// `contents` revision (migration `contents_revision`: every write of a transfer or a row of one,
/// of an organisation or of a holding's origin), the ledger's head (a finalization's holdings)
/// and the latest import (a registry's holdings replaced: its time on SQLite, the imports'
/// revision on PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentsKey {
    revision: i64,
    ledger: LedgerKey,
    imported: Option<String>,
}

impl ContentsKey {
    /// The ledger's head it holds.
    pub fn ledger(&self) -> LedgerKey {
        self.ledger
    }
}

/// The key of a page of the whole ledger: the ledger's head, and the latest checkpoint's id with
/// the length of its cosignatures (lines are only ever added to it) on SQLite, the checkpoints'
/// revision on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPageKey {
    ledger: LedgerKey,
    checkpoint: Option<(i64, i64)>,
}

/// The key of the administrator's attention page (`web::cache::attention`): the `attention`
/// revision (migration `attention_revision`: every write of a user or an invitation link, and
/// every e-mail entering or leaving the `failed` status) and the newest organisation (imports
/// insert them without moving the revision; they are never deleted), or on PostgreSQL the
/// organisations' revision (migration `key_revisions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionKey {
    revision: i64,
    organisations: Option<i64>,
}

impl AttentionKey {
    /// What it holds of the organisations (the newest one's id; a revision on PostgreSQL).
    pub fn organisations(&self) -> Option<i64> {
        self.organisations
    }
}

/// The keys of the kept pages (`web::cache`), as one read gives them: by [`freshness`], or with
/// the session (`db::users::session_with_user`), so that a view of a kept page costs no
/// statement of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    pub contents: ContentsKey,
    pub ledger_page: LedgerPageKey,
    pub attention: AttentionKey,
}

/// The columns [`Freshness::of_row`] reads, for a statement's select list on `backend`: each a
/// probe of a primary key or a walk of an index that stops at its first row. Written once per
/// database (every signed-in view's session statement carries them).
///
/// On PostgreSQL every part is a row of `revisions` ([`KeyParts`]; the latest checkpoint is the
/// checkpoints' revision, its second part then 0): probes of one small table cost the statement
/// about a quarter less than the walks of four others.
pub fn freshness_columns(backend: sea_orm::DatabaseBackend) -> &'static str {
    match backend {
        sea_orm::DatabaseBackend::Postgres => &POSTGRES_FRESHNESS_COLUMNS,
        _ => &SQLITE_FRESHNESS_COLUMNS,
    }
}

static SQLITE_FRESHNESS_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    freshness_columns_of(
        KeyParts::of(sea_orm::DatabaseBackend::Sqlite),
        "(SELECT id FROM tlog_checkpoints ORDER BY id DESC LIMIT 1) AS fresh_checkpoint, \
         (SELECT CAST(length(cosignatures) AS BIGINT) FROM tlog_checkpoints \
          ORDER BY id DESC LIMIT 1) AS fresh_cosigned",
    )
});

static POSTGRES_FRESHNESS_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    freshness_columns_of(
        KeyParts::of(sea_orm::DatabaseBackend::Postgres),
        "(SELECT revision FROM revisions WHERE name = 'checkpoints') AS fresh_checkpoint, \
         CAST(0 AS BIGINT) AS fresh_cosigned",
    )
});

/// The select list of [`freshness_columns`] from a database's parts and checkpoint columns.
fn freshness_columns_of(parts: KeyParts, checkpoint: &str) -> String {
    format!(
        "(SELECT revision FROM revisions WHERE name = 'contents') AS fresh_revision, \
         {}, {}, {checkpoint}, \
         (SELECT revision FROM revisions WHERE name = 'attention') AS fresh_attention, \
         {} AS fresh_organisations",
        parts.head, parts.imported, parts.organisations
    )
}

impl Freshness {
    /// The keys from a row that selected [`freshness_columns`].
    pub fn of_row(row: &sea_orm::QueryResult) -> Result<Freshness, DbErr> {
        let checkpoint: Option<i64> = row.try_get("", "fresh_checkpoint")?;
        let cosigned: Option<i64> = row.try_get("", "fresh_cosigned")?;
        let ledger = head_of(row)?;
        Ok(Freshness {
            contents: ContentsKey {
                revision: row.try_get("", "fresh_revision")?,
                ledger,
                imported: row.try_get("", "fresh_imported")?,
            },
            ledger_page: LedgerPageKey {
                ledger,
                checkpoint: checkpoint.zip(cosigned),
            },
            attention: AttentionKey {
                revision: row.try_get("", "fresh_attention")?,
                organisations: row.try_get("", "fresh_organisations")?,
            },
        })
    }
}

/// Reads the [`Freshness`] keys in one statement.
pub async fn freshness(conn: &impl ConnectionTrait) -> Result<Freshness, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            format!("SELECT {}", freshness_columns(backend)),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the kept pages' keys: no row".into()))?;
    Freshness::of_row(&row)
}

/// Reads the [`ContentsKey`] (with [`freshness`]).
pub async fn contents_key(conn: &impl ConnectionTrait) -> Result<ContentsKey, DbErr> {
    Ok(freshness(conn).await?.contents)
}

/// Reads the [`AttentionKey`] (with [`freshness`]).
pub async fn attention_key(conn: &impl ConnectionTrait) -> Result<AttentionKey, DbErr> {
    Ok(freshness(conn).await?.attention)
}

/// Reads the [`LedgerPageKey`] (with [`freshness`]).
pub async fn ledger_page_key(conn: &impl ConnectionTrait) -> Result<LedgerPageKey, DbErr> {
    Ok(freshness(conn).await?.ledger_page)
}
