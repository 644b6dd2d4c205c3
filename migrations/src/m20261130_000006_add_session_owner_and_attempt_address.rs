//! Sessions carry their user's id, so a password reset or a deactivation can end every session
//! of that account; sign-in attempts carry the client's address, so failures are throttled per
//! account and address and per address rather than per account alone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(TowerSessions::Table)
                    .add_column(big_integer_null(TowerSessions::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tower_sessions_user")
                    .table(TowerSessions::Table)
                    .col(TowerSessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LoginAttempts::Table)
                    // An IPv6 address in text is at most 45 characters.
                    .add_column(string_len_null(LoginAttempts::ClientAddr, 45))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_attempts_client_time")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::ClientAddr)
                    .col(LoginAttempts::AttemptedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("login_attempts_client_time")
                    .table(LoginAttempts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LoginAttempts::Table)
                    .drop_column(LoginAttempts::ClientAddr)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("tower_sessions_user")
                    .table(TowerSessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TowerSessions::Table)
                    .drop_column(TowerSessions::UserId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TowerSessions {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    ClientAddr,
    AttemptedAt,
}
