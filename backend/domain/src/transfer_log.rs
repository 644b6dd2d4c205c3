//! Reader for the NRO transfer log (`transfers_latest.json`), stats_version 4.0, 4.1 and 5.0.
//!
//! The published format (4.0) lists completed transfers. The 2026 drafts add in-flight
//! transfers: 4.1 in a separate `transfers_in_progress` array, 5.0 as a `status` on each
//! transfer. Both are normalised here into three lists by status: completed, in progress and
//! cancelled, so a caller never mistakes an unfinished 5.0 transfer for a completed one.
//!
//! Real files are less tidy than the schemas (registry-reference 7.6), and the reader accepts:
//! - ARIN's zero-padded octets (`054.224.000.000`);
//! - `ip4nets`, `ip6nets` and `asns` as an object or as a list of such objects;
//! - missing organisations, null organisation names and names with control characters;
//! - `cidrs` present or absent (when present they must cover exactly their range).
//!
//! ipxfer tracks IPv4 only, so ASN and IPv6 ranges are counted and never rejected.
//!
//! The JSON is read with serde into raw structs that keep each part as its text (`RawValue`),
//! and each part is converted when the reader reaches it, so that every error names the record
//! and the field (`transfers[3].ip4nets.transfer_set[0].start_address`) and the first one in
//! document order is reported. A field given twice in one object is refused rather than one of
//! its values picked.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::block::{Ipv4Range, parse_padded_addr};
use super::{Rir, TransferType};

pub use super::workflow::NroStatus;

/// The stats_version values whose shape this reader knows.
pub const KNOWN_VERSIONS: [&str; 3] = ["4.0", "4.1", "5.0"];

/// The document's `version` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVersion {
    /// As written (`"4.0"`); a version outside [`KNOWN_VERSIONS`] is read if its shape fits.
    pub stats_version: String,
    /// As written: an NRO registry name (`"RIPE NCC"`) or `"NRO"` for a combined log.
    pub producer: String,
    /// Hours east of UTC (`UTC_offset`), -12..=12.
    pub utc_offset_hours: Option<i32>,
    /// Extra minutes (`UTC_offset_minutes`, 4.1), taking the sign of the hours.
    pub utc_offset_minutes: Option<i32>,
    pub production_date: Option<OffsetDateTime>,
    /// `records_interval.start_date`.
    pub records_start: Option<OffsetDateTime>,
    /// `records_interval.end_date`.
    pub records_end: Option<OffsetDateTime>,
    /// Copyright and terms-of-service lines.
    pub remarks: Vec<String>,
}

impl LogVersion {
    /// The registry that produced the log; `None` for the NRO's combined log.
    pub fn producer_rir(&self) -> Option<Rir> {
        Rir::from_nro_name(&self.producer)
    }

    /// True when the version is one of [`KNOWN_VERSIONS`].
    pub fn is_known(&self) -> bool {
        KNOWN_VERSIONS.contains(&self.stats_version.as_str())
    }

    /// The producer's UTC offset, if given and in range.
    pub fn utc_offset(&self) -> Option<UtcOffset> {
        let hours = self.utc_offset_hours?;
        let minutes = self.utc_offset_minutes.unwrap_or(0).abs();
        let minutes = if hours < 0 { -minutes } else { minutes };
        UtcOffset::from_hms(i8::try_from(hours).ok()?, i8::try_from(minutes).ok()?, 0).ok()
    }
}

/// An organisation on one side of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOrg {
    /// Control characters removed and whitespace trimmed; `None` when null or left empty.
    pub name: Option<String>,
    /// ISO 3166 alpha-2 as written; `None` when null or empty.
    pub country_code: Option<String>,
}

/// One `ip4nets` object: the space moved and the block it was cut from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip4Movement {
    /// The registry block the transfer set was cut from; empty when not given (for example on
    /// the recipient's copy of an inter-RIR transfer).
    pub original_set: Vec<Ipv4Range>,
    /// The addresses that changed hands.
    pub transfer_set: Vec<Ipv4Range>,
}

/// One transfer of the log, completed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTransfer {
    /// Where the record sits in the document (`transfers[3]`), for messages about it.
    pub path: String,
    pub source_rir: Rir,
    pub recipient_rir: Rir,
    pub kind: TransferType,
    /// Required for completed transfers by 4.1; absent on in-flight and cancelled ones.
    pub transfer_date: Option<OffsetDateTime>,
    /// When the source registry first registered the resources.
    pub source_registration_date: Option<OffsetDateTime>,
    pub source_org: Option<LogOrg>,
    pub recipient_org: Option<LogOrg>,
    /// One entry per `ip4nets` object (several when the log uses the list form).
    pub ip4: Vec<Ip4Movement>,
    /// Number of ASN ranges in the transfer sets (counted only: ipxfer tracks IPv4).
    pub asn_ranges: usize,
    /// Number of IPv6 ranges in the transfer sets (counted only).
    pub ip6_ranges: usize,
    /// The draft status (4.1 in-progress objects, 5.0 transfers); `None` in 4.0.
    pub status: Option<NroStatus>,
    /// When the status was reached (5.0 draft prose; not in its schema).
    pub status_date: Option<OffsetDateTime>,
}

impl LogTransfer {
    /// True when two registries are involved.
    pub fn is_inter_rir(&self) -> bool {
        self.source_rir != self.recipient_rir
    }

    /// Every IPv4 range that changed hands, over all movements.
    pub fn transferred_ranges(&self) -> impl Iterator<Item = Ipv4Range> + '_ {
        self.ip4.iter().flat_map(|m| m.transfer_set.iter().copied())
    }

    /// Number of IPv4 addresses that changed hands.
    pub fn ip4_address_count(&self) -> u64 {
        self.transferred_ranges().map(|r| r.size()).sum()
    }
}

/// The reference the ledger entries of one imported record share: the producer's token, the
/// file's id (the start of its SHA-256) and the record's index in `transfers`, for example
/// `ripencc log 3f9a1c2e #3` for `transfers[3]` of RIPE NCC's log; at most 32 characters.
pub fn record_reference(version: &LogVersion, file_id: &str, path: &str) -> String {
    let producer = version.producer_rir().map_or("nro", Rir::token);
    let index = path
        .strip_prefix("transfers[")
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or(path);
    let file_id: String = file_id.chars().take(8).collect();
    let mut reference = format!("{producer} log {file_id} #{index}");
    reference.truncate(32);
    reference
}

/// How the ranges of one record are kept in the ledger, which stores one entry per range: the
/// original block of each transferred range (the one range of `original_set` holding it, when
/// exactly one does), and the whole `original_set` when those per-range originals do not give
/// it back exactly (see [`distinct_originals`]), to be kept beside the entries.
pub fn originals_per_range(
    original_set: &[Ipv4Range],
    transfer_set: &[Ipv4Range],
) -> (Vec<Option<Ipv4Range>>, Option<Vec<Ipv4Range>>) {
    let per_range: Vec<Option<Ipv4Range>> = transfer_set
        .iter()
        .map(|t| {
            let mut holding = original_set.iter().filter(|o| o.contains(t));
            match (holding.next(), holding.next()) {
                (Some(o), None) => Some(*o),
                _ => None,
            }
        })
        .collect();
    let kept = (distinct_originals(per_range.iter().copied()) != original_set)
        .then(|| original_set.to_vec());
    (per_range, kept)
}

/// The `original_set` the entries of one record give back: their originals, each once, in the
/// order of the entries.
pub fn distinct_originals(originals: impl Iterator<Item = Option<Ipv4Range>>) -> Vec<Ipv4Range> {
    let mut out: Vec<Ipv4Range> = Vec::new();
    for o in originals.flatten() {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// A parsed transfer log, split by status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferLog {
    pub version: LogVersion,
    /// Completed transfers: 4.0/4.1 `transfers`, and 5.0 transfers without a status or with
    /// `SOURCE_FINALIZED`.
    pub transfers: Vec<LogTransfer>,
    /// In-flight transfers (`SOURCE_INITIALIZED`, `RECIPIENT_ACCEPTED`): 4.1
    /// `transfers_in_progress`, and 5.0 transfers with those statuses.
    pub in_progress: Vec<LogTransfer>,
    /// Transfers that were cancelled (`SOURCE_CANCELLED`, `RECIPIENT_CANCELLED`; 5.0 only).
    pub cancelled: Vec<LogTransfer>,
}

/// Refuses a completed transfer dated after the log's production date (a log cannot record what
/// had not happened when it was produced) or after `now`, naming the record; the first one found.
pub fn check_dates(log: &TransferLog, now: OffsetDateTime) -> Result<(), String> {
    let show = |t: OffsetDateTime| {
        t.to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| t.to_string())
    };
    for t in &log.transfers {
        let Some(date) = t.transfer_date else {
            continue;
        };
        if let Some(produced) = log.version.production_date
            && date > produced
        {
            return Err(format!(
                "{}.transfer_date: {} is after the log's production_date {}; a log cannot \
                 record a later transfer (pass --allow-future-dates to keep it as given)",
                t.path,
                show(date),
                show(produced)
            ));
        }
        if date > now {
            return Err(format!(
                "{}.transfer_date: {} is in the future (now is {}); pass --allow-future-dates \
                 to keep it as given",
                t.path,
                show(date),
                show(now)
            ));
        }
    }
    Ok(())
}

/// Why a document is not a usable transfer log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferLogError {
    /// Not JSON, or not a JSON object.
    #[error("not a JSON transfer log: {0}")]
    Json(String),
    /// A field is missing or has a bad value; `path` names the record and the field.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// A version this reader does not know, whose shape does not fit the known ones either.
    #[error(
        "stats_version {version:?} is not one ipxfer reads (4.0, 4.1, 5.0) and its shape does not fit them: {source}"
    )]
    UnsupportedVersion {
        version: String,
        source: Box<TransferLogError>,
    },
}

fn invalid(path: impl fmt::Display, message: impl Into<String>) -> TransferLogError {
    TransferLogError::Invalid {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Parses a transfer log given as text.
pub fn parse_str(json: &str) -> Result<TransferLog, TransferLogError> {
    parse_bytes(json.as_bytes())
}

/// Parses a transfer log given as bytes (UTF-8 JSON).
pub fn parse_bytes(json: &[u8]) -> Result<TransferLog, TransferLogError> {
    let doc: RawDocument =
        serde_json::from_slice(json).map_err(|e| TransferLogError::Json(e.to_string()))?;
    let version_value: Value = typed(
        doc.version.ok_or_else(|| invalid("version", "missing"))?,
        "version",
    )?;
    // The version string is read first so that any later failure can be blamed on an unknown
    // version rather than reported as a mysterious field error.
    let stats_version = stats_version(&version_value)?;
    let result = convert(&doc, &version_value, &stats_version);
    match result {
        Err(e) if !KNOWN_VERSIONS.contains(&stats_version.as_str()) => {
            Err(TransferLogError::UnsupportedVersion {
                version: stats_version,
                source: Box::new(e),
            })
        }
        other => other,
    }
}

// ---- raw shapes, as loose as the files are -------------------------------------------------

/// The document with each part kept as its JSON text (`RawValue`, borrowed from the input): a
/// part is read into its shape only when the conversion reaches it, in document order, so a
/// wrong type is reported with its field's path, and no tree of JSON values is built and
/// dropped (that tree was most of the time a 60,000-record log took to read:
/// docs/performance.md).
#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(borrow)]
    transfers: Option<&'a RawValue>,
    #[serde(borrow)]
    transfers_in_progress: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawVersion {
    producer: Option<String>,
    #[serde(rename = "UTC_offset")]
    utc_offset: Option<i32>,
    #[serde(rename = "UTC_offset_minutes")]
    utc_offset_minutes: Option<i32>,
    production_date: Option<String>,
    records_interval: Option<RawInterval>,
    remarks: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawInterval {
    start_date: Option<String>,
    end_date: Option<String>,
}

/// A transfer's fields, each left as text until it is converted.
#[derive(Deserialize)]
struct RawTransfer<'a> {
    #[serde(borrow)]
    asns: Option<&'a RawValue>,
    #[serde(borrow)]
    ip4nets: Option<&'a RawValue>,
    #[serde(borrow)]
    ip6nets: Option<&'a RawValue>,
    #[serde(borrow)]
    source_organization: Option<&'a RawValue>,
    #[serde(borrow)]
    recipient_organization: Option<&'a RawValue>,
    #[serde(borrow)]
    transfer_date: Option<&'a RawValue>,
    #[serde(borrow)]
    source_registration_date: Option<&'a RawValue>,
    #[serde(borrow)]
    source_rir: Option<&'a RawValue>,
    #[serde(borrow)]
    recipient_rir: Option<&'a RawValue>,
    #[serde(borrow, rename = "type")]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    status_date: Option<&'a RawValue>,
}

/// One `ip4nets` object.
#[derive(Deserialize)]
struct RawIpSet<'a> {
    #[serde(borrow)]
    original_set: Option<&'a RawValue>,
    #[serde(borrow)]
    transfer_set: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawOrg<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country_code: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawIp4Range<'a> {
    #[serde(borrow)]
    start_address: Cow<'a, str>,
    #[serde(borrow)]
    end_address: Cow<'a, str>,
    #[serde(borrow)]
    cidrs: Option<Vec<RawCidr<'a>>>,
}

#[derive(Deserialize)]
struct RawCidr<'a> {
    #[serde(borrow)]
    prefix: Cow<'a, str>,
    length: u32,
}

/// An `asns` or `ip6nets` object, read only to count its ranges.
#[derive(Deserialize)]
struct RawCountedSet {
    transfer_set: Option<Vec<IgnoredAny>>,
}

/// Where a value sits in the document (`transfers[3].ip4nets.transfer_set[0]`), written out
/// only when an error or a record names it: most values of a valid log never need it.
#[derive(Clone, Copy)]
enum At<'p> {
    Root(&'static str),
    Field(&'p At<'p>, &'static str),
    Index(&'p At<'p>, usize),
}

impl<'p> At<'p> {
    fn field(&'p self, name: &'static str) -> At<'p> {
        At::Field(self, name)
    }

    fn index(&'p self, i: usize) -> At<'p> {
        At::Index(self, i)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root(name) => f.write_str(name),
            At::Field(parent, name) => write!(f, "{parent}.{name}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

// ---- conversion -----------------------------------------------------------------------------

/// Reads a part of the document into its shape, reporting serde's complaint under `at`.
fn typed<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    at: impl fmt::Display,
) -> Result<T, TransferLogError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        // The line and column would count from the start of this part, not of the file.
        let message = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&position).unwrap_or(&message);
        invalid(at, message)
    })
}

/// What kind of JSON value a part is, for the conversion to branch on and for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    List,
    Text,
    Null,
    Boolean,
    Number,
}

impl Kind {
    /// From the part's first character: it is valid JSON, read by serde_json already.
    fn of(raw: &RawValue) -> Kind {
        match raw.get().trim_ascii_start().as_bytes().first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::List,
            Some(b'"') => Kind::Text,
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Boolean,
            _ => Kind::Number,
        }
    }

    fn of_value(value: &Value) -> Kind {
        match value {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::Text,
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Object,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Object => "an object",
            Kind::List => "a list",
            Kind::Text => "a string",
            Kind::Null => "null",
            Kind::Boolean => "a boolean",
            Kind::Number => "a number",
        })
    }
}

/// The parts of a JSON object, or an error naming what `raw` is instead.
fn object<'a, T: Deserialize<'a>>(raw: &'a RawValue, at: &At) -> Result<T, TransferLogError> {
    match Kind::of(raw) {
        Kind::Object => typed(raw, at),
        other => Err(invalid(at, format!("expected an object, found {other}"))),
    }
}

/// The items of a JSON list, each as text, or an error naming what `raw` is instead.
fn list<'a>(raw: &'a RawValue, at: &At) -> Result<Vec<&'a RawValue>, TransferLogError> {
    match Kind::of(raw) {
        Kind::List => typed(raw, at),
        other => Err(invalid(at, format!("expected a list, found {other}"))),
    }
}

fn stats_version(version: &Value) -> Result<String, TransferLogError> {
    match version.get("stats_version") {
        Some(Value::String(s)) => Ok(s.clone()),
        // Tolerated: a producer writing the version as a JSON number.
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(invalid(
            "version.stats_version",
            format!("expected a string, found {}", Kind::of_value(other)),
        )),
        None => Err(invalid("version.stats_version", "missing")),
    }
}

fn convert(
    doc: &RawDocument,
    version_value: &Value,
    stats_version: &str,
) -> Result<TransferLog, TransferLogError> {
    let version = convert_version(version_value, stats_version)?;
    let mut log = TransferLog {
        version,
        transfers: Vec::new(),
        in_progress: Vec::new(),
        cancelled: Vec::new(),
    };
    let transfers = doc
        .transfers
        .ok_or_else(|| invalid("transfers", "missing"))?;
    let lists = [
        ("transfers", Some(transfers)),
        ("transfers_in_progress", doc.transfers_in_progress),
    ];
    for (name, raw) in lists {
        let Some(raw) = raw else { continue };
        let root = At::Root(name);
        let items = list(raw, &root)?;
        let in_progress_list = name == "transfers_in_progress";
        for (i, item) in items.into_iter().enumerate() {
            let transfer = convert_transfer(item, root.index(i))?;
            // Sorted by status, so that a 5.0 transfer still in flight is not taken for a
            // completed one; a status-less 4.1 in-progress object stays in progress.
            let bucket = match transfer.status {
                None if in_progress_list => &mut log.in_progress,
                None | Some(NroStatus::SourceFinalized) => &mut log.transfers,
                Some(NroStatus::SourceInitialized | NroStatus::RecipientAccepted) => {
                    &mut log.in_progress
                }
                Some(NroStatus::SourceCancelled | NroStatus::RecipientCancelled) => {
                    &mut log.cancelled
                }
            };
            bucket.push(transfer);
        }
    }
    Ok(log)
}

fn convert_version(value: &Value, stats_version: &str) -> Result<LogVersion, TransferLogError> {
    let raw = RawVersion::deserialize(value).map_err(|e| invalid("version", e.to_string()))?;
    let interval = raw.records_interval.as_ref();
    Ok(LogVersion {
        stats_version: stats_version.to_string(),
        producer: raw
            .producer
            .ok_or_else(|| invalid("version.producer", "missing"))?,
        utc_offset_hours: raw.utc_offset,
        utc_offset_minutes: raw.utc_offset_minutes,
        production_date: date_time(raw.production_date.as_deref(), "version.production_date")?,
        records_start: date_time(
            interval.and_then(|i| i.start_date.as_deref()),
            "version.records_interval.start_date",
        )?,
        records_end: date_time(
            interval.and_then(|i| i.end_date.as_deref()),
            "version.records_interval.end_date",
        )?,
        remarks: raw.remarks.unwrap_or_default(),
    })
}

fn convert_transfer(item: &RawValue, at: At) -> Result<LogTransfer, TransferLogError> {
    let raw: RawTransfer = object(item, &at)?;
    if raw.asns.is_none() && raw.ip4nets.is_none() && raw.ip6nets.is_none() {
        return Err(invalid(at, "none of asns, ip4nets, ip6nets"));
    }
    let date = |value, name| date_time_value(value, &at.field(name));
    let party = |value, name| org(value, &at.field(name));

    let source_rir = rir(raw.source_rir, &at.field("source_rir"))?;
    let recipient_rir = rir(raw.recipient_rir, &at.field("recipient_rir"))?;
    let kind_at = at.field("type");
    let kind_text = required_str(raw.kind, &kind_at)?;
    let kind = TransferType::from_nro_name(&kind_text).ok_or_else(|| {
        invalid(
            kind_at,
            format!("{kind_text:?} is not a transfer type (RESOURCE_TRANSFER, MERGER_ACQUISITION)"),
        )
    })?;
    let status_at = at.field("status");
    let status = optional_str(raw.status, &status_at)?
        .map(|s| {
            parse_status(&s).ok_or_else(|| {
                invalid(
                    status_at,
                    format!(
                        "{s:?} is not a transfer status (SOURCE_INITIALIZED, RECIPIENT_ACCEPTED, \
                         SOURCE_FINALIZED, SOURCE_CANCELLED, RECIPIENT_CANCELLED)"
                    ),
                )
            })
        })
        .transpose()?;

    let ip4 = match raw.ip4nets {
        None => Vec::new(),
        Some(nets) => ip4_movements(nets, &at.field("ip4nets"))?,
    };

    Ok(LogTransfer {
        source_rir,
        recipient_rir,
        kind,
        transfer_date: date(raw.transfer_date, "transfer_date")?,
        source_registration_date: date(raw.source_registration_date, "source_registration_date")?,
        source_org: party(raw.source_organization, "source_organization")?,
        recipient_org: party(raw.recipient_organization, "recipient_organization")?,
        ip4,
        asn_ranges: count_ranges(raw.asns),
        ip6_ranges: count_ranges(raw.ip6nets),
        status,
        status_date: date(raw.status_date, "status_date")?,
        path: at.to_string(),
    })
}

/// The NRO registry name; the token spelling (`ripencc`) is tolerated too.
fn rir(value: Option<&RawValue>, at: &At) -> Result<Rir, TransferLogError> {
    let text = required_str(value, at)?;
    text.parse().map_err(|_| {
        invalid(
            at,
            format!("{text:?} is not a registry (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC)"),
        )
    })
}

/// The schema's UPPER_SNAKE spelling, or the draft prose's camelCase.
fn parse_status(s: &str) -> Option<NroStatus> {
    use NroStatus::*;
    [
        SourceInitialized,
        RecipientAccepted,
        SourceFinalized,
        SourceCancelled,
        RecipientCancelled,
    ]
    .into_iter()
    .find(|status| {
        let upper = status.as_str();
        s == upper || s.eq_ignore_ascii_case(&upper.replace('_', ""))
    })
}

fn org(value: Option<&RawValue>, at: &At) -> Result<Option<LogOrg>, TransferLogError> {
    let Some(value) = value else { return Ok(None) };
    let raw: RawOrg = typed(value, at)?;
    // Some logs carry names with control characters (registry-reference 7.6): keep the text.
    let name = raw
        .name
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .to_string()
        })
        .filter(|n| !n.is_empty());
    let country_code = raw
        .country_code
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Ok(Some(LogOrg { name, country_code }))
}

/// `ip4nets` as an object, or a list of objects.
fn ip4_movements(value: &RawValue, at: &At) -> Result<Vec<Ip4Movement>, TransferLogError> {
    match Kind::of(value) {
        Kind::List => list(value, at)?
            .into_iter()
            .enumerate()
            .map(|(i, item)| ip4_movement(item, &at.index(i)))
            .collect(),
        _ => Ok(vec![ip4_movement(value, at)?]),
    }
}

fn ip4_movement<'a>(value: &'a RawValue, at: &At) -> Result<Ip4Movement, TransferLogError> {
    let set: RawIpSet = object(value, at)?;
    let set_list =
        |raw: Option<&'a RawValue>, name| raw.map(|r| list(r, &at.field(name))).transpose();
    let original_set = set_list(set.original_set, "original_set")?;
    let transfer_set = set_list(set.transfer_set, "transfer_set")?
        .ok_or_else(|| invalid(at.field("transfer_set"), "missing"))?;
    let ranges = |name: &'static str, items: Vec<&RawValue>| -> Result<Vec<Ipv4Range>, _> {
        let at = at.field(name);
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| convert_ip4_range(item, &at.index(i)))
            .collect()
    };
    Ok(Ip4Movement {
        original_set: ranges("original_set", original_set.unwrap_or_default())?,
        transfer_set: ranges("transfer_set", transfer_set)?,
    })
}

fn convert_ip4_range(value: &RawValue, at: &At) -> Result<Ipv4Range, TransferLogError> {
    let raw: RawIp4Range = typed(value, at)?;
    let start = address(&raw.start_address, &at.field("start_address"))?;
    let end = address(&raw.end_address, &at.field("end_address"))?;
    let range = Ipv4Range::new(start.into(), end.into()).map_err(|e| invalid(at, e.to_string()))?;
    if let Some(cidrs) = &raw.cidrs {
        check_cidrs(cidrs, range, &at.field("cidrs"))?;
    }
    Ok(range)
}

fn address(text: &str, at: &At) -> Result<Ipv4Addr, TransferLogError> {
    parse_padded_addr(text).map_err(|_| invalid(at, format!("{text:?} is not an IPv4 address")))
}

/// The CIDRs, when given, must tile the range exactly: no gap, no overlap, nothing outside.
fn check_cidrs(cidrs: &[RawCidr], range: Ipv4Range, at: &At) -> Result<(), TransferLogError> {
    let mut nets = Vec::with_capacity(cidrs.len());
    for (i, cidr) in cidrs.iter().enumerate() {
        let item = at.index(i);
        let prefix = address(&cidr.prefix, &item.field("prefix"))?;
        let length = u8::try_from(cidr.length)
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| {
                invalid(
                    item.field("length"),
                    format!("{} is not a prefix length (0..=32)", cidr.length),
                )
            })?;
        let net = Ipv4Net::new(prefix, length).map_err(|e| invalid(item, e.to_string()))?;
        if net.trunc() != net {
            return Err(invalid(item, format!("{net} has host bits set")));
        }
        nets.push(Ipv4Range::from_net(net));
    }
    nets.sort();
    // Walk the sorted prefixes: each must start right after the previous one ends.
    let mut next = Some(u64::from(range.start()));
    for net in &nets {
        if next != Some(u64::from(net.start())) {
            next = None;
            break;
        }
        next = Some(u64::from(net.end()) + 1);
    }
    if next != Some(u64::from(range.end()) + 1) {
        let listed: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        return Err(invalid(
            at,
            format!(
                "[{}] do not cover {} - {} exactly",
                listed.join(", "),
                range.first(),
                range.last()
            ),
        ));
    }
    Ok(())
}

/// Number of ranges in the transfer sets of `asns` or `ip6nets`; anything malformed counts as
/// nothing, because ipxfer does not track these resources.
fn count_ranges(value: Option<&RawValue>) -> usize {
    let count_one = |set: &RawValue| match Kind::of(set) {
        Kind::Object => serde_json::from_str::<RawCountedSet>(set.get())
            .ok()
            .and_then(|s| s.transfer_set)
            .map_or(0, |items| items.len()),
        _ => 0,
    };
    match value {
        None => 0,
        Some(list) if Kind::of(list) == Kind::List => {
            serde_json::from_str::<Vec<&RawValue>>(list.get())
                .map_or(0, |items| items.into_iter().map(count_one).sum())
        }
        Some(set) => count_one(set),
    }
}

fn optional_str<'a>(
    value: Option<&'a RawValue>,
    at: &At,
) -> Result<Option<Cow<'a, str>>, TransferLogError> {
    match value {
        None => Ok(None),
        Some(raw) if Kind::of(raw) == Kind::Text => typed(raw, at).map(Some),
        Some(other) => Err(invalid(
            at,
            format!("expected a string, found {}", Kind::of(other)),
        )),
    }
}

fn required_str<'a>(
    value: Option<&'a RawValue>,
    at: &At,
) -> Result<Cow<'a, str>, TransferLogError> {
    optional_str(value, at)?.ok_or_else(|| invalid(at, "missing"))
}

fn date_time_value(
    value: Option<&RawValue>,
    at: &At,
) -> Result<Option<OffsetDateTime>, TransferLogError> {
    date_time(optional_str(value, at)?.as_deref(), at)
}

fn date_time(
    text: Option<&str>,
    at: impl fmt::Display,
) -> Result<Option<OffsetDateTime>, TransferLogError> {
    text.map(|t| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| invalid(&at, format!("{t:?} is not an RFC 3339 date-time")))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn range(s: &str) -> Ipv4Range {
        Ipv4Range::from_net(s.parse().unwrap())
    }

    /// A 4.0 document around the given transfer objects.
    fn doc(transfers: &str) -> String {
        format!(
            r#"{{"version": {{"stats_version": "4.0", "producer": "RIPE NCC", "UTC_offset": 1,
                "production_date": "2026-04-15T03:59:11Z",
                "records_interval": {{"start_date": "2009-10-12T18:09:00Z",
                                      "end_date": "2026-04-14T18:59:21Z"}}}},
               "transfers": [{transfers}]}}"#
        )
    }

    #[test]
    fn record_references_name_the_producer_the_file_and_the_record_in_32_characters() {
        let log = parse_str(&doc("")).unwrap();
        assert_eq!(
            record_reference(&log.version, "3f9a1c2e77", "transfers[3]"),
            "ripencc log 3f9a1c2e #3"
        );
        let long = record_reference(&log.version, "3f9a1c2e", "transfers[1234567890123]");
        assert!(long.len() <= 32, "{long}");
    }

    #[test]
    fn each_range_keeps_its_original_and_the_set_is_kept_when_they_do_not_give_it_back() {
        let (a, b) = (range("20.0.0.0/16"), range("20.1.0.0/16"));
        let (t1, t2) = (range("20.0.4.0/24"), range("20.1.8.0/22"));
        // One original per range, in order: the entries give the set back.
        assert_eq!(
            originals_per_range(&[a, b], &[t1, t2]),
            (vec![Some(a), Some(b)], None)
        );
        // The same set listed the other way round must be kept as written.
        assert_eq!(
            originals_per_range(&[b, a], &[t1, t2]),
            (vec![Some(a), Some(b)], Some(vec![b, a]))
        );
        // A range spanning two originals has none of its own.
        let span = range("20.0.0.0/15");
        assert_eq!(
            originals_per_range(&[a, b], &[span]),
            (vec![None], Some(vec![a, b]))
        );
        assert_eq!(originals_per_range(&[], &[t1]), (vec![None], None));
        assert_eq!(
            distinct_originals([Some(a), None, Some(a), Some(b)].into_iter()),
            [a, b]
        );
    }

    #[test]
    fn transfer_dates_after_the_production_date_or_now_are_refused_by_record() {
        let record = |date: &str| {
            format!(
                r#"{{"transfer_date": "{date}", "source_rir": "RIPE NCC", "recipient_rir": "RIPE NCC",
                    "type": "RESOURCE_TRANSFER",
                    "ip4nets": {{"transfer_set": [{{"start_address": "20.0.0.0", "end_address": "20.0.0.255"}}]}}}}"#
            )
        };
        let now = datetime!(2026-11-30 12:00 UTC);
        let ok = parse_str(&doc(&record("2026-04-14T18:59:21Z"))).unwrap();
        assert_eq!(check_dates(&ok, now), Ok(()));
        let two = format!(
            "{},{}",
            record("2026-04-14T18:59:21Z"),
            record("2026-04-16T00:00:00Z")
        );
        let late = parse_str(&doc(&two)).unwrap();
        let err = check_dates(&late, now).unwrap_err();
        assert!(
            err.starts_with("transfers[1].transfer_date: 2026-04-16T00:00:00Z is after")
                && err.contains("2026-04-15T03:59:11Z")
                && err.contains("--allow-future-dates"),
            "{err}"
        );
        let early_now = datetime!(2026-04-14 00:00 UTC);
        let err = check_dates(&ok, early_now).unwrap_err();
        assert!(
            err.contains("transfers[0]") && err.contains("in the future"),
            "{err}"
        );
    }

    fn error_of(transfers: &str) -> String {
        parse_str(&doc(transfers)).unwrap_err().to_string()
    }

    const SIMPLE: &str = r#"{"source_rir": "ARIN", "recipient_rir": "RIPE NCC",
        "type": "RESOURCE_TRANSFER", "transfer_date": "2020-01-02T03:04:05Z",
        "ip4nets": {"transfer_set": [{"start_address": "192.0.2.0", "end_address": "192.0.2.255"}]}}"#;

    #[test]
    fn arin_sample() {
        let log = parse_str(&fixture("transfers-arin-sample.json")).unwrap();
        assert_eq!(log.version.stats_version, "4.0");
        assert_eq!(log.version.producer, "ARIN");
        assert_eq!(log.version.producer_rir(), Some(Rir::Arin));
        assert_eq!(
            log.version.production_date,
            Some(datetime!(2026-04-15 03:59:11 UTC))
        );
        assert_eq!(
            log.version.records_start,
            Some(datetime!(2009-10-12 18:09:00 UTC))
        );
        assert_eq!(
            log.version.utc_offset(),
            Some(UtcOffset::from_hms(-4, 0, 0).unwrap())
        );
        assert_eq!(log.version.remarks.len(), 2);
        assert_eq!(log.transfers.len(), 4);
        assert!(log.in_progress.is_empty() && log.cancelled.is_empty());

        let movements: Vec<(&LogTransfer, &Ip4Movement)> = log
            .transfers
            .iter()
            .flat_map(|t| t.ip4.iter().map(move |m| (t, m)))
            .collect();
        assert_eq!(movements.len(), 2);
        let (aes, m) = movements[0];
        assert_eq!(m.transfer_set, vec![range("162.208.48.0/22")]);
        assert_eq!(m.original_set, vec![range("162.208.48.0/22")]);
        assert_eq!(aes.transfer_date, Some(datetime!(2026-04-14 18:59:21 UTC)));
        assert_eq!(
            aes.recipient_org.as_ref().unwrap().name.as_deref(),
            Some("The AES Corporation")
        );
        let (amazon, m) = movements[1];
        assert_eq!(m.transfer_set, vec![range("54.224.0.0/12")]);
        assert_eq!(m.original_set, vec![range("54.0.0.0/8")]);
        assert_eq!(amazon.ip4_address_count(), 1 << 20);
        assert_eq!(amazon.kind, TransferType::ResourceTransfer);
        assert_eq!(amazon.path, "transfers[3]");
        assert!(!amazon.is_inter_rir());

        let asn: usize = log.transfers.iter().map(|t| t.asn_ranges).sum();
        let ip6: usize = log.transfers.iter().map(|t| t.ip6_ranges).sum();
        assert_eq!((asn, ip6), (1, 1));
        assert_eq!(log.transfers[1].kind, TransferType::MergerAcquisition);
        assert!(log.transfers[1].ip4.is_empty());
        assert!(log.transfers.iter().all(|t| t.status.is_none()));
    }

    #[test]
    fn draft_5_0_example_is_sorted_by_status() {
        let log = parse_str(&fixture("rir-transfer-log-5.0.example.json")).unwrap();
        assert_eq!(log.version.stats_version, "5.0");
        assert!(log.version.is_known());

        assert_eq!(log.in_progress.len(), 1);
        let accepted = &log.in_progress[0];
        assert_eq!(accepted.path, "transfers[0]");
        assert_eq!(accepted.status, Some(NroStatus::RecipientAccepted));
        assert_eq!(
            (accepted.source_rir, accepted.recipient_rir),
            (Rir::Apnic, Rir::Arin)
        );
        assert_eq!(accepted.asn_ranges, 1);

        assert_eq!(log.transfers.len(), 1);
        assert_eq!(log.transfers[0].status, None);
        assert_eq!(log.transfers[0].ip6_ranges, 1);

        assert_eq!(log.cancelled.len(), 1);
        let cancelled = &log.cancelled[0];
        assert_eq!(cancelled.status, Some(NroStatus::SourceCancelled));
        assert_eq!(cancelled.status.unwrap().as_str(), "SOURCE_CANCELLED");
        assert_eq!(cancelled.transfer_date, None);
        assert_eq!(cancelled.recipient_rir, Rir::RipeNcc);
        assert!(cancelled.is_inter_rir());
        assert_eq!(cancelled.ip4[0].transfer_set, vec![range("192.0.2.0/25")]);
        assert_eq!(cancelled.ip4[0].original_set, vec![range("192.0.2.0/24")]);
    }

    #[test]
    fn draft_4_1_in_progress_and_camel_case_statuses() {
        let json = doc(SIMPLE).replace(
            r#""transfers": ["#,
            &format!(
                r#""transfers_in_progress": [{}, {}], "transfers": ["#,
                SIMPLE.replace("\"type\"", "\"status\": \"SOURCE_INITIALIZED\", \"type\""),
                SIMPLE.replace("\"type\"", "\"status\": \"recipientAccepted\", \"type\""),
            ),
        );
        let log = parse_str(&json).unwrap();
        assert_eq!(log.transfers.len(), 1);
        let statuses: Vec<_> = log.in_progress.iter().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            vec![
                Some(NroStatus::SourceInitialized),
                Some(NroStatus::RecipientAccepted)
            ]
        );
        assert_eq!(log.in_progress[1].path, "transfers_in_progress[1]");
    }

    #[test]
    fn list_form_takes_every_object() {
        let json = doc(
            r#"{"source_rir": "ripencc", "recipient_rir": "APNIC", "type": "MERGER_ACQUISITION",
                "ip4nets": [
                  {"transfer_set": [{"start_address": "198.51.100.0", "end_address": "198.51.100.255"}]},
                  {"original_set": [{"start_address": "203.000.113.000", "end_address": "203.0.113.255"}],
                   "transfer_set": [{"start_address": "203.0.113.0", "end_address": "203.0.113.127",
                                     "cidrs": [{"prefix": "203.0.113.0", "length": 25}]}]}],
                "asns": [{"transfer_set": [{"start": 1, "end": 1}, {"start": 5, "end": 9}]},
                         {"transfer_set": [{"start": 64496, "end": 64496}]}],
                "ip6nets": [{"transfer_set": "not even a list"}]}"#,
        );
        let log = parse_str(&json).unwrap();
        let t = &log.transfers[0];
        assert_eq!(t.source_rir, Rir::RipeNcc, "token spelling tolerated");
        assert_eq!(t.ip4.len(), 2);
        assert!(t.ip4[0].original_set.is_empty());
        assert_eq!(t.ip4[1].original_set, vec![range("203.0.113.0/24")]);
        assert_eq!(
            t.transferred_ranges().collect::<Vec<_>>(),
            vec![range("198.51.100.0/24"), range("203.0.113.0/25")]
        );
        assert_eq!((t.asn_ranges, t.ip6_ranges), (3, 0));
    }

    #[test]
    fn organisations_may_be_missing_null_or_dirty() {
        let json = doc(&format!(
            "{}, {}",
            SIMPLE,
            SIMPLE.replace(
                "\"type\"",
                r#""source_organization": {"name": null, "country_code": "US"},
                   "recipient_organization": {"name": "\u0007Acme\u0000 Ltd\n", "country_code": ""},
                   "type""#
            )
        ));
        let log = parse_str(&json).unwrap();
        assert_eq!(
            (
                &log.transfers[0].source_org,
                &log.transfers[0].recipient_org
            ),
            (&None, &None)
        );
        let t = &log.transfers[1];
        assert_eq!(
            t.source_org,
            Some(LogOrg {
                name: None,
                country_code: Some("US".to_string())
            })
        );
        assert_eq!(
            t.recipient_org,
            Some(LogOrg {
                name: Some("Acme Ltd".to_string()),
                country_code: None
            })
        );
    }

    #[test]
    fn bad_address_names_record_and_field() {
        let bad = SIMPLE.replace("\"192.0.2.0\"", "\"054.224.000.0000\"");
        let err = error_of(&format!("{SIMPLE}, {SIMPLE}, {SIMPLE}, {bad}"));
        assert_eq!(
            err,
            r#"transfers[3].ip4nets.transfer_set[0].start_address: "054.224.000.0000" is not an IPv4 address"#
        );
        let reversed = SIMPLE.replace("\"192.0.2.255\"", "\"192.0.1.255\"");
        assert_eq!(
            error_of(&reversed),
            r#"transfers[0].ip4nets.transfer_set[0]: "192.0.2.0 - 192.0.1.255" ends before it starts"#
        );
    }

    #[test]
    fn cidrs_must_cover_the_range_exactly() {
        let with = |cidrs: &str| {
            SIMPLE.replace(
                r#""end_address": "192.0.2.255"}"#,
                &format!(r#""end_address": "192.0.2.255", "cidrs": [{cidrs}]}}"#),
            )
        };
        let ok = with(
            r#"{"prefix": "192.0.2.128", "length": 25}, {"prefix": "192.000.002.000", "length": 25}"#,
        );
        assert!(parse_str(&doc(&ok)).is_ok());
        assert_eq!(
            error_of(&with(r#"{"prefix": "192.0.2.0", "length": 25}"#)),
            "transfers[0].ip4nets.transfer_set[0].cidrs: [192.0.2.0/25] do not cover 192.0.2.0 - 192.0.2.255 exactly"
        );
        assert_eq!(
            error_of(&with(r#"{"prefix": "192.0.2.128", "length": 24}"#)),
            "transfers[0].ip4nets.transfer_set[0].cidrs[0]: 192.0.2.128/24 has host bits set"
        );
        assert!(
            error_of(&with(
                r#"{"prefix": "192.0.2.0", "length": 24}, {"prefix": "192.0.2.0", "length": 25}"#
            ))
            .ends_with("do not cover 192.0.2.0 - 192.0.2.255 exactly")
        );
        assert_eq!(
            error_of(&with(r#"{"prefix": "192.0.2.0", "length": 33}"#)),
            "transfers[0].ip4nets.transfer_set[0].cidrs[0].length: 33 is not a prefix length (0..=32)"
        );
        assert!(error_of(&with("")).ends_with("[] do not cover 192.0.2.0 - 192.0.2.255 exactly"));
    }

    #[test]
    fn field_errors() {
        let cases = [
            (
                "\"ARIN\", \"recipient_rir\"",
                "\"RIPE\", \"recipient_rir\"",
                None,
            ),
            (
                "\"RIPE NCC\"",
                "\"EURO NIC\"",
                Some(
                    r#"transfers[0].recipient_rir: "EURO NIC" is not a registry (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC)"#,
                ),
            ),
            (
                "\"RESOURCE_TRANSFER\"",
                "\"INTER_RIR_TRANSFER\"",
                Some(
                    r#"transfers[0].type: "INTER_RIR_TRANSFER" is not a transfer type (RESOURCE_TRANSFER, MERGER_ACQUISITION)"#,
                ),
            ),
            (
                "\"RESOURCE_TRANSFER\"",
                r#"{"signifier": "2.3.2.18"}"#,
                Some("transfers[0].type: expected a string, found an object"),
            ),
            (
                "\"2020-01-02T03:04:05Z\"",
                "\"2020-01-02\"",
                Some(r#"transfers[0].transfer_date: "2020-01-02" is not an RFC 3339 date-time"#),
            ),
            (
                r#""type": "RESOURCE_TRANSFER""#,
                r#""type": "RESOURCE_TRANSFER", "status": "DONE""#,
                Some(
                    r#"transfers[0].status: "DONE" is not a transfer status (SOURCE_INITIALIZED, RECIPIENT_ACCEPTED, SOURCE_FINALIZED, SOURCE_CANCELLED, RECIPIENT_CANCELLED)"#,
                ),
            ),
            (
                r#""source_rir": "ARIN", "#,
                "",
                Some("transfers[0].source_rir: missing"),
            ),
            (
                r#""ip4nets": {"transfer_set""#,
                r#""ip4nets": {"original_set""#,
                Some("transfers[0].ip4nets.transfer_set: missing"),
            ),
            (
                r#""ip4nets""#,
                r#""ipv4nets""#,
                Some("transfers[0]: none of asns, ip4nets, ip6nets"),
            ),
            (
                r#""ip4nets": {"transfer_set": [{"start_address": "192.0.2.0", "end_address": "192.0.2.255"}]}"#,
                r#""ip4nets": {"transfer_set": "192.0.2.0/24"}"#,
                Some("transfers[0].ip4nets.transfer_set: expected a list, found a string"),
            ),
            (
                r#""ip4nets": {"transfer_set": [{"#,
                r#""ip4nets": {"original_set": {}, "transfer_set": [{"#,
                Some("transfers[0].ip4nets.original_set: expected a list, found an object"),
            ),
            (
                r#""ip4nets": {"#,
                r#""ip4nets": [true], "ip6nets": {"#,
                Some("transfers[0].ip4nets[0]: expected an object, found a boolean"),
            ),
            // serde's own messages, without the position inside the part it read.
            (
                r#""start_address": "192.0.2.0", "#,
                "",
                Some("transfers[0].ip4nets.transfer_set[0]: missing field `start_address`"),
            ),
            (
                r#""end_address": "192.0.2.255""#,
                r#""end_address": 3221226239"#,
                Some(
                    "transfers[0].ip4nets.transfer_set[0]: invalid type: integer `3221226239`, expected a string",
                ),
            ),
            (
                r#""type": "RESOURCE_TRANSFER""#,
                r#""type": "RESOURCE_TRANSFER", "type": "MERGER_ACQUISITION""#,
                Some("transfers[0]: duplicate field `type`"),
            ),
        ];
        for (from, to, expected) in cases {
            let transfer = SIMPLE.replacen(from, to, 1);
            assert_ne!(transfer, SIMPLE, "{from} not found");
            match expected {
                None => assert!(parse_str(&doc(&transfer)).is_ok(), "{to}"),
                Some(message) => assert_eq!(error_of(&transfer), message),
            }
        }
    }

    #[test]
    fn each_record_must_be_an_object() {
        assert_eq!(
            error_of(&format!("{SIMPLE}, 5")),
            "transfers[1]: expected an object, found a number"
        );
        assert_eq!(
            error_of(&format!("{SIMPLE}, [{SIMPLE}]")),
            "transfers[1]: expected an object, found a list"
        );
        assert_eq!(
            parse_str(
                r#"{"version": {"stats_version": "4.0", "producer": "ARIN"}, "transfers": {}}"#
            )
            .unwrap_err()
            .to_string(),
            "transfers: expected a list, found an object"
        );
    }

    #[test]
    fn document_errors() {
        assert!(
            parse_str("[1, 2")
                .unwrap_err()
                .to_string()
                .starts_with("not a JSON transfer log: ")
        );
        assert_eq!(
            parse_str(r#"{"transfers": []}"#).unwrap_err().to_string(),
            "version: missing"
        );
        assert_eq!(
            parse_str(r#"{"version": {"stats_version": "4.0", "producer": "ARIN"}}"#)
                .unwrap_err()
                .to_string(),
            "transfers: missing"
        );
        let log =
            parse_str(r#"{"version": {"stats_version": 4.1, "producer": "NRO"}, "transfers": []}"#)
                .unwrap();
        assert_eq!(log.version.stats_version, "4.1");
        assert_eq!(log.version.producer_rir(), None);
        assert_eq!(log.version.utc_offset(), None);
    }

    #[test]
    fn unknown_versions_are_read_if_they_fit_and_named_if_not() {
        let fits = doc(SIMPLE).replace("\"4.0\"", "\"4.2\"");
        let log = parse_str(&fits).unwrap();
        assert!(!log.version.is_known());
        assert_eq!(log.transfers.len(), 1);

        // The LACNIC 3.0 shape: ipv4nets, and the type as an object.
        let v3 = doc(
            r#"{"source_rir": "LACNIC", "recipient_rir": "LACNIC",
                "type": {"signifier": "2.3.2.18", "description": "Policy 2.3.2.18 Intra-RIR Transfer"},
                "ipv4nets": {"transfer_set": [{"start": "200.0.0.0", "end": "200.0.0.255"}]}}"#,
        )
        .replace("\"4.0\"", "\"3.0\"");
        let err = parse_str(&v3).unwrap_err();
        assert!(
            matches!(&err, TransferLogError::UnsupportedVersion { version, .. } if version == "3.0")
        );
        assert_eq!(
            err.to_string(),
            "stats_version \"3.0\" is not one ipxfer reads (4.0, 4.1, 5.0) and its shape does not fit them: \
             transfers[0]: none of asns, ip4nets, ip6nets"
        );
    }

    #[test]
    fn utc_offset_minutes_take_the_sign_of_the_hours() {
        let json = doc("").replace(
            "\"UTC_offset\": 1",
            "\"UTC_offset\": -3, \"UTC_offset_minutes\": 30",
        );
        let log = parse_str(&json).unwrap();
        assert_eq!(
            log.version.utc_offset(),
            Some(UtcOffset::from_hms(-3, -30, 0).unwrap())
        );
    }
}
