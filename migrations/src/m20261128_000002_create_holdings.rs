//! The registry of holdings (who holds which IPv4 range now), the snapshot it was imported from,
//! each registry's inventory (available and reserved space) and the record of imports.
//! Ranges are integer `start_addr`/`end_addr` (inclusive) with indexes, so overlap and
//! containment are index range scans.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000001_create_organisations_and_users::Organisations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Current holdings and the imported snapshot share one shape.
        for table in [Holdings::Table, Holdings::SnapshotTable] {
            manager
                .create_table(
                    Table::create()
                        .table(table.clone())
                        .col(big_pk_auto(Holdings::Id))
                        .col(string_len(Holdings::Registry, 16))
                        .col(big_integer(Holdings::OrganisationId))
                        .col(big_integer(Holdings::StartAddr))
                        .col(big_integer(Holdings::EndAddr))
                        // allocated | assigned | legacy
                        .col(string_len(Holdings::Status, 16))
                        // registry_issued | waiting_list | transferred | merger_acquisition | legacy
                        .col(string_len(Holdings::Origin, 32))
                        .col(date_null(Holdings::RegisteredOn))
                        .col(date_null(Holdings::ReceivedOn))
                        .col(string_len_null(Holdings::Country, 2))
                        .col(text_null(Holdings::Restrictions))
                        .foreign_key(
                            ForeignKey::create()
                                .from(table.clone(), Holdings::OrganisationId)
                                .to(Organisations::Table, Organisations::Id),
                        )
                        .to_owned(),
                )
                .await?;
        }
        for (name, col) in [
            ("holdings_start", Holdings::StartAddr),
            ("holdings_end", Holdings::EndAddr),
            ("holdings_organisation", Holdings::OrganisationId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Holdings::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("holding_snapshot_registry_start")
                    .table(Holdings::SnapshotTable)
                    .col(Holdings::Registry)
                    .col(Holdings::StartAddr)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RegistryInventory::Table)
                    .col(big_pk_auto(RegistryInventory::Id))
                    .col(string_len(RegistryInventory::Registry, 16))
                    .col(big_integer(RegistryInventory::StartAddr))
                    .col(big_integer(RegistryInventory::EndAddr))
                    // available | reserved
                    .col(string_len(RegistryInventory::Status, 16))
                    .col(date_null(RegistryInventory::RecordDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("registry_inventory_registry_start")
                    .table(RegistryInventory::Table)
                    .col(RegistryInventory::Registry)
                    .col(RegistryInventory::StartAddr)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RegistryImports::Table)
                    .col(big_pk_auto(RegistryImports::Id))
                    .col(string_len_uniq(RegistryImports::Registry, 16))
                    // SHA-256 of the file: re-importing the same file is a no-op.
                    .col(string_len(RegistryImports::FileSha256, 64))
                    .col(string_len(RegistryImports::Serial, 32))
                    .col(date_null(RegistryImports::FileDate))
                    .col(big_integer(RegistryImports::Records))
                    .col(timestamp_with_time_zone(RegistryImports::ImportedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RegistryImports::Table.into_iden(),
            RegistryInventory::Table.into_iden(),
            Holdings::SnapshotTable.into_iden(),
            Holdings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone)]
enum Holdings {
    Table,
    #[sea_orm(iden = "holding_snapshot")]
    SnapshotTable,
    Id,
    Registry,
    OrganisationId,
    StartAddr,
    EndAddr,
    Status,
    Origin,
    RegisteredOn,
    ReceivedOn,
    Country,
    Restrictions,
}

#[derive(DeriveIden)]
enum RegistryInventory {
    Table,
    Id,
    Registry,
    StartAddr,
    EndAddr,
    Status,
    RecordDate,
}

#[derive(DeriveIden)]
enum RegistryImports {
    Table,
    Id,
    Registry,
    FileSha256,
    Serial,
    FileDate,
    Records,
    ImportedAt,
}
