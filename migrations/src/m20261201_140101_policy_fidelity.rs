//! Registry fidelity of the policy rules: hostmasters' records that a policy exception applies
//! to a transfer (ARIN-2020-6), a paid status per registry on fee lines and whether a line rests
//! on an unconfirmed fee value, and the history of changes hostmasters make to registry records
//! (a holding's origin, an imported organisation's name).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PolicyExceptions::Table)
                    .col(big_pk_auto(PolicyExceptions::Id))
                    .col(big_integer(PolicyExceptions::TransferId))
                    // The rule it lifts (`source.holding_period`) and the profile's name for the
                    // exception (`ARIN-2020-6`).
                    .col(string_len(PolicyExceptions::RuleId, 64))
                    .col(string_len(PolicyExceptions::Name, 64))
                    .col(text(PolicyExceptions::Reason))
                    .col(big_integer(PolicyExceptions::UserId))
                    .col(timestamp_with_time_zone(PolicyExceptions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_exceptions_transfer")
                    .table(PolicyExceptions::Table)
                    .col(PolicyExceptions::TransferId)
                    .to_owned(),
            )
            .await?;

        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            boolean(FeeLines::Confirmed).default(true).to_owned(),
            big_integer_null(FeeLines::PaidBy),
            timestamp_with_time_zone_null(FeeLines::PaidAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FeeLines::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RecordChanges::Table)
                    .col(big_pk_auto(RecordChanges::Id))
                    // holding | organisation
                    .col(string_len(RecordChanges::Subject, 16))
                    .col(big_integer(RecordChanges::SubjectId))
                    .col(string_len(RecordChanges::Registry, 16))
                    // A holding's range when it was changed (holdings split when they move).
                    .col(big_integer_null(RecordChanges::StartAddr))
                    .col(big_integer_null(RecordChanges::EndAddr))
                    // origin | name
                    .col(string_len(RecordChanges::Field, 32))
                    .col(text(RecordChanges::OldValue))
                    .col(text(RecordChanges::NewValue))
                    .col(text(RecordChanges::Reason))
                    .col(big_integer_null(RecordChanges::UserId))
                    .col(string_len(RecordChanges::ActorLabel, 300))
                    .col(timestamp_with_time_zone(RecordChanges::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("record_changes_subject")
                    .table(RecordChanges::Table)
                    .col(RecordChanges::Subject)
                    .col(RecordChanges::SubjectId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecordChanges::Table).to_owned())
            .await?;
        for column in [FeeLines::PaidAt, FeeLines::PaidBy, FeeLines::Confirmed] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FeeLines::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PolicyExceptions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PolicyExceptions {
    Table,
    Id,
    TransferId,
    RuleId,
    Name,
    Reason,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeeLines {
    Table,
    Confirmed,
    PaidBy,
    PaidAt,
}

#[derive(DeriveIden)]
enum RecordChanges {
    Table,
    Id,
    Subject,
    SubjectId,
    Registry,
    StartAddr,
    EndAddr,
    Field,
    OldValue,
    NewValue,
    Reason,
    UserId,
    ActorLabel,
    CreatedAt,
}
