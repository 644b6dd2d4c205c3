//! Benchmark: peak memory and throughput of exporting ledgers of different sizes.
//!
//! `cargo run --release --example export_memory -- 1000 100000` generates a ledger of each size
//! in an SQLite file (batched appends through `db::ledger::append`), then runs each export in a
//! child process of its own and reports the child's peak resident set (`VmHWM` from
//! `/proc/self/status`, Linux) and entries per second. Memory is flat when the peaks of the two
//! sizes differ by no more than a few megabytes.

use std::time::Instant;

use ipxfer::domain::export::LedgerFilter;
use ipxfer::domain::export::nro::NroVersion;
use ipxfer::domain::ledger::{EntryKind, LedgerParty, Movement};
use ipxfer::domain::{Ipv4Range, Rir, TransferType};
use ipxfer::services::export::{self, WriteSink};
use time::OffsetDateTime;

const FORMATS: [&str; 4] = ["transfer-log-4.0", "transfer-log-5.0", "csv", "bundle"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1], &args[2]).await;
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![1_000, 100_000]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    println!(
        "{:>9} {:<17} {:>14} {:>10} {:>14}",
        "entries", "format", "peak RSS (kB)", "seconds", "entries/s"
    );
    for n in sizes {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("ledger.db").display()
        );
        generate(&url, n).await?;
        for format in FORMATS {
            let out = std::process::Command::new(std::env::current_exe()?)
                .args(["--child", &url, format])
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8(out.stdout)?;
            let mut f = line.split_whitespace();
            let (rows, hwm, secs): (u64, u64, f64) = (
                f.next().unwrap_or("0").parse()?,
                f.next().unwrap_or("0").parse()?,
                f.next().unwrap_or("0").parse()?,
            );
            println!(
                "{n:>9} {format:<17} {hwm:>14} {secs:>10.2} {:>14.0}",
                rows as f64 / secs
            );
        }
    }
    Ok(())
}

/// Appends `n` imported movements of distinct /24s in batches.
async fn generate(url: &str, n: u64) -> anyhow::Result<()> {
    let conn = ipxfer::db::connect(url).await?;
    ipxfer::db::migrate(&conn).await?;
    let now = OffsetDateTime::now_utc();
    let batch = 10_000;
    let mut i = 0u64;
    while i < n {
        let movements: Vec<Movement> = (i..(i + batch).min(n))
            .map(|k| {
                let start = (11u32 << 24) + (k as u32) * 256;
                let source_rir = Rir::ALL[(k % 5) as usize];
                let recipient_rir = Rir::ALL[((k / 5) % 5) as usize];
                let party = |name: String| LedgerParty {
                    org_id: None,
                    name: Some(name),
                    country: Some("NL".into()),
                };
                Movement {
                    kind: EntryKind::Imported,
                    transfer_id: None,
                    transfer_reference: None,
                    transfer_type: TransferType::ResourceTransfer,
                    source_rir,
                    recipient_rir,
                    source: party(format!("Source {k}")),
                    recipient: party(format!("Recipient {k}")),
                    range: Ipv4Range::new(start, start + 255).expect("a /24"),
                    original: None,
                    transfer_date: now - time::Duration::minutes(k as i64),
                    source_registration_date: None,
                }
            })
            .collect();
        let txn = ipxfer::db::begin_write(&conn).await?;
        ipxfer::db::ledger::append(&txn, movements, now).await?;
        txn.commit().await?;
        i += batch;
    }
    conn.close().await?;
    Ok(())
}

/// Runs one export to nowhere and prints `rows peak_rss_kb seconds`.
async fn child(url: &str, format: &str) -> anyhow::Result<()> {
    let conn = ipxfer::db::connect(url).await?;
    let mut sink = WriteSink(std::io::sink());
    let filter = LedgerFilter::default();
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let report = match format {
        "transfer-log-4.0" => {
            export::transfer_log(&conn, &mut sink, NroVersion::V4_0, None, &filter, now).await?
        }
        "transfer-log-5.0" => {
            export::transfer_log(&conn, &mut sink, NroVersion::V5_0, None, &filter, now).await?
        }
        "csv" => export::csv(&conn, &mut sink, &filter).await?,
        _ => export::bundle(&conn, &mut sink, &filter, String::new(), now, None).await?,
    };
    let secs = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("0");
    println!("{} {hwm} {secs:.3}", report.rows);
    Ok(())
}
