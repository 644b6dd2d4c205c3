//! Database schema of ipxfer as sea-orm migrations, identical in meaning on SQLite (the embedded
//! default) and PostgreSQL (production). Never edit a migration that has been released: add one.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_organisations_and_users;
mod m20261128_000002_create_holdings;
mod m20261128_000003_create_transfers;
mod m20261128_000004_create_ledger;
mod m20261128_000005_create_outbox_and_sessions;
mod m20261130_000006_add_session_owner_and_attempt_address;
mod m20261130_000101_create_transparency_log;
mod m20261130_110001_interval_indexes;
mod m20261130_120000_outbox_claimed_by;
mod m20261201_110001_documents_transfer_index;
mod m20261201_140001_registry_fidelity;
mod m20261201_140101_policy_fidelity;
mod m20261201_160101_create_api_tokens;
mod m20261202_000001_queue_indexes;
mod m20261202_000002_outbox_prefix_index;
mod m20261202_000003_ledger_transfer_date_index;
mod m20261202_000004_member_list_indexes;
mod m20261202_000005_foreign_key_indexes;
mod m20261202_000006_open_invitations_index;
mod m20261202_000007_transfer_revision;
mod m20261202_000008_registry_list_indexes;
mod m20261203_000001_queue_order_index;
mod m20261203_000002_holdings_latest_date_index;
mod m20261203_000003_ledger_range_spgist;
mod m20261204_000001_contents_revision;
mod m20261204_000002_attention_revision;
mod m20261204_000003_key_revisions;
mod m20261205_000001_drop_ledger_address_indexes;

pub use m20261203_000001_queue_order_index::QUEUE_REGISTRY;
pub use m20261203_000002_holdings_latest_date_index::HOLDING_LATEST_DATE;

/// Applies ipxfer's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_organisations_and_users::Migration),
            Box::new(m20261128_000002_create_holdings::Migration),
            Box::new(m20261128_000003_create_transfers::Migration),
            Box::new(m20261128_000004_create_ledger::Migration),
            Box::new(m20261128_000005_create_outbox_and_sessions::Migration),
            Box::new(m20261130_000006_add_session_owner_and_attempt_address::Migration),
            Box::new(m20261130_000101_create_transparency_log::Migration),
            Box::new(m20261130_110001_interval_indexes::Migration),
            Box::new(m20261130_120000_outbox_claimed_by::Migration),
            Box::new(m20261201_110001_documents_transfer_index::Migration),
            Box::new(m20261201_140001_registry_fidelity::Migration),
            Box::new(m20261201_140101_policy_fidelity::Migration),
            Box::new(m20261201_160101_create_api_tokens::Migration),
            Box::new(m20261202_000001_queue_indexes::Migration),
            Box::new(m20261202_000002_outbox_prefix_index::Migration),
            Box::new(m20261202_000003_ledger_transfer_date_index::Migration),
            Box::new(m20261202_000004_member_list_indexes::Migration),
            Box::new(m20261202_000005_foreign_key_indexes::Migration),
            Box::new(m20261202_000006_open_invitations_index::Migration),
            Box::new(m20261202_000007_transfer_revision::Migration),
            Box::new(m20261202_000008_registry_list_indexes::Migration),
            Box::new(m20261203_000001_queue_order_index::Migration),
            Box::new(m20261203_000002_holdings_latest_date_index::Migration),
            Box::new(m20261203_000003_ledger_range_spgist::Migration),
            Box::new(m20261204_000001_contents_revision::Migration),
            Box::new(m20261204_000002_attention_revision::Migration),
            Box::new(m20261204_000003_key_revisions::Migration),
            Box::new(m20261205_000001_drop_ledger_address_indexes::Migration),
        ]
    }
}
