//! The holdings registry and its imported snapshot: bulk writes for imports, range queries, and
//! conversion to the pure core's [`Holding`].

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{holding, holding_snapshot, registry_inventory};
use super::organisations::BATCH;
use crate::domain::ledger::Holding;
use crate::domain::{Ipv4Range, Rir};

/// One row for `holdings` and `holding_snapshot` (they share a shape).
#[derive(Debug, Clone)]
pub struct HoldingRow {
    pub registry: Rir,
    pub org_id: i64,
    pub range: Ipv4Range,
    pub status: String,
    pub origin: String,
    pub registered_on: Option<time::Date>,
    pub received_on: Option<time::Date>,
    pub country: Option<String>,
}

/// Writes rows into both the live holdings and the snapshot that verification replays from.
pub async fn insert_imported(
    conn: &impl ConnectionTrait,
    rows: &[HoldingRow],
) -> Result<(), DbErr> {
    for chunk in rows.chunks(BATCH) {
        holding::Entity::insert_many(chunk.iter().map(live_row))
            .exec_without_returning(conn)
            .await?;
        holding_snapshot::Entity::insert_many(chunk.iter().map(snapshot_row))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The active model of a row for either table (`holdings` and `holding_snapshot` share a shape).
macro_rules! active_row {
    ($entity:ident, $r:expr) => {{
        use sea_orm::Set;
        let r: &HoldingRow = $r;
        $entity::ActiveModel {
            registry: Set(r.registry.token().to_owned()),
            organisation_id: Set(r.org_id),
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
    }};
}

/// The live-holdings active model of a row.
pub fn live_row(r: &HoldingRow) -> holding::ActiveModel {
    active_row!(holding, r)
}

fn snapshot_row(r: &HoldingRow) -> holding_snapshot::ActiveModel {
    active_row!(holding_snapshot, r)
}

/// Inventory (available or reserved space) of a registry.
pub async fn insert_inventory(
    conn: &impl ConnectionTrait,
    registry: Rir,
    rows: &[(Ipv4Range, &'static str, Option<time::Date>)],
) -> Result<(), DbErr> {
    use sea_orm::Set;
    for chunk in rows.chunks(BATCH) {
        let models = chunk
            .iter()
            .map(|(range, status, date)| registry_inventory::ActiveModel {
                registry: Set(registry.token().to_owned()),
                start_addr: Set(i64::from(range.start())),
                end_addr: Set(i64::from(range.end())),
                status: Set((*status).to_owned()),
                record_date: Set(*date),
                ..Default::default()
            });
        registry_inventory::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
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
    select_overlapping(conn, range, false, None).await
}

/// The first `limit` live holdings that overlap `range`, in address order (a lookup of a wide
/// range reads no more than it shows).
pub async fn overlapping_at_most(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    limit: u64,
) -> Result<Vec<holding::Model>, DbErr> {
    select_overlapping(conn, range, false, Some(limit)).await
}

/// Locks the live holdings that overlap `range` until the transaction ends (`FOR UPDATE`, on
/// PostgreSQL; SQLite's write transaction already excludes every other writer).
pub async fn lock_overlapping(conn: &impl ConnectionTrait, range: Ipv4Range) -> Result<(), DbErr> {
    select_overlapping(conn, range, true, None).await.map(drop)
}

/// Holdings never overlap, so those overlapping `range` are the last one starting at or before
/// it (if it reaches into it) and those starting inside it: two tight scans of the `start_addr`
/// index, where `start <= end AND end >= start` would read every holding below the range.
async fn select_overlapping(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    lock: bool,
    limit: Option<u64>,
) -> Result<Vec<holding::Model>, DbErr> {
    let (start, end) = (i64::from(range.start()), i64::from(range.end()));
    let mut before = holding::Entity::find()
        .filter(holding::Column::StartAddr.lte(start))
        .order_by_desc(holding::Column::StartAddr)
        .limit(1);
    let mut inside = holding::Entity::find()
        .filter(holding::Column::StartAddr.gt(start))
        .filter(holding::Column::StartAddr.lte(end))
        .order_by_asc(holding::Column::StartAddr);
    if let Some(limit) = limit {
        inside = inside.limit(limit);
    }
    if lock {
        before = before.lock_exclusive();
        inside = inside.lock_exclusive();
    }
    let mut out: Vec<holding::Model> = before
        .one(conn)
        .await?
        .into_iter()
        .filter(|h| h.end_addr >= start)
        .collect();
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
        org_id,
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

/// Every row of `holdings` or `holding_snapshot` in the pure core's shape.
macro_rules! load_all {
    ($entity:ident, $conn:expr) => {{
        let rows: Vec<(String, i64, i64, i64)> = $entity::Entity::find()
            .select_only()
            .column($entity::Column::Registry)
            .column($entity::Column::OrganisationId)
            .column($entity::Column::StartAddr)
            .column($entity::Column::EndAddr)
            .into_tuple()
            .all($conn)
            .await?;
        rows.into_iter()
            .map(|(r, o, s, e)| to_holding(&r, o, s, e))
            .collect()
    }};
}

/// The live holdings registry, in the pure core's shape.
pub async fn load_live(conn: &impl ConnectionTrait) -> Result<Vec<Holding>, DbErr> {
    load_all!(holding, conn)
}

/// The imported snapshot, in the pure core's shape.
pub async fn load_snapshot(conn: &impl ConnectionTrait) -> Result<Vec<Holding>, DbErr> {
    load_all!(holding_snapshot, conn)
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
