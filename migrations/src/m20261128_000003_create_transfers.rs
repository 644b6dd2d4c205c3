//! Transfers, their blocks, their history (one row per applied workflow event), overridden
//! findings, documents and fee lines. Money is never a float: amounts are canonical decimal text.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000001_create_organisations_and_users::{Organisations, Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Transfers::Table)
                    .col(big_pk_auto(Transfers::Id))
                    .col(string_len_uniq(Transfers::Reference, 32))
                    // RESOURCE_TRANSFER | MERGER_ACQUISITION
                    .col(string_len(Transfers::Kind, 32))
                    .col(big_integer(Transfers::SourceOrgId))
                    .col(big_integer(Transfers::RecipientOrgId))
                    .col(string_len(Transfers::SourceRegistry, 16))
                    .col(string_len(Transfers::RecipientRegistry, 16))
                    // Workflow state name plus the data some states carry (JSON).
                    .col(string_len(Transfers::State, 32))
                    .col(text_null(Transfers::StateData))
                    // Bumped by every event; the first write of each transaction, which also
                    // takes SQLite's write lock up front (no read-then-upgrade deadlock).
                    .col(big_integer(Transfers::Version).default(0))
                    .col(string_len_null(Transfers::AgreedPrice, 40))
                    .col(string_len_null(Transfers::PriceCurrency, 3))
                    .col(text_null(Transfers::NeedText))
                    .col(integer_null(Transfers::NeedHorizonMonths))
                    .col(integer_null(Transfers::NeedUtilisationPercent))
                    .col(timestamp_with_time_zone_null(Transfers::Deadline))
                    .col(big_integer_null(Transfers::FeesConfirmedBy))
                    .col(big_integer_null(Transfers::FirstFinalizerId))
                    .col(big_integer_null(Transfers::FiledBy))
                    .col(timestamp_with_time_zone(Transfers::FiledAt))
                    .col(timestamp_with_time_zone(Transfers::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Transfers::CompletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Transfers::Table, Transfers::SourceOrgId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Transfers::Table, Transfers::RecipientOrgId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("transfers_state", Transfers::State),
            ("transfers_source_org", Transfers::SourceOrgId),
            ("transfers_recipient_org", Transfers::RecipientOrgId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Transfers::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(TransferBlocks::Table)
                    .col(big_pk_auto(TransferBlocks::Id))
                    .col(big_integer(TransferBlocks::TransferId))
                    .col(big_integer(TransferBlocks::StartAddr))
                    .col(big_integer(TransferBlocks::EndAddr))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TransferBlocks::Table, TransferBlocks::TransferId)
                            .to(Transfers::Table, Transfers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("transfer_blocks_transfer", TransferBlocks::TransferId),
            ("transfer_blocks_start", TransferBlocks::StartAddr),
            ("transfer_blocks_end", TransferBlocks::EndAddr),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(TransferBlocks::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(TransferEvents::Table)
                    .col(big_pk_auto(TransferEvents::Id))
                    .col(big_integer(TransferEvents::TransferId))
                    .col(string_len(TransferEvents::Event, 40))
                    .col(string_len_null(TransferEvents::FromState, 32))
                    .col(string_len(TransferEvents::ToState, 32))
                    .col(big_integer_null(TransferEvents::ActorUserId))
                    // Who acted, as shown on the timeline ("Ana (ARIN hostmaster)", "ipxfer (deadline passed)").
                    .col(string_len(TransferEvents::ActorLabel, 200))
                    .col(text_null(TransferEvents::Comment))
                    .col(timestamp_with_time_zone(TransferEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TransferEvents::Table, TransferEvents::TransferId)
                            .to(Transfers::Table, Transfers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("transfer_events_transfer")
                    .table(TransferEvents::Table)
                    .col(TransferEvents::TransferId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FindingOverrides::Table)
                    .col(big_pk_auto(FindingOverrides::Id))
                    .col(big_integer(FindingOverrides::TransferId))
                    .col(string_len(FindingOverrides::RuleId, 64))
                    .col(text(FindingOverrides::Reason))
                    .col(big_integer(FindingOverrides::UserId))
                    .col(timestamp_with_time_zone(FindingOverrides::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FindingOverrides::Table, FindingOverrides::TransferId)
                            .to(Transfers::Table, Transfers::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(big_pk_auto(Documents::Id))
                    .col(big_integer(Documents::TransferId))
                    // transfer_agreement | company_registration | other
                    .col(string_len(Documents::Kind, 32))
                    .col(string_len(Documents::Filename, 255))
                    .col(string_len(Documents::ContentType, 100))
                    .col(big_integer(Documents::SizeBytes))
                    .col(string_len(Documents::Sha256, 64))
                    .col(blob(Documents::Content))
                    .col(big_integer(Documents::UploadedBy))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Documents::Table, Documents::TransferId)
                            .to(Transfers::Table, Transfers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Documents::Table, Documents::UploadedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FeeLines::Table)
                    .col(big_pk_auto(FeeLines::Id))
                    .col(big_integer(FeeLines::TransferId))
                    .col(string_len(FeeLines::Registry, 16))
                    .col(string_len(FeeLines::Payer, 16))
                    .col(string_len(FeeLines::Description, 200))
                    // Canonical decimal text (`1500`, `412.5`): exact on SQLite and PostgreSQL.
                    .col(string_len(FeeLines::Amount, 40))
                    .col(string_len(FeeLines::Currency, 3))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FeeLines::Table, FeeLines::TransferId)
                            .to(Transfers::Table, Transfers::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FeeLines::Table.into_iden(),
            Documents::Table.into_iden(),
            FindingOverrides::Table.into_iden(),
            TransferEvents::Table.into_iden(),
            TransferBlocks::Table.into_iden(),
            Transfers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Transfers {
    Table,
    Id,
    Reference,
    Kind,
    SourceOrgId,
    RecipientOrgId,
    SourceRegistry,
    RecipientRegistry,
    State,
    StateData,
    Version,
    AgreedPrice,
    PriceCurrency,
    NeedText,
    NeedHorizonMonths,
    NeedUtilisationPercent,
    Deadline,
    FeesConfirmedBy,
    FirstFinalizerId,
    FiledBy,
    FiledAt,
    UpdatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum TransferBlocks {
    Table,
    Id,
    TransferId,
    StartAddr,
    EndAddr,
}

#[derive(DeriveIden)]
enum TransferEvents {
    Table,
    Id,
    TransferId,
    Event,
    FromState,
    ToState,
    ActorUserId,
    ActorLabel,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FindingOverrides {
    Table,
    Id,
    TransferId,
    RuleId,
    Reason,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    TransferId,
    Kind,
    Filename,
    ContentType,
    SizeBytes,
    Sha256,
    Content,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeeLines {
    Table,
    Id,
    TransferId,
    Registry,
    Payer,
    Description,
    Amount,
    Currency,
}
