//! Database access: connecting (SQLite embedded default or PostgreSQL), migrating, write
//! transactions, and the query modules that map rows to domain types.

pub mod accounts;
pub mod api_tokens;
pub mod bulk;
pub mod entities;
pub mod freshness;
pub mod holdings;
pub mod idempotency_keys;
pub mod ledger;
pub mod ledger_query;
pub mod lookup;
pub mod organisations;
pub mod outbox;
pub mod packed;
pub mod record_changes;
pub mod tlog;
pub mod transfer_store;
pub mod transfers;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// A pool of connections, as the web layer holds it (so that only `db` names sea-orm).
pub type Db = DatabaseConnection;

/// `a.c1 AS a_c1, a.c2 AS a_c2, ...` for every column of entity `E` under table alias `a`: the
/// select list of a hand-written join whose rows `E::Model::from_query_result(row, "a_")` reads.
pub(crate) fn aliased_columns<E: sea_orm::EntityTrait>(alias: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    E::Column::iter()
        .map(|c| format!("{alias}.{0} AS {alias}_{0}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens a pool on `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://...`).
///
/// SQLite gets WAL, a busy timeout and foreign keys; the pool size is set on purpose because
/// sea-orm's SQLite default of one connection serialises every page (see `docs/architecture.md`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_SLOW).await
}

/// Statements slower than this are logged as warnings unless the operator says otherwise
/// (`--slow-ms`).
pub const DEFAULT_SLOW: Duration = Duration::from_secs(1);

/// [`connect`], logging statements slower than `slow` as warnings (sqlx's slow-statement log:
/// the statement's text and its time as the client saw it, waits for a core included).
pub async fn connect_with(url: &str, slow: Duration) -> Result<DatabaseConnection, DbErr> {
    open_pool(url, pool_size(url), 0, slow, Reads::Copied).await
}

/// [`connect_with`] for a process that runs until stopped (`serve`, `worker`): the pool keeps
/// all its connections open. sqlx closes a connection idle for 10 minutes or open for 30; with
/// no minimum it reopened one only when a request found none idle, and that request waited for
/// the handshake (after a quiet night, the first burst waited for all of them, as before
/// [`open_all`]). With the pool's size as its minimum, sqlx reopens them in the background.
/// On SQLite its connections read the database file mapped ([`Reads::Mapped`]).
pub async fn connect_lasting(url: &str, slow: Duration) -> Result<DatabaseConnection, DbErr> {
    let size = pool_size(url);
    open_pool(url, size, size, slow, Reads::Mapped).await
}

/// How a SQLite connection reads the database file's pages.
#[derive(Debug, Clone, Copy)]
enum Reads {
    /// Copied into the connection's own page cache by a `pread` each (SQLite's default).
    Copied,
    /// Read in place from the file mapped into memory (`mmap_size`), which the pool's
    /// connections share through the kernel's page cache: a page's many small reads, on any
    /// connection, cost neither a system call nor a copy (`perf`: `pread` and its copy were
    /// about 5% of the queue's time; under wrk the member's list gained a median 27%, the
    /// queue 14%: docs/performance.md). Only the pages' pool: a bulk read (an export, a
    /// verification) reads each page once, and its mapped pages would count in the process's
    /// resident set, which the exports' and verification's memory figures measure.
    Mapped,
}

/// The file mapped per SQLite connection: larger than a registry's database (the scale data
/// set's is 280 MB), and only address space; the kernel keeps what is read.
const MAPPED_BYTES: &str = "1073741824";

/// How many connections a pool on `url` holds.
fn pool_size(url: &str) -> u32 {
    // An in-memory database exists once per connection: keep it to exactly one.
    if url.contains(":memory:") {
        1
    } else if url.starts_with("sqlite:") {
        4
    } else {
        16
    }
}

/// The `n`th bound parameter (from 1) in hand-written SQL: `$n` on PostgreSQL, `?n` on SQLite.
pub fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Opens a pool of `size` connections on `url`, set up as [`connect`] describes (a second,
/// small pool keeps long exports off the connections pages use).
pub async fn connect_pool(
    url: &str,
    size: u32,
    slow: Duration,
) -> Result<DatabaseConnection, DbErr> {
    open_pool(url, size, 0, slow, Reads::Copied).await
}

/// A pool of `size` connections on `url`, `min` of them kept open.
async fn open_pool(
    url: &str,
    size: u32,
    min: u32,
    slow: Duration,
    reads: Reads,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // A refused connection is retried until the acquire timeout: keep failures quick to report
    // and requests from waiting long for a busy pool. Every statement would be logged at
    // TRACE (off unless RUST_LOG asks for `sqlx=trace`); slow ones at WARN, and so is a slow
    // wait for a connection of the pool (sqlx's `sqlx::pool::acquire`).
    options
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Trace)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, slow)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    options.max_connections(size).min_connections(min);
    // An in-memory database lives as long as its one connection: sqlx must never close it as
    // idle or old (the data would be gone, and its replacement empty).
    let memory = url.contains(":memory:");
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                // 32 MiB of page cache per connection instead of 2: an import's index pages
                // stay in memory instead of spilling to the WAL mid-transaction (half the
                // system time of a bulk insert), and pages re-read less (docs/performance.md).
                .pragma("cache_size", "-32768");
            match reads {
                Reads::Copied => o,
                Reads::Mapped => o.pragma("mmap_size", MAPPED_BYTES),
            }
        });
        options.map_sqlx_sqlite_pool_opts(move |o| {
            let o = o.acquire_slow_threshold(slow);
            if memory {
                o.idle_timeout(None).max_lifetime(None)
            } else {
                o
            }
        });
    } else {
        // No JIT compilation: the page's queries are short, but probing a page's blocks is
        // estimated dear enough to cross `jit_above_cost`, and compiling took 20-25 ms of a
        // queue view whose plan runs in 0.5 ms (docs/performance.md).
        options.map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
        options.map_sqlx_postgres_pool_opts(move |o| o.acquire_slow_threshold(slow));
    }
    Database::connect(options).await
}

/// Opens every connection of the pool now. The pool opens them lazily, one for each request
/// that finds none idle, while that request waits (a TCP and, on PostgreSQL, a SCRAM
/// handshake each): `serve` fills it at start so that its first burst of requests does not pay
/// for them (docs/performance.md).
pub async fn open_all(conn: &DatabaseConnection) -> Result<(), DbErr> {
    async fn fill<D: sea_orm::sqlx::Database>(
        pool: &sea_orm::sqlx::Pool<D>,
    ) -> Result<(), sea_orm::sqlx::Error> {
        let size = pool.options().get_max_connections();
        let held = futures_util::future::try_join_all((0..size).map(|_| pool.acquire())).await?;
        drop(held);
        Ok(())
    }
    let filled = match conn.get_database_backend() {
        DatabaseBackend::Postgres => fill(conn.get_postgres_connection_pool()).await,
        DatabaseBackend::Sqlite => fill(conn.get_sqlite_connection_pool()).await,
        _ => Ok(()),
    };
    filled.map_err(|e| DbErr::Custom(format!("cannot open the pool's connections: {e}")))
}

/// Applies every pending migration.
///
/// After the schema, the Merkle tree is back-filled for ledger entries written before it existed
/// (the back-fill half of migration `m20261130_000101_create_transparency_log`: the leaves are
/// the entries' canonical bytes, which only the application computes). It adds nothing when the
/// tree already covers the ledger.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    let added = ledger::backfill_tree(db).await?;
    if added > 0 {
        tracing::info!(
            leaves = added,
            "Merkle tree back-filled for existing ledger entries"
        );
    }
    Ok(())
}

/// Begins a read-only transaction whose every statement sees the same committed state: a
/// reader that compares tables (verification: the ledger against the holdings) must not see a
/// transfer finalised between two of its statements. PostgreSQL needs `REPEATABLE READ` for
/// that; an SQLite transaction (WAL) keeps the snapshot of its first read until it ends.
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DatabaseBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken up front, so two writers queue on the busy timeout instead of one failing when it
/// upgrades a read lock. PostgreSQL uses its default READ COMMITTED plus row locks.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DatabaseBackend::Sqlite => TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}
