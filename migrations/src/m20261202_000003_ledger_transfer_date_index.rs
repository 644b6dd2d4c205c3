//! An index on `ledger_entries.transfer_date`. Every export's header names the first and last
//! transfer date of its entries (`records_interval`, `db::ledger_query::date_bounds`), which
//! without it were two full scans of the ledger per export and per build of the public log
//! (36 ms and 12 ms on PostgreSQL at 60,000 entries, docs/performance.md); the auditors' date
//! filters (`from`, `to`) read a range of it too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_transfer_date")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::TransferDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ledger_entries_transfer_date")
                    .table(LedgerEntries::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    TransferDate,
}
