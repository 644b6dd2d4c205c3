//! An index on `documents.transfer_id`: the transfer page, the queue and the policy's documents
//! rule read a transfer's documents by it, which without an index scanned every stored document
//! (issue 11, docs/performance.md).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("documents_transfer")
                    .table(Documents::Table)
                    .col(Documents::TransferId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("documents_transfer")
                    .table(Documents::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    TransferId,
}
