//! Read-only queries over the ledger, the holdings and the open transfers for auditors: filtered
//! keyset pages of ledger entries (exports read them oldest first, the ledger browser newest
//! first), one entry by sequence number, the date bounds of a filtered export, holdings and
//! inventory of one registry in address order, and in-flight inter-RIR transfers.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::{Date, OffsetDateTime, Time};

use super::entities::{
    holding, ledger_entry, organisation, registry_inventory, transfer, transfer_block,
    transfer_event,
};
use super::holdings::range_of;
use super::ledger::from_row;
use crate::domain::export::LedgerFilter;
use crate::domain::ledger::LedgerEntry;
use crate::domain::workflow::State;
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
        let (start, end) = (i64::from(r.start()), i64::from(r.end()));
        c = c.add(match backend {
            DatabaseBackend::Postgres => Expr::cust_with_values(
                "int8range(start_addr, end_addr, '[]') && int8range($1, $2, '[]')",
                [start, end],
            ),
            _ => Expr::cust_with_values(
                "seq IN (SELECT seq FROM ledger_entry_intervals WHERE lo <= ? AND hi >= ?)",
                [end - (1 << 31), start - (1 << 31)],
            ),
        });
    }
    c
}

/// Up to `limit` entries passing `filter`, after (or before) `cursor` in `direction`.
pub async fn page(
    conn: &impl ConnectionTrait,
    filter: &LedgerFilter,
    cursor: Option<i64>,
    direction: Direction,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
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
    q.order_by(C::Seq, order)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
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
        .filter(organisation::Column::Id.is_in(ids))
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

/// An inter-RIR transfer that is not completed, with what a transfer log shows of it.
#[derive(Debug, Clone)]
pub struct OpenTransfer {
    pub row: transfer::Model,
    pub state: State,
    pub blocks: Vec<Ipv4Range>,
    /// The state each of its events entered, with the time, oldest first.
    pub history: Vec<(String, OffsetDateTime)>,
    pub source: organisation::Model,
    pub recipient: organisation::Model,
}

/// Up to `limit` inter-RIR transfers after id `after` that are not completed (in flight or
/// cancelled), in id order, each with its history (the state each event entered, oldest first):
/// what the 5.0 transfer log publishes besides the ledger. Completed transfers are in the ledger.
pub async fn unfinished_inter_rir_page(
    conn: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<OpenTransfer>, DbErr> {
    use transfer::Column as C;
    let rows = transfer::Entity::find()
        .filter(C::Id.gt(after))
        .filter(Expr::col(C::SourceRegistry).ne(Expr::col(C::RecipientRegistry)))
        .filter(C::State.ne("completed"))
        .order_by_asc(C::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let mut history: HashMap<i64, Vec<(String, OffsetDateTime)>> = HashMap::new();
    for (transfer_id, to_state, at) in transfer_event::Entity::find()
        .select_only()
        .column(transfer_event::Column::TransferId)
        .column(transfer_event::Column::ToState)
        .column(transfer_event::Column::CreatedAt)
        .filter(transfer_event::Column::TransferId.is_in(ids.clone()))
        .order_by_asc(transfer_event::Column::Id)
        .into_tuple::<(i64, String, OffsetDateTime)>()
        .all(conn)
        .await?
    {
        history.entry(transfer_id).or_default().push((to_state, at));
    }
    let mut blocks: HashMap<i64, Vec<Ipv4Range>> = HashMap::new();
    for b in transfer_block::Entity::find()
        .filter(transfer_block::Column::TransferId.is_in(ids))
        .order_by_asc(transfer_block::Column::StartAddr)
        .all(conn)
        .await?
    {
        blocks
            .entry(b.transfer_id)
            .or_default()
            .push(range_of(b.start_addr, b.end_addr)?);
    }
    let org_ids: Vec<i64> = rows
        .iter()
        .flat_map(|t| [t.source_org_id, t.recipient_org_id])
        .collect();
    let orgs: HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    rows.into_iter()
        .map(|row| {
            let state = State::from_parts(&row.state, row.state_data.as_deref())
                .map_err(|e| DbErr::Custom(format!("transfer {}: {e}", row.id)))?;
            let org = |id: i64| {
                orgs.get(&id)
                    .cloned()
                    .ok_or_else(|| DbErr::Custom(format!("organisation {id} is missing")))
            };
            Ok(OpenTransfer {
                blocks: blocks.remove(&row.id).unwrap_or_default(),
                history: history.remove(&row.id).unwrap_or_default(),
                source: org(row.source_org_id)?,
                recipient: org(row.recipient_org_id)?,
                state,
                row,
            })
        })
        .collect()
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
