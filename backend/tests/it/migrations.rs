//! The schema migrates down and up again on both databases, triggers included; and each pooled
//! connection gets the settings `db::connect` gives it.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::TestDb;

#[tokio::test]
async fn migrations_roll_back_and_apply_again() {
    let db = TestDb::new().await;
    // The round trip runs on one connection: another pooled SQLite connection keeps the schema
    // it read before the rollback, and refuses to create an index it still believes exists
    // ("index holdings_end already exists", seen in CI when the pool handed over mid-way).
    let conn = ipxfer::db::connect_pool(&db.url, 1, ipxfer::db::DEFAULT_SLOW)
        .await
        .unwrap();
    let applied = Migrator::get_applied_migrations(&conn).await.unwrap().len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&conn, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(&conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        0
    );

    // The append-only triggers came back with the table.
    let backend = conn.get_database_backend();
    let insert = "INSERT INTO ledger_entries (seq, kind, transfer_type, source_registry, \
                  recipient_registry, start_addr, end_addr, transfer_date, recorded_at, prev_hash, hash) \
                  VALUES (1, 'imported', 'RESOURCE_TRANSFER', 'arin', 'arin', 1, 2, \
                  '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 'p', 'h')";
    conn.execute_raw(Statement::from_string(backend, insert))
        .await
        .unwrap();
    let delete = conn
        .execute_raw(Statement::from_string(
            backend,
            "DELETE FROM ledger_entries",
        ))
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

/// One setting read on a pooled connection, as text.
async fn setting(db: &TestDb, sql: &str) -> String {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(
            db.conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
        .unwrap()
}

#[tokio::test]
async fn connections_are_set_up_for_short_page_queries() {
    let db = TestDb::new().await;
    if db.is_postgres() {
        // JIT compilation cost 20-25 ms of a queue view whose plan ran in 0.5 ms.
        assert_eq!(setting(&db, "SHOW jit").await, "off");
    } else {
        assert_eq!(setting(&db, "PRAGMA journal_mode").await, "wal");
        assert_eq!(setting(&db, "PRAGMA foreign_keys").await, "1");
        assert_eq!(setting(&db, "PRAGMA cache_size").await, "-32768");
        // Built by `.cargo/config.toml` without memory statistics (a global mutex per allocation).
        assert_eq!(
            setting(
                &db,
                "SELECT sqlite_compileoption_used('DEFAULT_MEMSTATUS=0')"
            )
            .await,
            "1"
        );
    }
}
