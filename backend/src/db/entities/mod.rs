//! sea-orm entities, one per table. They mirror `migrations/` exactly and hold no logic:
//! mapping to domain types lives in the `db` query modules.

pub mod api_idempotency_key;
pub mod api_token;
pub mod auth_token;
pub mod document;
pub mod email_outbox;
pub mod fee_line;
pub mod finding_override;
pub mod holding;
pub mod holding_snapshot;
pub mod imported_original_set;
pub mod ledger_entry;
pub mod login_attempt;
pub mod organisation;
pub mod policy_exception;
pub mod record_change;
pub mod registry_import;
pub mod registry_inventory;
pub mod session;
pub mod tlog_checkpoint;
pub mod tlog_hash;
pub mod tlog_witness;
pub mod transfer;
pub mod transfer_block;
pub mod transfer_event;
pub mod user;
