//! Who holds an address or block now, and which ledger entries moved it: the reads behind the
//! block lookup page and the public RDAP service, so both answer from one path to the data.
//! Every read is an index seek or an interval-index scan: a lookup costs what it returns, never
//! a scan of the holdings or the ledger.

use sea_orm::ConnectionTrait;

use crate::db::entities::{holding, organisation, registry_inventory};
use crate::db::{holdings as holdings_db, ledger_query, organisations as orgs_db};
use crate::domain::ledger::LedgerEntry;
use crate::domain::{Ipv4Range, Rir};
use crate::error::AppResult;

/// A live holding with the organisation that holds it.
#[derive(Debug, Clone)]
pub struct Held {
    pub holding: holding::Model,
    pub holder: organisation::Model,
}

/// What a registry records for a range that lies wholly inside one of its blocks.
#[derive(Debug, Clone)]
pub enum Registration {
    /// Held by an organisation.
    Held(Box<Held>),
    /// In a registry's inventory: available or reserved.
    Inventory {
        registry: Rir,
        block: registry_inventory::Model,
    },
}

/// The first `limit` holdings that overlap `range`, in address order, each with its holder.
pub async fn holdings(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    after: Option<u32>,
    limit: u64,
) -> AppResult<Vec<Held>> {
    let rows = holdings_db::overlapping_with_holders(conn, range, after, limit).await?;
    Ok(rows
        .into_iter()
        .map(|(holding, holder)| Held { holding, holder })
        .collect())
}

/// The newest `limit` ledger entries that moved any address of `range` (before entry `before`,
/// when given), newest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<LedgerEntry>> {
    Ok(ledger_query::touching(conn, range, before, limit).await?)
}

/// [`holdings`] after `after` and [`history`] before `before` together, as the lookup page shows
/// them: one statement on SQLite (`db::lookup`).
pub async fn holdings_and_history(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    (after, before): (Option<u32>, Option<i64>),
    limit: u64,
) -> AppResult<(Vec<Held>, Vec<LedgerEntry>)> {
    let (held, entries) =
        crate::db::lookup::holders_and_history(conn, range, (after, before), limit).await?;
    let held = held
        .into_iter()
        .map(|(holding, holder)| Held { holding, holder })
        .collect();
    Ok((held, entries))
}

/// The registration that contains all of `range`: the holding, else the inventory block.
/// `None` when nothing does (nobody holds it, or it spans more than one registration).
pub async fn containing(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
) -> AppResult<Option<Registration>> {
    // Holdings never overlap, so the first one overlapping the range is the only candidate.
    if let Some(held) = holdings(conn, range, None, 1).await?.into_iter().next() {
        let held_range = holdings_db::range_of(held.holding.start_addr, held.holding.end_addr)?;
        return Ok(held_range
            .contains(&range)
            .then(|| Registration::Held(Box::new(held))));
    }
    Ok(holdings_db::inventory_containing(conn, range)
        .await?
        .map(|(registry, block)| Registration::Inventory { registry, block }))
}

/// An organisation by its registry and handle.
pub async fn organisation(
    conn: &impl ConnectionTrait,
    registry: Rir,
    handle: &str,
) -> AppResult<Option<organisation::Model>> {
    Ok(orgs_db::by_handle(conn, registry, handle).await?)
}
