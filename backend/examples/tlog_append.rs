//! Benchmark: what the Merkle tree adds to ledger appends, and that it stays linear.
//!
//! `cargo run --release --example tlog_append -- 6000 60000` appends each number of entries to a
//! fresh SQLite ledger in batches of 1,000 (as a bulk import does) through `db::ledger::append`,
//! which writes the tree's hashes in the same transaction, then appends one more entry alone and
//! times a root, an inclusion proof and a consistency proof. Appends are linear when the
//! entries per second of the two sizes are about the same.

use std::time::Instant;

use ipxfer::db::{ledger as ledger_db, tlog as tlog_db};
use ipxfer::domain::ledger::{EntryKind, LedgerParty, Movement};
use ipxfer::domain::tlog;
use ipxfer::domain::{Ipv4Range, Rir, TransferType};
use time::OffsetDateTime;

const BATCH: u64 = 1_000;

fn movement(i: u64) -> Movement {
    let start = 0x1400_0000u32 + (i as u32) * 4;
    Movement {
        kind: EntryKind::Imported,
        transfer_id: None,
        transfer_reference: None,
        transfer_type: TransferType::ResourceTransfer,
        source_rir: Rir::Arin,
        recipient_rir: Rir::RipeNcc,
        source: LedgerParty {
            org_id: None,
            name: Some(format!("Source {i}")),
            country: Some("US".into()),
        },
        recipient: LedgerParty {
            org_id: None,
            name: Some(format!("Recipient {i}")),
            country: Some("NL".into()),
        },
        range: Ipv4Range::new(start, start + 3).expect("a valid range"),
        original: None,
        transfer_date: OffsetDateTime::now_utc(),
        source_registration_date: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<u64> = match std::env::args().skip(1).collect::<Vec<_>>() {
        a if a.is_empty() => vec![6_000, 60_000],
        a => a.iter().map(|s| s.parse()).collect::<Result<_, _>>()?,
    };
    println!(
        "{:>8} {:>10} {:>11} {:>13} {:>12} {:>14}",
        "entries", "append s", "entries/s", "tree hashes", "one more ms", "proofs ms"
    );
    for n in sizes {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display());
        let db = ipxfer::db::connect(&url).await?;
        ipxfer::db::migrate(&db).await?;
        let started = Instant::now();
        let mut done = 0;
        while done < n {
            let k = BATCH.min(n - done);
            let txn = ipxfer::db::begin_write(&db).await?;
            ledger_db::append(
                &txn,
                (done..done + k).map(movement).collect(),
                OffsetDateTime::now_utc(),
            )
            .await?;
            txn.commit().await?;
            done += k;
        }
        let secs = started.elapsed().as_secs_f64();
        let one = Instant::now();
        let txn = ipxfer::db::begin_write(&db).await?;
        ledger_db::append(&txn, vec![movement(n)], OffsetDateTime::now_utc()).await?;
        txn.commit().await?;
        let one_ms = one.elapsed().as_secs_f64() * 1e3;
        let size = n + 1;
        let proofs = Instant::now();
        let root = tlog_db::root(&db, size).await?;
        let p = tlog_db::compute(&db, |h| tlog::inclusion_proof(size, n / 2, h)).await?;
        let c = tlog_db::compute(&db, |h| tlog::consistency_proof(size, n / 3, h)).await?;
        let proofs_ms = proofs.elapsed().as_secs_f64() * 1e3;
        anyhow::ensure!(!p.is_empty() && !c.is_empty() && root != tlog::EMPTY_HASH);
        println!(
            "{n:>8} {secs:>10.2} {:>11.0} {:>13} {one_ms:>12.1} {proofs_ms:>14.1}",
            n as f64 / secs,
            tlog_tiles::stored_hash_count(size)
        );
    }
    Ok(())
}
