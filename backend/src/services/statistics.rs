//! The auditors' statistics: the ledger read in keyset pages (flows between registries, monthly
//! volume) and the transfers completed in ipxfer (time from filing to completion, prices).

use std::collections::HashMap;

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::entities::{transfer, transfer_block};
use crate::db::ledger as ledger_db;
use crate::domain::statistics::TransferStatistics;
use crate::error::AppResult;

/// Entries read per page.
const PAGE: u64 = 2_000;

/// Computes the statistics, prices included: only auditors may see them, so everyone else's
/// page is rendered from [`TransferStatistics::without_prices`].
pub async fn statistics(conn: &impl ConnectionTrait) -> AppResult<TransferStatistics> {
    let mut stats = TransferStatistics::default();
    let mut after = 0;
    loop {
        let page = ledger_db::page_after(conn, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            stats.add_entry(e);
        }
    }
    let mut after_id = 0;
    loop {
        let rows = transfer::Entity::find()
            .filter(transfer::Column::State.eq("completed"))
            .filter(transfer::Column::Id.gt(after_id))
            .order_by_asc(transfer::Column::Id)
            .limit(PAGE)
            .all(conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.id;
        let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
        let mut addresses: HashMap<i64, u64> = HashMap::new();
        let blocks: Vec<(i64, i64, i64)> = transfer_block::Entity::find()
            .select_only()
            .column(transfer_block::Column::TransferId)
            .column(transfer_block::Column::StartAddr)
            .column(transfer_block::Column::EndAddr)
            .filter(crate::db::packed::id_in_expr(
                conn.get_database_backend(),
                "transfer_id",
                &ids,
            ))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, start, end) in blocks {
            *addresses.entry(id).or_default() += u64::try_from(end - start + 1).unwrap_or(0);
        }
        for t in rows {
            let Some(completed_at) = t.completed_at else {
                continue;
            };
            let price = t
                .agreed_price
                .as_deref()
                .and_then(|p| p.parse::<Decimal>().ok())
                .zip(t.price_currency.clone());
            let n = addresses.get(&t.id).copied().unwrap_or(0);
            stats.add_completed(t.filed_at, completed_at, n, price);
        }
    }
    Ok(stats)
}
