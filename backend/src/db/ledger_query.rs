//! Read-only queries over the stored ledger (`db::ledger` owns the row mapping and `append`):
//! filtered keyset pages of entries (exports read them oldest first, the ledger browser newest
//! first), one entry by sequence number, the date bounds of a filtered export, the history of a
//! block, the keys imports deduplicate by, and the `original_set`s imports kept.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};
use time::{Date, OffsetDateTime, Time};

use super::entities::{ledger_entry, organisation, tlog_checkpoint};
use super::holdings::range_of;
use super::ledger::from_row;
use super::packed::PackedBatch;
use crate::domain::export::LedgerFilter;
use crate::domain::ledger::{EntryKind, ImportKey, LedgerEntry};
use crate::domain::{Ipv4Range, Rir};

/// Which way a page of entries runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, entries with `seq > cursor` (exports).
    Forward,
    /// Newest first, entries with `seq < cursor` (the ledger browser).
    Backward,
}

fn midnight(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

/// The filter as a SQL condition; the same conditions as [`LedgerFilter::matches`].
fn condition(backend: DatabaseBackend, f: &LedgerFilter) -> Condition {
    use ledger_entry::Column as C;
    let mut c = Condition::all();
    if let Some(r) = f.registry {
        c = c.add(
            Condition::any()
                .add(C::SourceRegistry.eq(r.token()))
                .add(C::RecipientRegistry.eq(r.token())),
        );
    }
    if let Some(ids) = &f.org_ids {
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        c = c.add(
            Condition::any()
                .add(C::SourceOrgId.is_in(ids.clone()))
                .add(C::RecipientOrgId.is_in(ids.clone())),
        );
    }
    if let Some(d) = f.from {
        c = c.add(C::TransferDate.gte(midnight(d)));
    }
    if let Some(d) = f.to {
        // Before the next midnight: the whole of the last day counts.
        c = c.add(C::TransferDate.lt(midnight(d.next_day().unwrap_or(Date::MAX))));
    }
    if let Some(k) = f.kind {
        c = c.add(C::Kind.eq(k.as_str()));
    }
    if let Some(t) = f.transfer_type {
        c = c.add(C::TransferType.eq(t.nro_name()));
    }
    if let Some(r) = f.touching {
        // Entries overlap one another, so `start <= E AND end >= S` on B-trees would read every
        // entry below E: the interval index reads only those that touch (migration
        // `interval_indexes`).
        c = c.add(match backend {
            DatabaseBackend::Postgres => Expr::cust_with_values(
                "int8range(start_addr, end_addr, '[]') && int8range($1, $2, '[]')",
                [i64::from(r.start()), i64::from(r.end())],
            ),
            _ => Expr::cust_with_values(
                "seq IN (SELECT seq FROM ledger_entry_intervals WHERE lo <= ? AND hi >= ?)",
                rtree_bounds(r),
            ),
        });
    }
    c
}

/// The values of the SQLite R*Tree query `lo <= ? AND hi >= ?` for the entries touching
/// `range`, its last and its first address as the R*Tree holds them: the R*Tree (`rtree_i32`) stores addresses shifted down by 2^31 into 32-bit signed
/// integers (migration `interval_indexes`).
fn rtree_bounds(range: Ipv4Range) -> [i64; 2] {
    [
        i64::from(range.end()) - (1 << 31),
        i64::from(range.start()) - (1 << 31),
    ]
}

/// Up to `limit` entries passing `filter`, after (or before) `cursor` in `direction`.
pub async fn page(
    conn: &impl ConnectionTrait,
    filter: &LedgerFilter,
    cursor: Option<i64>,
    direction: Direction,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    let q = page_select(conn, filter, cursor, direction, limit);
    let inner = sea_orm::QueryTrait::build(&q, conn.get_database_backend());
    super::ledger::packed(conn, inner, direction == Direction::Backward).await
}

/// [`page`] and the latest signed checkpoint (`db::tlog::latest_checkpoint`), as the ledger
/// browser shows them, as one statement: on SQLite both packed ([`PackedBatch`]); on PostgreSQL
/// the page as rows, each carrying the checkpoint packed.
pub async fn page_with_checkpoint(
    conn: &impl ConnectionTrait,
    filter: &LedgerFilter,
    cursor: Option<i64>,
    direction: Direction,
    limit: u64,
) -> Result<(Vec<LedgerEntry>, Option<super::tlog::StoredCheckpoint>), DbErr> {
    let newest_first = direction == Direction::Backward;
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        // PostgreSQL sends rows cheaply and builds JSON dearly: the entries come as rows, and
        // the checkpoint, packed, rides on each of them (computed once). An empty page has no
        // row to carry it: then it is read alone.
        use sea_orm::QueryTrait;
        let postgres = DatabaseBackend::Postgres;
        let page = page_select(conn, filter, cursor, direction, limit).build(postgres);
        let latest = super::tlog::latest_checkpoint_select().build(postgres);
        let columns = super::packed::columns_of::<tlog_checkpoint::Entity>();
        let beside = sea_orm::Statement {
            sql: super::packed::json_rows(postgres, &columns, &format!("({}) c", latest.sql)),
            ..latest
        };
        let (entries, carried) =
            super::ledger::page_carrying(conn, page, newest_first, beside).await?;
        let checkpoint = match carried {
            Some(json) => super::packed::parse::<tlog_checkpoint::Model>(&json, "the checkpoint")?
                .pop()
                .map(super::tlog::checkpoint_of),
            None => super::tlog::latest_checkpoint(conn).await?,
        };
        return Ok((entries, checkpoint));
    }
    let mut batch = PackedBatch::default();
    let entries = batch.add(
        sea_orm::QueryTrait::build(
            &page_select(conn, filter, cursor, direction, limit),
            DatabaseBackend::Sqlite,
        ),
        &super::ledger::packed_entry_columns(),
    );
    let checkpoint = batch.add(
        sea_orm::QueryTrait::build(
            &super::tlog::latest_checkpoint_select(),
            DatabaseBackend::Sqlite,
        ),
        &super::packed::columns_of::<tlog_checkpoint::Entity>(),
    );
    let packed = batch.run(conn).await?;
    let entries = super::ledger::unpack(packed.text(entries)?, newest_first)?;
    let checkpoint = packed
        .take::<tlog_checkpoint::Model>(checkpoint)?
        .pop()
        .map(super::tlog::checkpoint_of);
    Ok((entries, checkpoint))
}

fn page_select(
    conn: &impl ConnectionTrait,
    filter: &LedgerFilter,
    cursor: Option<i64>,
    direction: Direction,
    limit: u64,
) -> sea_orm::Select<ledger_entry::Entity> {
    use ledger_entry::Column as C;
    let mut q = ledger_entry::Entity::find().filter(condition(conn.get_database_backend(), filter));
    q = match (direction, cursor) {
        (Direction::Forward, Some(c)) => q.filter(C::Seq.gt(c)),
        (Direction::Backward, Some(c)) => q.filter(C::Seq.lt(c)),
        (_, None) => q,
    };
    let order = match direction {
        Direction::Forward => Order::Asc,
        Direction::Backward => Order::Desc,
    };
    q.order_by(C::Seq, order).limit(limit)
}

/// One entry by its sequence number.
pub async fn entry(conn: &impl ConnectionTrait, seq: i64) -> Result<Option<LedgerEntry>, DbErr> {
    ledger_entry::Entity::find_by_id(seq)
        .one(conn)
        .await?
        .map(from_row)
        .transpose()
}

/// First and last transfer date of the entries passing `filter`; `None` when there are none.
pub async fn date_bounds(
    conn: &impl ConnectionTrait,
    filter: &LedgerFilter,
) -> Result<Option<(OffsetDateTime, OffsetDateTime)>, DbErr> {
    let edge = |order: Order| async move {
        ledger_entry::Entity::find()
            .select_only()
            .column(ledger_entry::Column::TransferDate)
            .filter(condition(conn.get_database_backend(), filter))
            .order_by(ledger_entry::Column::TransferDate, order)
            .into_tuple::<OffsetDateTime>()
            .one(conn)
            .await
    };
    let first = edge(Order::Asc).await?;
    let last = edge(Order::Desc).await?;
    Ok(first.zip(last))
}

/// Organisation ids for `--org`: a number is an id, anything else a handle (in any registry).
pub async fn organisation_ids(conn: &impl ConnectionTrait, org: &str) -> Result<Vec<i64>, DbErr> {
    let org = org.trim();
    let mut q = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id);
    q = match org.parse::<i64>() {
        Ok(id) => q.filter(
            Condition::any()
                .add(organisation::Column::Id.eq(id))
                .add(organisation::Column::Handle.eq(org)),
        ),
        Err(_) => q.filter(organisation::Column::Handle.eq(org)),
    };
    q.into_tuple().all(conn).await
}

/// The keys of every imported entry, read in one query, so that importing a transfer log again
/// records each movement once.
pub async fn imported_keys(conn: &impl ConnectionTrait) -> Result<HashSet<ImportKey>, DbErr> {
    let rows: Vec<(i64, i64, String, String, OffsetDateTime)> = ledger_entry::Entity::find()
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
    let found = ledger_entry::Entity::find()
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

/// Ranges at least this wide (a /5, a thirty-second of IPv4) look among the newest entries first.
const WIDE: u64 = 1 << 27;

/// Newest entries a wide range's history looks through before it asks the interval index.
const RECENT: i64 = 2_000;

/// The newest `limit` entries whose range shares addresses with `range` (with `before`, those
/// before that entry), newest first (the history of a block in the lookup).
///
/// The interval index reads every entry touching the range and the newest `limit` are kept,
/// which costs what the range holds rather than what is shown: nothing for a /24, the whole
/// ledger for 0.0.0.0/0. So a wide range is first looked for among the [`RECENT`] entries before
/// the cursor (a walk down the primary key): when those hold `limit` matches, they are the
/// newest; otherwise the interval index answers as for any range.
pub async fn touching(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    if is_wide(range) {
        let recent = touching_recent(conn, range, before, limit).await?;
        if recent.len() as u64 >= limit {
            return Ok(recent);
        }
    }
    let stmt = touching_indexed(conn.get_database_backend(), range, before, limit);
    super::ledger::packed(conn, stmt, true).await
}

/// Whether [`touching`] looks for `range`'s entries among the newest first (then it may take
/// a second statement), rather than asking the interval index at once.
pub(crate) fn is_wide(range: Ipv4Range) -> bool {
    range.size() >= WIDE
}

/// The statement of the newest `limit` entries touching `range` before `before`, through the
/// interval index, for [`super::ledger::packed`] (or a packed batch) to read.
pub(crate) fn touching_indexed(
    backend: DatabaseBackend,
    range: Ipv4Range,
    before: Option<i64>,
    limit: u64,
) -> sea_orm::Statement {
    use ledger_entry::Column as C;
    if backend == DatabaseBackend::Postgres {
        let filter = LedgerFilter {
            touching: Some(range),
            ..Default::default()
        };
        let mut q = ledger_entry::Entity::find().filter(condition(backend, &filter));
        if let Some(b) = before {
            q = q.filter(C::Seq.lt(b));
        }
        let q = q.order_by(C::Seq, Order::Desc).limit(limit);
        return sea_orm::QueryTrait::build(&q, backend);
    }
    // The R*Tree hands over every entry touching the range, unordered. Keeping the newest
    // `limit` of their sequence numbers there (a top-N sort of integers) instead of fetching
    // each entry's row first: a /8 touched by 12,000 entries of the scale set 7 ms -> 2-3 ms.
    let newest = Expr::cust_with_values(
        "seq IN (SELECT seq FROM ledger_entry_intervals WHERE lo <= ? AND hi >= ? AND seq < ? \
         ORDER BY seq DESC LIMIT ?)",
        {
            let [last, first] = rtree_bounds(range);
            [
                last,
                first,
                before.unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX),
            ]
        },
    );
    let q = ledger_entry::Entity::find()
        .filter(newest)
        .order_by(C::Seq, Order::Desc)
        .limit(limit);
    sea_orm::QueryTrait::build(&q, DatabaseBackend::Sqlite)
}

/// The newest `limit` entries touching `range` among the [`RECENT`] entries before `before`
/// (before the end of the ledger when `None`), newest first.
async fn touching_recent(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    use ledger_entry::Column as C;
    // Sequence numbers have no gaps (the chain), so the newest RECENT are one key range.
    let window = match before {
        Some(b) => Condition::all()
            .add(C::Seq.lt(b))
            .add(C::Seq.gte(b - RECENT)),
        None => Condition::all().add(Expr::cust_with_values(
            "seq > (SELECT COALESCE(MAX(seq), 0) FROM ledger_entries) - $1",
            [RECENT],
        )),
    };
    let q = ledger_entry::Entity::find()
        .filter(window)
        .filter(C::StartAddr.lte(i64::from(range.end())))
        .filter(C::EndAddr.gte(i64::from(range.start())))
        .order_by(C::Seq, Order::Desc)
        .limit(limit);
    let inner = sea_orm::QueryTrait::build(&q, conn.get_database_backend());
    super::ledger::packed(conn, inner, true).await
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
) -> Result<HashMap<String, Vec<Ipv4Range>>, DbErr> {
    use super::entities::imported_original_set as row;
    let mut out: HashMap<String, Vec<Ipv4Range>> = HashMap::new();
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
