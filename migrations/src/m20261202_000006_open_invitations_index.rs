//! An index on `auth_tokens (purpose, expires_at)`: the admin page lists the open invitations
//! (purpose `invitation`, not expired, not used) on every view, which read every one-time token
//! ever issued (invitations and password resets alike; `tests/it/page_cost.rs` found the scan).
//! Now it reads the unexpired invitations only.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "auth_tokens_purpose_expiry";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(AuthTokens::Table)
                    .col(AuthTokens::Purpose)
                    .col(AuthTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(AuthTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuthTokens {
    Table,
    Purpose,
    ExpiresAt,
}
