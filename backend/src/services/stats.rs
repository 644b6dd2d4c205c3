//! Counts per registry (organisations, holdings, addresses held, inventory) and ledger entries
//! by kind, for `ipxfer stats` and the dashboards.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::domain::Rir;
use crate::error::AppResult;

/// One registry's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryStats {
    pub organisations: u64,
    pub holdings: u64,
    pub ipv4_addresses: u64,
    pub inventory_addresses: u64,
}

/// The whole report; serialises to the documented `ipxfer stats --json` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Keyed by NRO name (`"RIPE NCC"`); every registry is present, zeros included.
    pub registries: BTreeMap<String, RegistryStats>,
    /// Entries by kind (`imported`, `transfer`); both kinds are present.
    pub ledger: BTreeMap<String, u64>,
}

async fn grouped(conn: &impl ConnectionTrait, sql: &str) -> AppResult<Vec<(String, u64, u64)>> {
    let backend: DbBackend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    rows.into_iter()
        .map(|row| {
            let key: String = row.try_get_by_index(0)?;
            let count: i64 = row.try_get_by_index(1)?;
            let sum: i64 = row.try_get_by_index(2)?;
            Ok((key, count as u64, sum as u64))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// Computes the report with four grouped queries.
pub async fn stats(conn: &impl ConnectionTrait) -> AppResult<Stats> {
    let mut out = Stats::default();
    for rir in Rir::ALL {
        out.registries
            .insert(rir.nro_name().to_owned(), RegistryStats::default());
    }
    let by_token = |token: &str| Rir::from_token(token).map(|r| r.nro_name().to_owned());
    // CAST keeps SUM an integer on PostgreSQL (where SUM(bigint) is numeric) and SQLite alike.
    for (token, count, _) in grouped(
        conn,
        "SELECT registry, COUNT(*), CAST(0 AS BIGINT) FROM organisations GROUP BY registry",
    )
    .await?
    {
        if let Some(name) = by_token(&token) {
            out.registries.entry(name).or_default().organisations = count;
        }
    }
    for (token, count, sum) in grouped(
        conn,
        "SELECT registry, COUNT(*), CAST(COALESCE(SUM(end_addr - start_addr + 1), 0) AS BIGINT) \
         FROM holdings GROUP BY registry",
    )
    .await?
    {
        if let Some(name) = by_token(&token) {
            let r = out.registries.entry(name).or_default();
            r.holdings = count;
            r.ipv4_addresses = sum;
        }
    }
    for (token, _, sum) in grouped(
        conn,
        "SELECT registry, COUNT(*), CAST(COALESCE(SUM(end_addr - start_addr + 1), 0) AS BIGINT) \
         FROM registry_inventory GROUP BY registry",
    )
    .await?
    {
        if let Some(name) = by_token(&token) {
            out.registries.entry(name).or_default().inventory_addresses = sum;
        }
    }
    out.ledger.insert("imported".into(), 0);
    out.ledger.insert("transfer".into(), 0);
    for (kind, count, _) in grouped(
        conn,
        "SELECT kind, COUNT(*), CAST(0 AS BIGINT) FROM ledger_entries GROUP BY kind",
    )
    .await?
    {
        out.ledger.insert(kind, count);
    }
    Ok(out)
}
