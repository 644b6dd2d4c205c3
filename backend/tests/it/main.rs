//! The integration suite: one binary, every test on a fresh database. SQLite by default;
//! PostgreSQL when `TEST_DATABASE_URL` names a server (then each test gets its own database).

mod architecture;
mod browser;
mod cli;
mod exports;
mod harness;
mod import;
mod invariants;
mod ledger_store;
mod migrations;
mod transfers;
mod web;
mod web_account;
mod web_audit;
