//! The transparency log over the ledger (`docs/transparency.md`): the Merkle tree's stored hashes,
//! every checkpoint the log signed (with the cosignatures witnesses returned), and the tree size
//! each configured witness last cosigned.
//!
//! `tlog_hashes` uses the stored-hash layout of Go's `sumdb/tlog` (`stored_hash_index`): every
//! hash of every complete subtree, about two per entry, written in the same transaction as the
//! entry; like `ledger_entries` it is append-only (triggers reject UPDATE and DELETE). Ledgers that
//! existed before this migration are back-filled by `db::migrate` right after it runs, because
//! the leaves are the entries' canonical bytes, which only the application computes.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER tlog_hashes_no_update BEFORE UPDATE ON tlog_hashes \
     BEGIN SELECT RAISE(ABORT, 'tlog_hashes is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER tlog_hashes_no_delete BEFORE DELETE ON tlog_hashes \
     BEGIN SELECT RAISE(ABORT, 'tlog_hashes is append-only: DELETE rejected'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION tlog_hashes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'tlog_hashes is append-only: % rejected', TG_OP; END $$",
    "CREATE TRIGGER tlog_hashes_no_update_delete BEFORE UPDATE OR DELETE ON tlog_hashes \
     FOR EACH ROW EXECUTE FUNCTION tlog_hashes_append_only()",
    "CREATE TRIGGER tlog_hashes_no_truncate BEFORE TRUNCATE ON tlog_hashes \
     FOR EACH STATEMENT EXECUTE FUNCTION tlog_hashes_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TlogHashes::Table)
                    .col(big_integer(TlogHashes::Idx).primary_key())
                    // 32 bytes of SHA-256.
                    .col(blob(TlogHashes::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TlogCheckpoints::Table)
                    .col(big_pk_auto(TlogCheckpoints::Id))
                    .col(string_len(TlogCheckpoints::Origin, 200))
                    .col(big_integer(TlogCheckpoints::TreeSize))
                    // Lower-case hex.
                    .col(string_len(TlogCheckpoints::RootHash, 64))
                    // The verifier key that signed it: serve refuses to start with another.
                    .col(string_len(TlogCheckpoints::Vkey, 300))
                    // The signed note as the log signed it.
                    .col(text(TlogCheckpoints::Note))
                    // Cosignature lines returned by witnesses, appended as they arrive.
                    .col(text(TlogCheckpoints::Cosignatures).default(""))
                    .col(timestamp_with_time_zone(TlogCheckpoints::SignedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tlog_checkpoints_size")
                    .table(TlogCheckpoints::Table)
                    .col(TlogCheckpoints::TreeSize)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TlogWitnesses::Table)
                    .col(string_len(TlogWitnesses::Vkey, 300).primary_key())
                    // The largest tree size this witness cosigned for the log.
                    .col(big_integer(TlogWitnesses::TreeSize))
                    .to_owned(),
            )
            .await?;
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
        for t in [
            TlogHashes::Table.into_iden(),
            TlogCheckpoints::Table.into_iden(),
            TlogWitnesses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS tlog_hashes_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TlogHashes {
    Table,
    Idx,
    Hash,
}

#[derive(DeriveIden)]
enum TlogCheckpoints {
    Table,
    Id,
    Origin,
    TreeSize,
    RootHash,
    Vkey,
    Note,
    Cosignatures,
    SignedAt,
}

#[derive(DeriveIden)]
enum TlogWitnesses {
    Table,
    Vkey,
    TreeSize,
}
