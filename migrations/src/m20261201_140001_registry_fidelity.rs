//! What registry fidelity needs kept (issue 14): the version line of each registry's imported
//! delegated file (`format_version`, `utc_offset`; its serial is already kept), so a delegated
//! export writes it as the registry did, and the notes an import printed (declared counts that
//! differ from the file); and the `original_set` of an imported transfer-log record that its
//! ledger entries cannot carry themselves (one `original` per entry), keyed by the record's
//! reference (`ledger_entries.transfer_reference` of its entries).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            // `2.3`, or `2` as AFRINIC and RIPE NCC write it.
            string_len_null(RegistryImports::FormatVersion, 16),
            // As written: `+0000`, `-0400`, AFRINIC's `00000`.
            string_len_null(RegistryImports::UtcOffset, 16),
            // The import's notes, one per line (count mismatches); NULL when there were none.
            text_null(RegistryImports::Notes),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RegistryImports::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ImportedOriginalSets::Table)
                    .col(big_pk_auto(ImportedOriginalSets::Id))
                    // The record's reference, as its ledger entries carry it.
                    .col(string_len(ImportedOriginalSets::Reference, 200))
                    // Order in the log's original_set, from 0.
                    .col(integer(ImportedOriginalSets::Position))
                    .col(big_integer(ImportedOriginalSets::StartAddr))
                    .col(big_integer(ImportedOriginalSets::EndAddr))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("imported_original_sets_reference")
                    .table(ImportedOriginalSets::Table)
                    .col(ImportedOriginalSets::Reference)
                    .col(ImportedOriginalSets::Position)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportedOriginalSets::Table).to_owned())
            .await?;
        for column in [
            RegistryImports::Notes,
            RegistryImports::UtcOffset,
            RegistryImports::FormatVersion,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RegistryImports::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RegistryImports {
    Table,
    FormatVersion,
    UtcOffset,
    Notes,
}

#[derive(DeriveIden)]
enum ImportedOriginalSets {
    Table,
    Id,
    Reference,
    Position,
    StartAddr,
    EndAddr,
}
