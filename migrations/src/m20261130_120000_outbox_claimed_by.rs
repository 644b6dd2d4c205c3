//! Who holds an outbox claim: the claiming process, so that a process that finds the claimer dead
//! (on the same machine and in the same process namespace) releases the claim at once instead of
//! waiting out the lease (`db::outbox::release_dead_claims`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            // For people: "pid 4242 on web-1, started 2026-11-30T17:00:00.123456Z".
            string_len_null(EmailOutbox::ClaimedBy, 300),
            big_integer_null(EmailOutbox::ClaimedPid),
            // Boot id and pid namespace of the claimer, where its pid can be checked; NULL where
            // it cannot, and such claims wait out their lease.
            string_len_null(EmailOutbox::ClaimedPidNamespace, 100),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EmailOutbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            EmailOutbox::ClaimedPidNamespace,
            EmailOutbox::ClaimedPid,
            EmailOutbox::ClaimedBy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EmailOutbox::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    ClaimedBy,
    ClaimedPid,
    ClaimedPidNamespace,
}
