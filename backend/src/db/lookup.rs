//! The lookup page's two reads, who holds a range now and which ledger entries moved it, as
//! one statement on SQLite, where each statement is a hand-off to sqlx's worker thread and
//! each row another (`db::packed`). PostgreSQL reads them as they are read alone, so that it
//! plans the history for each range ([`holders_and_history`] says why).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr};

use super::entities::{holding, organisation};
use super::packed::PackedBatch;
use super::{holdings, ledger, ledger_query};
use crate::domain::Ipv4Range;
use crate::domain::ledger::LedgerEntry;

/// The first `limit` holdings overlapping `range` (after the holding starting at `after`, when
/// given) with their holders, as [`holdings::overlapping_with_holders`] reads them, and the
/// newest `limit` entries touching it (before entry `before`), as
/// [`ledger_query::touching`] does. On SQLite one statement, unless the range is wide enough
/// for the history to look among the newest entries first.
pub async fn holders_and_history(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
    (after, before): (Option<u32>, Option<i64>),
    limit: u64,
) -> Result<(Vec<(holding::Model, organisation::Model)>, Vec<LedgerEntry>), DbErr> {
    let backend = conn.get_database_backend();
    // PostgreSQL plans the history's own statement for the range it is given each time. Read
    // in one statement with the holdings, it settled on a generic plan after five executions,
    // which walks the ledger newest first (13 ms an execution on the scale set instead of 1-2),
    // and the page fell from 1,180 to 130 requests/s.
    if backend == DatabaseBackend::Postgres || ledger_query::is_wide(range) {
        return Ok((
            holdings::overlapping_with_holders(conn, range, after, limit).await?,
            ledger_query::touching(conn, range, before, limit).await?,
        ));
    }
    let mut batch = PackedBatch::default();
    let held = batch.add(
        holdings::overlapping_with_holders_statement(backend, range, after, limit),
        holdings::PACKED_HELD_COLUMNS,
    );
    let entries = batch.add(
        ledger_query::touching_indexed(backend, range, before, limit),
        &ledger::packed_entry_columns(),
    );
    let rows = batch.run(conn).await?;
    Ok((
        holdings::unpack_held(rows.text(held)?)?,
        ledger::unpack(rows.text(entries)?, true)?,
    ))
}
