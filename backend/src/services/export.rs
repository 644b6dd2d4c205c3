//! Exports for auditors: the ledger as an NRO transfer log (4.0, 5.0), as CSV and as a
//! verification bundle, and one registry's holdings as a delegated-extended snapshot.
//!
//! Every export reads in keyset pages and hands the bytes of each page on through a [`Sink`]
//! before reading the next, so memory stays flat however large the ledger is. Entries appended
//! while an export runs are left out: the export stops at the head it saw when it started.

use std::future::Future;
use std::io::{self, Write};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use time::OffsetDateTime;

use crate::db::holdings as holdings_db;
use crate::db::ledger as ledger_db;
use crate::db::ledger_query::{self as query, Direction};
use crate::db::transfers as transfers_db;
use crate::domain::Rir;
use crate::domain::delegated::RecordStatus;
use crate::domain::export::LedgerFilter;
use crate::domain::export::bundle::{self, BundleHeader};
use crate::domain::export::csv_rows::CsvWriter;
use crate::domain::export::delegated::{
    self as snapshot, RegistryFile, SnapshotHeader, SnapshotRecord,
};
use crate::domain::export::nro::{InFlight, LogHeader, NroVersion, TransferLogWriter};
use crate::domain::ledger::{EntryKind, LedgerEntry, LedgerParty};
use crate::domain::transfer::OrgId;
use crate::domain::workflow::published_status;
use crate::error::{AppError, AppResult};

/// Entries (or holdings) read per page.
pub const PAGE: u64 = 1_000;

/// Where an export's bytes go. Writers write into it; between pages the export calls
/// [`Sink::drain`] to hand what was written on (flush a file, send a chunk of an HTTP body).
pub trait Sink: Write + Send {
    fn drain(&mut self) -> impl Future<Output = io::Result<()>> + Send;
}

/// A plain writer (a file, standard output, a buffer) as a [`Sink`]: draining flushes it.
pub struct WriteSink<W: Write + Send>(pub W);

impl<W: Write + Send> Write for WriteSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> Sink for WriteSink<W> {
    async fn drain(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportReport {
    /// Ledger entries, holdings or inventory blocks written.
    pub rows: u64,
    /// In-flight and cancelled inter-RIR transfers written (transfer log 5.0 only).
    pub in_flight: u64,
}

/// Moves what a writer staged into the sink. Writers stage into a `Vec` of their own so that
/// the export loop keeps the sink free to drain between pages.
fn hand_on(sink: &mut impl Write, staged: &mut Vec<u8>) -> io::Result<()> {
    sink.write_all(staged)?;
    staged.clear();
    Ok(())
}

fn io_error(e: io::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("writing the export failed"))
}

/// Resolves `--org` (an organisation id or handle) to the ids the filter uses.
pub async fn organisation_ids(conn: &impl ConnectionTrait, org: &str) -> AppResult<Vec<OrgId>> {
    let ids = query::organisation_ids(conn, org).await?;
    if ids.is_empty() {
        return Err(AppError::invalid(format!(
            "no organisation has the id or handle {org:?}"
        )));
    }
    Ok(ids.into_iter().map(OrgId).collect())
}

/// Reads every entry passing `filter` up to the head seen at the start, page by page, handing
/// each page to `each` and draining the sink after it.
async fn for_each_page<S: Sink>(
    conn: &DatabaseTransaction,
    filter: &LedgerFilter,
    sink: &mut S,
    mut each: impl FnMut(&mut S, &LedgerEntry) -> io::Result<()>,
) -> AppResult<u64> {
    let Some(head) = ledger_db::head(conn).await? else {
        return Ok(0);
    };
    let mut pages = Pages::new(head.seq);
    let mut rows = 0;
    let mut page = pages.next(conn, filter).await?;
    while let Some(entries) = page {
        // The next page is read while this one is written: the database (its own thread or
        // server) and this thread work at the same time.
        let (next, written) = tokio::join!(pages.next(conn, filter), async {
            entries.iter().try_for_each(|e| each(sink, e))
        });
        written.map_err(io_error)?;
        rows += entries.len() as u64;
        sink.drain().await.map_err(io_error)?;
        page = next?;
    }
    Ok(rows)
}

/// Keyset pages of the entries passing a filter, forward, up to entry `upto`.
struct Pages {
    cursor: Option<i64>,
    upto: i64,
    done: bool,
}

impl Pages {
    fn new(upto: i64) -> Self {
        Pages {
            cursor: None,
            upto,
            done: false,
        }
    }

    async fn next(
        &mut self,
        conn: &DatabaseTransaction,
        filter: &LedgerFilter,
    ) -> AppResult<Option<Vec<LedgerEntry>>> {
        if self.done {
            return Ok(None);
        }
        let mut page = query::page(conn, filter, self.cursor, Direction::Forward, PAGE).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            return Ok(None);
        };
        self.cursor = Some(last);
        self.done = last >= self.upto;
        page.retain(|e| e.seq <= self.upto);
        Ok(Some(page))
    }
}

// Each export reads inside one read transaction: every page sees the same snapshot of the
// ledger, and the whole export runs on one pooled connection, so the database's page cache is
// that of one connection whatever the ledger's size.

/// The NRO transfer log of `producer` (every registry, `"producer": "NRO"`, when `None`).
/// Version 5.0 adds the open inter-RIR transfers with their NRO status.
pub async fn transfer_log<S: Sink>(
    db: &DatabaseConnection,
    sink: &mut S,
    version: NroVersion,
    producer: Option<Rir>,
    filter: &LedgerFilter,
    now: OffsetDateTime,
) -> AppResult<ExportReport> {
    let txn = db.begin().await?;
    let report = transfer_log_in(&txn, sink, version, producer, filter, now).await?;
    txn.commit().await?;
    Ok(report)
}

/// Writes the open inter-RIR transfers of `page` that the NRO log knows of and `filter` keeps as
/// version 5.0's in-flight records; returns how many it wrote.
fn push_in_flight(
    writer: &mut TransferLogWriter<Vec<u8>>,
    page: Vec<transfers_db::OpenTransfer>,
    filter: &LedgerFilter,
    now: OffsetDateTime,
) -> AppResult<u64> {
    let mut in_flight = 0;
    for t in page {
        let history: Vec<(&str, OffsetDateTime)> =
            t.history.iter().map(|(s, at)| (s.as_str(), *at)).collect();
        // Nothing for a transfer the NRO log never heard of (cancelled before the
        // source registry approved).
        let Some((status, since)) = published_status(&history, &t.state) else {
            continue;
        };
        let source_rir = Rir::from_token(&t.row.source_registry);
        let recipient_rir = Rir::from_token(&t.row.recipient_registry);
        let (Some(source_rir), Some(recipient_rir)) = (source_rir, recipient_rir) else {
            continue;
        };
        let touches = |r: Rir| source_rir == r || recipient_rir == r;
        let in_filter = filter.registry.is_none_or(touches)
            && filter.org_ids.as_ref().is_none_or(|ids| {
                ids.contains(&OrgId(t.row.source_org_id))
                    || ids.contains(&OrgId(t.row.recipient_org_id))
            })
            && filter.from.is_none_or(|d| since.date() >= d)
            && filter.to.is_none_or(|d| since.date() <= d)
            && filter.kind.is_none()
            && filter
                .transfer_type
                .is_none_or(|k| k.nro_name() == t.row.kind)
            && filter
                .touching
                .is_none_or(|r| t.blocks.iter().any(|b| b.overlaps(&r)));
        let Some(transfer_type) = crate::domain::TransferType::from_nro_name(&t.row.kind) else {
            continue;
        };
        if !in_filter {
            continue;
        }
        let party = |o: &crate::db::entities::organisation::Model| LedgerParty {
            org_id: Some(OrgId(o.id)),
            name: Some(o.name.clone()),
            country: o.country.clone(),
        };
        writer
            .push_in_flight(&InFlight {
                transfer_type,
                source_rir,
                recipient_rir,
                source: party(&t.source),
                recipient: party(&t.recipient),
                blocks: t.blocks,
                source_registration_date: None,
                status,
                // Never after the production date, as the interval.
                status_date: since.min(now),
            })
            .map_err(io_error)?;
        in_flight += 1;
    }
    Ok(in_flight)
}

/// CSV with one row per ledger entry passing `filter`.
pub async fn csv<S: Sink>(
    db: &DatabaseConnection,
    sink: &mut S,
    filter: &LedgerFilter,
) -> AppResult<ExportReport> {
    let txn = db.begin().await?;
    let report = csv_in(&txn, sink, filter).await?;
    txn.commit().await?;
    Ok(report)
}

/// The verification bundle of the entries passing `filter` (the whole chain when it is empty).
///
/// With the log's key, the bundle is cut at a checkpoint (signed now if the ledger grew): it
/// carries that checkpoint, holds no entry beyond it, gives each entry of a filtered bundle its
/// inclusion proof, and ends with the log's signature over the header and the entries.
pub async fn bundle<S: Sink>(
    db: &DatabaseConnection,
    sink: &mut S,
    filter: &LedgerFilter,
    filter_text: String,
    now: OffsetDateTime,
    log: Option<&crate::services::tlog::LogConfig>,
) -> AppResult<ExportReport> {
    if let Some(log) = log {
        crate::services::tlog::sign_if_grown(db, log, now).await?;
    }
    let txn = db.begin().await?;
    let report = match log {
        Some(log) => signed_bundle_in(&txn, sink, filter, filter_text, now, log).await?,
        None => bundle_in(&txn, sink, filter, filter_text, now).await?,
    };
    txn.commit().await?;
    Ok(report)
}

/// A delegated-extended snapshot of `registry`'s current holdings, then its inventory (only the
/// holdings of `org_ids` when given, and then no inventory).
pub async fn delegated<S: Sink>(
    db: &DatabaseConnection,
    sink: &mut S,
    registry: Rir,
    org_ids: Option<&[OrgId]>,
    now: OffsetDateTime,
) -> AppResult<ExportReport> {
    let txn = db.begin().await?;
    let report = delegated_in(&txn, sink, registry, org_ids, now).await?;
    txn.commit().await?;
    Ok(report)
}

/// The NRO transfer log of `producer` (every registry, `"producer": "NRO"`, when `None`).
/// Version 5.0 adds the open inter-RIR transfers with their NRO status.
async fn transfer_log_in<S: Sink>(
    conn: &DatabaseTransaction,
    sink: &mut S,
    version: NroVersion,
    producer: Option<Rir>,
    filter: &LedgerFilter,
    now: OffsetDateTime,
) -> AppResult<ExportReport> {
    let mut filter = filter.clone();
    match (producer, filter.registry) {
        (Some(p), Some(r)) if p != r => {
            return Err(AppError::invalid(format!(
                "{p}'s transfer log lists only transfers touching {p}; leave out --registry \
                 {r} or make it {p}"
            )));
        }
        (Some(p), _) => filter.registry = Some(p),
        _ => {}
    }
    let (start, end) = query::date_bounds(conn, &filter)
        .await?
        .unwrap_or((now, now));
    // A log cannot cover records after it was produced (dates imported with
    // --allow-future-dates, or a clock behind the ledger's): the interval ends at production.
    let end = end.min(now);
    let header = LogHeader {
        version,
        producer,
        production_date: now,
        records_start: start.min(end),
        records_end: end,
    };
    // The writer borrows the sink; the entries go through a small staging buffer per page so
    // the page loop can drain the sink itself.
    let mut writer = TransferLogWriter::new(Vec::new(), &header).map_err(io_error)?;
    hand_on(sink, writer.get_mut()).map_err(io_error)?;
    let mut rows = 0;
    if let Some(head) = ledger_db::head(conn).await? {
        let kept_sets = query::any_original_set(conn).await?;
        let mut pages = Pages::new(head.seq);
        let mut next = pages.next(conn, &filter).await?;
        while let Some(page) = next {
            if kept_sets {
                let references: Vec<String> = page
                    .iter()
                    .filter(|e| e.movement.kind == EntryKind::Imported)
                    .filter_map(|e| e.movement.transfer_reference.clone())
                    .collect();
                for (reference, set) in query::original_sets(conn, &references).await? {
                    writer.add_original_set(reference, set);
                }
            }
            rows += page.len() as u64;
            // The next page is read while this one is written (as in `for_each_page`).
            let (read, written) = tokio::join!(pages.next(conn, &filter), async {
                for e in page {
                    writer.push_entry(e)?;
                }
                hand_on(sink, writer.get_mut())
            });
            written.map_err(io_error)?;
            sink.drain().await.map_err(io_error)?;
            next = read?;
        }
    }
    let mut in_flight = 0;
    if version == NroVersion::V5_0 {
        let mut page = transfers_db::unfinished_inter_rir_page(conn, 0, PAGE).await?;
        while let Some(last) = page.last().map(|t| t.row.id) {
            // The next page is read while this one is written (as for the entries above).
            let (read, written) = tokio::join!(
                transfers_db::unfinished_inter_rir_page(conn, last, PAGE),
                async {
                    let n = push_in_flight(&mut writer, page, &filter, now)?;
                    hand_on(sink, writer.get_mut()).map_err(io_error)?;
                    AppResult::Ok(n)
                }
            );
            in_flight += written?;
            sink.drain().await.map_err(io_error)?;
            page = read?;
        }
    }
    let rest = writer.finish().map_err(io_error)?;
    sink.write_all(&rest).map_err(io_error)?;
    sink.drain().await.map_err(io_error)?;
    Ok(ExportReport { rows, in_flight })
}

/// CSV with one row per ledger entry passing `filter`.
async fn csv_in<S: Sink>(
    conn: &DatabaseTransaction,
    sink: &mut S,
    filter: &LedgerFilter,
) -> AppResult<ExportReport> {
    let mut writer = CsvWriter::new();
    let rows = for_each_page(conn, filter, sink, |sink, e| {
        writer.push(e)?;
        writer.hand_on(sink)
    })
    .await?;
    let rest = writer.finish().map_err(io_error)?;
    sink.write_all(&rest).map_err(io_error)?;
    sink.drain().await.map_err(io_error)?;
    Ok(ExportReport { rows, in_flight: 0 })
}

/// The verification bundle of the entries passing `filter` (the whole chain when it is empty).
async fn bundle_in<S: Sink>(
    conn: &DatabaseTransaction,
    sink: &mut S,
    filter: &LedgerFilter,
    filter_text: String,
    now: OffsetDateTime,
) -> AppResult<ExportReport> {
    let header = BundleHeader::new(now, filter.is_empty(), filter_text);
    bundle::write_header(sink, &header).map_err(io_error)?;
    let rows = for_each_page(conn, filter, sink, |sink, e| bundle::write_entry(sink, e)).await?;
    sink.drain().await.map_err(io_error)?;
    Ok(ExportReport { rows, in_flight: 0 })
}

/// A bundle cut at the latest checkpoint and signed (see [`bundle`]).
async fn signed_bundle_in<S: Sink>(
    conn: &DatabaseTransaction,
    sink: &mut S,
    filter: &LedgerFilter,
    filter_text: String,
    now: OffsetDateTime,
    log: &crate::services::tlog::LogConfig,
) -> AppResult<ExportReport> {
    let checkpoint = crate::db::tlog::latest_checkpoint(conn)
        .await?
        .filter(|c| c.vkey == log.signer.vkey())
        .ok_or_else(|| AppError::invalid("the log has signed no checkpoint with this key yet"))?;
    let complete = filter.is_empty();
    let header =
        BundleHeader::new(now, complete, filter_text).at_checkpoint(checkpoint.published());
    let header_line = bundle::header_line(&header).map_err(io_error)?;
    sink.write_all(header_line.as_bytes()).map_err(io_error)?;
    let mut signed = bundle::SignedEntries::default();
    let mut pages = Pages::new(checkpoint.size as i64);
    while let Some(page) = pages.next(conn, filter).await? {
        let proofs = if complete {
            vec![Vec::new(); page.len()]
        } else {
            let leaves: Vec<u64> = page.iter().map(|e| e.seq as u64 - 1).collect();
            crate::services::tlog::inclusion_proofs(conn, checkpoint.size, &leaves).await?
        };
        for (e, proof) in page.iter().zip(&proofs) {
            let p = (!complete).then_some(proof.as_slice());
            bundle::write_entry_with_proof(sink, e, p).map_err(io_error)?;
            signed.push(e);
        }
        sink.drain().await.map_err(io_error)?;
    }
    let statement = signed.statement(&header_line);
    let note = log
        .signer
        .sign_note(&statement)
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    bundle::write_signature(sink, &note).map_err(io_error)?;
    sink.drain().await.map_err(io_error)?;
    Ok(ExportReport {
        rows: signed.count(),
        in_flight: 0,
    })
}

/// A delegated-extended snapshot of `registry`'s current holdings, then its inventory (only the
/// holdings of `org_ids` when given, and then no inventory).
async fn delegated_in<S: Sink>(
    conn: &DatabaseTransaction,
    sink: &mut S,
    registry: Rir,
    org_ids: Option<&[OrgId]>,
    now: OffsetDateTime,
) -> AppResult<ExportReport> {
    let org_keys: Option<Vec<i64>> = org_ids.map(|ids| ids.iter().map(|id| id.get()).collect());
    let org_ids = org_keys.as_deref();
    let (held, inventory, start_date) =
        holdings_db::registry_counts(conn, registry, org_ids).await?;
    // The version line as the registry's own file had it; its serial only while the snapshot
    // is still that file's (no ipxfer transfer has moved this registry's space since).
    let registry_file = match holdings_db::registry_import(conn, registry).await? {
        Some(import) => {
            let unchanged = !query::has_transfers_touching(conn, registry).await?;
            Some(RegistryFile {
                format_version: import.format_version.unwrap_or_else(|| "2.3".to_owned()),
                serial: unchanged.then_some(import.serial),
                utc_offset: import.utc_offset.unwrap_or_else(|| "+0000".to_owned()),
            })
        }
        None => None,
    };
    snapshot::write_header(
        sink,
        &SnapshotHeader {
            registry,
            produced_at: now,
            records: held + inventory,
            start_date,
            registry_file,
        },
    )
    .map_err(io_error)?;
    let mut rows = 0;
    let mut after = None;
    loop {
        let page = holdings_db::holdings_page(conn, registry, org_ids, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(i64::from(last.range.start()));
        for b in &page {
            // Holdings carry the delegated statuses; anything else held reads as allocated.
            let status = RecordStatus::parse(&b.status)
                .filter(|s| s.is_delegated())
                .unwrap_or(RecordStatus::Allocated);
            let record = SnapshotRecord {
                country: b.country.clone(),
                range: b.range,
                date: b.date,
                status,
                opaque_id: b.handle.clone(),
            };
            snapshot::write_record(sink, registry, &record).map_err(io_error)?;
            rows += 1;
        }
        sink.drain().await.map_err(io_error)?;
    }
    if org_ids.is_none() {
        let mut after = None;
        loop {
            let page = holdings_db::inventory_page(conn, registry, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(i64::from(last.range.start()));
            for b in &page {
                let status = RecordStatus::parse(&b.status).unwrap_or(RecordStatus::Reserved);
                let record = SnapshotRecord {
                    country: None,
                    range: b.range,
                    date: b.date,
                    status,
                    opaque_id: None,
                };
                snapshot::write_record(sink, registry, &record).map_err(io_error)?;
                rows += 1;
            }
            sink.drain().await.map_err(io_error)?;
        }
    }
    Ok(ExportReport { rows, in_flight: 0 })
}
