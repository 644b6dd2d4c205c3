//! The holdings registry and its imported snapshot: bulk writes for imports, range queries,
//! conversion to the pure core's [`Holding`], and the pages of one registry's holdings and
//! inventory in address order that exports read.

use std::collections::HashMap;

use sea_orm::ActiveValue::Unchanged;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use time::{Date, OffsetDateTime};

use super::bulk::{self, Kind};
use super::entities::{holding, holding_snapshot, organisation, registry_inventory};
use crate::domain::ledger::{Holding, HoldingRecord};
use crate::domain::transfer::HoldingOrigin;
use crate::domain::transfer::OrgId;
use crate::domain::{Ipv4Range, Rir};

/// The columns of `holdings` and `holding_snapshot` that imports write (they share a shape).
const HOLDING_COLUMNS: &[(&str, Kind)] = &[
    ("registry", Kind::Text),
    ("organisation_id", Kind::Int),
    ("start_addr", Kind::Int),
    ("end_addr", Kind::Int),
    ("status", Kind::Text),
    ("origin", Kind::Text),
    ("registered_on", Kind::Date),
    ("received_on", Kind::Date),
    ("country", Kind::Text),
];

/// A holding as a bulk row, in the order of [`HOLDING_COLUMNS`].
type BulkHolding<'a> = (
    &'a str,
    OrgId,
    i64,
    i64,
    &'a str,
    &'a str,
    Option<String>,
    Option<String>,
    Option<&'a str>,
);

/// Writes imported rows into both the live holdings and the snapshot that verification replays
/// from, in bulk statements (`db::bulk`). The snapshot gets the same rows (copied from the ones
/// just inserted), not a copy of the registry's live holdings: those may already hold space
/// received by transfer.
pub async fn insert_imported(
    conn: &impl ConnectionTrait,
    rows: &[HoldingRecord],
) -> Result<(), DbErr> {
    let bulk: Vec<BulkHolding<'_>> = rows
        .iter()
        .map(|r| {
            (
                r.registry.token(),
                r.org_id,
                i64::from(r.range.start()),
                i64::from(r.range.end()),
                r.status.as_str(),
                r.origin.as_str(),
                r.registered_on.map(bulk::date),
                r.received_on.map(bulk::date),
                r.country.as_deref(),
            )
        })
        .collect();
    bulk::insert_with_copy(conn, "holdings", "holding_snapshot", HOLDING_COLUMNS, &bulk).await
}

/// The first of `registry`'s live holdings that shares addresses with another registry's, as
/// `(its (start, end), the other's (start, end), the other registry)`, in address order (the
/// lowest other holding when several overlap it). Holdings of one registry never overlap one
/// another, so only two rows can show a conflict with a holding: the last one starting at or
/// before it and the first one starting inside it; two probes of the `start_addr` index per
/// holding, in the database.
pub async fn first_conflict(
    conn: &impl ConnectionTrait,
    registry: Rir,
) -> Result<Option<((i64, i64), (i64, i64), String)>, DbErr> {
    let backend = conn.get_database_backend();
    let param = super::placeholder(backend, 1);
    let sql = format!(
        "SELECT h.start_addr AS start_addr, h.end_addr AS end_addr, \
           o.start_addr AS other_start, o.end_addr AS other_end, o.registry AS other \
         FROM holdings h JOIN holdings o ON o.id IN ( \
           (SELECT x.id FROM holdings x WHERE x.start_addr <= h.start_addr AND x.id <> h.id \
            ORDER BY x.start_addr DESC LIMIT 1), \
           (SELECT x.id FROM holdings x \
            WHERE x.start_addr > h.start_addr AND x.start_addr <= h.end_addr \
            ORDER BY x.start_addr LIMIT 1)) \
         WHERE h.registry = {param} AND o.registry <> h.registry \
           AND o.end_addr >= h.start_addr AND o.start_addr <= h.end_addr \
         ORDER BY h.start_addr, o.start_addr LIMIT 1"
    );
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [registry.token().into()],
        ))
        .await?;
    row.map(|r| {
        Ok((
            (r.try_get("", "start_addr")?, r.try_get("", "end_addr")?),
            (r.try_get("", "other_start")?, r.try_get("", "other_end")?),
            r.try_get("", "other")?,
        ))
    })
    .transpose()
}

/// Inserts live holdings (a finalization's remainders and received blocks).
pub async fn insert_live(conn: &impl ConnectionTrait, rows: &[HoldingRecord]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    holding::Entity::insert_many(rows.iter().map(live_row))
        .exec_without_returning(conn)
        .await
        .map(drop)
}

/// Deletes a live holding; false when it was already gone (on PostgreSQL, a concurrent
/// finalizer that deleted it first).
pub async fn delete_live(conn: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let deleted = holding::Entity::delete_by_id(id).exec(conn).await?;
    Ok(deleted.rows_affected == 1)
}

/// A live holding row, by id, in the pure core's shape.
pub fn record_of(h: holding::Model) -> Result<(i64, HoldingRecord), DbErr> {
    let registry = Rir::from_token(&h.registry)
        .ok_or_else(|| DbErr::Custom(format!("stored registry {:?} is unknown", h.registry)))?;
    let record = HoldingRecord {
        registry,
        org_id: OrgId(h.organisation_id),
        range: range_of(h.start_addr, h.end_addr)?,
        status: h.status,
        origin: h.origin,
        registered_on: h.registered_on,
        received_on: h.received_on,
        country: h.country,
    };
    Ok((h.id, record))
}

/// The live-holdings active model of a row.
fn live_row(r: &HoldingRecord) -> holding::ActiveModel {
    use sea_orm::Set;
    holding::ActiveModel {
        registry: Set(r.registry.token().to_owned()),
        organisation_id: Set(r.org_id.get()),
        start_addr: Set(i64::from(r.range.start())),
        end_addr: Set(i64::from(r.range.end())),
        status: Set(r.status.clone()),
        origin: Set(r.origin.clone()),
        registered_on: Set(r.registered_on),
        received_on: Set(r.received_on),
        country: Set(r.country.clone()),
        restrictions: Set(None),
        ..Default::default()
    }
}

/// Inventory (available or reserved space) of a registry, in bulk statements.
pub async fn insert_inventory(
    conn: &impl ConnectionTrait,
    registry: Rir,
    rows: &[(Ipv4Range, &'static str, Option<time::Date>)],
) -> Result<(), DbErr> {
    let bulk: Vec<(&str, i64, i64, &str, Option<String>)> = rows
        .iter()
        .map(|(range, status, date)| {
            (
                registry.token(),
                i64::from(range.start()),
                i64::from(range.end()),
                *status,
                date.map(bulk::date),
            )
        })
        .collect();
    let columns = [
        ("registry", Kind::Text),
        ("start_addr", Kind::Int),
        ("end_addr", Kind::Int),
        ("status", Kind::Text),
        ("record_date", Kind::Date),
    ];
    bulk::insert(conn, "registry_inventory", &columns, &bulk, None).await
}

/// Removes a registry's holdings, snapshot and inventory (before it is imported afresh).
pub async fn delete_registry(conn: &impl ConnectionTrait, registry: Rir) -> Result<(), DbErr> {
    holding::Entity::delete_many()
        .filter(holding::Column::Registry.eq(registry.token()))
        .exec(conn)
        .await?;
    holding_snapshot::Entity::delete_many()
        .filter(holding_snapshot::Column::Registry.eq(registry.token()))
        .exec(conn)
        .await?;
    registry_inventory::Entity::delete_many()
        .filter(registry_inventory::Column::Registry.eq(registry.token()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The live holding with this id.
pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<holding::Model>, DbErr> {
    holding::Entity::find_by_id(id).one(conn).await
}

/// Records how the holder of a live holding came by it (a hostmaster's correction).
pub async fn set_origin(
    conn: &impl ConnectionTrait,
    id: i64,
    origin: HoldingOrigin,
) -> Result<(), DbErr> {
    holding::ActiveModel {
        id: Unchanged(id),
        origin: Set(origin.as_str().to_owned()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// How many live holdings each of these organisations has, as `(organisation, count)`;
/// organisations with none are left out.
pub async fn count_by_organisation(
    conn: &impl ConnectionTrait,
    org_ids: Vec<i64>,
) -> Result<Vec<(i64, i64)>, DbErr> {
    holding::Entity::find()
        .select_only()
        .column(holding::Column::OrganisationId)
        .column_as(holding::Column::Id.count(), "holdings")
        .filter(super::packed::id_in_expr(
            conn.get_database_backend(),
            "organisation_id",
            &org_ids,
        ))
        .group_by(holding::Column::OrganisationId)
        .into_tuple()
        .all(conn)
        .await
}

/// Every live holding as `(start, end)` ordered by start, for overlap checks.
pub async fn all_ranges(conn: &impl ConnectionTrait) -> Result<Vec<(i64, i64, String)>, DbErr> {
    holding::Entity::find()
        .select_only()
        .column(holding::Column::StartAddr)
        .column(holding::Column::EndAddr)
        .column(holding::Column::Registry)
        .order_by_asc(holding::Column::StartAddr)
        .into_tuple()
        .all(conn)
        .await
}

/// Live holdings that overlap `range`, in address order.
pub async fn overlapping(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
) -> Result<Vec<holding::Model>, DbErr> {
    select_overlapping(conn, range, None, false, None).await
}

/// The first `limit` live holdings that overlap `range`, in address order, each with its
/// holder (a lookup of a wide range reads no more than it shows). One statement: the two scans
/// of [`select_overlapping`] as a `UNION ALL`, joined to the organisations.
pub async fn overlapping_with_holders(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    after: Option<u32>,
    limit: u64,
) -> Result<Vec<(holding::Model, organisation::Model)>, DbErr> {
    use sea_orm::FromQueryResult;
    let stmt = overlapping_with_holders_statement(conn.get_database_backend(), range, after, limit);
    let rows = conn.query_all_raw(stmt).await?;
    rows.iter()
        .map(|row| {
            Ok((
                holding::Model::from_query_result(row, "h_")?,
                organisation::Model::from_query_result(row, "o_")?,
            ))
        })
        .collect()
}

/// The statement of [`overlapping_with_holders`]: each holding's columns prefixed `h_`, its
/// holder's `o_`.
pub(crate) fn overlapping_with_holders_statement(
    backend: DatabaseBackend,
    range: Ipv4Range,
    after: Option<u32>,
    limit: u64,
) -> Statement {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    // Anonymous on SQLite, so that the statement can also be one read of a packed batch.
    let mut param = |v: i64| {
        values.push(v.into());
        super::packed::batch_placeholder(backend, values.len())
    };
    let (start, end) = (i64::from(range.start()), i64::from(range.end()));
    // The holding that starts at or before the range and reaches into it (not after a cursor,
    // which is past it).
    let before = match after {
        Some(_) => String::new(),
        None => format!(
            "SELECT * FROM (SELECT * FROM holdings WHERE start_addr <= {} \
             ORDER BY start_addr DESC LIMIT 1) AS b WHERE b.end_addr >= {} UNION ALL ",
            param(start),
            param(start)
        ),
    };
    let lower = after.map_or(start, i64::from).max(start);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let inside = format!(
        "SELECT * FROM (SELECT * FROM holdings WHERE start_addr > {} AND start_addr <= {} \
         ORDER BY start_addr LIMIT {}) AS i",
        param(lower),
        param(end),
        param(limit)
    );
    let sql = format!(
        "SELECT {}, {} FROM ({before}{inside}) AS h \
         JOIN organisations o ON o.id = h.organisation_id \
         ORDER BY h.start_addr LIMIT {}",
        super::aliased_columns::<holding::Entity>("h"),
        super::aliased_columns::<organisation::Entity>("o"),
        param(limit)
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// The columns of [`overlapping_with_holders_statement`]'s rows as a packed read names them,
/// in the order of [`PackedHeld`]'s fields.
pub(crate) const PACKED_HELD_COLUMNS: &str = "h_id, h_registry, h_organisation_id, h_start_addr, \
     h_end_addr, h_status, h_origin, h_registered_on, h_received_on, h_country, h_restrictions, \
     o_id, o_registry, o_handle, o_name, o_country, o_membership, o_created_at";

/// A holding and its holder as a packed row carries them (SQLite: dates and times as text).
#[derive(serde::Deserialize)]
struct PackedHeld {
    id: i64,
    registry: String,
    organisation_id: i64,
    start_addr: i64,
    end_addr: i64,
    status: String,
    origin: String,
    registered_on: Option<String>,
    received_on: Option<String>,
    country: Option<String>,
    restrictions: Option<String>,
    holder_id: i64,
    holder_registry: String,
    handle: String,
    name: String,
    holder_country: Option<String>,
    membership: String,
    created_at: String,
}

/// The holdings and holders of a packed read of [`overlapping_with_holders_statement`] (its
/// columns [`PACKED_HELD_COLUMNS`]), in address order, as [`overlapping_with_holders`] returns
/// them.
pub(crate) fn unpack_held(text: &str) -> Result<Vec<(holding::Model, organisation::Model)>, DbErr> {
    let rows: Vec<PackedHeld> = super::packed::parse(text, "holdings with holders")?;
    let mut held = rows
        .into_iter()
        .map(|r| {
            let date = |text: Option<String>| {
                text.map(|t| super::packed::packed_date("holding", r.id, &t))
                    .transpose()
            };
            let holding = holding::Model {
                registered_on: date(r.registered_on)?,
                received_on: date(r.received_on)?,
                id: r.id,
                registry: r.registry,
                organisation_id: r.organisation_id,
                start_addr: r.start_addr,
                end_addr: r.end_addr,
                status: r.status,
                origin: r.origin,
                country: r.country,
                restrictions: r.restrictions,
            };
            let holder = organisation::Model {
                created_at: super::packed::packed_time("organisation", r.holder_id, &r.created_at)?,
                id: r.holder_id,
                registry: r.holder_registry,
                handle: r.handle,
                name: r.name,
                country: r.holder_country,
                membership: r.membership,
            };
            Ok((holding, holder))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    // An aggregate's input order is the subquery's, but the page's order should not rest on it.
    held.sort_unstable_by_key(|(h, _)| h.start_addr);
    Ok(held)
}

/// Locks the live holdings that overlap `range` until the transaction ends (`FOR UPDATE`, on
/// PostgreSQL; SQLite's write transaction already excludes every other writer).
pub async fn lock_overlapping(conn: &impl ConnectionTrait, range: Ipv4Range) -> Result<(), DbErr> {
    select_overlapping(conn, range, None, true, None)
        .await
        .map(drop)
}

/// Holdings never overlap, so those overlapping `range` are the last one starting at or before
/// it (if it reaches into it) and those starting inside it: two tight scans of the `start_addr`
/// index, where `start <= end AND end >= start` would read every holding below the range. With
/// `after` (a page's last holding's start), only the holdings starting after it.
async fn select_overlapping(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    after: Option<u32>,
    lock: bool,
    limit: Option<u64>,
) -> Result<Vec<holding::Model>, DbErr> {
    let (start, end) = (i64::from(range.start()), i64::from(range.end()));
    let mut before = holding::Entity::find()
        .filter(holding::Column::StartAddr.lte(start))
        .order_by_desc(holding::Column::StartAddr)
        .limit(1);
    let mut inside = holding::Entity::find()
        .filter(holding::Column::StartAddr.gt(after.map_or(start, i64::from).max(start)))
        .filter(holding::Column::StartAddr.lte(end))
        .order_by_asc(holding::Column::StartAddr);
    if let Some(limit) = limit {
        inside = inside.limit(limit);
    }
    if lock {
        before = before.lock_exclusive();
        inside = inside.lock_exclusive();
    }
    let mut out: Vec<holding::Model> = match after {
        Some(_) => Vec::new(),
        None => before
            .one(conn)
            .await?
            .into_iter()
            .filter(|h| h.end_addr >= start)
            .collect(),
    };
    out.extend(inside.all(conn).await?);
    if let Some(limit) = limit {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(out)
}

fn to_holding(registry: &str, org_id: i64, start: i64, end: i64) -> Result<Holding, DbErr> {
    let registry = Rir::from_token(registry)
        .ok_or_else(|| DbErr::Custom(format!("holding with unknown registry {registry:?}")))?;
    let range = range_of(start, end)?;
    Ok(Holding {
        registry,
        org_id: OrgId(org_id),
        range,
    })
}

/// A stored `(start_addr, end_addr)` pair as a range; anything else means a corrupt row.
pub fn range_of(start: i64, end: i64) -> Result<Ipv4Range, DbErr> {
    let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(end)) else {
        return Err(DbErr::Custom(format!(
            "stored range {start}..{end} is outside IPv4"
        )));
    };
    Ipv4Range::new(s, e).map_err(|e| DbErr::Custom(format!("stored range {start}..{end}: {e}")))
}

/// Rows read per page when a whole holdings table is loaded.
const LOAD_PAGE: i64 = 20_000;

/// Every row of `holdings` or `holding_snapshot` (`table`) in the pure core's shape, read in
/// keyset pages of the id. On SQLite each page is ONE row holding a JSON array (the driver's
/// cost is per row; a plain query held every raw row, about 1 kB each, before any became a
/// holding), and the next page is read while this one is parsed; PostgreSQL reads rows.
async fn load_all(conn: &impl ConnectionTrait, table: &str) -> Result<Vec<Holding>, DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        return load_all_rows(conn, table).await;
    }
    let sql = format!(
        "SELECT max(id) AS last, json_group_array(json_array(id, registry, organisation_id, \
         start_addr, end_addr)) AS page \
         FROM (SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?)"
    );
    let mut out = Vec::new();
    let mut after = 0;
    let mut page = bulk::read_page(conn, &sql, after, LOAD_PAGE).await?;
    while let Some(last) = page.last {
        let (next, parsed) = tokio::join!(bulk::read_page(conn, &sql, last, LOAD_PAGE), async {
            // Registry tokens are plain ASCII, so they are borrowed from the page, not copied.
            let rows: Vec<(i64, &str, i64, i64, i64)> = serde_json::from_str(&page.json)
                .map_err(|e| DbErr::Custom(format!("a page of {table} after id {after}: {e}")))?;
            rows.into_iter()
                .try_for_each(|(_, registry, org, start, end)| {
                    out.push(to_holding(registry, org, start, end)?);
                    Ok::<_, DbErr>(())
                })
        });
        parsed?;
        (after, page) = (last, next?);
    }
    Ok(out)
}

/// [`load_all`] on PostgreSQL, which sends rows cheaply and builds JSON dearly (a page of
/// 20,000 holdings: 4 ms as rows, 34 ms as `json_agg`).
async fn load_all_rows(conn: &impl ConnectionTrait, table: &str) -> Result<Vec<Holding>, DbErr> {
    let sql = format!(
        "SELECT id, registry, organisation_id, start_addr, end_addr FROM {table} \
         WHERE id > $1 ORDER BY id LIMIT $2"
    );
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql.clone(),
                [after.into(), LOAD_PAGE.into()],
            ))
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get_by_index(0)?;
        // By position: a name costs a formatted string per value.
        for r in rows {
            let registry: String = r.try_get_by_index(1)?;
            out.push(to_holding(
                &registry,
                r.try_get_by_index(2)?,
                r.try_get_by_index(3)?,
                r.try_get_by_index(4)?,
            )?);
        }
    }
    Ok(out)
}

/// The live holdings registry, in the pure core's shape.
pub async fn load_live(conn: &impl ConnectionTrait) -> Result<Vec<Holding>, DbErr> {
    load_all(conn, "holdings").await
}

/// The imported snapshot, in the pure core's shape.
pub async fn load_snapshot(conn: &impl ConnectionTrait) -> Result<Vec<Holding>, DbErr> {
    load_all(conn, "holding_snapshot").await
}

/// The inventory block (available or reserved space of a registry) that contains all of
/// `range`, if one does. A registry's blocks do not overlap one another, so the one that may
/// contain it is the last starting at or before its first address: one seek of the
/// `(registry, start_addr)` index per registry.
pub async fn inventory_containing(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
) -> Result<Option<(Rir, registry_inventory::Model)>, DbErr> {
    use registry_inventory::Column as C;
    for rir in Rir::ALL {
        let block = registry_inventory::Entity::find()
            .filter(C::Registry.eq(rir.token()))
            .filter(C::StartAddr.lte(i64::from(range.start())))
            .order_by_desc(C::StartAddr)
            .limit(1)
            .one(conn)
            .await?;
        if let Some(block) = block.filter(|b| b.end_addr >= i64::from(range.end())) {
            return Ok(Some((rir, block)));
        }
    }
    Ok(None)
}

/// One holding or inventory block of a registry, as a delegated file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryBlock {
    pub range: Ipv4Range,
    pub status: String,
    pub country: Option<String>,
    pub date: Option<Date>,
    /// The holder's handle; `None` for inventory.
    pub handle: Option<String>,
}

/// How many holdings (of `org_ids`, if given) and inventory blocks a registry lists, and the
/// earliest date among them.
pub async fn registry_counts(
    conn: &impl ConnectionTrait,
    registry: Rir,
    org_ids: Option<&[i64]>,
) -> Result<(u64, u64, Option<Date>), DbErr> {
    let mut holdings =
        holding::Entity::find().filter(holding::Column::Registry.eq(registry.token()));
    if let Some(ids) = org_ids {
        holdings = holdings.filter(holding::Column::OrganisationId.is_in(ids.to_vec()));
    }
    let held = holdings.clone().count(conn).await?;
    let first_held: Option<Option<Date>> = holdings
        .select_only()
        .column(holding::Column::ReceivedOn)
        .filter(holding::Column::ReceivedOn.is_not_null())
        .order_by_asc(holding::Column::ReceivedOn)
        .into_tuple()
        .one(conn)
        .await?;
    let inventory = match org_ids {
        Some(_) => 0,
        None => {
            registry_inventory::Entity::find()
                .filter(registry_inventory::Column::Registry.eq(registry.token()))
                .count(conn)
                .await?
        }
    };
    Ok((held, inventory, first_held.flatten()))
}

/// Up to `limit` holdings of a registry starting after address `after`, in address order.
pub async fn holdings_page(
    conn: &impl ConnectionTrait,
    registry: Rir,
    org_ids: Option<&[i64]>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<RegistryBlock>, DbErr> {
    use holding::Column as C;
    let mut q = holding::Entity::find().filter(C::Registry.eq(registry.token()));
    if let Some(ids) = org_ids {
        q = q.filter(C::OrganisationId.is_in(ids.to_vec()));
    }
    if let Some(a) = after {
        q = q.filter(C::StartAddr.gt(a));
    }
    let rows = q.order_by_asc(C::StartAddr).limit(limit).all(conn).await?;
    let mut ids: Vec<i64> = rows.iter().map(|h| h.organisation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let handles: HashMap<i64, String> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .column(organisation::Column::Handle)
        .filter(super::packed::id_in_expr(
            conn.get_database_backend(),
            "id",
            &ids,
        ))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|h| {
            Ok(RegistryBlock {
                range: range_of(h.start_addr, h.end_addr)?,
                status: h.status,
                country: h.country,
                date: h.received_on.or(h.registered_on),
                handle: Some(handles.get(&h.organisation_id).cloned().ok_or_else(|| {
                    DbErr::Custom(format!("holding {}: organisation is missing", h.id))
                })?),
            })
        })
        .collect()
}

/// Up to `limit` inventory blocks of a registry starting after address `after`.
pub async fn inventory_page(
    conn: &impl ConnectionTrait,
    registry: Rir,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<RegistryBlock>, DbErr> {
    use registry_inventory::Column as C;
    let mut q = registry_inventory::Entity::find().filter(C::Registry.eq(registry.token()));
    if let Some(a) = after {
        q = q.filter(C::StartAddr.gt(a));
    }
    q.order_by_asc(C::StartAddr)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| {
            Ok(RegistryBlock {
                range: range_of(r.start_addr, r.end_addr)?,
                status: r.status,
                country: None,
                date: r.record_date,
                handle: None,
            })
        })
        .collect()
}

/// What an import of a registry's delegated file records about the file.
pub struct ImportRecord {
    pub registry: Rir,
    pub file_sha256: String,
    /// As written in the file's header.
    pub serial: String,
    pub file_date: Option<Date>,
    pub records: i64,
    pub format_version: String,
    pub utc_offset: String,
    /// The header's counts that disagreed with the records, one per line.
    pub notes: Option<String>,
}

/// Records the file a registry was imported from, replacing the record of its previous file.
pub async fn record_import(
    conn: &impl ConnectionTrait,
    r: ImportRecord,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    use super::entities::registry_import::{ActiveModel, Column as C, Entity};
    let row = ActiveModel {
        registry: Set(r.registry.token().to_owned()),
        file_sha256: Set(r.file_sha256),
        serial: Set(r.serial),
        file_date: Set(r.file_date),
        records: Set(r.records),
        imported_at: Set(now),
        format_version: Set(Some(r.format_version)),
        utc_offset: Set(Some(r.utc_offset)),
        notes: Set(r.notes),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::Registry)
                .update_columns([
                    C::FileSha256,
                    C::Serial,
                    C::FileDate,
                    C::Records,
                    C::ImportedAt,
                    C::FormatVersion,
                    C::UtcOffset,
                    C::Notes,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The record of `registry`'s imported delegated file, if one was imported.
pub async fn registry_import(
    conn: &impl ConnectionTrait,
    registry: Rir,
) -> Result<Option<super::entities::registry_import::Model>, DbErr> {
    super::entities::registry_import::Entity::find()
        .filter(super::entities::registry_import::Column::Registry.eq(registry.token()))
        .one(conn)
        .await
}
