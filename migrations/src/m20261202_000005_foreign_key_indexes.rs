//! Indexes on the foreign keys that are looked up by: a transfer's fee lines and finding
//! overrides (read by every view of a transfer page, which scanned all 15,000 fee lines of the
//! scale data set on both databases: 0.84 ms of PostgreSQL's time a view, the page's dearest
//! statement), an organisation's users and a user's one-time tokens. Two foreign keys stay
//! unindexed on purpose (`tests/it/migrations.rs` lists them): `holding_snapshot.organisation_id`
//! (the snapshot is bulk-loaded and read whole) and `documents.uploaded_by` (never looked up).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, column).
const INDEXES: [(&str, &str, &str); 4] = [
    ("fee_lines_transfer", "fee_lines", "transfer_id"),
    (
        "finding_overrides_transfer",
        "finding_overrides",
        "transfer_id",
    ),
    ("users_organisation", "users", "organisation_id"),
    ("auth_tokens_user", "auth_tokens", "user_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
