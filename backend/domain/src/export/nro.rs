//! The NRO transfer log as the registries publish it (`transfers_latest.json`), written as a
//! stream: the `version` envelope first, then one transfer object at a time.
//!
//! - 4.0 lists completed transfers only, as every registry publishes today.
//! - 5.0 (2026 draft) adds in-flight inter-RIR transfers with their `status`
//!   (`SOURCE_INITIALIZED`, `RECIPIENT_ACCEPTED`) and cancelled ones that had published
//!   `SOURCE_INITIALIZED` (`SOURCE_CANCELLED`, `RECIPIENT_CANCELLED`); completed inter-RIR
//!   transfers carry `SOURCE_FINALIZED`, intra-RIR ones no status (the draft's example does the
//!   same). Every 5.0 object has a `transfer_date`: the time of its latest status.
//!
//! The transfer is the unit, not the ledger entry (one per moved range): consecutive entries of
//! one ipxfer transfer, or of one imported record (the same `transfer_reference`), become one
//! transfer object whose `transfer_set` lists every range and whose `original_set` lists the
//! blocks they were cut from, as the registry's log had them. Prices never appear: the NRO logs
//! do not carry them.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::Serialize;
use time::OffsetDateTime;

use super::{country_code, utc};
use crate::ledger::{EntryKind, LedgerEntry, LedgerParty};
use crate::transfer_log::distinct_originals;
use crate::workflow::NroStatus;
use crate::{Ipv4Range, Rir, TransferType};

/// The stats_version values ipxfer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NroVersion {
    /// The published format: completed transfers.
    V4_0,
    /// The draft with a `status` per transfer: completed and in-flight transfers.
    V5_0,
}

impl NroVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            NroVersion::V4_0 => "4.0",
            NroVersion::V5_0 => "5.0",
        }
    }
}

impl fmt::Display for NroVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NroVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "4.0" | "4" => Ok(NroVersion::V4_0),
            "5.0" | "5" => Ok(NroVersion::V5_0),
            other => Err(format!(
                "ipxfer writes transfer logs 4.0 (completed transfers, as the registries \
                 publish) and 5.0 (with in-flight inter-RIR transfers), not {other:?}"
            )),
        }
    }
}

/// What the `version` object says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHeader {
    pub version: NroVersion,
    /// The registry whose log this is; `None` for the NRO's combined log (`"producer": "NRO"`).
    pub producer: Option<Rir>,
    pub production_date: OffsetDateTime,
    /// First and last transfer date of the records (`records_interval`).
    pub records_start: OffsetDateTime,
    pub records_end: OffsetDateTime,
}

/// An inter-RIR transfer still in flight, or cancelled after it was published (5.0 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub transfer_type: TransferType,
    pub source_rir: Rir,
    pub recipient_rir: Rir,
    pub source: LedgerParty,
    pub recipient: LedgerParty,
    pub blocks: Vec<Ipv4Range>,
    pub source_registration_date: Option<OffsetDateTime>,
    /// `SOURCE_INITIALIZED`, `RECIPIENT_ACCEPTED`, `SOURCE_CANCELLED` or `RECIPIENT_CANCELLED`.
    pub status: NroStatus,
    /// When the transfer reached that status: its `transfer_date` in the log.
    pub status_date: OffsetDateTime,
}

#[derive(Serialize)]
struct VersionObject<'a> {
    stats_version: &'static str,
    producer: &'a str,
    #[serde(rename = "UTC_offset")]
    utc_offset: i32,
    production_date: String,
    records_interval: Interval,
    remarks: [&'static str; 2],
}

#[derive(Serialize)]
struct Interval {
    start_date: String,
    end_date: String,
}

// Addresses are kept as `Ipv4Addr`, which serde writes as dotted quads from a stack buffer: a
// `String` per address was an allocation and a `fmt` pass each, 8% of an export's time.
#[derive(Serialize)]
struct Cidr {
    prefix: Ipv4Addr,
    length: u8,
}

#[derive(Serialize)]
struct Ip4Range {
    start_address: Ipv4Addr,
    end_address: Ipv4Addr,
    cidrs: Vec<Cidr>,
}

impl Ip4Range {
    fn of(r: &Ipv4Range) -> Self {
        Ip4Range {
            start_address: r.first(),
            end_address: r.last(),
            cidrs: r
                .to_cidrs()
                .into_iter()
                .map(|n| Cidr {
                    prefix: n.network(),
                    length: n.prefix_len(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct Ip4Nets {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    original_set: Vec<Ip4Range>,
    transfer_set: Vec<Ip4Range>,
}

#[derive(Serialize)]
struct Organization<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_code: Option<&'a str>,
}

impl<'a> Organization<'a> {
    fn of(p: &'a LedgerParty) -> Option<Self> {
        let o = Organization {
            name: p.name.as_deref().filter(|n| !n.is_empty()),
            country_code: country_code(p.country.as_deref()),
        };
        (o.name.is_some() || o.country_code.is_some()).then_some(o)
    }
}

/// One transfer object, fields in the order ARIN writes them.
#[derive(Serialize)]
struct TransferObject<'a> {
    ip4nets: Ip4Nets,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_organization: Option<Organization<'a>>,
    recipient_rir: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_organization: Option<Organization<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_registration_date: Option<String>,
    source_rir: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_date: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

/// Whether two entries belong to one transfer object: the same ipxfer transfer, or the same
/// imported record (entries imported before records were kept whole have no reference and stay
/// one object each).
fn same_transfer(a: &crate::ledger::Movement, b: &crate::ledger::Movement) -> bool {
    match (a.kind, b.kind) {
        (EntryKind::Transfer, EntryKind::Transfer) => {
            a.transfer_id.is_some() && a.transfer_id == b.transfer_id
        }
        (EntryKind::Imported, EntryKind::Imported) => {
            a.transfer_reference.is_some() && a.transfer_reference == b.transfer_reference
        }
        _ => false,
    }
}

/// Writes one transfer log; call [`TransferLogWriter::finish`] to close the document.
pub struct TransferLogWriter<W: Write> {
    out: W,
    version: NroVersion,
    written: u64,
    /// The first entry of the transfer being collected, and the ranges and originals of all its
    /// entries (one transfer's at most).
    pending: Option<LedgerEntry>,
    ranges: Vec<Ipv4Range>,
    originals: Vec<Option<Ipv4Range>>,
    /// `original_set`s kept beside the entries of imported records, by reference.
    original_sets: HashMap<String, Vec<Ipv4Range>>,
}

impl<W: Write> TransferLogWriter<W> {
    /// Writes the `version` envelope and opens the `transfers` array.
    pub fn new(mut out: W, header: &LogHeader) -> io::Result<Self> {
        let version = VersionObject {
            stats_version: header.version.as_str(),
            producer: header.producer.map_or("NRO", Rir::nro_name),
            utc_offset: 0,
            production_date: utc(header.production_date),
            records_interval: Interval {
                start_date: utc(header.records_start),
                end_date: utc(header.records_end),
            },
            remarks: [
                "Produced by ipxfer from its hash-chained ledger of IPv4 transfers.",
                "Times are UTC; one object per transfer, its moved ranges in transfer_set.",
            ],
        };
        out.write_all(b"{\"version\":")?;
        serde_json::to_writer(&mut out, &version)?;
        out.write_all(b",\n\"transfers\":[")?;
        Ok(TransferLogWriter {
            out,
            version: header.version,
            written: 0,
            pending: None,
            ranges: Vec::new(),
            originals: Vec::new(),
            original_sets: HashMap::new(),
        })
    }

    /// Gives the `original_set` kept beside the entries of the imported record `reference`;
    /// give it before the record's first entry.
    pub fn add_original_set(&mut self, reference: String, set: Vec<Ipv4Range>) {
        self.original_sets.insert(reference, set);
    }

    /// Adds a completed ledger entry; consecutive entries of one ipxfer transfer, or of one
    /// imported record, are joined into one object.
    pub fn push_entry(&mut self, e: LedgerEntry) -> io::Result<()> {
        let joins = self
            .pending
            .as_ref()
            .is_some_and(|first| same_transfer(&first.movement, &e.movement));
        if !joins {
            self.flush_pending()?;
        }
        self.ranges.push(e.movement.range);
        self.originals.push(e.movement.original);
        if self.pending.is_none() {
            self.pending = Some(e);
        }
        Ok(())
    }

    /// Adds an in-flight or cancelled inter-RIR transfer; refused by 4.0, which lists completed
    /// ones only.
    pub fn push_in_flight(&mut self, t: &InFlight) -> io::Result<()> {
        if self.version != NroVersion::V5_0 {
            return Err(io::Error::other(
                "transfer log 4.0 lists completed transfers only",
            ));
        }
        self.flush_pending()?;
        let object = TransferObject {
            ip4nets: Ip4Nets {
                original_set: Vec::new(),
                transfer_set: t.blocks.iter().map(Ip4Range::of).collect(),
            },
            recipient_organization: Organization::of(&t.recipient),
            recipient_rir: t.recipient_rir.nro_name(),
            source_organization: Organization::of(&t.source),
            source_registration_date: t.source_registration_date.map(utc),
            source_rir: t.source_rir.nro_name(),
            transfer_date: Some(utc(t.status_date)),
            kind: t.transfer_type.nro_name(),
            status: Some(t.status.as_str()),
        };
        self.write_object(&object)
    }

    /// Transfer objects written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The underlying writer, to hand written bytes on between pages.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Closes the document and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_pending()?;
        self.out.write_all(b"]}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let m = &first.movement;
        let kept = match (m.kind, &m.transfer_reference) {
            (EntryKind::Imported, Some(reference)) => self.original_sets.remove(reference),
            _ => None,
        };
        let originals = kept.unwrap_or_else(|| distinct_originals(self.originals.drain(..)));
        self.originals.clear();
        let status = (self.version == NroVersion::V5_0 && m.source_rir != m.recipient_rir)
            .then_some(NroStatus::SourceFinalized.as_str());
        let object = TransferObject {
            ip4nets: Ip4Nets {
                original_set: originals.iter().map(Ip4Range::of).collect(),
                transfer_set: self.ranges.drain(..).map(|r| Ip4Range::of(&r)).collect(),
            },
            recipient_organization: Organization::of(&m.recipient),
            recipient_rir: m.recipient_rir.nro_name(),
            source_organization: Organization::of(&m.source),
            source_registration_date: m.source_registration_date.map(utc),
            source_rir: m.source_rir.nro_name(),
            transfer_date: Some(utc(m.transfer_date)),
            kind: m.transfer_type.nro_name(),
            status,
        };
        self.write_object(&object)
    }

    /// Serialises straight into the writer: no buffer of its own per object.
    fn write_object(&mut self, object: &TransferObject<'_>) -> io::Result<()> {
        if self.written > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, object)?;
        self.written += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample_chain;
    use crate::transfer::OrgId;
    use crate::transfer_log;
    use time::macros::datetime;

    fn header(version: NroVersion, producer: Option<Rir>) -> LogHeader {
        LogHeader {
            version,
            producer,
            production_date: datetime!(2026-11-29 10:00:00.5 UTC),
            records_start: datetime!(2026-04-14 18:59:21 UTC),
            records_end: datetime!(2026-11-29 09:30 UTC),
        }
    }

    fn write(version: NroVersion, in_flight: &[InFlight]) -> String {
        let mut w = TransferLogWriter::new(Vec::new(), &header(version, None)).unwrap();
        for e in sample_chain() {
            w.push_entry(e).unwrap();
        }
        for t in in_flight {
            w.push_in_flight(t).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    fn in_flight() -> InFlight {
        InFlight {
            transfer_type: TransferType::MergerAcquisition,
            source_rir: Rir::Apnic,
            recipient_rir: Rir::Arin,
            source: LedgerParty {
                org_id: Some(OrgId(3)),
                name: Some("Pacific Pty".into()),
                country: Some("AU".into()),
            },
            recipient: LedgerParty::default(),
            blocks: vec!["1.0.0.0/24".parse().unwrap()],
            source_registration_date: None,
            status: NroStatus::RecipientAccepted,
            status_date: datetime!(2026-11-29 08:00 UTC),
        }
    }

    #[test]
    fn version_4_reads_back_as_the_same_movements() {
        let text = write(NroVersion::V4_0, &[]);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"]["stats_version"], "4.0");
        assert_eq!(json["version"]["producer"], "NRO");
        assert_eq!(json["version"]["UTC_offset"], 0);
        assert_eq!(json["version"]["production_date"], "2026-11-29T10:00:00Z");
        // Two entries of transfer 7 are one object with two ranges.
        assert_eq!(json["transfers"].as_array().unwrap().len(), 3);
        let t7 = &json["transfers"][1];
        assert_eq!(t7["source_rir"], "ARIN");
        assert_eq!(t7["recipient_rir"], "RIPE NCC");
        assert_eq!(t7["transfer_date"], "2026-11-28T12:00:00Z");
        assert!(t7.get("status").is_none());
        assert_eq!(
            t7["ip4nets"]["transfer_set"][1],
            serde_json::json!({
                "start_address": "20.0.9.0",
                "end_address": "20.0.11.255",
                "cidrs": [
                    {"prefix": "20.0.9.0", "length": 24},
                    {"prefix": "20.0.10.0", "length": 23}
                ]
            })
        );
        assert_eq!(
            t7["source_organization"],
            serde_json::json!({"name": "Source Inc", "country_code": "US"})
        );
        assert!(!text.contains("price"));

        let log = transfer_log::parse_str(&text).unwrap();
        let moved: Vec<(Rir, Rir, Ipv4Range)> = log
            .transfers
            .iter()
            .flat_map(|t| {
                t.transferred_ranges()
                    .map(|r| (t.source_rir, t.recipient_rir, r))
            })
            .collect();
        let expected: Vec<(Rir, Rir, Ipv4Range)> = sample_chain()
            .iter()
            .map(|e| {
                (
                    e.movement.source_rir,
                    e.movement.recipient_rir,
                    e.movement.range,
                )
            })
            .collect();
        assert_eq!(moved, expected);
        assert!(log.in_progress.is_empty());
    }

    #[test]
    fn version_5_adds_in_flight_transfers_with_their_status() {
        let text = write(NroVersion::V5_0, &[in_flight()]);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"]["stats_version"], "5.0");
        assert_eq!(json["transfers"][0].get("status"), None, "intra-RIR");
        assert_eq!(json["transfers"][1]["status"], "SOURCE_FINALIZED");
        let last = &json["transfers"][3];
        assert_eq!(last["status"], "RECIPIENT_ACCEPTED");
        assert_eq!(last["transfer_date"], "2026-11-29T08:00:00Z");
        assert!(last.get("recipient_organization").is_none());
        let log = transfer_log::parse_str(&text).unwrap();
        assert_eq!(log.transfers.len(), 3);
        assert_eq!(log.in_progress.len(), 1);
        assert_eq!(
            log.in_progress[0].status,
            Some(NroStatus::RecipientAccepted)
        );
    }

    #[test]
    fn the_ranges_of_one_imported_record_are_one_object_with_its_original_set() {
        let chain = sample_chain();
        let imported = |reference: Option<&str>, range: &str, original: Option<&str>| {
            let mut e = chain[0].clone();
            e.movement.transfer_reference = reference.map(str::to_owned);
            e.movement.range = range.parse().unwrap();
            e.movement.original = original.map(|o| o.parse().unwrap());
            e
        };
        let mut w = TransferLogWriter::new(Vec::new(), &header(NroVersion::V4_0, None)).unwrap();
        // Kept beside the entries: listed in another order than the entries give.
        w.add_original_set(
            "ripencc log 3f9a1c2e #1".into(),
            vec![
                "20.1.0.0/16".parse().unwrap(),
                "20.0.0.0/16".parse().unwrap(),
            ],
        );
        for e in [
            imported(
                Some("ripencc log 3f9a1c2e #0"),
                "20.0.1.0/24",
                Some("20.0.0.0/16"),
            ),
            imported(
                Some("ripencc log 3f9a1c2e #0"),
                "20.0.3.0/24",
                Some("20.0.0.0/16"),
            ),
            imported(
                Some("ripencc log 3f9a1c2e #1"),
                "20.0.5.0/24",
                Some("20.0.0.0/16"),
            ),
            imported(
                Some("ripencc log 3f9a1c2e #1"),
                "20.1.5.0/24",
                Some("20.1.0.0/16"),
            ),
            // Imported before records were kept whole: one object per entry.
            imported(None, "20.2.0.0/24", None),
            imported(None, "20.2.1.0/24", None),
        ] {
            w.push_entry(e).unwrap();
        }
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let log = transfer_log::parse_str(&text).unwrap();
        let sets: Vec<(usize, Vec<String>)> = log
            .transfers
            .iter()
            .map(|t| {
                (
                    t.transferred_ranges().count(),
                    t.ip4[0]
                        .original_set
                        .iter()
                        .map(|r| r.to_string())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            sets,
            [
                (2, vec!["20.0.0.0/16".to_owned()]),
                (2, vec!["20.1.0.0/16".to_owned(), "20.0.0.0/16".to_owned()]),
                (1, vec![]),
                (1, vec![]),
            ]
        );
    }

    #[test]
    fn version_4_refuses_in_flight_transfers() {
        let mut w =
            TransferLogWriter::new(Vec::new(), &header(NroVersion::V4_0, Some(Rir::Arin))).unwrap();
        assert!(w.push_in_flight(&in_flight()).is_err());
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"]["producer"], "ARIN");
        assert_eq!(json["transfers"], serde_json::json!([]));
    }

    #[test]
    fn versions_parse_with_a_clear_refusal() {
        assert_eq!("4.0".parse(), Ok(NroVersion::V4_0));
        assert_eq!("5.0".parse(), Ok(NroVersion::V5_0));
        let err = "3.0".parse::<NroVersion>().unwrap_err();
        assert!(err.contains("4.0") && err.contains("\"3.0\""), "{err}");
    }
}
