//! Drops the ledger's B-tree indexes on `start_addr` and on `end_addr` (issue 11). Entries
//! overlap one another, so neither answers "the entries touching this range" (the interval
//! indexes do: SQLite's R*Tree, PostgreSQL's SP-GiST index on the `int8range`), and no statement
//! reads entries in address order; yet every appended entry paid for both. On the scale data set
//! they were an eighth of a transfer-log import on SQLite (60,000 entries into a copy of the
//! table: 0.47 s with them, 0.30 s without). On PostgreSQL the planner used `ledger_entries_start`
//! for a wide range's look among the newest entries (`db::ledger_query::touching_recent`), where
//! it reads every entry below the range's end; without it the same statement walks the newest
//! 2,000 by `seq`, as it does on SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    StartAddr,
    EndAddr,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ledger_entries_start", "ledger_entries_end"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(LedgerEntries::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in [
            ("ledger_entries_start", LedgerEntries::StartAddr),
            ("ledger_entries_end", LedgerEntries::EndAddr),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LedgerEntries::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
