//! The stored transparency log: the Merkle tree's hashes (written by `db::ledger::append` in the
//! entry's transaction), the checkpoints the log signed, and how far each witness has cosigned.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;

use super::entities::{tlog_checkpoint, tlog_hash, tlog_witness};
use super::organisations::BATCH;
use crate::domain::tlog::{self, Hash, Hashes, TreeError};

/// Adds the stored hashes `indexes` to `into`.
pub async fn load_hashes(
    conn: &impl ConnectionTrait,
    indexes: &[u64],
    into: &mut Hashes,
) -> Result<(), DbErr> {
    for chunk in indexes.chunks(BATCH) {
        let chunk: Vec<i64> = chunk.iter().map(|&i| i as i64).collect();
        let rows: Vec<(i64, Vec<u8>)> = tlog_hash::Entity::find()
            .select_only()
            .column(tlog_hash::Column::Idx)
            .column(tlog_hash::Column::Hash)
            .filter(super::packed::id_in_expr(
                conn.get_database_backend(),
                "idx",
                &chunk,
            ))
            .into_tuple()
            .all(conn)
            .await?;
        for (idx, bytes) in rows {
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| DbErr::Custom(format!("stored tree hash {idx} is not 32 bytes")))?;
            into.insert(idx as u64, Hash(hash));
        }
    }
    Ok(())
}

/// Runs a computation over the stored tree, loading the hashes it asks for.
pub async fn compute<T>(
    conn: &impl ConnectionTrait,
    f: impl Fn(&Hashes) -> Result<T, TreeError>,
) -> Result<T, DbErr> {
    let mut hashes = Hashes::default();
    // Each computation reads once, so the second round has all it needs; a third means the
    // tree lacks hashes it should have.
    for _ in 0..3 {
        match f(&hashes) {
            Ok(v) => return Ok(v),
            Err(TreeError::Missing(missing)) => load_hashes(conn, &missing, &mut hashes).await?,
            Err(e) => return Err(DbErr::Custom(format!("Merkle tree: {e}"))),
        }
    }
    Err(DbErr::Custom(
        "the Merkle tree is missing stored hashes: it does not cover the ledger".to_owned(),
    ))
}

/// Appends leaves to a tree of `size` leaves, inside the caller's transaction. Reads only the
/// frontier (at most 64 hashes) and writes about two hashes per leaf, in batches.
pub async fn append_leaves(
    conn: &impl ConnectionTrait,
    size: u64,
    leaves: &[Vec<u8>],
) -> Result<(), DbErr> {
    if leaves.is_empty() {
        return Ok(());
    }
    let mut hashes = Hashes::default();
    load_hashes(conn, &tlog::frontier_indexes(size), &mut hashes).await?;
    let written = tlog::append_leaves(size, &mut hashes, leaves.iter().map(|l| tlog::leaf_hash(l)))
        .map_err(|e| {
            DbErr::Custom(format!(
                "cannot extend the Merkle tree of {size} leaves ({e}); it does not match the ledger"
            ))
        })?;
    let rows: Vec<(i64, String)> = written
        .iter()
        .map(|(i, h)| (*i as i64, hex::encode(h.0)))
        .collect();
    let columns = [
        ("idx", super::bulk::Kind::Int),
        ("hash", super::bulk::Kind::Blob),
    ];
    super::bulk::insert(conn, "tlog_hashes", &columns, &rows, None).await?;
    Ok(())
}

/// Leaves in the stored tree (from the last stored hash, which its leaf wrote).
pub async fn tree_size(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let max: Option<i64> = tlog_hash::Entity::find()
        .select_only()
        .column(tlog_hash::Column::Idx)
        .order_by_desc(tlog_hash::Column::Idx)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(max.map_or(0, |i| {
        let (level, n) = tlog_tiles::split_stored_hash_index(i as u64);
        (n + 1) << level
    }))
}

/// The root of the stored tree of `size` leaves.
pub async fn root(conn: &impl ConnectionTrait, size: u64) -> Result<Hash, DbErr> {
    compute(conn, |h| tlog::tree_hash(size, h)).await
}

/// A checkpoint the log signed, with the cosignatures it collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub id: i64,
    pub origin: String,
    pub size: u64,
    pub root_hex: String,
    pub vkey: String,
    /// The note as the log signed it.
    pub note: String,
    /// Cosignature lines, each ending in a newline.
    pub cosignatures: Vec<String>,
    pub signed_at: OffsetDateTime,
}

impl StoredCheckpoint {
    /// The note with every cosignature: what `/tlog/checkpoint` serves.
    pub fn published(&self) -> String {
        tlog::with_signature_lines(&self.note, &self.cosignatures)
    }
}

pub(crate) fn checkpoint_of(m: tlog_checkpoint::Model) -> StoredCheckpoint {
    StoredCheckpoint {
        id: m.id,
        origin: m.origin,
        size: m.tree_size as u64,
        root_hex: m.root_hash,
        vkey: m.vkey,
        note: m.note,
        cosignatures: m
            .cosignatures
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect(),
        signed_at: m.signed_at,
    }
}

/// The newest checkpoint, `None` before the first.
pub async fn latest_checkpoint(
    conn: &impl ConnectionTrait,
) -> Result<Option<StoredCheckpoint>, DbErr> {
    Ok(latest_checkpoint_select()
        .one(conn)
        .await?
        .map(checkpoint_of))
}

pub(crate) fn latest_checkpoint_select() -> sea_orm::Select<tlog_checkpoint::Entity> {
    use sea_orm::QuerySelect;
    tlog_checkpoint::Entity::find()
        .order_by_desc(tlog_checkpoint::Column::Id)
        .limit(1)
}

/// The checkpoint at exactly `size` leaves, if the log signed one.
pub async fn checkpoint_at(
    conn: &impl ConnectionTrait,
    size: u64,
) -> Result<Option<StoredCheckpoint>, DbErr> {
    Ok(tlog_checkpoint::Entity::find()
        .filter(tlog_checkpoint::Column::TreeSize.eq(size as i64))
        .order_by_desc(tlog_checkpoint::Column::Id)
        .one(conn)
        .await?
        .map(checkpoint_of))
}

/// Records a newly signed checkpoint.
pub async fn insert_checkpoint(
    conn: &impl ConnectionTrait,
    origin: &str,
    size: u64,
    root: Hash,
    vkey: &str,
    note: &str,
    signed_at: OffsetDateTime,
) -> Result<StoredCheckpoint, DbErr> {
    let m = tlog_checkpoint::ActiveModel {
        origin: Set(origin.to_owned()),
        tree_size: Set(size as i64),
        root_hash: Set(tlog::hex(&root)),
        vkey: Set(vkey.to_owned()),
        note: Set(note.to_owned()),
        cosignatures: Set(String::new()),
        signed_at: Set(signed_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(checkpoint_of(m))
}

/// Adds cosignature lines to a checkpoint (lines it has already are kept once).
pub async fn add_cosignatures(
    db: &DatabaseConnection,
    id: i64,
    lines: &[String],
) -> Result<(), DbErr> {
    // A write transaction from the start: on SQLite a read that turns into a write fails when
    // another writer committed in between.
    let txn = super::begin_write(db).await?;
    if let Some(m) = tlog_checkpoint::Entity::find_by_id(id).one(&txn).await? {
        let mut all = checkpoint_of(m.clone()).cosignatures;
        let before = all.len();
        for l in lines {
            if !all.contains(l) {
                all.push(l.clone());
            }
        }
        // Nothing new, nothing written: a write would move the kept ledger page's key on
        // PostgreSQL (migration `key_revisions`) for the same page.
        if all.len() > before {
            let mut am: tlog_checkpoint::ActiveModel = m.into();
            am.cosignatures = Set(all.concat());
            am.update(&txn).await?;
        }
    }
    txn.commit().await
}

/// The largest tree size a witness (by its verifier key) has cosigned for this log.
pub async fn witness_size(conn: &impl ConnectionTrait, vkey: &str) -> Result<u64, DbErr> {
    Ok(tlog_witness::Entity::find_by_id(vkey.to_owned())
        .one(conn)
        .await?
        .map_or(0, |w| w.tree_size as u64))
}

/// Records the tree size a witness has cosigned (or told us it has).
pub async fn set_witness_size(
    conn: &impl ConnectionTrait,
    vkey: &str,
    size: u64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    tlog_witness::Entity::insert(tlog_witness::ActiveModel {
        vkey: Set(vkey.to_owned()),
        tree_size: Set(size as i64),
    })
    .on_conflict(
        OnConflict::column(tlog_witness::Column::Vkey)
            .update_column(tlog_witness::Column::TreeSize)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
