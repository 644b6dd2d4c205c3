//! Interval indexes for "which rows share addresses with this range" over rows that may overlap
//! one another (issue 11): the blocks of transfers (the in-flight check) and the ledger's entries
//! (the lookup's history of a block). A B-tree on `start_addr` answers `start <= E AND end >= S`
//! only by reading every row that starts below `E`; these indexes read the rows that overlap.
//!
//! - SQLite: an R*Tree (`rtree_i32`, exact 32-bit integer coordinates) beside each table, keyed
//!   by the row's id and kept in step by triggers. Addresses are shifted by -2^31 to fit its
//!   signed coordinates. (The bundled SQLite is built with SQLITE_ENABLE_RTREE.)
//! - PostgreSQL: a GiST index on the expression `int8range(start_addr, end_addr, '[]')`, which
//!   the `&&` operator uses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE transfer_block_intervals USING rtree_i32(id, lo, hi)",
    "INSERT INTO transfer_block_intervals (id, lo, hi) \
     SELECT id, start_addr - 2147483648, end_addr - 2147483648 FROM transfer_blocks",
    "CREATE TRIGGER transfer_blocks_interval_insert AFTER INSERT ON transfer_blocks BEGIN \
     INSERT INTO transfer_block_intervals (id, lo, hi) \
     VALUES (new.id, new.start_addr - 2147483648, new.end_addr - 2147483648); END",
    "CREATE TRIGGER transfer_blocks_interval_delete AFTER DELETE ON transfer_blocks BEGIN \
     DELETE FROM transfer_block_intervals WHERE id = old.id; END",
    "CREATE TRIGGER transfer_blocks_interval_update AFTER UPDATE OF start_addr, end_addr \
     ON transfer_blocks BEGIN UPDATE transfer_block_intervals \
     SET lo = new.start_addr - 2147483648, hi = new.end_addr - 2147483648 WHERE id = new.id; END",
    "CREATE VIRTUAL TABLE ledger_entry_intervals USING rtree_i32(seq, lo, hi)",
    "INSERT INTO ledger_entry_intervals (seq, lo, hi) \
     SELECT seq, start_addr - 2147483648, end_addr - 2147483648 FROM ledger_entries",
    // Ledger entries are never updated or deleted (other triggers refuse both).
    "CREATE TRIGGER ledger_entries_interval_insert AFTER INSERT ON ledger_entries BEGIN \
     INSERT INTO ledger_entry_intervals (seq, lo, hi) \
     VALUES (new.seq, new.start_addr - 2147483648, new.end_addr - 2147483648); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER ledger_entries_interval_insert",
    "DROP TABLE ledger_entry_intervals",
    "DROP TRIGGER transfer_blocks_interval_update",
    "DROP TRIGGER transfer_blocks_interval_delete",
    "DROP TRIGGER transfer_blocks_interval_insert",
    "DROP TABLE transfer_block_intervals",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE INDEX transfer_blocks_range ON transfer_blocks \
     USING gist (int8range(start_addr, end_addr, '[]'))",
    "CREATE INDEX ledger_entries_range ON ledger_entries \
     USING gist (int8range(start_addr, end_addr, '[]'))",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX ledger_entries_range",
    "DROP INDEX transfer_blocks_range",
];

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite,
        _ => postgres,
    };
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
