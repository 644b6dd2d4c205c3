//! The hash-chained, append-only ledger of block movements, as pure functions: building the next
//! entry, verifying a chain as a stream, and replaying movements over a holdings snapshot.
//!
//! `hash = SHA-256(canonical || prev_hash)`, where `canonical` is the JSON of [`Canonical`]: a
//! fixed field order, integers and strings only (no floats), times as RFC 3339 UTC to the second.
//! The first entry's `prev_hash` is [`GENESIS_HASH`]. Callers persist; nothing here does I/O.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::block::coalesce;
use super::transfer::{HoldingOrigin, OrgId, TransferId, TransferType};
use super::{Ipv4Range, Rir};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A historic transfer read from a registry's published transfer log: history only, never
    /// re-applied to the holdings snapshot (the snapshot already reflects it).
    Imported,
    /// A transfer finalized in ipxfer: moves the holding.
    Transfer,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Imported => "imported",
            EntryKind::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "imported" => Some(EntryKind::Imported),
            "transfer" => Some(EntryKind::Transfer),
            _ => None,
        }
    }
}

/// A party as the ledger records it: the organisation id when ipxfer knows it, its name and
/// country as published.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerParty {
    pub org_id: Option<OrgId>,
    pub name: Option<String>,
    pub country: Option<String>,
}

/// One approved movement of one contiguous range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: EntryKind,
    pub transfer_id: Option<TransferId>,
    pub transfer_reference: Option<String>,
    pub transfer_type: TransferType,
    pub source_rir: Rir,
    pub recipient_rir: Rir,
    pub source: LedgerParty,
    pub recipient: LedgerParty,
    pub range: Ipv4Range,
    /// The registry block the range was cut from, when known.
    pub original: Option<Ipv4Range>,
    pub transfer_date: OffsetDateTime,
    pub source_registration_date: Option<OffsetDateTime>,
}

/// What identifies an imported movement across imports: the range, the two registries and the
/// transfer time to the second. A published log imported twice matches itself entry by entry.
pub type ImportKey = (u32, u32, Rir, Rir, i64);

impl Movement {
    /// This movement's [`ImportKey`].
    pub fn import_key(&self) -> ImportKey {
        (
            self.range.start(),
            self.range.end(),
            self.source_rir,
            self.recipient_rir,
            ledger_time(self.transfer_date).unix_timestamp(),
        )
    }
}

/// A movement with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub seq: i64,
    pub movement: Movement,
    pub recorded_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
}

/// The hashed encoding of an entry. Field order is part of the format: never reorder.
#[derive(Serialize)]
struct Canonical<'a> {
    v: u8,
    seq: i64,
    kind: &'static str,
    transfer_id: Option<TransferId>,
    transfer_reference: Option<&'a str>,
    transfer_type: &'static str,
    source_rir: &'static str,
    recipient_rir: &'static str,
    source_org_id: Option<OrgId>,
    recipient_org_id: Option<OrgId>,
    source_org_name: Option<&'a str>,
    recipient_org_name: Option<&'a str>,
    source_country: Option<&'a str>,
    recipient_country: Option<&'a str>,
    start: u32,
    end: u32,
    original_start: Option<u32>,
    original_end: Option<u32>,
    transfer_date: String,
    source_registration_date: Option<String>,
    recorded_at: String,
}

/// Truncates to whole seconds in UTC: every time the ledger hashes must survive a database
/// round trip unchanged, and SQLite and PostgreSQL keep sub-second precision differently.
pub fn ledger_time(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("zero nanoseconds is always valid")
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    ledger_time(t)
        .format(&Rfc3339)
        .expect("a UTC time within year 0..9999 always formats")
}

/// The canonical bytes that are hashed for an entry (without `prev_hash`).
pub fn canonical_bytes(seq: i64, m: &Movement, recorded_at: OffsetDateTime) -> Vec<u8> {
    let c = Canonical {
        v: 1,
        seq,
        kind: m.kind.as_str(),
        transfer_id: m.transfer_id,
        transfer_reference: m.transfer_reference.as_deref(),
        transfer_type: m.transfer_type.nro_name(),
        source_rir: m.source_rir.nro_name(),
        recipient_rir: m.recipient_rir.nro_name(),
        source_org_id: m.source.org_id,
        recipient_org_id: m.recipient.org_id,
        source_org_name: m.source.name.as_deref(),
        recipient_org_name: m.recipient.name.as_deref(),
        source_country: m.source.country.as_deref(),
        recipient_country: m.recipient.country.as_deref(),
        start: m.range.start(),
        end: m.range.end(),
        original_start: m.original.map(|r| r.start()),
        original_end: m.original.map(|r| r.end()),
        transfer_date: rfc3339(m.transfer_date),
        source_registration_date: m.source_registration_date.map(rfc3339),
        recorded_at: rfc3339(recorded_at),
    };
    serde_json::to_vec(&c).expect("the canonical struct has only strings and integers")
}

/// `SHA-256(canonical || prev_hash)` as lower-case hex.
pub fn entry_hash(seq: i64, m: &Movement, recorded_at: OffsetDateTime, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(canonical_bytes(seq, m, recorded_at));
    hasher.update(prev_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// The head of a chain: the last entry's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// Builds the entry that follows `head` (or the first entry when the ledger is empty).
pub fn next_entry(
    head: Option<&ChainHead>,
    movement: Movement,
    recorded_at: OffsetDateTime,
) -> LedgerEntry {
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let movement = Movement {
        transfer_date: ledger_time(movement.transfer_date),
        source_registration_date: movement.source_registration_date.map(ledger_time),
        ..movement
    };
    let recorded_at = ledger_time(recorded_at);
    let hash = entry_hash(seq, &movement, recorded_at, &prev_hash);
    LedgerEntry {
        seq,
        movement,
        recorded_at,
        prev_hash,
        hash,
    }
}

/// Why a chain does not verify, at the first entry that breaks it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "entry {seq}: expected sequence number {expected}; entries are missing or out of order"
    )]
    Gap { seq: i64, expected: i64 },
    #[error("entry {seq}: prev_hash is {found} but the previous entry's hash is {expected}")]
    BrokenLink {
        seq: i64,
        expected: String,
        found: String,
    },
    #[error(
        "entry {seq}: stored hash {stored} does not match its contents (recomputed {recomputed}); the entry was altered"
    )]
    Altered {
        seq: i64,
        stored: String,
        recomputed: String,
    },
}

impl ChainBreak {
    /// Sequence number of the first broken entry.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Gap { seq, .. }
            | ChainBreak::BrokenLink { seq, .. }
            | ChainBreak::Altered { seq, .. } => *seq,
        }
    }
}

/// Verifies a chain one entry at a time, so a ledger of any size verifies in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    head: Option<ChainHead>,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        ChainVerifier {
            head: None,
            count: 0,
        }
    }

    /// A verifier that continues after `head`, an entry it has not seen (an extract of the
    /// ledger, whose earlier entries are elsewhere).
    pub fn resume_after(head: ChainHead) -> Self {
        ChainVerifier {
            head: Some(head),
            count: 0,
        }
    }

    /// Checks the next entry in sequence order.
    pub fn push(&mut self, e: &LedgerEntry) -> Result<(), ChainBreak> {
        let (expected_seq, expected_prev) = match &self.head {
            Some(h) => (h.seq + 1, h.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        if e.seq != expected_seq {
            return Err(ChainBreak::Gap {
                seq: e.seq,
                expected: expected_seq,
            });
        }
        if e.prev_hash != expected_prev {
            return Err(ChainBreak::BrokenLink {
                seq: e.seq,
                expected: expected_prev.to_owned(),
                found: e.prev_hash.clone(),
            });
        }
        check_hash(e)?;
        self.head = Some(ChainHead {
            seq: e.seq,
            hash: e.hash.clone(),
        });
        self.count += 1;
        Ok(())
    }

    /// Entries verified so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The last verified entry, `None` for an empty ledger.
    pub fn head(&self) -> Option<&ChainHead> {
        self.head.as_ref()
    }
}

/// Checks that an entry's stored hash matches its contents and its `prev_hash` (not whether it
/// links to the entry before: [`ChainVerifier`] does that).
pub fn check_hash(e: &LedgerEntry) -> Result<(), ChainBreak> {
    let recomputed = entry_hash(e.seq, &e.movement, e.recorded_at, &e.prev_hash);
    if recomputed != e.hash {
        return Err(ChainBreak::Altered {
            seq: e.seq,
            stored: e.hash.clone(),
            recomputed,
        });
    }
    Ok(())
}

/// Verifies a whole chain held in memory (tests, small bundles).
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
) -> Result<ChainVerifier, ChainBreak> {
    let mut v = ChainVerifier::new();
    for e in entries {
        v.push(e)?;
    }
    Ok(v)
}

/// Who holds a range at which registry: the unit of the holdings registry for replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Holding {
    pub registry: Rir,
    pub org_id: OrgId,
    pub range: Ipv4Range,
}

/// A movement that the holdings cannot carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("{range} is not held, within one holding, by organisation {org_id} at {registry}")]
    NotHeld {
        range: Ipv4Range,
        org_id: OrgId,
        registry: Rir,
    },
    #[error("the ledger movement of {range} does not name both organisations")]
    MissingParty { range: Ipv4Range },
    #[error("{first} and {second} are both listed as held")]
    Overlap { first: Ipv4Range, second: Ipv4Range },
}

/// A holdings registry being replayed from a snapshot. Holdings never overlap, so they are keyed
/// by their first address and the one that may contain a range is a single ordered lookup.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    by_start: BTreeMap<u32, Holding>,
}

impl Replay {
    /// Starts from a snapshot; two holdings over the same addresses are an error.
    pub fn new(snapshot: impl IntoIterator<Item = Holding>) -> Result<Replay, MoveError> {
        let mut by_start = BTreeMap::new();
        for h in snapshot {
            if let Some(other) = by_start.insert(h.range.start(), h) {
                return Err(MoveError::Overlap {
                    first: other.range,
                    second: h.range,
                });
            }
        }
        let replay = Replay { by_start };
        let mut previous: Option<&Holding> = None;
        for h in replay.by_start.values() {
            if let Some(p) = previous
                && p.range.overlaps(&h.range)
            {
                return Err(MoveError::Overlap {
                    first: p.range,
                    second: h.range,
                });
            }
            previous = Some(h);
        }
        Ok(replay)
    }

    /// Applies one movement: the source holding is split (the remainders stay with the source)
    /// and the recipient gains the range at its registry. Imported entries change nothing: they
    /// are history the snapshot already reflects.
    pub fn apply(&mut self, m: &Movement) -> Result<(), MoveError> {
        if m.kind == EntryKind::Imported {
            return Ok(());
        }
        let (Some(source), Some(recipient)) = (m.source.org_id, m.recipient.org_id) else {
            return Err(MoveError::MissingParty { range: m.range });
        };
        let not_held = MoveError::NotHeld {
            range: m.range,
            org_id: source,
            registry: m.source_rir,
        };
        let from = match self.by_start.range(..=m.range.start()).next_back() {
            Some((_, h))
                if h.registry == m.source_rir
                    && h.org_id == source
                    && h.range.contains(&m.range) =>
            {
                *h
            }
            _ => return Err(not_held),
        };
        self.by_start.remove(&from.range.start());
        for rest in from.range.subtract(&m.range) {
            self.by_start.insert(
                rest.start(),
                Holding {
                    range: rest,
                    ..from
                },
            );
        }
        let received = Holding {
            registry: m.recipient_rir,
            org_id: recipient,
            range: m.range,
        };
        self.by_start.insert(m.range.start(), received);
        Ok(())
    }

    /// The holdings as they stand, in address order.
    pub fn holdings(&self) -> Vec<Holding> {
        self.by_start.values().copied().collect()
    }
}

/// Verifies a ledger and replays it over the imported snapshot, one entry at a time, so any
/// number of entries verify in constant memory beyond the holdings themselves.
#[derive(Debug, Clone)]
pub struct Audit {
    chain: ChainVerifier,
    replay: Replay,
    replay_error: Option<String>,
}

impl Audit {
    /// Starts from the imported snapshot.
    pub fn new(snapshot: impl IntoIterator<Item = Holding>) -> Self {
        let (replay, replay_error) = match Replay::new(snapshot) {
            Ok(replay) => (replay, None),
            Err(e) => (Replay::default(), Some(format!("imported snapshot: {e}"))),
        };
        Audit {
            chain: ChainVerifier::new(),
            replay,
            replay_error,
        }
    }

    /// Checks the next entry's place in the chain, then replays it (after the first replay
    /// error, only the chain is checked: the holdings no longer mean anything).
    pub fn push(&mut self, e: &LedgerEntry) -> Result<(), ChainBreak> {
        self.chain.push(e)?;
        if self.replay_error.is_none()
            && let Err(err) = self.replay.apply(&e.movement)
        {
            self.replay_error = Some(format!("entry {}: {err}", e.seq));
        }
        Ok(())
    }

    /// The chain verified so far.
    pub fn chain(&self) -> &ChainVerifier {
        &self.chain
    }

    /// The first difference between the replayed holdings and `live`, the holdings registry as
    /// stored; `None` when they give the same addresses to the same holders. `live` is taken
    /// and sorted in place: at the registries' volumes a copy of it, and one of the replayed
    /// holdings, were megabytes of fresh memory per verification.
    pub fn holdings_mismatch(&self, mut live: Vec<Holding>) -> Option<String> {
        if let Some(e) = &self.replay_error {
            return Some(e.clone());
        }
        // Row for row the same (the usual case) means the same addresses for the same holders;
        // only a difference needs the normal form, which costs a map per holder.
        live.sort_unstable_by_key(|h| (h.range.start(), h.range.end()));
        if live.iter().eq(self.replay.by_start.values()) {
            return None;
        }
        first_difference(&normalise(&self.replay.holdings()), &normalise(&live))
    }
}

/// Holdings in a comparable normal form: per (registry, organisation), the coalesced ranges.
/// Two registries of holdings are equal when they give the same address sets to the same
/// holders, however the ranges happen to be split into rows.
pub fn normalise(holdings: &[Holding]) -> BTreeMap<(Rir, OrgId), Vec<Ipv4Range>> {
    let mut by_holder: BTreeMap<(Rir, OrgId), Vec<Ipv4Range>> = BTreeMap::new();
    for h in holdings {
        by_holder
            .entry((h.registry, h.org_id))
            .or_default()
            .push(h.range);
    }
    by_holder
        .into_iter()
        .map(|(k, v)| (k, coalesce(v)))
        .collect()
}

/// The first difference between two normalised holdings registries, for a verification report.
pub fn first_difference(
    expected: &BTreeMap<(Rir, OrgId), Vec<Ipv4Range>>,
    actual: &BTreeMap<(Rir, OrgId), Vec<Ipv4Range>>,
) -> Option<String> {
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(actual.keys()).collect();
    for key in keys {
        let e = expected.get(key).map(Vec::as_slice).unwrap_or_default();
        let a = actual.get(key).map(Vec::as_slice).unwrap_or_default();
        if e != a {
            let show = |rs: &[Ipv4Range]| {
                if rs.is_empty() {
                    "nothing".to_owned()
                } else {
                    rs.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            return Some(format!(
                "organisation {} at {}: snapshot plus ledger gives {}, but the holdings registry has {}",
                key.1,
                key.0,
                show(e),
                show(a)
            ));
        }
    }
    None
}

/// A live holding with what a finalization carries over to the remainders it leaves: the row of
/// the holdings registry (`holdings` and `holding_snapshot` share this shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingRecord {
    pub registry: Rir,
    pub org_id: OrgId,
    pub range: Ipv4Range,
    pub status: String,
    pub origin: String,
    pub registered_on: Option<Date>,
    pub received_on: Option<Date>,
    pub country: Option<String>,
}

/// Who gains the blocks of a finalization, and how the recipient registry records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTo {
    pub registry: Rir,
    pub org_id: OrgId,
    pub origin: HoldingOrigin,
    pub received_on: Date,
    pub country: Option<String>,
}

/// One block of a finalization and the holding it was cut from (its ledger entry names both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedBlock {
    pub block: Ipv4Range,
    /// The range the source held before this block left it.
    pub original: Ipv4Range,
    pub registered_on: Option<Date>,
}

/// What a finalization does to the holdings registry, for the service to carry out in its
/// transaction: delete the stored holdings the blocks leave, then insert what remains of them
/// and what the recipient gains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePlan {
    /// Stored holdings that end, by id, each with the first block cut from it (a holding that
    /// is gone when deleted was moved by another transfer first: that block is the conflict).
    pub delete: Vec<(i64, Ipv4Range)>,
    /// New holdings: the source's remainders and the recipient's blocks.
    pub create: Vec<HoldingRecord>,
    /// Per block, in the order given.
    pub moved: Vec<MovedBlock>,
}

/// Plans the move of `blocks` from the source organisation at its registry to `to`, over the
/// stored holdings `held` (by id; others' holdings may be among them). Each block must lie within
/// ONE holding of the source; the blocks move one after the other, so a second block of the same
/// holding is cut from what the first left, and its ledger entry names that remainder as its
/// original, as the ledger replay ([`Replay::apply`]) expects. A remainder is planned only if no
/// later block consumes it.
///
/// # Errors
/// [`MoveError::NotHeld`] for the first block no single holding of the source contains.
pub fn plan_move(
    held: &[(i64, HoldingRecord)],
    source: (OrgId, Rir),
    blocks: &[Ipv4Range],
    to: &MoveTo,
) -> Result<MovePlan, MoveError> {
    let (source_org, source_rir) = source;
    // Every holding as the blocks leave it: the stored id, or `None` for one this plan creates.
    let mut pieces: Vec<(Option<i64>, HoldingRecord)> =
        held.iter().map(|(id, h)| (Some(*id), h.clone())).collect();
    let mut delete = Vec::new();
    let mut moved = Vec::new();
    for block in blocks {
        let at = pieces
            .iter()
            .position(|(_, h)| {
                h.org_id == source_org && h.registry == source_rir && h.range.contains(block)
            })
            .ok_or(MoveError::NotHeld {
                range: *block,
                org_id: source_org,
                registry: source_rir,
            })?;
        let (id, from) = pieces.remove(at);
        if let Some(id) = id {
            delete.push((id, *block));
        }
        for rest in from.range.subtract(block) {
            pieces.push((
                None,
                HoldingRecord {
                    range: rest,
                    ..from.clone()
                },
            ));
        }
        pieces.push((
            None,
            HoldingRecord {
                registry: to.registry,
                org_id: to.org_id,
                range: *block,
                // The recipient registry registers transferred space as an allocation.
                status: "allocated".to_owned(),
                origin: to.origin.as_str().to_owned(),
                registered_on: from.registered_on,
                received_on: Some(to.received_on),
                country: to.country.clone(),
            },
        ));
        moved.push(MovedBlock {
            block: *block,
            original: from.range,
            registered_on: from.registered_on,
        });
    }
    let create = pieces
        .into_iter()
        .filter_map(|(id, h)| id.is_none().then_some(h))
        .collect();
    Ok(MovePlan {
        delete,
        create,
        moved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn range(s: &str) -> Ipv4Range {
        s.parse().unwrap()
    }

    fn movement(r: &str, from: OrgId, to: OrgId) -> Movement {
        Movement {
            kind: EntryKind::Transfer,
            transfer_id: Some(TransferId(7)),
            transfer_reference: Some("TX-2026-000007".into()),
            transfer_type: TransferType::ResourceTransfer,
            source_rir: Rir::Arin,
            recipient_rir: Rir::RipeNcc,
            source: LedgerParty {
                org_id: Some(from),
                name: Some("Source Inc".into()),
                country: Some("US".into()),
            },
            recipient: LedgerParty {
                org_id: Some(to),
                name: Some("Recipient BV".into()),
                country: Some("NL".into()),
            },
            range: range(r),
            original: Some(range("20.0.0.0/20")),
            transfer_date: datetime!(2026-11-28 10:00:00.123456 UTC),
            source_registration_date: Some(datetime!(2001-05-18 04:00 UTC)),
        }
    }

    fn chain(n: usize) -> Vec<LedgerEntry> {
        let mut out: Vec<LedgerEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            });
            let m = movement(&format!("20.0.{}.0/24", i), OrgId(1), OrgId(2));
            out.push(next_entry(
                head.as_ref(),
                m,
                datetime!(2026-11-28 12:00 UTC),
            ));
        }
        out
    }

    #[test]
    fn first_entry_links_to_genesis_and_hash_is_stable() {
        let e = next_entry(
            None,
            movement("20.0.4.0/22", OrgId(1), OrgId(2)),
            datetime!(2026-11-28 12:00:00.9 UTC),
        );
        assert_eq!(e.seq, 1);
        assert_eq!(e.prev_hash, GENESIS_HASH);
        assert_eq!(e.hash.len(), 64);
        // Sub-second precision is dropped before hashing, so a database round trip is exact.
        assert_eq!(e.movement.transfer_date, datetime!(2026-11-28 10:00 UTC));
        assert_eq!(e.recorded_at, datetime!(2026-11-28 12:00 UTC));
        assert_eq!(
            e.hash,
            entry_hash(1, &e.movement, e.recorded_at, GENESIS_HASH)
        );
        let canonical = String::from_utf8(canonical_bytes(1, &e.movement, e.recorded_at)).unwrap();
        assert!(
            canonical.starts_with(r#"{"v":1,"seq":1,"kind":"transfer","transfer_id":7,"#),
            "{canonical}"
        );
        assert!(canonical.contains(r#""source_rir":"ARIN","recipient_rir":"RIPE NCC""#));
        assert!(canonical.contains(r#""transfer_date":"2026-11-28T10:00:00Z""#));
    }

    #[test]
    fn a_valid_chain_verifies_with_count_and_head() {
        let entries = chain(5);
        let v = verify_chain(&entries).unwrap();
        assert_eq!(v.count(), 5);
        assert_eq!(v.head().unwrap().hash, entries[4].hash);
        assert_eq!(verify_chain(&[]).unwrap().count(), 0);
    }

    #[test]
    fn altering_any_field_is_reported_at_that_entry() {
        let mut entries = chain(5);
        entries[2].movement.recipient.name = Some("Someone Else".into());
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err.seq(), 3);
        assert!(matches!(err, ChainBreak::Altered { .. }));
        assert!(err.to_string().starts_with("entry 3: stored hash"), "{err}");
    }

    #[test]
    fn rehashing_an_altered_entry_breaks_the_next_link() {
        let mut entries = chain(4);
        entries[1].movement.range = range("20.9.0.0/24");
        entries[1].hash = entry_hash(
            2,
            &entries[1].movement,
            entries[1].recorded_at,
            &entries[1].prev_hash,
        );
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(err.seq(), 3);
        assert!(matches!(err, ChainBreak::BrokenLink { .. }));
    }

    #[test]
    fn missing_entries_are_a_gap() {
        let mut entries = chain(4);
        entries.remove(1);
        let err = verify_chain(&entries).unwrap_err();
        assert_eq!(
            err,
            ChainBreak::Gap {
                seq: 3,
                expected: 2
            }
        );
    }

    #[test]
    fn partial_transfer_splits_the_source_holding() {
        let mut replay = Replay::new([Holding {
            registry: Rir::Arin,
            org_id: OrgId(1),
            range: range("20.0.0.0/20"),
        }])
        .unwrap();
        replay
            .apply(&movement("20.0.4.0/22", OrgId(1), OrgId(2)))
            .unwrap();
        let holdings = replay.holdings();
        let n = normalise(&holdings);
        assert_eq!(
            n[&(Rir::Arin, OrgId(1))],
            vec![range("20.0.0.0/22"), range("20.0.8.0/21")]
        );
        assert_eq!(n[&(Rir::RipeNcc, OrgId(2))], vec![range("20.0.4.0/22")]);
        let total: u64 = holdings.iter().map(|h| h.range.size()).sum();
        assert_eq!(total, 4096);
    }

    #[test]
    fn moving_space_not_held_fails_and_imported_entries_move_nothing() {
        let mut replay = Replay::new([Holding {
            registry: Rir::Arin,
            org_id: OrgId(1),
            range: range("20.0.0.0/20"),
        }])
        .unwrap();
        let err = replay
            .apply(&movement("20.0.4.0/22", OrgId(3), OrgId(2)))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "20.0.4.0/22 is not held, within one holding, by organisation 3 at ARIN"
        );
        let straddling = movement("20.0.15.0 - 20.0.16.255", OrgId(1), OrgId(2));
        assert!(replay.apply(&straddling).is_err());
        let mut imported = movement("20.0.4.0/22", OrgId(9), OrgId(8));
        imported.kind = EntryKind::Imported;
        replay.apply(&imported).unwrap();
        assert_eq!(replay.holdings().len(), 1);
    }

    #[test]
    fn an_overlapping_snapshot_is_refused() {
        let at = |r: &str, org| Holding {
            registry: Rir::Arin,
            org_id: org,
            range: range(r),
        };
        let err =
            Replay::new([at("20.0.0.0/20", OrgId(1)), at("20.0.8.0/24", OrgId(2))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "20.0.0.0/20 and 20.0.8.0/24 are both listed as held"
        );
        assert!(Replay::new([at("20.0.0.0/24", OrgId(1)), at("20.0.0.0/25", OrgId(2))]).is_err());
    }

    #[test]
    fn an_audit_replays_transfers_and_compares_holdings() {
        let snapshot = [Holding {
            registry: Rir::Arin,
            org_id: OrgId(1),
            range: range("20.0.0.0/20"),
        }];
        let entry = next_entry(
            None,
            movement("20.0.4.0/22", OrgId(1), OrgId(2)),
            datetime!(2026-11-28 12:00 UTC),
        );
        let mut audit = Audit::new(snapshot);
        audit.push(&entry).unwrap();
        assert_eq!(audit.chain().count(), 1);
        let live = [
            Holding {
                registry: Rir::Arin,
                org_id: OrgId(1),
                range: range("20.0.0.0/22"),
            },
            Holding {
                registry: Rir::Arin,
                org_id: OrgId(1),
                range: range("20.0.8.0/21"),
            },
            Holding {
                registry: Rir::RipeNcc,
                org_id: OrgId(2),
                range: range("20.0.4.0/22"),
            },
        ];
        // Row for row equal, in another order.
        assert_eq!(audit.holdings_mismatch(live.to_vec()), None);
        // The same addresses for the same holders, split into other rows.
        let mut split = live.to_vec();
        split[0].range = range("20.0.0.0/23");
        split.push(Holding {
            range: range("20.0.2.0/23"),
            ..live[0]
        });
        assert_eq!(audit.holdings_mismatch(split), None);
        // The same rows with two holders swapped.
        let mut swapped = live.to_vec();
        swapped[0].org_id = OrgId(2);
        swapped[2].org_id = OrgId(1);
        assert!(audit.holdings_mismatch(swapped).is_some());
        let mismatch = audit.holdings_mismatch(snapshot.to_vec()).unwrap();
        let expected =
            "organisation 1 at ARIN: snapshot plus ledger gives 20.0.0.0/22, 20.0.8.0/21";
        assert!(mismatch.starts_with(expected), "{mismatch}");
    }

    #[test]
    fn differences_are_described_per_holder() {
        let a = vec![Holding {
            registry: Rir::Arin,
            org_id: OrgId(1),
            range: range("20.0.0.0/24"),
        }];
        let b = vec![Holding {
            registry: Rir::Arin,
            org_id: OrgId(1),
            range: range("20.0.0.0/25"),
        }];
        assert_eq!(first_difference(&normalise(&a), &normalise(&a)), None);
        let diff = first_difference(&normalise(&a), &normalise(&b)).unwrap();
        assert_eq!(
            diff,
            "organisation 1 at ARIN: snapshot plus ledger gives 20.0.0.0/24, but the holdings registry has 20.0.0.0/25"
        );
    }

    fn record(r: &str, org_id: OrgId) -> HoldingRecord {
        HoldingRecord {
            registry: Rir::Arin,
            org_id,
            range: range(r),
            status: "allocated".into(),
            origin: "registry_issued".into(),
            registered_on: Some(date!(1994 - 03 - 01)),
            received_on: None,
            country: Some("US".into()),
        }
    }

    fn to_ripe() -> MoveTo {
        MoveTo {
            registry: Rir::RipeNcc,
            org_id: OrgId(2),
            origin: HoldingOrigin::Transferred,
            received_on: date!(2026 - 11 - 30),
            country: Some("NL".into()),
        }
    }

    fn received(r: &str) -> HoldingRecord {
        HoldingRecord {
            registry: Rir::RipeNcc,
            org_id: OrgId(2),
            range: range(r),
            status: "allocated".into(),
            origin: "transferred".into(),
            registered_on: Some(date!(1994 - 03 - 01)),
            received_on: Some(date!(2026 - 11 - 30)),
            country: Some("NL".into()),
        }
    }

    fn ranges(v: &[HoldingRecord]) -> Vec<(i64, String)> {
        v.iter()
            .map(|h| (h.org_id.get(), h.range.to_string()))
            .collect()
    }

    #[test]
    fn a_whole_holding_moves_without_remainder() {
        let held = [(10, record("20.0.0.0/22", OrgId(1)))];
        let plan = plan_move(
            &held,
            (OrgId(1), Rir::Arin),
            &[range("20.0.0.0/22")],
            &to_ripe(),
        )
        .unwrap();
        assert_eq!(plan.delete, vec![(10, range("20.0.0.0/22"))]);
        assert_eq!(plan.create, vec![received("20.0.0.0/22")]);
        assert_eq!(
            plan.moved,
            vec![MovedBlock {
                block: range("20.0.0.0/22"),
                original: range("20.0.0.0/22"),
                registered_on: Some(date!(1994 - 03 - 01)),
            }]
        );
    }

    #[test]
    fn part_of_a_holding_leaves_the_rest_with_the_source_as_it_was() {
        let held = [(10, record("20.0.0.0/22", OrgId(1)))];
        let plan = plan_move(
            &held,
            (OrgId(1), Rir::Arin),
            &[range("20.0.1.0/24")],
            &to_ripe(),
        )
        .unwrap();
        assert_eq!(plan.delete, vec![(10, range("20.0.1.0/24"))]);
        assert_eq!(
            plan.create,
            vec![
                record("20.0.0.0/24", OrgId(1)),
                record("20.0.2.0/23", OrgId(1)),
                received("20.0.1.0/24"),
            ]
        );
        assert_eq!(plan.moved[0].original, range("20.0.0.0/22"));
    }

    #[test]
    fn several_blocks_of_one_holding_are_cut_one_after_the_other() {
        let held = [(10, record("20.0.0.0/22", OrgId(1)))];
        let blocks = [range("20.0.0.0/24"), range("20.0.2.0/24")];
        let plan = plan_move(&held, (OrgId(1), Rir::Arin), &blocks, &to_ripe()).unwrap();
        // The holding is deleted once; the remainder the first block left is never stored.
        assert_eq!(plan.delete, vec![(10, range("20.0.0.0/24"))]);
        assert_eq!(
            ranges(&plan.create),
            vec![
                (2, "20.0.0.0/24".to_owned()),
                (1, "20.0.1.0/24".to_owned()),
                (1, "20.0.3.0/24".to_owned()),
                (2, "20.0.2.0/24".to_owned()),
            ]
        );
        // The second block's ledger entry names the remainder it was cut from.
        let originals: Vec<String> = plan.moved.iter().map(|m| m.original.to_string()).collect();
        assert_eq!(originals, ["20.0.0.0/22", "20.0.1.0 - 20.0.3.255"]);
    }

    #[test]
    fn blocks_of_several_holdings_delete_each_holding() {
        let held = [
            (10, record("20.0.0.0/24", OrgId(1))),
            (11, record("20.0.8.0/23", OrgId(1))),
        ];
        let blocks = [range("20.0.8.0/24"), range("20.0.0.0/24")];
        let plan = plan_move(&held, (OrgId(1), Rir::Arin), &blocks, &to_ripe()).unwrap();
        assert_eq!(
            plan.delete,
            vec![(11, range("20.0.8.0/24")), (10, range("20.0.0.0/24"))]
        );
        assert_eq!(
            ranges(&plan.create),
            vec![
                (1, "20.0.9.0/24".to_owned()),
                (2, "20.0.8.0/24".to_owned()),
                (2, "20.0.0.0/24".to_owned()),
            ]
        );
    }

    #[test]
    fn a_block_across_two_holdings_is_not_held_and_plans_nothing() {
        let held = [
            (10, record("20.0.0.0/24", OrgId(1))),
            (11, record("20.0.1.0/24", OrgId(1))),
        ];
        let err = plan_move(
            &held,
            (OrgId(1), Rir::Arin),
            &[range("20.0.0.0/23")],
            &to_ripe(),
        );
        assert_eq!(
            err,
            Err(MoveError::NotHeld {
                range: range("20.0.0.0/23"),
                org_id: OrgId(1),
                registry: Rir::Arin,
            })
        );
    }

    #[test]
    fn only_the_source_at_its_registry_gives_a_block() {
        let others = [
            (10, record("20.0.0.0/22", OrgId(3))),
            (
                11,
                HoldingRecord {
                    registry: Rir::Apnic,
                    ..record("20.0.0.0/22", OrgId(1))
                },
            ),
        ];
        for held in [&others[..1], &others[1..], &[][..]] {
            let plan = plan_move(
                held,
                (OrgId(1), Rir::Arin),
                &[range("20.0.0.0/24")],
                &to_ripe(),
            );
            assert!(matches!(plan, Err(MoveError::NotHeld { .. })), "{held:?}");
        }
        // A block moved twice in one plan is not held the second time.
        let held = [(10, record("20.0.0.0/22", OrgId(1)))];
        let twice = [range("20.0.0.0/24"), range("20.0.0.0/24")];
        assert!(plan_move(&held, (OrgId(1), Rir::Arin), &twice, &to_ripe()).is_err());
    }

    #[test]
    fn a_plan_agrees_with_the_ledger_replay() {
        let held = [
            (10, record("20.0.0.0/22", OrgId(1))),
            (11, record("20.0.8.0/24", OrgId(1))),
        ];
        let blocks = [
            range("20.0.1.0/24"),
            range("20.0.8.0/24"),
            range("20.0.2.0/23"),
        ];
        let plan = plan_move(&held, (OrgId(1), Rir::Arin), &blocks, &to_ripe()).unwrap();
        let as_holding = |h: &HoldingRecord| Holding {
            registry: h.registry,
            org_id: h.org_id,
            range: h.range,
        };
        let mut replay = Replay::new(held.iter().map(|(_, h)| as_holding(h))).unwrap();
        for m in &plan.moved {
            replay
                .apply(&movement(&m.block.to_string(), OrgId(1), OrgId(2)))
                .unwrap();
        }
        let mut planned: Vec<Holding> = held
            .iter()
            .filter(|(id, _)| !plan.delete.iter().any(|(d, _)| d == id))
            .map(|(_, h)| as_holding(h))
            .chain(plan.create.iter().map(as_holding))
            .collect();
        planned.sort();
        assert_eq!(normalise(&planned), normalise(&replay.holdings()));
    }
}
