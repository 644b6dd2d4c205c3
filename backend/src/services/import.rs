//! Imports of the registries' published data: delegated-extended files into organisations,
//! holdings and inventory; NRO transfer logs into `imported` ledger entries. Each import parses
//! the whole input first and writes in one transaction, so bad input changes nothing.

use std::collections::{HashMap, HashSet};

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::holdings::{self as holdings_db, ImportRecord};
use crate::db::organisations::{self as orgs_db, NewOrganisation};
use crate::db::{self, ledger as ledger_db, ledger_query};
use crate::domain::delegated::{self, RecordStatus, ResourceKind};
use crate::domain::ledger::{EntryKind, HoldingRecord, LedgerParty, Movement};
use crate::domain::transfer::HoldingOrigin;
use crate::domain::transfer::OrgId;
use crate::domain::transfer_log;
use crate::domain::{Ipv4Range, Rir};
use crate::error::{AppError, AppResult};

/// Receives progress of a long import: rows written so far out of the total.
pub trait Progress: Sync {
    fn advance(&self, done: u64, total: u64);
}

/// Progress that nobody watches.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: u64, _: u64) {}
}

/// Whether an import changed the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    /// The same file (by SHA-256) was already imported: nothing changed.
    Unchanged,
}

/// What a delegated-extended import did.
#[derive(Debug, Clone)]
pub struct DelegatedReport {
    pub registry: Rir,
    pub outcome: Outcome,
    pub organisations: u64,
    pub holdings: u64,
    pub holding_addresses: u64,
    pub inventory_records: u64,
    pub inventory_addresses: u64,
    /// ASN and IPv6 records read but not tracked (ipxfer coordinates IPv4).
    pub other_records: u64,
    /// Declared counts (version line, summaries) that differ from the file's content.
    pub count_mismatches: Vec<String>,
}

/// Imports a delegated-extended file of one registry.
///
/// Organisations are keyed by (registry, opaque-id); allocated and assigned IPv4 records become
/// holdings (and the snapshot verification replays from); available and reserved IPv4 records
/// become the registry's inventory. Importing the same file again changes nothing. Importing a
/// different file replaces the registry's snapshot, unless finalized transfers already moved
/// that registry's space (replacing it would rewrite history the ledger depends on).
pub async fn import_delegated(
    db: &DatabaseConnection,
    bytes: &[u8],
    now: OffsetDateTime,
    progress: &dyn Progress,
) -> AppResult<DelegatedReport> {
    import_delegated_with(db, bytes, now, progress, DelegatedOptions::default()).await
}

/// How a delegated-extended file is imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DelegatedOptions {
    /// Let a file dated before the registry's snapshot in place replace it (`--replace-older`);
    /// refused otherwise, so an old download never silently undoes a newer one.
    pub replace_older: bool,
}

/// [`import_delegated`] with options.
pub async fn import_delegated_with(
    db: &DatabaseConnection,
    bytes: &[u8],
    now: OffsetDateTime,
    progress: &dyn Progress,
    options: DelegatedOptions,
) -> AppResult<DelegatedReport> {
    let file =
        delegated::parse_document_bytes(bytes).map_err(|e| AppError::invalid(e.to_string()))?;
    let registry = Rir::from_token(&file.header.registry).ok_or_else(|| {
        AppError::invalid(format!(
            "this is a delegated file of {:?}; ipxfer imports the files of the five RIRs \
             (afrinic, apnic, arin, lacnic, ripencc), whose records name resource holders",
            file.header.registry
        ))
    })?;
    let sha256 = hex::encode(Sha256::digest(bytes));

    let mut orgs: HashMap<String, NewOrganisation> = HashMap::new();
    let mut held: Vec<(&delegated::DelegatedRecord, Ipv4Range)> = Vec::new();
    let mut inventory = Vec::new();
    let mut other_records = 0;
    for record in &file.records {
        if let Some(id) = &record.opaque_id {
            orgs.entry(id.clone()).or_insert_with(|| NewOrganisation {
                handle: id.clone(),
                name: format!("{registry} holder {id}"),
                country: holder_country(record),
            });
        }
        match (record.resource, record.ipv4_range()) {
            (ResourceKind::Ipv4, Some(range)) => match record.status {
                RecordStatus::Allocated | RecordStatus::Assigned => {
                    if record.opaque_id.is_none() {
                        return Err(AppError::invalid(format!(
                            "line {}: an {} record needs an opaque-id naming its holder",
                            record.line, record.status
                        )));
                    }
                    // No registry delegates special-purpose space: such a line is corrupt data.
                    if let Some(special) = range.special_purpose().first() {
                        return Err(AppError::invalid(format!(
                            "line {}: {range} lies in special-purpose space ({}, {}), which no \
                             registry delegates",
                            record.line, special.name, special.rfc
                        )));
                    }
                    held.push((record, range));
                }
                RecordStatus::Available => inventory.push((range, "available", record.date)),
                RecordStatus::Reserved => inventory.push((range, "reserved", record.date)),
            },
            _ => other_records += 1,
        }
    }
    check_no_overlap(held.iter().map(|(r, range)| (r.line, *range)))?;

    let txn = db::begin_write(db).await?;
    let previous = holdings_db::registry_import(&txn, registry).await?;
    let mut report = DelegatedReport {
        registry,
        outcome: Outcome::Imported,
        organisations: orgs.len() as u64,
        holdings: held.len() as u64,
        holding_addresses: held.iter().map(|(_, r)| r.size()).sum(),
        inventory_records: inventory.len() as u64,
        inventory_addresses: inventory.iter().map(|(r, _, _)| r.size()).sum(),
        other_records,
        count_mismatches: file.mismatches().iter().map(ToString::to_string).collect(),
    };
    if let Some(prev) = &previous {
        if prev.file_sha256 == sha256 {
            txn.rollback().await?;
            report.outcome = Outcome::Unchanged;
            return Ok(report);
        }
        if let (Some(older), Some(newer)) = (file.header.end_date, prev.file_date)
            && older < newer
            && !options.replace_older
        {
            return Err(AppError::invalid(format!(
                "this {registry} file is dated {older} (its version line), older than the \
                 snapshot in place, dated {newer}; importing it would replace newer data with \
                 older, so it was refused (pass --replace-older to import it anyway)"
            )));
        }
        if ledger_query::has_transfers_touching(&txn, registry).await? {
            return Err(AppError::conflict(format!(
                "{registry} already has transfers finalized in the ledger; importing a different \
                 snapshot would rewrite the holdings they moved, so it was refused"
            )));
        }
        holdings_db::delete_registry(&txn, registry).await?;
    }

    let total = report.organisations + report.holdings + report.inventory_records;
    let ids = orgs_db::upsert_many(&txn, registry, orgs.into_values().collect(), now).await?;
    progress.advance(report.organisations, total);
    let rows: Vec<HoldingRecord> = held
        .iter()
        .map(|(record, range)| HoldingRecord {
            registry,
            org_id: OrgId(ids[record.opaque_id.as_deref().unwrap_or_default()]),
            range: *range,
            status: record.status.as_str().to_owned(),
            origin: HoldingOrigin::RegistryIssued.as_str().to_owned(),
            registered_on: record.date,
            received_on: record.date,
            country: holder_country(record),
        })
        .collect();
    for (i, chunk) in rows.chunks(5_000).enumerate() {
        holdings_db::insert_imported(&txn, chunk).await?;
        progress.advance(
            report.organisations + (i * 5_000 + chunk.len()) as u64,
            total,
        );
    }
    check_no_conflict_with_other_registries(&txn, registry, &held).await?;
    holdings_db::insert_inventory(&txn, registry, &inventory).await?;
    progress.advance(total, total);

    let record = ImportRecord {
        registry,
        file_sha256: sha256,
        serial: file.header.serial.clone(),
        file_date: file.header.end_date,
        records: file.counted.total() as i64,
        format_version: file.header.version.clone(),
        utc_offset: file.header.utc_offset.clone(),
        notes: (!report.count_mismatches.is_empty()).then(|| report.count_mismatches.join("\n")),
    };
    holdings_db::record_import(&txn, record, now).await?;
    txn.commit().await?;
    Ok(report)
}

/// The holder's country as ipxfer stores it: `ZZ` ("no country", AFRINIC) and anything that is
/// not an ISO 3166 alpha-2 code become unknown.
fn holder_country(record: &delegated::DelegatedRecord) -> Option<String> {
    record.country.clone().filter(|c| c.len() == 2 && c != "ZZ")
}

/// Holdings in one file must not overlap: the same address cannot have two holders.
fn check_no_overlap(ranges: impl Iterator<Item = (usize, Ipv4Range)>) -> AppResult<()> {
    let mut sorted: Vec<(usize, Ipv4Range)> = ranges.collect();
    sorted.sort_by_key(|(_, r)| *r);
    for pair in sorted.windows(2) {
        let ((line_a, a), (line_b, b)) = (pair[0], pair[1]);
        if a.overlaps(&b) {
            return Err(AppError::invalid(format!(
                "line {line_b}: {b} overlaps {a} of line {line_a}; one address cannot have two holders"
            )));
        }
    }
    Ok(())
}

/// A registry's holdings must not overlap another registry's: that is exactly the conflict an
/// unfinished inter-RIR transfer leaves behind, and importing it would corrupt the registry.
/// Checked after the registry's rows are written (in the same transaction, which an error rolls
/// back) by two index probes per holding in the database (`holdings_db::first_conflict`),
/// instead of reading every other registry's holding.
async fn check_no_conflict_with_other_registries(
    conn: &impl sea_orm::ConnectionTrait,
    registry: Rir,
    held: &[(&delegated::DelegatedRecord, Ipv4Range)],
) -> AppResult<()> {
    let Some(((start, end), (other_start, other_end), other)) =
        holdings_db::first_conflict(conn, registry).await?
    else {
        return Ok(());
    };
    let range = holdings_db::range_of(start, end)?;
    let theirs = holdings_db::range_of(other_start, other_end)?;
    let line = held
        .iter()
        .find(|(_, r)| *r == range)
        .map_or(0, |(record, _)| record.line);
    Err(AppError::invalid(format!(
        "line {line}: {range} overlaps {theirs}, which {other} already lists as held; \
         resolve the conflict between the registries before importing"
    )))
}

/// What a transfer-log import did.
#[derive(Debug, Clone, Default)]
pub struct TransferLogReport {
    pub producer: String,
    pub stats_version: String,
    /// Completed transfers in the log.
    pub transfers: u64,
    /// Ledger entries appended (one per moved IPv4 range).
    pub entries_added: u64,
    /// Moved ranges already in the ledger from an earlier import.
    pub entries_already_present: u64,
    /// Transfers that moved only ASNs or IPv6: counted and skipped.
    pub asn_or_ipv6_only: u64,
    /// In-flight transfers (4.1 / 5.0 `transfers_in_progress`): not ledger entries.
    pub in_progress: u64,
    pub notes: Vec<String>,
}

/// How a transfer log is imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferLogOptions {
    /// Keep transfer dates after the log's production date or in the future, as given
    /// (`--allow-future-dates`); refused otherwise.
    pub allow_future_dates: bool,
}

/// Imports a published NRO transfer log with the default options (see
/// [`import_transfer_log_with`]).
pub async fn import_transfer_log(
    db: &DatabaseConnection,
    bytes: &[u8],
    now: OffsetDateTime,
) -> AppResult<TransferLogReport> {
    import_transfer_log_with(db, bytes, now, TransferLogOptions::default()).await
}

/// Imports a published NRO transfer log (4.0, 4.1 or 5.0) as `imported` ledger entries: history
/// only, never re-applied to the holdings. Importing the same log twice adds nothing.
///
/// The ledger keeps one entry per range; the entries of one record carry the record's reference
/// (`ripencc log 3f9a1c2e #3`, see [`transfer_log::record_reference`]) as their
/// `transfer_reference`, and each its original block, so exports give the record back as one
/// object. A record's `original_set` that its entries cannot give back exactly is kept beside
/// them (`imported_original_sets`). Transfer dates after the log's production date or `now`
/// are refused unless `options` allow them.
pub async fn import_transfer_log_with(
    db: &DatabaseConnection,
    bytes: &[u8],
    now: OffsetDateTime,
    options: TransferLogOptions,
) -> AppResult<TransferLogReport> {
    let log = transfer_log::parse_bytes(bytes).map_err(|e| AppError::invalid(e.to_string()))?;
    if !options.allow_future_dates {
        transfer_log::check_dates(&log, now).map_err(AppError::invalid)?;
    }
    let file_id = hex::encode(&Sha256::digest(bytes)[..4]);
    let mut original_sets: Vec<(String, Vec<Ipv4Range>)> = Vec::new();
    let mut report = TransferLogReport {
        producer: log.version.producer.clone(),
        stats_version: log.version.stats_version.clone(),
        transfers: log.transfers.len() as u64,
        in_progress: log.in_progress.len() as u64,
        ..Default::default()
    };
    let mut movements = Vec::new();
    for t in &log.transfers {
        if t.ip4.is_empty() {
            report.asn_or_ipv6_only += 1;
            report.notes.push(format!(
                "{}: {} ASN range(s) and {} IPv6 range(s), no IPv4: skipped (ipxfer tracks IPv4)",
                t.path, t.asn_ranges, t.ip6_ranges
            ));
            continue;
        }
        let Some(date) = t.transfer_date else {
            return Err(AppError::invalid(format!(
                "{}: a completed transfer needs a transfer_date",
                t.path
            )));
        };
        let party = |o: &Option<transfer_log::LogOrg>| LedgerParty {
            org_id: None,
            name: o.as_ref().and_then(|o| o.name.clone()),
            country: o.as_ref().and_then(|o| o.country_code.clone()),
        };
        // The record is the unit: its ranges (over every ip4nets object) share a reference,
        // which fits the 32 characters of `transfer_reference`.
        let reference = transfer_log::record_reference(&log.version, &file_id, &t.path);
        let transfer_set: Vec<Ipv4Range> = t.transferred_ranges().collect();
        let original_set: Vec<Ipv4Range> = t
            .ip4
            .iter()
            .flat_map(|n| n.original_set.iter().copied())
            .collect();
        let (originals, kept) = transfer_log::originals_per_range(&original_set, &transfer_set);
        if let Some(set) = kept {
            original_sets.push((reference.clone(), set));
        }
        for (range, original) in transfer_set.into_iter().zip(originals) {
            movements.push(Movement {
                kind: EntryKind::Imported,
                transfer_id: None,
                transfer_reference: Some(reference.clone()),
                transfer_type: t.kind,
                source_rir: t.source_rir,
                recipient_rir: t.recipient_rir,
                source: party(&t.source_org),
                recipient: party(&t.recipient_org),
                range,
                original,
                transfer_date: date,
                source_registration_date: t.source_registration_date,
            });
        }
    }
    let not_final = report.in_progress + log.cancelled.len() as u64;
    if not_final > 0 {
        report.notes.push(format!(
            "{not_final} in-flight or cancelled transfer(s) are not ledger entries: skipped"
        ));
    }

    let txn = db::begin_write(db).await?;
    // Already in the ledger, or earlier in this very file: recorded once.
    let mut seen = ledger_query::imported_keys(&txn).await?;
    let mut fresh: Vec<Movement> = Vec::with_capacity(movements.len());
    for m in movements {
        if seen.insert(m.import_key()) {
            fresh.push(m);
        } else {
            report.entries_already_present += 1;
        }
    }
    report.entries_added = fresh.len() as u64;
    // Only the records that added entries keep their original_set beside them.
    if !original_sets.is_empty() {
        let added: HashSet<&str> = fresh
            .iter()
            .filter_map(|m| m.transfer_reference.as_deref())
            .collect();
        original_sets.retain(|(reference, _)| added.contains(reference.as_str()));
    }
    ledger_db::append(&txn, fresh, now).await?;
    ledger_db::keep_original_sets(&txn, &original_sets).await?;
    txn.commit().await?;
    Ok(report)
}
