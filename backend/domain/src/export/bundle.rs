//! The verification bundle: the ledger entries with every hashed field and their hashes, as JSON
//! lines, so that anyone can re-compute the chain offline (`ipxfer ledger verify --file`).
//!
//! Line 1 is a header (`{"format":"ipxfer-ledger-bundle","version":1,...}`); every further line
//! is one entry, fields named as in the canonical encoding (`docs/ledger.md`) plus `prev_hash`
//! and `hash`. A bundle of the whole ledger (`"complete": true`) verifies as a chain from the
//! genesis hash; a filtered one checks each entry's own hash and the links between entries that
//! follow each other, since the entries in between are not in the file.
//!
//! Version 2 (exported with the log's key, `docs/transparency.md`) adds the signed checkpoint
//! the bundle was cut at to the header, an inclusion proof to each entry of a filtered bundle,
//! and a last line `{"signature": NOTE}`: the log's signed note over the SHA-256 of the header
//! line, the number of entries and the SHA-256 of their leaf hashes. Verified against the log's
//! key, a complete bundle must hold exactly the checkpoint's entries (its Merkle root is
//! recomputed), each entry of a filtered one must prove its inclusion, and removing, adding or
//! relabelling anything breaks the signature.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::utc;
use crate::ledger::{
    ChainBreak, ChainHead, ChainVerifier, EntryKind, LedgerEntry, LedgerParty, Movement,
};
use crate::tlog::{self, Hash, LogVerifier, RootBuilder, WitnessVerifier};
use crate::transfer::{OrgId, TransferId};
use crate::{Ipv4Range, Rir, TransferType};

/// The `format` of line 1.
pub const FORMAT: &str = "ipxfer-ledger-bundle";

/// Line 1 of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHeader {
    pub format: String,
    pub version: u32,
    pub produced_at: String,
    /// True when the bundle holds the whole ledger from entry 1.
    pub complete: bool,
    /// The filter the bundle was exported with, for people (`registry=ARIN from=2026-01-01`).
    #[serde(default)]
    pub filter: String,
    /// Version 2: the signed checkpoint (with cosignatures) the bundle was cut at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl BundleHeader {
    pub fn new(produced_at: OffsetDateTime, complete: bool, filter: String) -> Self {
        BundleHeader {
            format: FORMAT.to_owned(),
            version: 1,
            produced_at: utc(produced_at),
            complete,
            filter,
            checkpoint: None,
        }
    }

    /// The version 2 header of a bundle cut at `checkpoint`.
    pub fn at_checkpoint(self, checkpoint: String) -> Self {
        BundleHeader {
            version: 2,
            checkpoint: Some(checkpoint),
            ..self
        }
    }
}

/// One entry line: the canonical fields, then the two hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EntryLine {
    seq: i64,
    kind: String,
    transfer_id: Option<TransferId>,
    transfer_reference: Option<String>,
    transfer_type: String,
    source_rir: String,
    recipient_rir: String,
    source_org_id: Option<OrgId>,
    recipient_org_id: Option<OrgId>,
    source_org_name: Option<String>,
    recipient_org_name: Option<String>,
    source_country: Option<String>,
    recipient_country: Option<String>,
    start: u32,
    end: u32,
    original_start: Option<u32>,
    original_end: Option<u32>,
    transfer_date: String,
    source_registration_date: Option<String>,
    recorded_at: String,
    prev_hash: String,
    hash: String,
    /// Version 2, filtered bundles: the inclusion proof against the checkpoint, base64 hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof: Option<Vec<String>>,
}

impl EntryLine {
    fn of(e: &LedgerEntry) -> Self {
        let m = &e.movement;
        EntryLine {
            seq: e.seq,
            kind: m.kind.as_str().to_owned(),
            transfer_id: m.transfer_id,
            transfer_reference: m.transfer_reference.clone(),
            transfer_type: m.transfer_type.nro_name().to_owned(),
            source_rir: m.source_rir.nro_name().to_owned(),
            recipient_rir: m.recipient_rir.nro_name().to_owned(),
            source_org_id: m.source.org_id,
            recipient_org_id: m.recipient.org_id,
            source_org_name: m.source.name.clone(),
            recipient_org_name: m.recipient.name.clone(),
            source_country: m.source.country.clone(),
            recipient_country: m.recipient.country.clone(),
            start: m.range.start(),
            end: m.range.end(),
            original_start: m.original.map(|r| r.start()),
            original_end: m.original.map(|r| r.end()),
            transfer_date: utc(m.transfer_date),
            source_registration_date: m.source_registration_date.map(utc),
            recorded_at: utc(e.recorded_at),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            proof: None,
        }
    }

    fn into_entry(self) -> Result<LedgerEntry, String> {
        let seq = self.seq;
        // A ledger counts from 1; the top value is refused so that "the next entry" always exists
        // (seen while writing the bundle fuzz target: seq -9223372036854775808 in a filtered bundle
        // overflowed `seq - 1`, and i64::MAX would overflow `seq + 1`).
        if !(1..i64::MAX).contains(&seq) {
            return Err(format!(
                "entry {seq}: a sequence number runs from 1 to {}",
                i64::MAX - 1
            ));
        }
        let bad = |what: &str, v: &str| format!("entry {seq}: {what} {v:?} is not valid");
        let time =
            |v: &str, what: &str| OffsetDateTime::parse(v, &Rfc3339).map_err(|_| bad(what, v));
        let rir = |v: &str| Rir::from_nro_name(v).ok_or_else(|| bad("registry", v));
        let range = |s: u32, e: u32| Ipv4Range::new(s, e).map_err(|x| format!("entry {seq}: {x}"));
        let original = match (self.original_start, self.original_end) {
            (Some(s), Some(e)) => Some(range(s, e)?),
            (None, None) => None,
            _ => {
                return Err(format!(
                    "entry {seq}: original_start and original_end go together"
                ));
            }
        };
        Ok(LedgerEntry {
            seq,
            movement: Movement {
                kind: EntryKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
                transfer_id: self.transfer_id,
                transfer_reference: self.transfer_reference,
                transfer_type: TransferType::from_nro_name(&self.transfer_type)
                    .ok_or_else(|| bad("transfer_type", &self.transfer_type))?,
                source_rir: rir(&self.source_rir)?,
                recipient_rir: rir(&self.recipient_rir)?,
                source: LedgerParty {
                    org_id: self.source_org_id,
                    name: self.source_org_name,
                    country: self.source_country,
                },
                recipient: LedgerParty {
                    org_id: self.recipient_org_id,
                    name: self.recipient_org_name,
                    country: self.recipient_country,
                },
                range: range(self.start, self.end)?,
                original,
                transfer_date: time(&self.transfer_date, "transfer_date")?,
                source_registration_date: self
                    .source_registration_date
                    .as_deref()
                    .map(|v| time(v, "source_registration_date"))
                    .transpose()?,
            },
            recorded_at: time(&self.recorded_at, "recorded_at")?,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Writes line 1.
pub fn write_header(out: &mut impl Write, h: &BundleHeader) -> io::Result<()> {
    serde_json::to_writer(&mut *out, h)?;
    out.write_all(b"\n")
}

/// Line 1 as text, newline included (version 2 signs its hash).
pub fn header_line(h: &BundleHeader) -> io::Result<String> {
    let mut out = Vec::new();
    write_header(&mut out, h)?;
    Ok(String::from_utf8(out).expect("JSON is UTF-8"))
}

/// Writes one entry line.
pub fn write_entry(out: &mut impl Write, e: &LedgerEntry) -> io::Result<()> {
    write_entry_with_proof(out, e, None)
}

/// Writes one entry line with its inclusion proof (filtered version 2 bundles).
pub fn write_entry_with_proof(
    out: &mut impl Write,
    e: &LedgerEntry,
    proof: Option<&[Hash]>,
) -> io::Result<()> {
    let mut line = EntryLine::of(e);
    line.proof = proof.map(|p| p.iter().map(tlog::b64).collect());
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// The last line of a version 2 bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureLine {
    signature: String,
}

/// Writes the last line of a version 2 bundle: the log's signed note over its contents.
pub fn write_signature(out: &mut impl Write, note: &str) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &SignatureLine {
            signature: note.to_owned(),
        },
    )?;
    out.write_all(b"\n")
}

/// What the log signs about a version 2 bundle, accumulated entry by entry.
#[derive(Debug, Clone, Default)]
pub struct SignedEntries {
    count: u64,
    leaves: Sha256,
}

impl SignedEntries {
    pub fn push(&mut self, e: &LedgerEntry) {
        self.push_leaf(tlog::leaf_hash(&tlog::leaf_data(e)));
    }

    fn push_leaf(&mut self, leaf: Hash) {
        self.leaves.update(leaf.0);
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The signed statement. Its second line is not a number, so it can never be read as a
    /// checkpoint signed by the same key.
    pub fn statement(&self, header_line: &str) -> String {
        let b64 = |d: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d);
        format!(
            "ipxfer-ledger-bundle/v2\nheader {}\nentries {} {}\n",
            b64(&Sha256::digest(header_line.as_bytes())),
            self.count,
            b64(&self.leaves.clone().finalize())
        )
    }
}

/// Reads line 1; anything but a bundle header is refused with what was expected.
pub fn read_header(line: &str) -> Result<BundleHeader, String> {
    let h: BundleHeader = serde_json::from_str(line).map_err(|e| {
        format!("line 1 is not an ipxfer ledger bundle header ({e}); export one with `ipxfer export bundle`")
    })?;
    if h.format != FORMAT || !(1..=2).contains(&h.version) {
        return Err(format!(
            "line 1 announces {:?} version {}; this ipxfer reads {FORMAT} versions 1 and 2",
            h.format, h.version
        ));
    }
    Ok(h)
}

/// Reads one entry line (`line_no` counts from 1, for messages).
pub fn read_entry(line_no: usize, line: &str) -> Result<LedgerEntry, String> {
    let raw: EntryLine = serde_json::from_str(line).map_err(|e| format!("line {line_no}: {e}"))?;
    raw.into_entry().map_err(|e| format!("line {line_no}: {e}"))
}

/// Checks a bundle entry by entry, in constant memory.
#[derive(Debug, Clone)]
pub struct BundleCheck {
    complete: bool,
    chain: ChainVerifier,
    count: u64,
}

impl BundleCheck {
    pub fn new(header: &BundleHeader) -> Self {
        BundleCheck {
            complete: header.complete,
            chain: ChainVerifier::new(),
            count: 0,
        }
    }

    /// Checks the next entry of the file.
    pub fn push(&mut self, e: &LedgerEntry) -> Result<(), ChainBreak> {
        // In a filtered bundle an entry whose predecessor is not in the file starts a new run:
        // its own prev_hash is taken as given, and the chain is checked from there.
        let skipped_ahead = match self.chain.head() {
            Some(last) => e.seq > last.seq + 1,
            None => true,
        };
        if !self.complete && skipped_ahead {
            self.chain = ChainVerifier::resume_after(ChainHead {
                seq: e.seq - 1,
                hash: e.prev_hash.clone(),
            });
        }
        self.chain.push(e)?;
        self.count += 1;
        Ok(())
    }

    /// The one-line result: "verified: N entries, head hash H" (a filtered bundle says so).
    pub fn summary(&self) -> String {
        let hash = self
            .chain
            .head()
            .map_or(crate::ledger::GENESIS_HASH, |h| h.hash.as_str());
        if self.complete {
            format!("verified: {} entries, head hash {hash}", self.count)
        } else {
            format!(
                "verified: {} entries of a filtered bundle (each entry's hash, and the links \
                 between consecutive entries), last hash {hash}",
                self.count
            )
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Verifies a whole bundle given as lines, the chain only; the error names the first broken
/// entry or line.
pub fn verify_lines<S: AsRef<str>>(
    lines: impl IntoIterator<Item = S>,
) -> Result<BundleCheck, String> {
    verify_lines_with(lines, None).map(|(check, _)| check)
}

/// The keys a version 2 bundle is checked against.
#[derive(Debug, Clone)]
pub struct BundleKeys {
    pub log: LogVerifier,
    pub witnesses: Vec<WitnessVerifier>,
    /// Witnesses that must have cosigned the checkpoint.
    pub quorum: usize,
}

/// What a bundle verified against its checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointCheck {
    pub checkpoint: tlog::VerifiedCheckpoint,
}

/// Verifies a bundle; with keys, also its checkpoint, completeness or inclusion proofs, and the
/// signature over the whole, and the summary says so.
pub fn verify_lines_with<S: AsRef<str>>(
    lines: impl IntoIterator<Item = S>,
    keys: Option<&BundleKeys>,
) -> Result<(BundleCheck, Option<CheckpointCheck>), String> {
    let mut lines = lines.into_iter().enumerate();
    let (header, header_text) = match lines.next() {
        Some((_, l)) => (read_header(l.as_ref())?, format!("{}\n", l.as_ref())),
        None => return Err("the bundle is empty: it has no header line".to_owned()),
    };
    let checkpoint = match keys {
        None => None,
        Some(k) => Some(check_checkpoint(&header, k)?),
    };
    let mut check = BundleCheck::new(&header);
    let mut signed = SignedEntries::default();
    let mut root = RootBuilder::default();
    let mut signature: Option<(usize, String)> = None;
    for (i, line) in lines {
        let line = line.as_ref();
        if line.trim().is_empty() {
            continue;
        }
        if let Some((at, _)) = &signature {
            return Err(format!(
                "line {}: the bundle goes on after its signature on line {}",
                i + 1,
                at
            ));
        }
        if let Ok(s) = serde_json::from_str::<SignatureLine>(line) {
            signature = Some((i + 1, s.signature));
            continue;
        }
        let raw: EntryLine =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let proof = raw.proof.clone();
        let e = raw
            .into_entry()
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        check
            .push(&e)
            .map_err(|b| format!("ledger chain broken at {b}"))?;
        let Some(c) = &checkpoint else { continue };
        let c = &c.checkpoint;
        let leaf = tlog::leaf_hash(&tlog::leaf_data(&e));
        signed.push_leaf(leaf);
        if e.seq as u64 > c.size {
            return Err(format!(
                "entry {}: beyond the checkpoint, whose tree size is {}",
                e.seq, c.size
            ));
        }
        if header.complete {
            root.push(leaf);
        } else {
            let proof = proof
                .ok_or_else(|| {
                    format!(
                        "entry {}: a filtered bundle needs its inclusion proof",
                        e.seq
                    )
                })?
                .iter()
                .map(|h| tlog::parse_b64(h))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| format!("entry {}: {m}", e.seq))?;
            tlog::check_inclusion(&proof, c.size, c.root, e.seq as u64 - 1, leaf)
                .map_err(|m| format!("entry {}: {m}", e.seq))?;
        }
    }
    if let (Some(c), Some(k)) = (&checkpoint, keys) {
        let size = c.checkpoint.size;
        if header.complete && (check.count() != size || root.root() != c.checkpoint.root) {
            return Err(format!(
                "the bundle says it is complete, but its {} entries are not the {size} entries of                  its checkpoint: entries were removed or added",
                check.count()
            ));
        }
        let (_, note) = signature.ok_or(
            "the bundle has no signature line at its end: it was cut short, or exported              without the log's key",
        )?;
        let text =
            tlog::verify_note(&note, &k.log).map_err(|e| format!("bundle signature: {e}"))?;
        if text != signed.statement(&header_text) {
            return Err(
                "the bundle's signature does not cover this header and these entries: it was                  relabelled, or entries were removed or added"
                    .to_owned(),
            );
        }
    }
    Ok((check, checkpoint))
}

/// Verifies the checkpoint in the header against the keys and the quorum of witnesses.
fn check_checkpoint(header: &BundleHeader, keys: &BundleKeys) -> Result<CheckpointCheck, String> {
    let note = header.checkpoint.as_deref().ok_or(
        "the bundle carries no checkpoint: it was exported without the log's key (version 1), so          nothing signed says how long the ledger was",
    )?;
    let checkpoint = tlog::verify_checkpoint(note, &keys.log, &keys.witnesses)
        .map_err(|e| format!("checkpoint: {e}"))?;
    if checkpoint.cosigned_by.len() < keys.quorum {
        let names: Vec<&str> = checkpoint
            .cosigned_by
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        return Err(format!(
            "the checkpoint is cosigned by {} of the given witnesses ({}), fewer than the quorum              of {}",
            names.len(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
            keys.quorum
        ));
    }
    Ok(CheckpointCheck { checkpoint })
}

/// Parses an entry from its leaf data (canonical bytes) and the previous entry's hash: what a
/// monitor reads from the log's tiles. The bytes must be exactly the entry's canonical encoding.
pub fn entry_from_leaf(leaf: &[u8], prev_hash: &str) -> Result<LedgerEntry, String> {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(leaf).map_err(|e| format!("not a ledger entry: {e}"))?;
    if v.remove("v") != Some(serde_json::Value::from(1)) {
        return Err("not a version 1 ledger entry".to_owned());
    }
    v.insert("prev_hash".into(), prev_hash.into());
    v.insert("hash".into(), "".into());
    let line: EntryLine = serde_json::from_value(serde_json::Value::Object(v))
        .map_err(|e| format!("not a ledger entry: {e}"))?;
    let mut e = line.into_entry()?;
    e.hash = crate::ledger::entry_hash(e.seq, &e.movement, e.recorded_at, &e.prev_hash);
    if tlog::leaf_data(&e) != leaf {
        return Err(format!(
            "entry {}: the bytes are not its canonical encoding",
            e.seq
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample_chain;
    use time::macros::datetime;

    fn bundle(entries: &[LedgerEntry], complete: bool) -> String {
        let mut out = Vec::new();
        let h = BundleHeader::new(datetime!(2026-11-29 10:00 UTC), complete, String::new());
        write_header(&mut out, &h).unwrap();
        for e in entries {
            write_entry(&mut out, e).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sequence_numbers_out_of_range_are_refused_not_overflowed() {
        let mut text = bundle(&sample_chain()[..1], false);
        for seq in [i64::MIN, -1, 0, i64::MAX] {
            let line =
                text.lines()
                    .nth(1)
                    .unwrap()
                    .replacen("\"seq\":1", &format!("\"seq\":{seq}"), 1);
            let header = text.lines().next().unwrap().to_owned();
            let error = verify_lines([header.as_str(), line.as_str()]).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "line 2: entry {seq}: a sequence number runs from 1 to 9223372036854775806"
                )
            );
        }
        text.push('\n');
        assert!(verify_lines(text.lines()).is_ok());
    }

    #[test]
    fn a_whole_ledger_verifies_and_reads_back_identical() {
        let chain = sample_chain();
        let text = bundle(&chain, true);
        let check = verify_lines(text.lines()).unwrap();
        assert_eq!(
            check.summary(),
            format!("verified: 4 entries, head hash {}", chain[3].hash)
        );
        let back: Vec<LedgerEntry> = text
            .lines()
            .skip(1)
            .enumerate()
            .map(|(i, l)| read_entry(i + 2, l).unwrap())
            .collect();
        assert_eq!(back, chain);
    }

    #[test]
    fn an_altered_entry_is_named() {
        let text = bundle(&sample_chain(), true).replace("20.0.4.0", "20.0.4.1");
        // The range is stored as integers; alter one of those instead.
        let start = u32::from(std::net::Ipv4Addr::new(20, 0, 4, 0));
        let text = text.replacen(
            &format!("\"start\":{start}"),
            &format!("\"start\":{}", start + 256),
            1,
        );
        let err = verify_lines(text.lines()).unwrap_err();
        assert!(err.contains("entry 2") && err.contains("altered"), "{err}");
    }

    #[test]
    fn a_missing_entry_breaks_a_complete_bundle_but_not_a_filtered_one() {
        let mut chain = sample_chain();
        chain.remove(1);
        let err = verify_lines(bundle(&chain, true).lines()).unwrap_err();
        assert!(err.contains("entry 3"), "{err}");
        let ok = verify_lines(bundle(&chain, false).lines()).unwrap();
        assert_eq!(ok.count(), 3);
        assert!(ok.summary().contains("filtered"), "{}", ok.summary());
        // A filtered bundle still checks links between neighbours.
        let mut relinked = sample_chain();
        relinked[3].prev_hash = relinked[1].hash.clone();
        let err = verify_lines(bundle(&relinked, false).lines()).unwrap_err();
        assert!(err.contains("entry 4"), "{err}");
    }

    #[test]
    fn other_files_are_refused_with_a_hint() {
        let err = verify_lines(["{\"version\":{}}"]).unwrap_err();
        assert!(err.contains("ipxfer export bundle"), "{err}");
        assert!(verify_lines::<&str>([]).unwrap_err().contains("empty"));
        let text = bundle(&sample_chain(), true);
        let mut lines: Vec<&str> = text.lines().collect();
        lines[2] = "{\"seq\": \"two\"}";
        let err = verify_lines(lines).unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }
}
