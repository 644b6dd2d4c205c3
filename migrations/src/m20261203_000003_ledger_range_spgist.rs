//! The ledger's interval index on PostgreSQL as SP-GiST instead of GiST (issue 11). Both serve
//! the lookup's "entries touching this range" (`&&` on the same `int8range` expression, with
//! the same plan and about the same time on the scale data set), but inserting into the GiST
//! index was the dearest part of a transfer-log import on PostgreSQL: 60,000 of the scale set's
//! entries into an unindexed table 64 ms, into one with the GiST index 620-735 ms, with the
//! SP-GiST index 190-280 ms (docs/performance.md). SQLite keeps its R*Tree, and the transfers'
//! blocks their GiST index (written a few at a time, by filings, and read with `range_agg`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn ledger_range_index(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let conn = manager.get_connection();
    conn.execute_unprepared("DROP INDEX ledger_entries_range")
        .await?;
    conn.execute_unprepared(&format!(
        "CREATE INDEX ledger_entries_range ON ledger_entries \
         USING {method} (int8range(start_addr, end_addr, '[]'))"
    ))
    .await?;
    // The statistics of an expression belong to its index and went with the old one: without
    // them the planner guesses how many entries touch a range and, on the scale data set, read
    // the whole ledger backwards by `seq` for a /16 (22-38 ms instead of 0.06).
    conn.execute_unprepared("ANALYZE ledger_entries").await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ledger_range_index(manager, "spgist").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ledger_range_index(manager, "gist").await
    }
}
