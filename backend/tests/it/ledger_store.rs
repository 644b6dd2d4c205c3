//! The stored ledger: append-only in the database, chained, and verified against holdings.

use ipxfer::db::ledger as ledger_db;
use ipxfer::domain::ledger::{EntryKind, LedgerParty, Movement};
use ipxfer::domain::{Rir, TransferType};
use ipxfer::services::ledger;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::harness::{TestDb, now};

fn imported(range: &str) -> Movement {
    Movement {
        kind: EntryKind::Imported,
        transfer_id: None,
        transfer_reference: None,
        transfer_type: TransferType::ResourceTransfer,
        source_rir: Rir::Arin,
        recipient_rir: Rir::Arin,
        source: LedgerParty {
            org_id: None,
            name: Some("A".into()),
            country: Some("US".into()),
        },
        recipient: LedgerParty {
            org_id: None,
            name: Some("B".into()),
            country: None,
        },
        range: range.parse().unwrap(),
        original: None,
        transfer_date: now(),
        source_registration_date: None,
    }
}

async fn exec(db: &TestDb, sql: &str) -> Result<u64, sea_orm::DbErr> {
    let backend = db.conn.get_database_backend();
    db.conn
        .execute_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .map(|r| r.rows_affected())
}

/// Drops the trigger that refuses updates (as someone with database access could) and runs `sql`.
async fn alter_behind_the_triggers(db: &TestDb, sql: &str) {
    let drop = match db.conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            "DROP TRIGGER ledger_entries_no_update_delete ON ledger_entries"
        }
        _ => "DROP TRIGGER ledger_entries_no_update",
    };
    exec(db, drop).await.unwrap();
    exec(db, sql).await.unwrap();
}

#[tokio::test]
async fn ledger_rows_cannot_be_updated_or_deleted() {
    let db = TestDb::new().await;
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(
        &txn,
        vec![imported("20.0.0.0/24"), imported("20.0.1.0/24")],
        now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    let update = exec(
        &db,
        "UPDATE ledger_entries SET recipient_org_name = 'Mallory' WHERE seq = 1",
    )
    .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = exec(&db, "DELETE FROM ledger_entries WHERE seq = 2").await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    if db.is_postgres() {
        let truncate = exec(&db, "TRUNCATE ledger_entries").await;
        assert!(truncate.unwrap_err().to_string().contains("append-only"));
    }
    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
    assert_eq!(v.entries, 2);
}

#[tokio::test]
async fn a_row_changed_behind_the_triggers_is_reported_by_sequence_number() {
    let db = TestDb::new().await;
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    let ranges = ["20.0.0.0/24", "20.0.1.0/24", "20.0.2.0/24"];
    ledger_db::append(&txn, ranges.iter().map(|r| imported(r)).collect(), now())
        .await
        .unwrap();
    txn.commit().await.unwrap();

    // Someone with database access drops the protection and edits entry 2.
    alter_behind_the_triggers(
        &db,
        "UPDATE ledger_entries SET recipient_org_name = 'Mallory' WHERE seq = 2",
    )
    .await;

    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(!v.is_intact());
    assert_eq!(v.chain_break.as_ref().unwrap().seq(), 2);
    assert!(
        v.summary().starts_with("ledger chain broken at entry 2:"),
        "{}",
        v.summary()
    );
}

#[tokio::test]
async fn a_page_of_entries_reads_back_exactly_what_was_appended_fractions_of_a_second_included() {
    use ipxfer::db::ledger_query::{self, Direction};
    use ipxfer::domain::export::LedgerFilter;
    let db = TestDb::new().await;
    // Microseconds: what both databases keep (PostgreSQL's timestamptz holds no finer).
    let at = now() + time::Duration::microseconds(123_456);
    let mut first = imported("20.0.0.0/24");
    first.transfer_date = at;
    first.source_registration_date = Some(now() - time::Duration::days(400));
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    let appended = ledger_db::append(&txn, vec![first, imported("20.0.1.0/24")], at)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let filter = LedgerFilter::default();
    let newest = ledger_query::page(&db.conn, &filter, None, Direction::Backward, 10)
        .await
        .unwrap();
    let mut expected = appended.clone();
    expected.reverse();
    assert_eq!(newest, expected);
    let oldest = ledger_query::page(&db.conn, &filter, Some(1), Direction::Forward, 10)
        .await
        .unwrap();
    assert_eq!(oldest, appended[1..]);
    let one = ledger_query::entry(&db.conn, 1).await.unwrap().unwrap();
    assert_eq!(newest[1], one, "the packed page and the one-row read agree");
}

/// `n` imported movements of consecutive /24s from 30.0.0.0.
fn imported_run(n: u32) -> Vec<Movement> {
    (0..n)
        .map(|i| {
            let start = std::net::Ipv4Addr::from((30u32 << 24) + i * 256);
            imported(&format!("{start}/24"))
        })
        .collect()
}

#[tokio::test]
async fn a_ledger_of_several_pages_verifies_and_a_break_on_a_later_page_is_found() {
    let db = TestDb::new().await;
    // Verification reads 2,000 entries a page, the next while it checks the last.
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(&txn, imported_run(4_500), now())
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
    assert_eq!(v.entries, 4_500);

    alter_behind_the_triggers(
        &db,
        "UPDATE ledger_entries SET source_org_name = 'Mallory' WHERE seq = 4101",
    )
    .await;
    let v = ledger::verify(&db.conn).await.unwrap();
    assert_eq!(v.chain_break.as_ref().unwrap().seq(), 4101);
    assert_eq!(v.entries, 4_100);

    // A break on the first page, with the next page already being read (the trigger is gone
    // already): the break is reported, and the holdings are not compared.
    exec(
        &db,
        "UPDATE ledger_entries SET source_org_name = 'Mallory' WHERE seq = 10",
    )
    .await
    .unwrap();
    let v = ledger::verify(&db.conn).await.unwrap();
    assert_eq!(v.chain_break.as_ref().unwrap().seq(), 10);
    assert_eq!(v.entries, 9);
    assert_eq!(
        v.holdings_mismatch, None,
        "a broken chain is reported alone"
    );
}

#[tokio::test]
async fn a_snapshot_transaction_sees_none_of_what_commits_after_its_first_read() {
    let db = TestDb::new().await;
    let snapshot = ipxfer::db::begin_snapshot(&db.conn).await.unwrap();
    assert_eq!(count(&snapshot).await, 0);
    // A transfer finalised meanwhile, on another connection.
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(&txn, imported_run(3), now())
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(count(&snapshot).await, 0, "the snapshot moved");
    snapshot.commit().await.unwrap();
    assert_eq!(count(&db.conn).await, 3);
}

async fn count(conn: &impl ConnectionTrait) -> i64 {
    scalar(conn, "SELECT count(*) FROM ledger_entries").await
}

/// The one integer `sql` selects.
async fn scalar(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test]
async fn the_history_of_a_wide_range_is_the_newest_touching_entries_by_either_path() {
    use ipxfer::db::ledger_query::touching;
    let db = TestDb::new().await;
    // 60 entries in 100.0.0.0/16, then 2,500 in 30.0.0.0/12: the newest 2,000 (which a wide
    // range looks through first) hold none of the first kind.
    let mut movements: Vec<Movement> = (0..60)
        .map(|i| imported(&format!("100.0.{i}.0/24")))
        .collect();
    movements.extend(imported_run(2_500));
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(&txn, movements, now()).await.unwrap();
    txn.commit().await.unwrap();

    let seqs = |entries: Vec<ipxfer::domain::ledger::LedgerEntry>| -> Vec<i64> {
        entries.iter().map(|e| e.seq).collect()
    };
    let newest = |from: i64, n: i64| -> Vec<i64> { (0..n).map(|k| from - k).collect() };
    let everything = "0.0.0.0/0".parse().unwrap();
    // Found among the newest entries.
    let page = touching(&db.conn, everything, None, 50).await.unwrap();
    assert_eq!(seqs(page), newest(2_560, 50));
    let page = touching(&db.conn, everything, Some(100), 50).await.unwrap();
    assert_eq!(seqs(page), newest(99, 50));
    // Wide, but nothing among the newest 2,000: the interval index answers.
    let wide = "64.0.0.0/2".parse().unwrap();
    let page = touching(&db.conn, wide, None, 50).await.unwrap();
    assert_eq!(seqs(page), newest(60, 50));
    let page = touching(&db.conn, wide, Some(11), 50).await.unwrap();
    assert_eq!(seqs(page), newest(10, 10));
    // Wide with fewer matches among the newest than asked for: all of them, then older ones.
    let page = touching(&db.conn, everything, Some(30), 50).await.unwrap();
    assert_eq!(seqs(page), newest(29, 29));
    // Narrow ranges go to the interval index directly.
    let narrow = "100.0.5.0/24".parse().unwrap();
    let page = touching(&db.conn, narrow, None, 50).await.unwrap();
    assert_eq!(seqs(page), vec![6]);
}

/// A narrow range's history is read through the interval index, not by walking the ledger: on
/// PostgreSQL the SP-GiST index `ledger_entries_range` (migration `ledger_range_spgist`: it
/// serves the same `&&` as the GiST index it replaced and takes a bulk import's inserts several
/// times faster), on SQLite the R*Tree.
#[tokio::test]
async fn a_ranges_history_is_read_through_the_interval_index() {
    use ipxfer::db::ledger_query::touching;
    let db = TestDb::new().await;
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(&txn, imported_run(300), now())
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let (recording, seen) = crate::harness::recording_connection(&db).await;
    // 30.0.5.0/24 is the sixth entry of the run; the /23 around it touches the fifth too.
    let range = "30.0.4.0/23".parse().unwrap();
    let page = touching(&recording, range, None, 50).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6, 5]);

    let statements = seen.lock().unwrap().clone();
    let plans = crate::harness::plans_of(&db, statements, &["enable_seqscan"]).await;
    let plan: Vec<String> = plans.into_iter().flat_map(|(_, plan)| plan).collect();
    let plan = plan.join("\n");
    if db.is_postgres() {
        assert!(plan.contains("ledger_entries_range"), "{plan}");
        let definition = db
            .conn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ledger_entries_range'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<String>("", "indexdef")
            .unwrap();
        assert!(definition.contains("USING spgist"), "{definition}");
    } else {
        assert!(plan.contains("ledger_entry_intervals"), "{plan}");
    }
}

/// Appends `movements` in a transaction of their own, committed or rolled back.
async fn append_alone(db: &TestDb, movements: Vec<Movement>, commit: bool) {
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    ledger_db::append(&txn, movements, now()).await.unwrap();
    if commit {
        txn.commit().await.unwrap();
    } else {
        txn.rollback().await.unwrap();
    }
}

/// The sequence numbers of the newest 50 entries touching `range`, newest first.
async fn seqs_touching(db: &TestDb, range: &str) -> Vec<i64> {
    let page = ipxfer::db::ledger_query::touching(&db.conn, range.parse().unwrap(), None, 50)
        .await
        .unwrap();
    page.iter().map(|e| e.seq).collect()
}

/// Every appended entry is in the interval index, whichever append wrote it and however many
/// bulk chunks it took; an append rolled back leaves none behind. On SQLite a trigger fills the
/// R*Tree (migration `interval_indexes`), so this checks its rows too.
#[tokio::test]
async fn every_append_puts_its_entries_in_the_interval_index_and_a_rollback_takes_them_out() {
    let db = TestDb::new().await;
    append_alone(&db, vec![imported("100.0.0.0/24")], true).await;
    // More than one bulk chunk (10,000 rows each): entries 2..=12,346 in 30.0.0.0/8.
    append_alone(&db, imported_run(12_345), true).await;
    append_alone(&db, vec![imported("100.0.0.0/16")], false).await;
    append_alone(&db, vec![imported("30.0.0.0/8")], true).await;

    assert_eq!(seqs_touching(&db, "100.0.0.0/24").await, vec![1]);
    assert_eq!(
        seqs_touching(&db, "100.0.1.0/24").await,
        Vec::<i64>::new(),
        "rolled back"
    );
    // The first and last of each chunk, and the /8 over them all (entry 12,347).
    for (entry, range) in [
        (2, "30.0.0.0/24"),
        (10_001, "30.39.15.0/24"),
        (10_002, "30.39.16.0/25"),
        (12_346, "30.48.56.8/29"),
    ] {
        assert_eq!(
            seqs_touching(&db, range).await,
            vec![12_347, entry],
            "{range}"
        );
    }
    assert_eq!(
        seqs_touching(&db, "30.48.56.57/32").await,
        vec![12_347, 12_346]
    );
    assert_eq!(
        seqs_touching(&db, "30.48.57.0/24").await,
        vec![12_347],
        "past the last /24"
    );

    if !db.is_postgres() {
        assert_eq!(
            scalar(&db.conn, "SELECT count(*) FROM ledger_entry_intervals").await,
            12_347
        );
        let wrong = scalar(
            &db.conn,
            "SELECT count(*) FROM ledger_entries e \
             LEFT JOIN ledger_entry_intervals i ON i.seq = e.seq \
             WHERE i.seq IS NULL OR i.lo <> e.start_addr - 2147483648 \
             OR i.hi <> e.end_addr - 2147483648",
        )
        .await;
        assert_eq!(wrong, 0);
    }
}
