//! The e-mail outbox (written in the same transaction as the change that causes each message)
//! and the session table behind tower-sessions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(big_pk_auto(EmailOutbox::Id))
                    // Stable across retries, so a retry never produces a second, different mail.
                    .col(string_len_uniq(EmailOutbox::MessageId, 200))
                    .col(string_len(EmailOutbox::Kind, 40))
                    .col(string_len(EmailOutbox::ToAddress, 254))
                    .col(string_len(EmailOutbox::Subject, 300))
                    .col(text(EmailOutbox::BodyText))
                    .col(text_null(EmailOutbox::BodyHtml))
                    .col(big_integer_null(EmailOutbox::TransferId))
                    // pending | sent | failed
                    .col(string_len(EmailOutbox::Status, 16))
                    .col(integer(EmailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                    .col(text_null(EmailOutbox::LastError))
                    .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_outbox_due")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::Status)
                    .col(EmailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TowerSessions::Table)
                    .col(string_len(TowerSessions::Id, 64).primary_key())
                    .col(blob(TowerSessions::Data))
                    // Unix seconds.
                    .col(big_integer(TowerSessions::ExpiryDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tower_sessions_expiry")
                    .table(TowerSessions::Table)
                    .col(TowerSessions::ExpiryDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TowerSessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    MessageId,
    Kind,
    ToAddress,
    Subject,
    BodyText,
    BodyHtml,
    TransferId,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum TowerSessions {
    Table,
    Id,
    Data,
    ExpiryDate,
}
