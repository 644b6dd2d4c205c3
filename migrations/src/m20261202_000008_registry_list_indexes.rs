//! A registry's transfers in id order, on each side: `(source_registry, id)` and
//! `(recipient_registry, id)`. A hostmaster's list (newest first, 50 a page) reads the newest ids
//! of each side from these and merges them, as a member's list does (`member_list_indexes`);
//! SQLite otherwise read every transfer of the registry through the queue indexes and sorted
//! them (3,271 of the scale set's 10,500 for ARIN, on every view).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, the side's column).
const SIDES: [(&str, Transfers); 2] = [
    ("transfers_source_registry_id", Transfers::SourceRegistry),
    (
        "transfers_recipient_registry_id",
        Transfers::RecipientRegistry,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, side) in SIDES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Transfers::Table)
                        .col(side)
                        .col(Transfers::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in SIDES {
            manager
                .drop_index(Index::drop().name(name).table(Transfers::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone)]
enum Transfers {
    Table,
    Id,
    SourceRegistry,
    RecipientRegistry,
}
