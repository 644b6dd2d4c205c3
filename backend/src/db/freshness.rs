//! What the web caches are keyed on (`web::cache`): cheap, indexed reads that change whenever the
//! figures they stand for may have changed, so a page reads a key instead of a whole table.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};

use super::entities::{organisation, registry_import, user};

/// The ledger's head as a cache key: `(seq, hash)` of the last entry; `None` when empty.
pub type LedgerKey = Option<(i64, String)>;

/// The ledger head, read with one indexed query.
pub async fn ledger_key(conn: &impl ConnectionTrait) -> Result<LedgerKey, DbErr> {
    Ok(super::ledger::head(conn).await?.map(|h| (h.seq, h.hash)))
}

/// The newest id of a table (its primary key's maximum, read from the index): rows are never
/// deleted from `organisations` and `users`, so a count is valid as long as this is unchanged.
async fn newest_id<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
) -> Result<Option<i64>, DbErr> {
    E::find()
        .select_only()
        .column(id)
        .order_by_desc(id)
        .limit(1)
        .into_tuple::<i64>()
        .one(conn)
        .await
}

/// The key of the organisation and user counts: the newest of each.
pub async fn people_key(conn: &impl ConnectionTrait) -> Result<(Option<i64>, Option<i64>), DbErr> {
    // Both maxima in one statement; each is read from its primary key's index.
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT (SELECT max(id) FROM organisations) AS organisations, \
             (SELECT max(id) FROM users) AS users",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the newest ids: no row".into()))?;
    Ok((row.try_get("", "organisations")?, row.try_get("", "users")?))
}

/// How many organisations and users there are.
pub async fn people_counts(conn: &impl ConnectionTrait) -> Result<(u64, u64), DbErr> {
    Ok((
        organisation::Entity::find().count(conn).await?,
        user::Entity::find().count(conn).await?,
    ))
}

/// The key of the holdings figures: the ledger head (finalized transfers move holdings), the
/// newest organisation, and the latest import (a registry imported again keeps its row but gets
/// a new `imported_at`), in microseconds.
pub type HoldingsKey = (LedgerKey, Option<i64>, Option<i64>);

/// Reads the [`HoldingsKey`].
pub async fn holdings_key(conn: &impl ConnectionTrait) -> Result<HoldingsKey, DbErr> {
    let imported: Option<time::OffsetDateTime> = registry_import::Entity::find()
        .select_only()
        .column(registry_import::Column::ImportedAt)
        .order_by_desc(registry_import::Column::ImportedAt)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    Ok((
        ledger_key(conn).await?,
        newest_id::<organisation::Entity>(conn, organisation::Column::Id).await?,
        imported.map(|t| (t.unix_timestamp_nanos() / 1_000) as i64),
    ))
}

/// The key of what a page of transfers shows (the queue's steps and their rules' findings): the
/// `contents` revision (migration `contents_revision`: every write of a transfer or a row of one,
/// of an organisation or of a holding's origin), the ledger's head (a finalization's holdings)
/// and the latest import (a registry's holdings replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentsKey {
    revision: i64,
    ledger: LedgerKey,
    imported: Option<String>,
}

/// Reads the [`ContentsKey`] in one statement: a primary-key probe and two index reads.
pub async fn contents_key(conn: &impl ConnectionTrait) -> Result<ContentsKey, DbErr> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT (SELECT revision FROM revisions WHERE name = 'contents') AS revision, \
             h.seq, h.hash, \
             (SELECT CAST(max(imported_at) AS TEXT) FROM registry_imports) AS imported \
             FROM (SELECT 1 AS one) o \
             LEFT JOIN (SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1) h ON true",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the contents' key: no row".into()))?;
    let seq: Option<i64> = row.try_get("", "seq")?;
    let hash: Option<String> = row.try_get("", "hash")?;
    Ok(ContentsKey {
        revision: row.try_get("", "revision")?,
        ledger: seq.zip(hash),
        imported: row.try_get("", "imported")?,
    })
}

/// The key of a page of the whole ledger: the ledger's head, and the latest checkpoint's id
/// with the length of its cosignatures (lines are only ever added to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPageKey {
    ledger: LedgerKey,
    checkpoint: Option<(i64, i64)>,
}

/// Reads the [`LedgerPageKey`] in one statement: two walks that stop at their first row.
pub async fn ledger_page_key(conn: &impl ConnectionTrait) -> Result<LedgerPageKey, DbErr> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT h.seq, h.hash, c.id AS checkpoint, c.cosigned FROM (SELECT 1 AS one) o \
             LEFT JOIN (SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1) h ON true \
             LEFT JOIN (SELECT id, CAST(length(cosignatures) AS BIGINT) AS cosigned \
             FROM tlog_checkpoints ORDER BY id DESC LIMIT 1) c ON true",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the ledger page's key: no row".into()))?;
    let seq: Option<i64> = row.try_get("", "seq")?;
    let hash: Option<String> = row.try_get("", "hash")?;
    let checkpoint: Option<i64> = row.try_get("", "checkpoint")?;
    let cosigned: Option<i64> = row.try_get("", "cosigned")?;
    Ok(LedgerPageKey {
        ledger: seq.zip(hash),
        checkpoint: checkpoint.zip(cosigned),
    })
}
