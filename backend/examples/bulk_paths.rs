//! Benchmark: the bulk paths of issue 11 on the scale data set's generated files: the delegated
//! import, the transfer-log import and `ledger verify`, with their rates and verify's peak memory.
//!
//! `cargo run --release --example bulk_paths -- [DATABASE_URL [HOLDINGS [LEDGER]]]` imports the
//! five delegated files and the transfer log `ipxfer seed scale` would generate (defaults: 250,000
//! holdings, 60,000 entries) into an empty database (default: a fresh SQLite file; give an empty
//! PostgreSQL database to measure PostgreSQL), then verifies the ledger in a child process of its
//! own and reports the child's peak resident set (`VmHWM`, Linux). Memory is flat in the ledger
//! size when two runs with different LEDGER sizes peak within a few megabytes.

use std::time::Instant;

use ipxfer::services::import::{self, NoProgress};
use ipxfer::services::{ledger, scale};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--verify") {
        return verify_child(&args[1]).await;
    }
    let dir = tempfile::tempdir()?;
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("bulk.db").display()));
    let mut sizes = scale::Scale::default();
    if let Some(h) = args.get(1) {
        sizes.holdings = h.parse()?;
    }
    if let Some(l) = args.get(2) {
        sizes.ledger = l.parse()?;
    }
    sizes.finalized = 0;
    let (files, log) = scale::import_files(&sizes)?;

    let conn = ipxfer::db::connect(&url).await?;
    ipxfer::db::migrate(&conn).await?;
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let cpu = cpu_seconds();
    let mut lines = 0;
    for file in &files {
        lines += file.lines().count();
        import::import_delegated(&conn, file.as_bytes(), now, &NoProgress).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "delegated import:    {lines:>8} lines   {secs:>7.2} s {:>10.0} lines/s   (CPU {cpu:.2} s)",
        lines as f64 / secs
    );
    let started = Instant::now();
    let cpu = cpu_seconds();
    let report = import::import_transfer_log(&conn, &log, now).await?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "transfer-log import: {:>8} entries {secs:>7.2} s {:>10.0} entries/s (CPU {cpu:.2} s)",
        report.entries_added,
        report.entries_added as f64 / secs
    );
    conn.close().await?;

    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--verify", &url])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{}", String::from_utf8(out.stdout)?);
    Ok(())
}

/// Verifies the ledger and prints its rate and this process's peak resident set.
async fn verify_child(url: &str) -> anyhow::Result<()> {
    let conn = ipxfer::db::connect(url).await?;
    let started = Instant::now();
    let cpu = cpu_seconds();
    let v = ledger::verify(&conn).await?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    anyhow::ensure!(v.is_intact(), "{}", v.summary());
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(str::trim)
        .unwrap_or("?");
    println!(
        "ledger verify:       {:>8} entries {secs:>7.2} s {:>10.0} entries/s (CPU {cpu:.2} s), \
         peak RSS {hwm}",
        v.entries,
        v.entries as f64 / secs
    );
    Ok(())
}

/// CPU time of this process so far (user and system, every thread: SQLite runs in sqlx's worker
/// thread), from `/proc/self/stat` in clock ticks of 1/100 s. On a machine shared with other
/// work, wall time includes waiting for a core; CPU time says what the path itself costs.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
