//! The schema migrates down and up again on both databases, triggers included.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::TestDb;

#[tokio::test]
async fn migrations_roll_back_and_apply_again() {
    let db = TestDb::new().await;
    let applied = Migrator::get_applied_migrations(&db.conn)
        .await
        .unwrap()
        .len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&db.conn, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(&db.conn)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(&db.conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&db.conn)
            .await
            .unwrap()
            .len(),
        0
    );

    // The append-only triggers came back with the table.
    let backend = db.conn.get_database_backend();
    let insert = "INSERT INTO ledger_entries (seq, kind, transfer_type, source_registry, \
                  recipient_registry, start_addr, end_addr, transfer_date, recorded_at, prev_hash, hash) \
                  VALUES (1, 'imported', 'RESOURCE_TRANSFER', 'arin', 'arin', 1, 2, \
                  '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 'p', 'h')";
    db.conn
        .execute_raw(Statement::from_string(backend, insert))
        .await
        .unwrap();
    let delete = db
        .conn
        .execute_raw(Statement::from_string(
            backend,
            "DELETE FROM ledger_entries",
        ))
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}
