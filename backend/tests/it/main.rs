//! The integration suite: one binary, every test on a fresh database. SQLite by default;
//! PostgreSQL when `TEST_DATABASE_URL` names a server (then each test gets its own database).

mod architecture;
mod browser;
mod cli;
mod demo;
mod exports;
mod fidelity;
mod harness;
mod import;
mod invariants;
mod ledger_store;
mod mail;
mod maildev;
mod migrations;
mod page_cost;
mod security;
mod starvation;
mod tlog;
mod transfers;
mod web;
mod web_account;
mod web_admin;
mod web_audit;
mod web_lookup;
mod web_routes;
mod web_transfers;
