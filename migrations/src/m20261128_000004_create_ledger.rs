//! The ledger: one row per approved (or imported) block movement, hash-chained by `prev_hash`.
//! Append-only in the database too: triggers reject UPDATE and DELETE on SQLite and PostgreSQL
//! (and TRUNCATE on PostgreSQL). `seq` is the primary key, so two concurrent appends that read
//! the same head cannot both commit: the chain never forks.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE rejected'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'ledger_entries is append-only: % rejected', TG_OP; END $$",
    "CREATE TRIGGER ledger_entries_no_update_delete BEFORE UPDATE OR DELETE ON ledger_entries \
     FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()",
    "CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries \
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .col(big_integer(LedgerEntries::Seq).primary_key())
                    // imported | transfer
                    .col(string_len(LedgerEntries::Kind, 16))
                    .col(big_integer_null(LedgerEntries::TransferId))
                    .col(string_len_null(LedgerEntries::TransferReference, 32))
                    .col(string_len(LedgerEntries::TransferType, 32))
                    .col(string_len(LedgerEntries::SourceRegistry, 16))
                    .col(string_len(LedgerEntries::RecipientRegistry, 16))
                    .col(big_integer_null(LedgerEntries::SourceOrgId))
                    .col(big_integer_null(LedgerEntries::RecipientOrgId))
                    .col(string_len_null(LedgerEntries::SourceOrgName, 200))
                    .col(string_len_null(LedgerEntries::RecipientOrgName, 200))
                    .col(string_len_null(LedgerEntries::SourceCountry, 2))
                    .col(string_len_null(LedgerEntries::RecipientCountry, 2))
                    .col(big_integer(LedgerEntries::StartAddr))
                    .col(big_integer(LedgerEntries::EndAddr))
                    // The registry block the range was cut from, when known.
                    .col(big_integer_null(LedgerEntries::OriginalStart))
                    .col(big_integer_null(LedgerEntries::OriginalEnd))
                    .col(timestamp_with_time_zone(LedgerEntries::TransferDate))
                    .col(timestamp_with_time_zone_null(
                        LedgerEntries::SourceRegistrationDate,
                    ))
                    .col(timestamp_with_time_zone(LedgerEntries::RecordedAt))
                    .col(string_len(LedgerEntries::PrevHash, 64))
                    .col(string_len_uniq(LedgerEntries::Hash, 64))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ledger_entries_start", LedgerEntries::StartAddr),
            ("ledger_entries_end", LedgerEntries::EndAddr),
            ("ledger_entries_transfer", LedgerEntries::TransferId),
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
        let triggers = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        let db = manager.get_connection();
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LedgerEntries::Table).to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Seq,
    Kind,
    TransferId,
    TransferReference,
    TransferType,
    SourceRegistry,
    RecipientRegistry,
    SourceOrgId,
    RecipientOrgId,
    SourceOrgName,
    RecipientOrgName,
    SourceCountry,
    RecipientCountry,
    StartAddr,
    EndAddr,
    OriginalStart,
    OriginalEnd,
    TransferDate,
    SourceRegistrationDate,
    RecordedAt,
    PrevHash,
    Hash,
}
