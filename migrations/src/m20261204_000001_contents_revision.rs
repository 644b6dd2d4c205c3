//! A revision of everything a page of transfers shows, kept by the database (issue 11): the
//! hostmaster's queue is read from its transfers, their parts and the rules' reads (holdings,
//! claims, exceptions), and is kept in memory under this revision with the ledger's head and the
//! latest import (`db::freshness::contents_key`), so a view reads one row instead of the page.
//!
//! Triggers move it with every insert, update or delete of a transfer or of a row that belongs to
//! one (blocks, events, documents, fee lines, overrides, policy exceptions), and with every update
//! of an organisation (its name) or a holding (a hostmaster's correction of its origin). Inserted
//! and deleted holdings and inserted organisations do not move it: those come only with a ledger
//! entry (a finalization) or an import, which the key holds besides, and a per-row trigger would
//! cost the imports of 250,000 holdings a write each.
//!
//! - SQLite: row triggers (one writer at a time, so the row cannot deadlock).
//! - PostgreSQL: constraint triggers deferred to the commit, as `transfer_revision`'s, so the hot
//!   row is locked last; the function moves it once per transaction (a transaction-local
//!   setting), however many rows the transaction wrote.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose every insert, update and delete moves the revision.
const ALL_WRITES: &[&str] = &[
    "transfers",
    "transfer_blocks",
    "transfer_events",
    "documents",
    "fee_lines",
    "finding_overrides",
    "policy_exceptions",
];

/// The tables whose updates move it (their inserts and deletes come with a ledger entry or an
/// import).
const UPDATES: &[&str] = &["organisations", "holdings"];

const MOVE: &str = "UPDATE revisions SET revision = revision + 1 WHERE name = 'contents'";

fn sqlite_up() -> Vec<String> {
    let mut up = vec!["INSERT INTO revisions (name, revision) VALUES ('contents', 0)".to_owned()];
    for table in ALL_WRITES {
        for op in ["INSERT", "UPDATE", "DELETE"] {
            up.push(format!(
                "CREATE TRIGGER {table}_contents_{} AFTER {op} ON {table} BEGIN {MOVE}; END",
                op.to_lowercase()
            ));
        }
    }
    for table in UPDATES {
        up.push(format!(
            "CREATE TRIGGER {table}_contents_update AFTER UPDATE ON {table} BEGIN {MOVE}; END"
        ));
    }
    up
}

fn sqlite_down() -> Vec<String> {
    let mut down = Vec::new();
    for table in ALL_WRITES {
        for op in ["insert", "update", "delete"] {
            down.push(format!("DROP TRIGGER {table}_contents_{op}"));
        }
    }
    for table in UPDATES {
        down.push(format!("DROP TRIGGER {table}_contents_update"));
    }
    down.push("DELETE FROM revisions WHERE name = 'contents'".to_owned());
    down
}

fn postgres_up() -> Vec<String> {
    let mut up = postgres_revision("contents").to_vec();
    let trigger = |table: &str, ops: &str| {
        format!(
            "CREATE CONSTRAINT TRIGGER {table}_contents AFTER {ops} ON {table} \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contents_revision()"
        )
    };
    up.extend(
        ALL_WRITES
            .iter()
            .map(|t| trigger(t, "INSERT OR UPDATE OR DELETE")),
    );
    up.extend(UPDATES.iter().map(|t| trigger(t, "UPDATE")));
    up
}

/// A revision's row and PostgreSQL's trigger function `<name>_revision()` that moves it once per
/// transaction (a transaction-local setting, `ipxfer.<name>_moved`), however many rows the
/// transaction wrote (also `attention_revision`'s).
pub(crate) fn postgres_revision(name: &str) -> [String; 2] {
    [
        format!("INSERT INTO revisions (name, revision) VALUES ('{name}', 0)"),
        format!(
            "CREATE FUNCTION {name}_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF current_setting('ipxfer.{name}_moved', true) IS DISTINCT FROM 'yes' THEN \
             UPDATE revisions SET revision = revision + 1 WHERE name = '{name}'; \
             PERFORM set_config('ipxfer.{name}_moved', 'yes', true); END IF; \
             RETURN NULL; END $$"
        ),
    ]
}

fn postgres_down() -> Vec<String> {
    let mut down: Vec<String> = ALL_WRITES
        .iter()
        .chain(UPDATES)
        .map(|t| format!("DROP TRIGGER {t}_contents ON {t}"))
        .collect();
    down.push("DROP FUNCTION contents_revision()".to_owned());
    down.push("DELETE FROM revisions WHERE name = 'contents'".to_owned());
    down
}

/// Runs `statements` in order (also `attention_revision`'s).
pub(crate) async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    for sql in statements {
        manager.get_connection().execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, postgres_up()).await,
            _ => run(manager, sqlite_up()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, postgres_down()).await,
            _ => run(manager, sqlite_down()).await,
        }
    }
}
