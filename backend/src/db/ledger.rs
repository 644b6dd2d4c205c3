//! The stored ledger. Insert-only by API: there is an `append`, the row mapping, the chain read
//! in order (verification, replay, the Merkle tree's back-fill), and no function that updates or
//! deletes an entry (the database triggers forbid both anyway). Filtered reads for people are in
//! `db::ledger_query`.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryOrder,
    QueryResult, QuerySelect, Statement,
};
use time::OffsetDateTime;

use super::bulk::{self, Kind};
use super::entities::ledger_entry::{self, Entity as LedgerEntryRow};
use super::holdings::range_of;
use crate::domain::ledger::{self, ChainHead, EntryKind, LedgerEntry, LedgerParty, Movement};
use crate::domain::tlog;
use crate::domain::transfer::{OrgId, TransferId};
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
    insert_entries(conn, &entries).await?;
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

/// The columns of `ledger_entries`, in the order of [`BulkEntry`].
const ENTRY_COLUMNS: &[(&str, Kind)] = &[
    ("seq", Kind::Int),
    ("kind", Kind::Text),
    ("transfer_id", Kind::Int),
    ("transfer_reference", Kind::Text),
    ("transfer_type", Kind::Text),
    ("source_registry", Kind::Text),
    ("recipient_registry", Kind::Text),
    ("source_org_id", Kind::Int),
    ("recipient_org_id", Kind::Int),
    ("source_org_name", Kind::Text),
    ("recipient_org_name", Kind::Text),
    ("source_country", Kind::Text),
    ("recipient_country", Kind::Text),
    ("start_addr", Kind::Int),
    ("end_addr", Kind::Int),
    ("original_start", Kind::Int),
    ("original_end", Kind::Int),
    ("transfer_date", Kind::Timestamp),
    ("source_registration_date", Kind::Timestamp),
    ("recorded_at", Kind::Timestamp),
    ("prev_hash", Kind::Text),
    ("hash", Kind::Text),
];

/// An entry as a bulk row: the identity columns, the parties, the ranges, the times and the
/// chain (a tuple struct: serde serialises tuples of at most sixteen).
#[derive(serde::Serialize)]
struct BulkEntry<'a>(
    i64,
    &'a str,
    Option<TransferId>,
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    Option<OrgId>,
    Option<OrgId>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    String,
    &'a str,
    &'a str,
);

/// Writes entries in bulk statements (`db::bulk`); the values are exactly what sea-orm would
/// store, so reading an entry back gives the bytes its hash was computed over.
async fn insert_entries(conn: &impl ConnectionTrait, entries: &[LedgerEntry]) -> Result<(), DbErr> {
    let rows = entries
        .iter()
        .map(|e| {
            let m = &e.movement;
            Ok(BulkEntry(
                e.seq,
                m.kind.as_str(),
                m.transfer_id,
                m.transfer_reference.as_deref(),
                m.transfer_type.nro_name(),
                m.source_rir.token(),
                m.recipient_rir.token(),
                m.source.org_id,
                m.recipient.org_id,
                m.source.name.as_deref(),
                m.recipient.name.as_deref(),
                m.source.country.as_deref(),
                m.recipient.country.as_deref(),
                i64::from(m.range.start()),
                i64::from(m.range.end()),
                m.original.map(|r| i64::from(r.start())),
                m.original.map(|r| i64::from(r.end())),
                bulk::timestamp(m.transfer_date)?,
                m.source_registration_date
                    .map(bulk::timestamp)
                    .transpose()?,
                bulk::timestamp(e.recorded_at)?,
                e.prev_hash.as_str(),
                e.hash.as_str(),
            ))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    bulk::insert(conn, "ledger_entries", ENTRY_COLUMNS, &rows, None).await
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
            transfer_id: r.transfer_id.map(TransferId),
            transfer_reference: r.transfer_reference,
            transfer_type,
            source_rir,
            recipient_rir,
            source: LedgerParty {
                org_id: r.source_org_id.map(OrgId),
                name: r.source_org_name,
                country: r.source_country,
            },
            recipient: LedgerParty {
                org_id: r.recipient_org_id.map(OrgId),
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

/// Up to `limit` entries after `after_seq`, in order: keyset pages for streaming readers
/// (verification, statistics, the Merkle tree's back-fill).
pub async fn page_after(
    conn: &impl ConnectionTrait,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    let page = read_page_after(conn, after_seq, limit).await?;
    unpack_page(page, after_seq)
}

/// A page of entries as [`read_page_after`] read it, not yet turned into entries.
pub struct RawPage {
    /// The page's last `seq`, known before the page is unpacked; `None` when it is empty.
    pub last: Option<i64>,
    body: RawBody,
}

enum RawBody {
    /// SQLite: one JSON array.
    Packed(String),
    /// PostgreSQL: the rows, columns in the order of [`ENTRY_COLUMNS`].
    Rows(Vec<QueryResult>),
}

/// The page [`page_after`] reads, still raw: its last `seq` is known before it is unpacked, so a
/// reader can ask for the next page while it unpacks this one with [`unpack_page`].
///
/// How a page travels depends on the database, each measured on the scale data set. On SQLite
/// it comes back as ONE row holding a JSON array of the entries: the driver's cost is per row
/// (every row crosses a channel from sqlx's worker thread), which made it, not hashing, the bulk
/// of a verification; times are read as whole Unix seconds, which is all the chain hashes
/// (`ledger::ledger_time`). PostgreSQL sends rows cheaply and builds JSON dearly (a page of
/// 2,000: 17 ms of `json_agg` against 0.5 ms for its rows), so there it reads the rows.
pub async fn read_page_after(
    conn: &impl ConnectionTrait,
    after_seq: i64,
    limit: u64,
) -> Result<RawPage, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let sql = format!(
            "SELECT {} FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2",
            entry_select()
        );
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                [after_seq.into(), limit.into()],
            ))
            .await?;
        let last = rows.last().map(|r| r.try_get_by_index(0)).transpose()?;
        return Ok(RawPage {
            last,
            body: RawBody::Rows(rows),
        });
    }
    let sql = format!(
        "SELECT max(seq) AS last, json_group_array(json_array({PACKED_COLUMNS}, \
         unixepoch(transfer_date), unixepoch(source_registration_date), \
         unixepoch(recorded_at), prev_hash, hash)) AS page \
         FROM (SELECT * FROM ledger_entries WHERE seq > ? ORDER BY seq LIMIT ?)"
    );
    let page = bulk::read_page(conn, &sql, after_seq, limit).await?;
    Ok(RawPage {
        last: page.last,
        body: RawBody::Packed(page.json),
    })
}

/// The entries of a page read by [`read_page_after`], in order.
pub fn unpack_page(page: RawPage, after_seq: i64) -> Result<Vec<LedgerEntry>, DbErr> {
    match page.body {
        RawBody::Rows(rows) => rows.iter().map(|r| from_row(model_at(r)?)).collect(),
        RawBody::Packed(_) if page.last.is_none() => Ok(Vec::new()),
        RawBody::Packed(json) => unpack(&json, false)
            .map_err(|e| DbErr::Custom(format!("a page of ledger entries after {after_seq}: {e}"))),
    }
}

/// The entries that `inner` (a select of every column of `ledger_entries`, ordered by `seq`)
/// finds, newest first when `newest_first`: on SQLite read as ONE row holding a JSON array, as
/// [`read_page_after`] explains (50 rows of 22 columns each crossing from SQLite's worker thread
/// cost more than the rest of the `/ledger` page); on PostgreSQL as rows.
pub async fn packed(
    conn: &impl ConnectionTrait,
    inner: Statement,
    newest_first: bool,
) -> Result<Vec<LedgerEntry>, DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let sql = format!("SELECT {} FROM ({}) e", entry_select(), inner.sql);
        let rows = conn.query_all_raw(Statement { sql, ..inner }).await?;
        let entries = rows
            .iter()
            .map(|r| from_row(model_at(r)?))
            .collect::<Result<Vec<_>, DbErr>>()?;
        // A subquery's order is not the outer query's.
        return Ok(in_seq_order(entries, newest_first));
    }
    let sql = format!(
        "SELECT json_group_array(json_array({})) AS page FROM ({})",
        packed_entry_columns(),
        inner.sql
    );
    let stmt = Statement { sql, ..inner };
    let json: Option<String> = conn
        .query_one_raw(stmt)
        .await?
        .map(|r| r.try_get("", "page"))
        .transpose()?
        .flatten();
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    unpack(&json, newest_first).map_err(|e| DbErr::Custom(format!("a page of ledger entries: {e}")))
}

/// A page of entries as rows on PostgreSQL (as [`packed`] reads them there), each row carrying
/// `beside` too: a text-valued expression without reference to the page (so PostgreSQL
/// computes it once), for what a page shows beside its entries. Its value comes from the first
/// row; `None` when the page is empty, which leaves the caller to read it alone.
pub(crate) async fn page_carrying(
    conn: &impl ConnectionTrait,
    inner: Statement,
    newest_first: bool,
    beside: Statement,
) -> Result<(Vec<LedgerEntry>, Option<String>), DbErr> {
    let mut values = inner.values.map(|v| v.0).unwrap_or_default();
    let sql = format!(
        "SELECT {}, ({}) AS beside FROM ({}) e",
        entry_select(),
        super::packed::renumbered(&beside.sql, values.len()),
        inner.sql
    );
    values.extend(beside.values.map(|v| v.0).unwrap_or_default());
    let stmt = Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values);
    let rows = conn.query_all_raw(stmt).await?;
    let carried = match rows.first() {
        Some(row) => Some(row.try_get_by_index::<String>(ENTRY_COLUMNS.len())?),
        None => None,
    };
    let entries = rows
        .iter()
        .map(|r| from_row(model_at(r)?))
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((in_seq_order(entries, newest_first), carried))
}

/// The columns of a packed entry, as [`unpack`] reads them.
pub(crate) fn packed_entry_columns() -> String {
    format!(
        "{PACKED_COLUMNS}, transfer_date, source_registration_date, recorded_at, prev_hash, hash"
    )
}

/// The columns of an entry in the order of [`ENTRY_COLUMNS`], for a select that [`model_at`]
/// reads.
fn entry_select() -> String {
    ENTRY_COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row of [`entry_select`]'s columns, read by position: sea-orm's models read by name, which
/// costs a formatted string and a lookup per value, 22 per entry (PostgreSQL's exports and
/// verification decode tens of thousands).
fn model_at(r: &QueryResult) -> Result<ledger_entry::Model, DbErr> {
    Ok(ledger_entry::Model {
        seq: r.try_get_by_index(0)?,
        kind: r.try_get_by_index(1)?,
        transfer_id: r.try_get_by_index(2)?,
        transfer_reference: r.try_get_by_index(3)?,
        transfer_type: r.try_get_by_index(4)?,
        source_registry: r.try_get_by_index(5)?,
        recipient_registry: r.try_get_by_index(6)?,
        source_org_id: r.try_get_by_index(7)?,
        recipient_org_id: r.try_get_by_index(8)?,
        source_org_name: r.try_get_by_index(9)?,
        recipient_org_name: r.try_get_by_index(10)?,
        source_country: r.try_get_by_index(11)?,
        recipient_country: r.try_get_by_index(12)?,
        start_addr: r.try_get_by_index(13)?,
        end_addr: r.try_get_by_index(14)?,
        original_start: r.try_get_by_index(15)?,
        original_end: r.try_get_by_index(16)?,
        transfer_date: r.try_get_by_index(17)?,
        source_registration_date: r.try_get_by_index(18)?,
        recorded_at: r.try_get_by_index(19)?,
        prev_hash: r.try_get_by_index(20)?,
        hash: r.try_get_by_index(21)?,
    })
}

/// The entries of a packed page, in order of `seq` (descending when `newest_first`).
///
/// The statements aggregate without an `ORDER BY` of their own: an ordered aggregate makes
/// SQLite copy the page into a temporary b-tree to sort it again, although the subquery already
/// delivers it in order. The order is restored here instead, so it never rests on how the
/// database happens to feed an aggregate (sorting an already sorted page is one pass).
pub(crate) fn unpack(json: &str, newest_first: bool) -> Result<Vec<LedgerEntry>, DbErr> {
    let rows: Vec<PackedEntry> =
        serde_json::from_str(json).map_err(|e| DbErr::Custom(e.to_string()))?;
    let entries = rows
        .into_iter()
        .map(PackedEntry::into_entry)
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(in_seq_order(entries, newest_first))
}

/// `entries` by `seq`, descending when `newest_first` (one pass when already in order).
fn in_seq_order(mut entries: Vec<LedgerEntry>, newest_first: bool) -> Vec<LedgerEntry> {
    if newest_first {
        entries.sort_unstable_by_key(|e| std::cmp::Reverse(e.seq));
    } else {
        entries.sort_unstable_by_key(|e| e.seq);
    }
    entries
}

/// The columns of a packed entry before its times, in the order of [`PackedEntry`].
const PACKED_COLUMNS: &str = "seq, kind, transfer_id, transfer_reference, transfer_type, \
    source_registry, recipient_registry, source_org_id, recipient_org_id, source_org_name, \
    recipient_org_name, source_country, recipient_country, start_addr, end_addr, \
    original_start, original_end";

/// A ledger entry as [`page_after`] and [`packed`] read it: the stored columns, times as Unix
/// seconds ([`page_after`]) or as stored ([`packed`]).
#[derive(serde::Deserialize)]
struct PackedEntry(
    i64,
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    PackedTime,
    Option<PackedTime>,
    PackedTime,
    String,
    String,
);

/// A time in a packed entry: whole Unix seconds, or the stored text (RFC 3339, as sqlx writes
/// it on SQLite), which keeps fractions of a second.
///
/// Deserialised by hand: serde's untagged enums try each variant in turn and build an error
/// for every miss, which was a visible share of reading a page.
struct PackedTime(OffsetDateTime);

impl<'de> serde::Deserialize<'de> for PackedTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Time;
        impl serde::de::Visitor<'_> for Time {
            type Value = PackedTime;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("Unix seconds or an RFC 3339 time")
            }
            fn visit_i64<E: serde::de::Error>(self, secs: i64) -> Result<PackedTime, E> {
                OffsetDateTime::from_unix_timestamp(secs)
                    .map(PackedTime)
                    .map_err(|e| E::custom(format!("time {secs} out of range: {e}")))
            }
            fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<PackedTime, E> {
                let secs = i64::try_from(secs)
                    .map_err(|_| E::custom(format!("time {secs} out of range")))?;
                self.visit_i64(secs)
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<PackedTime, E> {
                OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map(PackedTime)
                    .map_err(|e| E::custom(format!("time {text:?}: {e}")))
            }
        }
        d.deserialize_any(Time)
    }
}

impl PackedEntry {
    /// The entry, through the same checks as a row read by sea-orm ([`from_row`]).
    fn into_entry(self) -> Result<LedgerEntry, DbErr> {
        from_row(ledger_entry::Model {
            seq: self.0,
            kind: self.1,
            transfer_id: self.2,
            transfer_reference: self.3,
            transfer_type: self.4,
            source_registry: self.5,
            recipient_registry: self.6,
            source_org_id: self.7,
            recipient_org_id: self.8,
            source_org_name: self.9,
            recipient_org_name: self.10,
            source_country: self.11,
            recipient_country: self.12,
            start_addr: self.13,
            end_addr: self.14,
            original_start: self.15,
            original_end: self.16,
            transfer_date: self.17.0,
            source_registration_date: self.18.map(|t| t.0),
            recorded_at: self.19.0,
            prev_hash: self.20,
            hash: self.21,
        })
    }
}

/// Entries read per page by the back-fill.
const BACKFILL_PAGE: u64 = 2_000;

/// Builds the Merkle tree (`db::tlog`) for entries that predate it (a ledger from before the transparency log), in
/// one write transaction under the append lock; returns the leaves added.
pub async fn backfill_tree(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let txn = super::begin_write(db).await?;
    lock_appends(&txn).await?;
    let ledger = head(&txn).await?.map_or(0, |h| h.seq as u64);
    let mut size = super::tlog::tree_size(&txn).await?;
    let added = ledger.saturating_sub(size);
    while size < ledger {
        let page = page_after(&txn, size as i64, BACKFILL_PAGE).await?;
        if page.is_empty() {
            break;
        }
        let leaves: Vec<Vec<u8>> = page.iter().map(tlog::leaf_data).collect();
        super::tlog::append_leaves(&txn, size, &leaves).await?;
        size += leaves.len() as u64;
    }
    txn.commit().await?;
    Ok(added)
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
                reference: sea_orm::Set(reference.clone()),
                position: sea_orm::Set(i as i32),
                start_addr: sea_orm::Set(i64::from(r.start())),
                end_addr: sea_orm::Set(i64::from(r.end())),
                ..Default::default()
            })
        })
        .collect();
    for chunk in rows.chunks(super::organisations::BATCH) {
        row::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
