//! Indexes for the hostmaster queue: each registry's steps are the transfers in a few states on
//! its source or its recipient side, read oldest first and counted (all, and those past the
//! service level). On the `state` index alone a queue page read every transfer in those states
//! of every registry; these read only the registry's, in `updated_at` order (issue 11).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, Transfers); 2] = [
    ("transfers_source_queue", Transfers::SourceRegistry),
    ("transfers_recipient_queue", Transfers::RecipientRegistry),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, side) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Transfers::Table)
                        .col(side)
                        .col(Transfers::State)
                        .col(Transfers::UpdatedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Transfers::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Transfers {
    Table,
    SourceRegistry,
    RecipientRegistry,
    State,
    UpdatedAt,
}
