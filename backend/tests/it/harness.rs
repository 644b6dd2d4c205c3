//! Test databases and fixtures.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use time::OffsetDateTime;
use time::macros::datetime;

/// A fresh, migrated database that lives as long as this value.
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// SQLite in a temporary file (WAL, several connections, as in production), or a new
    /// PostgreSQL database when `TEST_DATABASE_URL` is set. An unreachable server fails the test:
    /// nothing is ever skipped.
    pub async fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(&admin_url).await,
            _ => Self::sqlite().await,
        }
    }

    /// Whether [`TestDb::new`] makes PostgreSQL databases in this run.
    pub fn runs_on_postgres() -> bool {
        std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
    }

    /// A fresh database with the scale data set of `sizes`, seeded by `ipxfer seed scale`'s code
    /// (the real import and transfer services).
    pub async fn with_scale(sizes: ipxfer::services::scale::Scale) -> TestDb {
        let db = TestDb::new().await;
        let settings = ipxfer::config::Settings::default();
        ipxfer::services::scale::seed(&db.conn, &settings, sizes, now(), &|_| {})
            .await
            .expect("seed the scale data set");
        db
    }

    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let conn = ipxfer::db::connect(&url).await.expect("open SQLite");
        ipxfer::db::migrate(&conn).await.expect("migrate SQLite");
        TestDb {
            conn,
            url,
            _dir: Some(dir),
        }
    }

    async fn postgres(admin_url: &str) -> TestDb {
        let admin = ipxfer::db::connect(admin_url).await.unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        let name = format!(
            "ipxfer_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        admin
            .execute_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("CREATE DATABASE {name}"),
            ))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("a database URL ends in /name");
        let url = format!("{base}/{name}");
        let conn = ipxfer::db::connect(&url).await.expect("open test database");
        ipxfer::db::migrate(&conn)
            .await
            .expect("migrate PostgreSQL");
        TestDb {
            conn,
            url,
            _dir: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.conn.get_database_backend() == DatabaseBackend::Postgres
    }

    /// The names of the database's tables (SQLite), to tell a scan of a table in a plan from a
    /// scan of a subquery's or a CTE's rows.
    pub async fn sqlite_tables(&self) -> std::collections::HashSet<String> {
        let rows = self
            .conn
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table'",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "name").unwrap())
            .collect()
    }
}

/// The statements a connection runs, as it runs them.
pub type Recorded = std::sync::Arc<std::sync::Mutex<Vec<Statement>>>;

/// A new connection to `db` that records every statement it runs (sea-orm's metric callback).
pub async fn recording_connection(db: &TestDb) -> (DatabaseConnection, Recorded) {
    let seen = Recorded::default();
    let mut conn = ipxfer::db::connect(&db.url).await.unwrap();
    let sink = seen.clone();
    conn.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
    (conn, seen)
}

/// The query plan of each statement on `db`, one trimmed line per step, beside its SQL:
/// SQLite's `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN` with each planner setting in
/// `priced_out` (such as `enable_seqscan`) off for the while, so that a plan that still scans
/// or sorts has no index to do otherwise.
pub async fn plans_of(
    db: &TestDb,
    statements: Vec<Statement>,
    priced_out: &[&str],
) -> Vec<(String, Vec<String>)> {
    use sea_orm::TransactionTrait;
    let txn = db.conn.begin().await.unwrap();
    let (explain, column) = if db.is_postgres() {
        price_out(&txn, priced_out).await;
        ("EXPLAIN", "QUERY PLAN")
    } else {
        ("EXPLAIN QUERY PLAN", "detail")
    };
    let mut out = Vec::new();
    for s in statements {
        let rows = txn
            .query_all_raw(Statement {
                sql: format!("{explain} {}", s.sql),
                ..s.clone()
            })
            .await
            .unwrap();
        let plan = rows
            .iter()
            .map(|r| r.try_get::<String>("", column).unwrap().trim().to_owned())
            .collect();
        out.push((s.sql, plan));
    }
    txn.rollback().await.unwrap();
    out
}

/// Turns each PostgreSQL planner setting in `priced_out` (such as `enable_seqscan`) off until
/// `txn` ends.
async fn price_out(txn: &sea_orm::DatabaseTransaction, priced_out: &[&str]) {
    for setting in priced_out {
        txn.execute_unprepared(&format!("SET LOCAL {setting} = off"))
            .await
            .unwrap();
    }
}

/// `statement` `PREPARE`d on one PostgreSQL connection of `db` and executed six times: how many
/// of those executions ran under its generic plan (`pg_prepared_statements.generic_plans`; 0
/// when PostgreSQL planned every one anew), and that generic plan, one line per step, as
/// `EXPLAIN` shows it with `plan_cache_mode = force_generic_plan`. The tables are analyzed
/// first (a test's tables are small enough to be read whole, so their statistics, and the
/// plans, are the same on every run; autovacuum analyzes them whenever it comes round), and
/// each setting in `priced_out` is off for the while, as in [`plans_of`].
pub async fn generic_plan_of(
    db: &TestDb,
    statement: &Statement,
    priced_out: &[&str],
) -> (i64, String) {
    use sea_orm::TransactionTrait;
    use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
    let txn = db.conn.begin().await.unwrap();
    txn.execute_unprepared("ANALYZE").await.unwrap();
    price_out(&txn, priced_out).await;
    let values = statement
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let arguments: Vec<String> = values
        .iter()
        .map(|v| PostgresQueryBuilder.value_to_string(v))
        .collect();
    let execute = format!("EXECUTE measured({})", arguments.join(", "));
    txn.execute_unprepared(&format!("PREPARE measured AS {}", statement.sql))
        .await
        .unwrap();
    for _ in 0..6 {
        txn.execute_unprepared(&execute).await.unwrap();
    }
    let generic: i64 = txn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'measured'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "generic_plans")
        .unwrap();
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    let plan: Vec<String> = txn
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("EXPLAIN {execute}"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap())
        .collect();
    // PREPARE belongs to the session, not the transaction: the connection goes back to the pool.
    txn.execute_unprepared("DEALLOCATE measured").await.unwrap();
    txn.rollback().await.unwrap();
    (generic, plan.join("\n"))
}

/// Whether a line of SQLite's `EXPLAIN QUERY PLAN` reads a whole table: `SCAN t` of one of
/// `tables`, not of the rows a subquery or CTE found (`SCAN b`, `SCAN (subquery-1)`) nor a
/// search of a virtual table's index (the R*Trees). `SCAN t USING INDEX i` walks all of `i`.
pub fn sqlite_scans_a_table(step: &str, tables: &std::collections::HashSet<String>) -> bool {
    let Some(rest) = step.trim().strip_prefix("SCAN ") else {
        return false;
    };
    let name = rest.split_whitespace().next().unwrap_or_default();
    !rest.contains("VIRTUAL TABLE") && tables.contains(name)
}

/// A fixed "now" for reproducible tests.
pub fn now() -> OffsetDateTime {
    datetime!(2026-11-28 12:00 UTC)
}

/// The server's state for the tests' browser and API client: default settings, and a clock
/// standing at [`now`], the date the tests make their data at. On the system clock whatever
/// lasts a while from that date (an invitation's seven days, a token's thirty) lapses as the
/// calendar moves, and the test with it (the demo's test failed so on 2026-12-03).
pub fn app_state(db: &sea_orm::DatabaseConnection) -> ipxfer::web::AppState {
    ipxfer::web::AppState::new(db.clone(), ipxfer::config::Settings::default())
        .with_clock(std::sync::Arc::new(ipxfer::clock::ManualClock::at(now())))
}

/// Path of a file under `backend/tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Bytes of a fixture file.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
