//! The kept pages' keys as rows of `revisions` on PostgreSQL (issue 11): every signed-in view
//! reads the keys with its session (`db::freshness::freshness_columns`), and on PostgreSQL the
//! walks of `ledger_entries`, `registry_imports`, `tlog_checkpoints` and `organisations` they took
//! cost that statement a lock and a plan node per table on every view (`pgbench`: 14,000-15,000
//! statements/s with them, 19,000-21,000 with probes of this one table). Statement triggers keep:
//!
//! - `ledger`: the ledger's head `seq` (the ledger is append-only, so its head names it). Read
//!   as the inserting statement ends: appends are serialised (`db::ledger::lock_appends`), so
//!   that statement's snapshot holds every entry committed before it, and the row is the head;
//! - `organisations`, `imports` and `checkpoints`: moved by every insert or delete of an
//!   organisation and every write of an import's record or a checkpoint (a new one, or
//!   cosignatures added). Counted, not the newest organisation's id: organisations are inserted
//!   concurrently, and a statement whose snapshot already held a later one would leave the id
//!   unchanged though its own organisation is new; an update of the row adds to its newest
//!   version, after waiting for the writer before it.
//!
//! Statement triggers, not row triggers: the imports insert 60,000 entries or 80,000
//! organisations in a few statements, and a row trigger would cost each row a call. They move the
//! row as the statement ends, so it stays locked until the commit, which orders no two writers
//! worse than before: appends are serialised already, and an import locks `organisations` before
//! `imports`, as any other import does.
//!
//! SQLite keeps reading the tables themselves: its probes are calls within the process, and it
//! has only row triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each revision: its name, the table and writes that move it, and its new value (`revision`
/// is the row's current one).
const KEYS: [(&str, &str, &str, &str); 4] = [
    (
        "ledger",
        "ledger_entries",
        "INSERT",
        "(SELECT coalesce(max(seq), 0) FROM ledger_entries)",
    ),
    (
        "organisations",
        "organisations",
        "INSERT OR DELETE",
        "revision + 1",
    ),
    (
        "imports",
        "registry_imports",
        "INSERT OR UPDATE OR DELETE",
        "revision + 1",
    ),
    (
        "checkpoints",
        "tlog_checkpoints",
        "INSERT OR UPDATE OR DELETE",
        "revision + 1",
    ),
];

fn postgres_up() -> Vec<String> {
    let mut up = Vec::new();
    for (name, table, ops, value) in KEYS {
        let set = format!("UPDATE revisions SET revision = {value} WHERE name = '{name}'");
        up.push(format!(
            "INSERT INTO revisions (name, revision) VALUES ('{name}', 0)"
        ));
        // The value as of now, for a database migrated with data in it.
        up.push(set.clone());
        up.push(format!(
            "CREATE FUNCTION {name}_key_revision() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN {set}; RETURN NULL; END $$"
        ));
        up.push(format!(
            "CREATE TRIGGER {table}_{name}_key AFTER {ops} ON {table} \
             FOR EACH STATEMENT EXECUTE FUNCTION {name}_key_revision()"
        ));
    }
    up
}

fn postgres_down() -> Vec<String> {
    let mut down = Vec::new();
    for (name, table, _, _) in KEYS {
        down.push(format!("DROP TRIGGER {table}_{name}_key ON {table}"));
        down.push(format!("DROP FUNCTION {name}_key_revision()"));
        down.push(format!("DELETE FROM revisions WHERE name = '{name}'"));
    }
    down
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                crate::m20261204_000001_contents_revision::run(manager, postgres_up()).await
            }
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                crate::m20261204_000001_contents_revision::run(manager, postgres_down()).await
            }
            _ => Ok(()),
        }
    }
}
