//! A revision number of the transfers, kept by the database (issue 11): the lists' totals of a
//! registry and of everyone counted thousands of transfers on every view; now a view reads this
//! one row and counts only when the revision moved (`services::transfer_access::ListTotals`).
//! It moves with every new transfer and every change of state, whichever code writes them,
//! because triggers move it:
//!
//! - SQLite: row triggers. SQLite has one writer at a time, so the row cannot deadlock.
//! - PostgreSQL: a constraint trigger deferred to the commit, so the one hot row is locked last
//!   in each writing transaction (after the transfer's row, its holdings and the ledger's head)
//!   and held only while that transaction commits. The revision a reader sees and the transfers
//!   it counts come from the same snapshot, so a count is never stored under a revision whose
//!   transfers it did not see, however the writers' commits interleave (a newest id as the key
//!   would miss a lower id that commits after a higher one).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COMMON_UP: &[&str] = &[
    "CREATE TABLE revisions (name VARCHAR(32) NOT NULL PRIMARY KEY, revision BIGINT NOT NULL)",
    "INSERT INTO revisions (name, revision) VALUES ('transfers', 0)",
];

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER transfers_revision_insert AFTER INSERT ON transfers BEGIN \
     UPDATE revisions SET revision = revision + 1 WHERE name = 'transfers'; END",
    "CREATE TRIGGER transfers_revision_state AFTER UPDATE OF state ON transfers \
     WHEN old.state IS NOT new.state BEGIN \
     UPDATE revisions SET revision = revision + 1 WHERE name = 'transfers'; END",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION transfers_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state THEN \
     UPDATE revisions SET revision = revision + 1 WHERE name = 'transfers'; END IF; \
     RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER transfers_revision AFTER INSERT OR UPDATE OF state ON transfers \
     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION transfers_revision()",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER transfers_revision_state",
    "DROP TRIGGER transfers_revision_insert",
    "DROP TABLE revisions",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER transfers_revision ON transfers",
    "DROP FUNCTION transfers_revision()",
    "DROP TABLE revisions",
];

async fn run(manager: &SchemaManager<'_>, statements: Vec<&'static str>) -> Result<(), DbErr> {
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, [COMMON_UP, POSTGRES_UP].concat()).await,
            _ => run(manager, [COMMON_UP, SQLITE_UP].concat()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, POSTGRES_DOWN.to_vec()).await,
            _ => run(manager, SQLITE_DOWN.to_vec()).await,
        }
    }
}
