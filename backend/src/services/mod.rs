//! Use cases. Each one is a database transaction around the pure core: load, decide with
//! `domain`, then persist every consequence (state, history, ledger, holdings, outbox) together.

pub mod accounts;
pub mod api_tokens;
pub mod demo;
pub mod documents;
pub mod export;
pub mod idempotency;
pub mod import;
pub mod ledger;
pub mod lookup;
pub mod monitor;
pub mod notifications;
pub mod outbox;
pub mod records;
pub mod scale;
pub mod scheduler;
pub mod statistics;
pub mod stats;
pub mod tlog;
pub mod transfer_access;
pub mod transfers;
pub mod witness;
