//! Personal access tokens for the JSON API (`/api/v1/`) and the idempotency keys of its POSTs.
//!
//! A token is stored only as its SHA-256: the secret is shown once, when it is created. An
//! idempotency key is unique per token, so two concurrent retries of one POST cannot both run:
//! the second insert fails and waits for (or returns) the first one's answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string_len(ApiTokens::Name, 100))
                    // The first characters of the token, so people can tell their tokens apart.
                    .col(string_len(ApiTokens::Prefix, 16))
                    // SHA-256 of the whole token, hex.
                    .col(string_len_uniq(ApiTokens::TokenHash, 64))
                    // Space-separated: `read`, `transfers:write`.
                    .col(string_len(ApiTokens::Scopes, 100))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .col(big_integer_null(ApiTokens::RevokedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_tokens_user")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiIdempotencyKeys::Table)
                    .col(big_pk_auto(ApiIdempotencyKeys::Id))
                    .col(big_integer(ApiIdempotencyKeys::TokenId))
                    .col(string_len(ApiIdempotencyKeys::Key, 255))
                    // SHA-256 of method, path and body: the same key with another request is
                    // refused rather than answered with the first request's result.
                    .col(string_len(ApiIdempotencyKeys::RequestHash, 64))
                    // NULL while the first request runs.
                    .col(integer_null(ApiIdempotencyKeys::Status))
                    .col(string_len_null(ApiIdempotencyKeys::ContentType, 100))
                    .col(text_null(ApiIdempotencyKeys::Body))
                    .col(timestamp_with_time_zone(ApiIdempotencyKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiIdempotencyKeys::Table, ApiIdempotencyKeys::TokenId)
                            .to(ApiTokens::Table, ApiTokens::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_idempotency_keys_token_key")
                    .table(ApiIdempotencyKeys::Table)
                    .col(ApiIdempotencyKeys::TokenId)
                    .col(ApiIdempotencyKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiIdempotencyKeys::Table.into_iden(),
            ApiTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    TokenHash,
    Scopes,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum ApiIdempotencyKeys {
    Table,
    Id,
    TokenId,
    Key,
    RequestHash,
    Status,
    ContentType,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
