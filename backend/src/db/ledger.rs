//! The stored ledger. Insert-only by API: there is an `append` and readers, and no function that
//! updates or deletes an entry (the database triggers forbid both anyway).

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use time::OffsetDateTime;

use super::entities::ledger_entry::{self, Entity as LedgerEntryRow};
use super::holdings::range_of;
use super::organisations::BATCH;
use crate::domain::ledger::{
    self, ChainHead, EntryKind, ImportKey, LedgerEntry, LedgerParty, Movement,
};
use crate::domain::tlog;
use crate::domain::{Rir, TransferType};

/// Arbitrary constant naming the PostgreSQL advisory lock that serialises ledger appends.
const LEDGER_LOCK_KEY: i64 = 0x6970_7866_6572; // "ipxfer"

/// The last entry, `None` for an empty ledger.
pub async fn head(conn: &impl ConnectionTrait) -> Result<Option<ChainHead>, DbErr> {
    let row: Option<(i64, String)> = LedgerEntryRow::find()
        .select_only()
        .column(ledger_entry::Column::Seq)
        .column(ledger_entry::Column::Hash)
        .order_by_desc(ledger_entry::Column::Seq)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(row.map(|(seq, hash)| ChainHead { seq, hash }))
}

/// Appends movements to the chain inside the caller's transaction and returns the new entries.
///
/// Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock taken before the
/// head is read; on SQLite by the write lock of the `BEGIN IMMEDIATE` transaction. Should two
/// appends still race, the primary key on `seq` lets only one commit, so the chain cannot fork.
pub async fn append(
    conn: &impl ConnectionTrait,
    movements: Vec<Movement>,
    recorded_at: OffsetDateTime,
) -> Result<Vec<LedgerEntry>, DbErr> {
    lock_appends(conn).await?;
    let mut tip = head(conn).await?;
    let size_before = tip.as_ref().map_or(0, |h| h.seq as u64);
    let mut entries = Vec::with_capacity(movements.len());
    for m in movements {
        let e = ledger::next_entry(tip.as_ref(), m, recorded_at);
        tip = Some(ChainHead {
            seq: e.seq,
            hash: e.hash.clone(),
        });
        entries.push(e);
    }
    for chunk in entries.chunks(BATCH) {
        LedgerEntryRow::insert_many(chunk.iter().map(to_row))
            .exec_without_returning(conn)
            .await?;
    }
    // The Merkle tree grows in the same transaction: the tree and the ledger never disagree.
    let leaves: Vec<Vec<u8>> = entries.iter().map(tlog::leaf_data).collect();
    super::tlog::append_leaves(conn, size_before, &leaves).await?;
    Ok(entries)
}

/// Serialises appends until the caller's transaction ends: a transaction-scoped advisory lock on
/// PostgreSQL; on SQLite the `BEGIN IMMEDIATE` write lock already does.
pub async fn lock_appends(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [LEDGER_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

fn to_row(e: &LedgerEntry) -> ledger_entry::ActiveModel {
    let m = &e.movement;
    ledger_entry::ActiveModel {
        seq: Set(e.seq),
        kind: Set(m.kind.as_str().to_owned()),
        transfer_id: Set(m.transfer_id),
        transfer_reference: Set(m.transfer_reference.clone()),
        transfer_type: Set(m.transfer_type.nro_name().to_owned()),
        source_registry: Set(m.source_rir.token().to_owned()),
        recipient_registry: Set(m.recipient_rir.token().to_owned()),
        source_org_id: Set(m.source.org_id),
        recipient_org_id: Set(m.recipient.org_id),
        source_org_name: Set(m.source.name.clone()),
        recipient_org_name: Set(m.recipient.name.clone()),
        source_country: Set(m.source.country.clone()),
        recipient_country: Set(m.recipient.country.clone()),
        start_addr: Set(i64::from(m.range.start())),
        end_addr: Set(i64::from(m.range.end())),
        original_start: Set(m.original.map(|r| i64::from(r.start()))),
        original_end: Set(m.original.map(|r| i64::from(r.end()))),
        transfer_date: Set(m.transfer_date),
        source_registration_date: Set(m.source_registration_date),
        recorded_at: Set(e.recorded_at),
        prev_hash: Set(e.prev_hash.clone()),
        hash: Set(e.hash.clone()),
    }
}

/// Maps a stored row back to the pure entry, exactly as stored (verification recomputes hashes
/// from this, so nothing may be normalised here).
pub fn from_row(r: ledger_entry::Model) -> Result<LedgerEntry, DbErr> {
    let bad = |what: &str, value: &str| {
        DbErr::Custom(format!("ledger entry {}: unknown {what} {value:?}", r.seq))
    };
    let kind = EntryKind::parse(&r.kind).ok_or_else(|| bad("kind", &r.kind))?;
    let transfer_type = TransferType::from_nro_name(&r.transfer_type)
        .ok_or_else(|| bad("type", &r.transfer_type))?;
    let source_rir =
        Rir::from_token(&r.source_registry).ok_or_else(|| bad("registry", &r.source_registry))?;
    let recipient_rir = Rir::from_token(&r.recipient_registry)
        .ok_or_else(|| bad("registry", &r.recipient_registry))?;
    let original = match (r.original_start, r.original_end) {
        (Some(s), Some(e)) => Some(range_of(s, e)?),
        _ => None,
    };
    Ok(LedgerEntry {
        seq: r.seq,
        movement: Movement {
            kind,
            transfer_id: r.transfer_id,
            transfer_reference: r.transfer_reference,
            transfer_type,
            source_rir,
            recipient_rir,
            source: LedgerParty {
                org_id: r.source_org_id,
                name: r.source_org_name,
                country: r.source_country,
            },
            recipient: LedgerParty {
                org_id: r.recipient_org_id,
                name: r.recipient_org_name,
                country: r.recipient_country,
            },
            range: range_of(r.start_addr, r.end_addr)?,
            original,
            transfer_date: r.transfer_date,
            source_registration_date: r.source_registration_date,
        },
        recorded_at: r.recorded_at,
        prev_hash: r.prev_hash,
        hash: r.hash,
    })
}

/// Up to `limit` entries after `after_seq`, in order: keyset pages for streaming readers.
pub async fn page_after(
    conn: &impl ConnectionTrait,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    use super::ledger_query::{Direction, page};
    page(
        conn,
        &crate::domain::export::LedgerFilter::default(),
        Some(after_seq),
        Direction::Forward,
        limit,
    )
    .await
}

/// The keys of every imported entry, read in one query, so that importing a transfer log again
/// records each movement once.
pub async fn imported_keys(conn: &impl ConnectionTrait) -> Result<HashSet<ImportKey>, DbErr> {
    let rows: Vec<(i64, i64, String, String, OffsetDateTime)> = LedgerEntryRow::find()
        .select_only()
        .column(ledger_entry::Column::StartAddr)
        .column(ledger_entry::Column::EndAddr)
        .column(ledger_entry::Column::SourceRegistry)
        .column(ledger_entry::Column::RecipientRegistry)
        .column(ledger_entry::Column::TransferDate)
        .filter(ledger_entry::Column::Kind.eq(EntryKind::Imported.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(start, end, source, recipient, date)| {
            let range = range_of(start, end)?;
            let rir = |token: &str| {
                Rir::from_token(token)
                    .ok_or_else(|| DbErr::Custom(format!("ledger entry with registry {token:?}")))
            };
            Ok((
                range.start(),
                range.end(),
                rir(&source)?,
                rir(&recipient)?,
                date.unix_timestamp(),
            ))
        })
        .collect()
}

/// Whether any finalized transfer touched a registry (then its snapshot may not be replaced).
pub async fn has_transfers_touching(
    conn: &impl ConnectionTrait,
    registry: Rir,
) -> Result<bool, DbErr> {
    let found = LedgerEntryRow::find()
        .select_only()
        .column(ledger_entry::Column::Seq)
        .filter(ledger_entry::Column::Kind.eq(EntryKind::Transfer.as_str()))
        .filter(
            Condition::any()
                .add(ledger_entry::Column::SourceRegistry.eq(registry.token()))
                .add(ledger_entry::Column::RecipientRegistry.eq(registry.token())),
        )
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// The newest `limit` entries whose range shares addresses with `range`, newest first (the
/// history of a block in the lookup).
pub async fn touching(
    conn: &impl ConnectionTrait,
    range: crate::domain::Ipv4Range,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    use super::ledger_query::{Direction, page};
    let filter = crate::domain::export::LedgerFilter {
        touching: Some(range),
        ..Default::default()
    };
    page(conn, &filter, None, Direction::Backward, limit).await
}

/// Keeps the `original_set` of imported records whose entries cannot give it back themselves,
/// keyed by the records' references (see `services::import::import_transfer_log_with`).
pub async fn keep_original_sets(
    conn: &impl ConnectionTrait,
    sets: &[(String, Vec<crate::domain::Ipv4Range>)],
) -> Result<(), DbErr> {
    use super::entities::imported_original_set as row;
    let rows: Vec<row::ActiveModel> = sets
        .iter()
        .flat_map(|(reference, set)| {
            set.iter().enumerate().map(|(i, r)| row::ActiveModel {
                reference: Set(reference.clone()),
                position: Set(i as i32),
                start_addr: Set(i64::from(r.start())),
                end_addr: Set(i64::from(r.end())),
                ..Default::default()
            })
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        row::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Whether any imported record keeps its `original_set` beside its entries (exports skip the
/// look-ups below when none does).
pub async fn any_original_set(conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
    use super::entities::imported_original_set as row;
    let found = row::Entity::find()
        .select_only()
        .column(row::Column::Id)
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// The kept `original_set` of each of these records that has one, in the log's order.
pub async fn original_sets(
    conn: &impl ConnectionTrait,
    references: &[String],
) -> Result<std::collections::HashMap<String, Vec<crate::domain::Ipv4Range>>, DbErr> {
    use super::entities::imported_original_set as row;
    let mut out: std::collections::HashMap<String, Vec<crate::domain::Ipv4Range>> =
        std::collections::HashMap::new();
    if references.is_empty() {
        return Ok(out);
    }
    let rows = row::Entity::find()
        .filter(row::Column::Reference.is_in(references.iter().cloned()))
        .order_by_asc(row::Column::Reference)
        .order_by_asc(row::Column::Position)
        .all(conn)
        .await?;
    for r in rows {
        out.entry(r.reference)
            .or_default()
            .push(range_of(r.start_addr, r.end_addr)?);
    }
    Ok(out)
}
