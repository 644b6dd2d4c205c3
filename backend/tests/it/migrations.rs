//! The schema migrates down and up again on both databases, triggers included; and each pooled
//! connection gets the settings `db::connect` gives it.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

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
    setting_on(&db.conn, sql).await
}

/// One setting read on a connection of `conn`'s pool, as text.
async fn setting_on(conn: &DatabaseConnection, sql: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
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
        // And with the query planner stability guarantee: otherwise a statement whose plan
        // looked at a bound `LIMIT ?` is parsed and planned again on every execution.
        assert_eq!(
            setting(&db, "SELECT sqlite_compileoption_used('ENABLE_QPSG')").await,
            "1"
        );
    }
}

/// The pages' pool (`serve`, `worker`) reads SQLite's file mapped, every connection of it; the
/// pools of commands and exports copy pages as SQLite does by default, so the resident set that
/// their memory figures measure holds no mapped file.
#[tokio::test]
async fn only_the_pages_pool_reads_the_file_mapped() {
    let db = TestDb::new().await;
    let lasting = ipxfer::db::connect_lasting(&db.url, ipxfer::db::DEFAULT_SLOW)
        .await
        .unwrap();
    if db.is_postgres() {
        // Nothing to map; every pool is set up alike.
        assert_eq!(setting_on(&lasting, "SHOW jit").await, "off");
        return;
    }
    let size = lasting
        .get_sqlite_connection_pool()
        .options()
        .get_max_connections();
    assert!(size > 1);
    // Hold every connection at once, so each is asked.
    let mut held = Vec::new();
    for _ in 0..size {
        let mut c = lasting
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .unwrap();
        let (mapped,): (i64,) = sea_orm::sqlx::query_as("PRAGMA mmap_size")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(mapped, 1 << 30);
        held.push(c);
    }
    assert_eq!(setting(&db, "PRAGMA mmap_size").await, "0");
    let exports = ipxfer::db::connect_pool(&db.url, 1, ipxfer::db::DEFAULT_SLOW)
        .await
        .unwrap();
    assert_eq!(setting_on(&exports, "PRAGMA mmap_size").await, "0");
}

/// Every foreign key has an index that starts with its column, so looking rows up by it (a
/// transfer's fee lines, an organisation's users) reads what it finds rather than the table.
/// The exceptions are named here, each with its reason.
#[tokio::test]
async fn every_foreign_key_is_indexed_but_those_named_here() {
    // The snapshot is bulk-loaded and read whole; documents are never looked up by uploader.
    const UNINDEXED: [&str; 2] = ["holding_snapshot.organisation_id", "documents.uploaded_by"];
    let db = TestDb::new().await;
    let backend = db.conn.get_database_backend();
    let rows = |sql: &str| {
        db.conn
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
    };
    let mut keys: Vec<(String, bool)> = Vec::new();
    if TestDb::runs_on_postgres() {
        for r in rows(
            "SELECT c.conrelid::regclass::text AS t, a.attname::text AS col, \
               EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid \
                       AND i.indkey[0] = c.conkey[1]) AS indexed \
             FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'f'",
        )
        .await
        .unwrap()
        {
            let (t, col): (String, String) =
                (r.try_get("", "t").unwrap(), r.try_get("", "col").unwrap());
            keys.push((format!("{t}.{col}"), r.try_get("", "indexed").unwrap()));
        }
    } else {
        for r in rows(
            "SELECT m.name AS t, f.\"from\" AS col, \
               EXISTS (SELECT 1 FROM pragma_index_list(m.name) l \
                       JOIN pragma_index_info(l.name) i ON i.seqno = 0 \
                       WHERE i.name = f.\"from\") AS indexed \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
        )
        .await
        .unwrap()
        {
            let (t, col): (String, String) =
                (r.try_get("", "t").unwrap(), r.try_get("", "col").unwrap());
            keys.push((
                format!("{t}.{col}"),
                r.try_get::<i64>("", "indexed").unwrap() == 1,
            ));
        }
    }
    assert!(keys.len() >= 10, "{keys:?}");
    assert!(
        keys.iter().any(|(k, _)| k == "fee_lines.transfer_id"),
        "{keys:?}"
    );
    let missing: Vec<&str> = keys
        .iter()
        .filter(|(k, indexed)| !indexed && !UNINDEXED.contains(&k.as_str()))
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "foreign keys without an index: {missing:?}"
    );
    // The exceptions are still foreign keys without an index (none went stale).
    for name in UNINDEXED {
        assert!(keys.contains(&(name.to_owned(), false)), "{name}: {keys:?}");
    }
}
