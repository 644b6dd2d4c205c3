//! Parser for the NRO "delegated-extended" statistics format (`delegated-<rir>-extended-*`).
//!
//! The format is pipe-separated text: one version line, one summary line per resource type, then
//! one record per delegated (or available, or reserved) block. Registries differ in details, and
//! the parser accepts all of the variants seen in real files:
//! - AFRINIC writes `00000000` as start date and `00000` as UTC offset;
//! - APNIC (and IANA) open with a long `#` comment header, and APNIC leaves the start date empty;
//! - ARIN's serial is epoch milliseconds and some old records are dated `00000000`;
//! - LACNIC's available/reserved lines have only 7 fields (no opaque-id at all);
//! - blank lines and `#` comment lines may appear anywhere.
//!
//! Parsing is streaming: [`DelegatedParser::push_line`] takes one line at a time, so a caller can
//! read a 250k-line file without holding it in memory; [`parse_document`] is the convenience form
//! for a whole text. The parser performs no I/O.
//!
//! Declared counts (the version line's `records` and the summary lines) are often wrong in real
//! files, so they are never an error: the parser counts what the file really holds and reports
//! the differences through [`DelegatedTotals::mismatches`].

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use time::{Date, Month};

use super::block::{BlockError, Ipv4Range};

/// The kind of number resource a line describes (`asn`, `ipv4`, `ipv6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Asn,
    Ipv4,
    Ipv6,
}

impl ResourceKind {
    /// Every kind, in the order the counts are reported.
    pub const ALL: [ResourceKind; 3] = [ResourceKind::Asn, ResourceKind::Ipv4, ResourceKind::Ipv6];

    /// The spelling used in the files (`"ipv4"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Asn => "asn",
            ResourceKind::Ipv4 => "ipv4",
            ResourceKind::Ipv6 => "ipv6",
        }
    }

    /// Parses the spelling used in the files; exact and lower case, as every registry writes it.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asn" => Some(ResourceKind::Asn),
            "ipv4" => Some(ResourceKind::Ipv4),
            "ipv6" => Some(ResourceKind::Ipv6),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status column of a record in an extended file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordStatus {
    Allocated,
    Assigned,
    Available,
    Reserved,
}

impl RecordStatus {
    /// The spelling used in the files (`"allocated"`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Allocated => "allocated",
            RecordStatus::Assigned => "assigned",
            RecordStatus::Available => "available",
            RecordStatus::Reserved => "reserved",
        }
    }

    /// Parses the spelling used in the files.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allocated" => Some(RecordStatus::Allocated),
            "assigned" => Some(RecordStatus::Assigned),
            "available" => Some(RecordStatus::Available),
            "reserved" => Some(RecordStatus::Reserved),
            _ => None,
        }
    }

    /// True for space a holder has (allocated or assigned), false for the registry's own pool.
    pub fn is_delegated(self) -> bool {
        matches!(self, RecordStatus::Allocated | RecordStatus::Assigned)
    }
}

impl fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The version line: `version|registry|serial|records|startdate|enddate|UTCoffset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedHeader {
    /// Format version as written (`"2"`, `"2.3"`).
    pub version: String,
    /// Registry token as written (`"ripencc"`; may be `"iana"`, which is not a [`super::Rir`]).
    pub registry: String,
    /// Serial as written: a date for most registries, epoch seconds (RIPE NCC) or epoch
    /// milliseconds (ARIN), so it is kept as text.
    pub serial: String,
    /// Declared number of records; see [`DelegatedTotals::mismatches`] for how it compares.
    pub records: u64,
    /// First record date; `None` when empty (APNIC) or `00000000` (AFRINIC).
    pub start_date: Option<Date>,
    /// Last record date; `None` when empty or `00000000`.
    pub end_date: Option<Date>,
    /// Offset as written (`"+1000"`, `"-0400"`, AFRINIC's `"00000"`).
    pub utc_offset: String,
}

/// A summary line: `registry|*|type|*|count|summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub resource: ResourceKind,
    /// Declared number of records of this kind.
    pub count: u64,
}

/// A record line: `registry|cc|type|start|value|date|status|opaque-id[|extensions...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedRecord {
    /// 1-based line number in the file, for messages that point back at the source.
    pub line: usize,
    /// Registry token as written (equal to the header's).
    pub registry: String,
    /// ISO 3166 code; `None` when empty. `ZZ` is kept as written: it means "no country" to the
    /// registries that use it, but the file said it.
    pub country: Option<String>,
    pub resource: ResourceKind,
    /// First ASN, first IPv4 address or first IPv6 address, as written.
    pub start: String,
    /// ASN count, IPv4 address count (not necessarily a power of two), or IPv6 prefix length.
    pub value: u64,
    /// Registration date; `None` when empty or `00000000`.
    pub date: Option<Date>,
    pub status: RecordStatus,
    /// Holder identifier, stable within one file only; `None` when empty or missing.
    pub opaque_id: Option<String>,
    /// Fields after the opaque-id (IANA writes the registry's token and the source there).
    pub extensions: Vec<String>,
    /// Computed once by the parser so that a bad address or count fails at its line.
    ipv4: Option<Ipv4Range>,
}

impl DelegatedRecord {
    /// The addresses of an `ipv4` record; `None` for ASN and IPv6 records.
    pub fn ipv4_range(&self) -> Option<Ipv4Range> {
        self.ipv4
    }
}

/// One meaningful line of a delegated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegatedLine {
    Header(DelegatedHeader),
    Summary(Summary),
    Record(DelegatedRecord),
}

/// Record counts per resource kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub asn: u64,
    pub ipv4: u64,
    pub ipv6: u64,
}

impl KindCounts {
    /// The count of one kind.
    pub fn get(&self, kind: ResourceKind) -> u64 {
        match kind {
            ResourceKind::Asn => self.asn,
            ResourceKind::Ipv4 => self.ipv4,
            ResourceKind::Ipv6 => self.ipv6,
        }
    }

    /// The sum over all kinds: what the version line's `records` should equal.
    pub fn total(&self) -> u64 {
        self.asn + self.ipv4 + self.ipv6
    }

    fn bump(&mut self, kind: ResourceKind) {
        match kind {
            ResourceKind::Asn => self.asn += 1,
            ResourceKind::Ipv4 => self.ipv4 += 1,
            ResourceKind::Ipv6 => self.ipv6 += 1,
        }
    }
}

/// A declared count that differs from what the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMismatch {
    /// The version line's `records` differs from the number of record lines.
    Records { declared: u64, counted: u64 },
    /// A summary line's count differs from the number of records of its kind; `declared` is
    /// `None` when the file has records of a kind but no summary line for it.
    Summary {
        resource: ResourceKind,
        declared: Option<u64>,
        counted: u64,
    },
}

impl fmt::Display for CountMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountMismatch::Records { declared, counted } => write!(
                f,
                "version line declares {declared} records, the file has {counted}"
            ),
            CountMismatch::Summary {
                resource,
                declared: Some(declared),
                counted,
            } => write!(
                f,
                "{resource} summary declares {declared} records, the file has {counted}"
            ),
            CountMismatch::Summary {
                resource,
                declared: None,
                counted,
            } => {
                write!(
                    f,
                    "no {resource} summary line, the file has {counted} {resource} records"
                )
            }
        }
    }
}

/// What a complete file declared and what it held, without the records themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedTotals {
    pub header: DelegatedHeader,
    /// Summary lines in file order.
    pub summaries: Vec<Summary>,
    /// Record lines actually seen, per kind.
    pub counted: KindCounts,
}

impl DelegatedTotals {
    /// The count declared by the summary line of a kind (the last one if repeated).
    pub fn declared(&self, kind: ResourceKind) -> Option<u64> {
        declared(&self.summaries, kind)
    }

    /// Every declared count that differs from the file's content; empty for a consistent file.
    pub fn mismatches(&self) -> Vec<CountMismatch> {
        mismatches(&self.header, &self.summaries, &self.counted)
    }
}

/// A whole parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedFile {
    pub header: DelegatedHeader,
    /// Summary lines in file order.
    pub summaries: Vec<Summary>,
    /// Record lines actually seen, per kind.
    pub counted: KindCounts,
    /// Records in file order (which registries do not sort).
    pub records: Vec<DelegatedRecord>,
}

impl DelegatedFile {
    /// The count declared by the summary line of a kind (the last one if repeated).
    pub fn declared(&self, kind: ResourceKind) -> Option<u64> {
        declared(&self.summaries, kind)
    }

    /// Every declared count that differs from the file's content; empty for a consistent file.
    pub fn mismatches(&self) -> Vec<CountMismatch> {
        mismatches(&self.header, &self.summaries, &self.counted)
    }

    /// The IPv4 records that are held by someone (allocated or assigned), with their ranges.
    pub fn delegated_ipv4(&self) -> impl Iterator<Item = (&DelegatedRecord, Ipv4Range)> {
        self.records
            .iter()
            .filter(|r| r.status.is_delegated())
            .filter_map(|r| r.ipv4_range().map(|range| (r, range)))
    }
}

fn declared(summaries: &[Summary], kind: ResourceKind) -> Option<u64> {
    summaries
        .iter()
        .rev()
        .find(|s| s.resource == kind)
        .map(|s| s.count)
}

fn mismatches(
    header: &DelegatedHeader,
    summaries: &[Summary],
    counted: &KindCounts,
) -> Vec<CountMismatch> {
    let mut out = Vec::new();
    if header.records != counted.total() {
        out.push(CountMismatch::Records {
            declared: header.records,
            counted: counted.total(),
        });
    }
    for kind in ResourceKind::ALL {
        let declared = declared(summaries, kind);
        let counted = counted.get(kind);
        // A kind with no records and no summary line is simply absent, not a mismatch.
        if declared != Some(counted) && !(declared.is_none() && counted == 0) {
            out.push(CountMismatch::Summary {
                resource: kind,
                declared,
                counted,
            });
        }
    }
    out
}

/// A line that cannot be parsed, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct DelegatedError {
    pub line: usize,
    pub kind: DelegatedErrorKind,
}

/// What is wrong with a line; every variant quotes the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DelegatedErrorKind {
    #[error("expected {expected} fields, found {found} in {text:?}")]
    FieldCount {
        expected: &'static str,
        found: usize,
        text: String,
    },
    #[error("{0:?} is not a resource type (asn, ipv4, ipv6)")]
    UnknownType(String),
    #[error("{0:?} is not a record status (allocated, assigned, available, reserved)")]
    UnknownStatus(String),
    #[error("{0:?} is not a date (yyyymmdd)")]
    BadDate(String),
    #[error("{0:?} is not a count")]
    BadCount(String),
    #[error("{0:?} is not an IPv4 address")]
    BadIpv4Address(String),
    #[error("{start:?} with count {count} is not an IPv4 range: {source}")]
    BadIpv4Range {
        start: String,
        count: u64,
        source: BlockError,
    },
    #[error("{0:?} is not an IPv6 address")]
    BadIpv6Address(String),
    #[error("{0:?} is not an IPv6 prefix length (0..=128)")]
    BadIpv6PrefixLength(String),
    #[error("{0:?} is not an AS number")]
    BadAsn(String),
    #[error("{0:?} comes before the version line")]
    BeforeHeader(String),
    #[error("{0:?} is a second version line")]
    DuplicateHeader(String),
    #[error("registry {found:?} differs from the version line's {expected:?}")]
    RegistryMismatch { found: String, expected: String },
    #[error("no version line in the file")]
    MissingHeader,
    #[error("the line is not UTF-8")]
    NotUtf8,
}

impl DelegatedErrorKind {
    fn at(self, line: usize) -> DelegatedError {
        DelegatedError { line, kind: self }
    }
}

/// Streaming parser: feed it lines in order, then call [`DelegatedParser::finish`].
#[derive(Debug, Clone, Default)]
pub struct DelegatedParser {
    header: Option<DelegatedHeader>,
    summaries: Vec<Summary>,
    counted: KindCounts,
    last_line: usize,
}

impl DelegatedParser {
    /// A parser that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The version line, once seen.
    pub fn header(&self) -> Option<&DelegatedHeader> {
        self.header.as_ref()
    }

    /// Parses one line (with or without its line terminator). Returns `None` for blank and
    /// comment lines. `line_no` is 1-based and only used in errors and records.
    pub fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
    ) -> Result<Option<DelegatedLine>, DelegatedError> {
        self.last_line = line_no;
        let line = line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Ok(None);
        }
        // At most 8 fixed fields plus extensions; a small Vec per line is far from the
        // bottleneck at 100k+ lines per second.
        let fields: Vec<&str> = line.split('|').collect();

        let Some(header) = &self.header else {
            if !looks_like_version(fields[0]) {
                return Err(DelegatedErrorKind::BeforeHeader(line.to_string()).at(line_no));
            }
            let header = parse_header(&fields, line).map_err(|k| k.at(line_no))?;
            self.header = Some(header.clone());
            return Ok(Some(DelegatedLine::Header(header)));
        };

        if looks_like_version(fields[0]) {
            return Err(DelegatedErrorKind::DuplicateHeader(line.to_string()).at(line_no));
        }
        if fields[0] != header.registry {
            return Err(DelegatedErrorKind::RegistryMismatch {
                found: fields[0].to_string(),
                expected: header.registry.clone(),
            }
            .at(line_no));
        }
        if fields.len() == 6 && fields[5] == "summary" {
            let summary = parse_summary(&fields).map_err(|k| k.at(line_no))?;
            self.summaries.push(summary);
            return Ok(Some(DelegatedLine::Summary(summary)));
        }
        let record = parse_record(line_no, &fields, line).map_err(|k| k.at(line_no))?;
        self.counted.bump(record.resource);
        Ok(Some(DelegatedLine::Record(record)))
    }

    /// Ends the file: fails only when no version line was seen.
    pub fn finish(self) -> Result<DelegatedTotals, DelegatedError> {
        let header = self
            .header
            .ok_or_else(|| DelegatedErrorKind::MissingHeader.at(self.last_line))?;
        Ok(DelegatedTotals {
            header,
            summaries: self.summaries,
            counted: self.counted,
        })
    }
}

/// Parses a whole delegated file held in memory.
pub fn parse_document(text: &str) -> Result<DelegatedFile, DelegatedError> {
    let mut parser = DelegatedParser::new();
    let mut records = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(DelegatedLine::Record(record)) = parser.push_line(index + 1, line)? {
            records.push(record);
        }
    }
    Ok(into_file(parser.finish()?, records))
}

/// Parses a whole delegated file given as bytes. Comment lines may hold any bytes (some
/// registries' legal headers are not UTF-8); any other line must be UTF-8.
pub fn parse_document_bytes(bytes: &[u8]) -> Result<DelegatedFile, DelegatedError> {
    let mut parser = DelegatedParser::new();
    let mut records = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (index, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line_no = index + 1;
        if raw.trim_ascii_start().starts_with(b"#") {
            parser.last_line = line_no;
            continue;
        }
        let line = std::str::from_utf8(raw).map_err(|_| DelegatedErrorKind::NotUtf8.at(line_no))?;
        if let Some(DelegatedLine::Record(record)) = parser.push_line(line_no, line)? {
            records.push(record);
        }
    }
    Ok(into_file(parser.finish()?, records))
}

fn into_file(totals: DelegatedTotals, records: Vec<DelegatedRecord>) -> DelegatedFile {
    DelegatedFile {
        header: totals.header,
        summaries: totals.summaries,
        counted: totals.counted,
        records,
    }
}

/// A version line starts with the format version (`2`, `2.3`); every other line starts with a
/// registry token, which never begins with a digit.
fn looks_like_version(first: &str) -> bool {
    first.starts_with(|c: char| c.is_ascii_digit())
}

fn parse_header(fields: &[&str], line: &str) -> Result<DelegatedHeader, DelegatedErrorKind> {
    if fields.len() != 7 {
        return Err(DelegatedErrorKind::FieldCount {
            expected: "7",
            found: fields.len(),
            text: line.to_string(),
        });
    }
    Ok(DelegatedHeader {
        version: fields[0].to_string(),
        registry: fields[1].to_string(),
        serial: fields[2].to_string(),
        records: parse_count(fields[3])?,
        start_date: parse_date(fields[4])?,
        end_date: parse_date(fields[5])?,
        utc_offset: fields[6].to_string(),
    })
}

fn parse_summary(fields: &[&str]) -> Result<Summary, DelegatedErrorKind> {
    let resource = parse_kind(fields[2])?;
    let count = parse_count(fields[4])?;
    Ok(Summary { resource, count })
}

fn parse_record(
    line_no: usize,
    fields: &[&str],
    line: &str,
) -> Result<DelegatedRecord, DelegatedErrorKind> {
    if fields.len() < 7 {
        return Err(DelegatedErrorKind::FieldCount {
            expected: "at least 7",
            found: fields.len(),
            text: line.to_string(),
        });
    }
    let resource = parse_kind(fields[2])?;
    let start = fields[3];
    let value = parse_count(fields[4])?;
    let ipv4 = match resource {
        ResourceKind::Ipv4 => {
            let addr: Ipv4Addr = start
                .parse()
                .map_err(|_| DelegatedErrorKind::BadIpv4Address(start.to_string()))?;
            let range = Ipv4Range::from_start_count(addr, value).map_err(|source| {
                DelegatedErrorKind::BadIpv4Range {
                    start: start.to_string(),
                    count: value,
                    source,
                }
            })?;
            Some(range)
        }
        ResourceKind::Ipv6 => {
            start
                .parse::<Ipv6Addr>()
                .map_err(|_| DelegatedErrorKind::BadIpv6Address(start.to_string()))?;
            if value > 128 {
                return Err(DelegatedErrorKind::BadIpv6PrefixLength(
                    fields[4].to_string(),
                ));
            }
            None
        }
        ResourceKind::Asn => {
            start
                .parse::<u32>()
                .map_err(|_| DelegatedErrorKind::BadAsn(start.to_string()))?;
            None
        }
    };
    let date = parse_date(fields[5])?;
    let status = RecordStatus::parse(fields[6])
        .ok_or_else(|| DelegatedErrorKind::UnknownStatus(fields[6].to_string()))?;
    let opaque_id = fields
        .get(7)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string());
    let extensions = fields
        .get(8..)
        .unwrap_or(&[])
        .iter()
        .map(|s| s.to_string())
        .collect();
    Ok(DelegatedRecord {
        line: line_no,
        registry: fields[0].to_string(),
        country: (!fields[1].is_empty()).then(|| fields[1].to_string()),
        resource,
        start: start.to_string(),
        value,
        date,
        status,
        opaque_id,
        extensions,
        ipv4,
    })
}

fn parse_kind(s: &str) -> Result<ResourceKind, DelegatedErrorKind> {
    ResourceKind::parse(s).ok_or_else(|| DelegatedErrorKind::UnknownType(s.to_string()))
}

fn parse_count(s: &str) -> Result<u64, DelegatedErrorKind> {
    // `u64::from_str` accepts a leading `+`, which no registry writes.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DelegatedErrorKind::BadCount(s.to_string()));
    }
    s.parse()
        .map_err(|_| DelegatedErrorKind::BadCount(s.to_string()))
}

/// `yyyymmdd`; empty and `00000000` mean "no date" (APNIC, AFRINIC, ARIN's oldest records).
fn parse_date(s: &str) -> Result<Option<Date>, DelegatedErrorKind> {
    if s.is_empty() || s == "00000000" {
        return Ok(None);
    }
    let bad = || DelegatedErrorKind::BadDate(s.to_string());
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let year: i32 = s[0..4].parse().map_err(|_| bad())?;
    let month: u8 = s[4..6].parse().map_err(|_| bad())?;
    let day: u8 = s[6..8].parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day)
        .map(Some)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn excerpt(registry: &str) -> DelegatedFile {
        let text = fixture(&format!(
            "excerpts-2019/delegated-{registry}-extended-2019-excerpt"
        ));
        parse_document(&text).unwrap_or_else(|e| panic!("{registry}: {e}"))
    }

    /// Parses `header` followed by `line` and returns the error the second line raises.
    fn error_of(line: &str) -> DelegatedError {
        let text = format!("2.3|apnic|20190909|1||20190906|+1000\n{line}\n");
        parse_document(&text).unwrap_err()
    }

    fn delegated_ipv4_totals(file: &DelegatedFile) -> (usize, u64) {
        file.delegated_ipv4()
            .fold((0, 0), |(n, sum), (_, range)| (n + 1, sum + range.size()))
    }

    #[test]
    fn every_2019_excerpt_parses_with_its_header_quirks() {
        let afrinic = excerpt("afrinic");
        assert_eq!(afrinic.header.version, "2");
        assert_eq!(afrinic.header.start_date, None, "00000000 start date");
        assert_eq!(afrinic.header.end_date, Some(date!(2019 - 09 - 09)));
        assert_eq!(afrinic.header.utc_offset, "00000");

        let apnic = excerpt("apnic");
        assert_eq!(apnic.header.start_date, None, "empty start date");
        assert_eq!(apnic.header.utc_offset, "+1000");

        let arin = excerpt("arin");
        assert_eq!(arin.header.serial, "1567951216119", "epoch milliseconds");
        assert_eq!(arin.header.start_date, Some(date!(1970 - 01 - 01)));
        let asn3 = arin.records.iter().find(|r| r.start == "3").unwrap();
        assert_eq!(asn3.date, None, "00000000 record date");
        assert_eq!(
            asn3.opaque_id.as_deref(),
            Some("d98c567cda2db06e693f2b574eafe848")
        );

        let lacnic = excerpt("lacnic");
        let short = lacnic
            .records
            .iter()
            .find(|r| r.status == RecordStatus::Available)
            .unwrap();
        assert_eq!(
            (short.opaque_id.as_deref(), short.country.as_deref()),
            (None, None)
        );
        assert_eq!(short.date, None);

        let ripe = excerpt("ripencc");
        assert_eq!(ripe.header.serial, "1567979999");
        assert!(
            ripe.records
                .iter()
                .all(|r| r.opaque_id.as_ref().is_some_and(|id| id.len() == 36))
        );

        let iana = excerpt("iana");
        assert_eq!(iana.header.registry, "iana");
        assert_eq!(iana.header.records, 18);
        // The excerpt kept IANA's declared counts but holds two more ASN lines.
        assert_eq!(
            iana.mismatches(),
            vec![
                CountMismatch::Records {
                    declared: 18,
                    counted: 20
                },
                CountMismatch::Summary {
                    resource: ResourceKind::Asn,
                    declared: Some(6),
                    counted: 8
                },
            ]
        );
        let apnic_8 = iana.records.iter().find(|r| r.start == "1.0.0.0").unwrap();
        assert_eq!(apnic_8.country.as_deref(), Some("ZZ"));
        assert_eq!(apnic_8.opaque_id.as_deref(), Some("apnic"));
        assert_eq!(apnic_8.extensions, vec!["iana".to_string()]);
        assert_eq!(apnic_8.ipv4_range().unwrap().size(), 1 << 24);
        assert_eq!(apnic_8.line, 43, "line numbers count the comment header");
    }

    #[test]
    fn excerpts_hold_300_records_whatever_their_version_line_says() {
        for registry in ["afrinic", "apnic", "arin", "lacnic", "ripencc"] {
            let file = excerpt(registry);
            assert_eq!(file.records.len(), 300, "{registry}");
            assert_eq!(
                file.counted,
                KindCounts {
                    asn: 100,
                    ipv4: 100,
                    ipv6: 100
                },
                "{registry}"
            );
            for kind in ResourceKind::ALL {
                assert_eq!(file.declared(kind), Some(100), "{registry} {kind}");
            }
        }
        // AFRINIC's excerpt copied the per-kind count into the version line.
        assert_eq!(
            excerpt("afrinic").mismatches(),
            vec![CountMismatch::Records {
                declared: 100,
                counted: 300
            }]
        );
        assert!(excerpt("apnic").mismatches().is_empty());
        assert_eq!(
            CountMismatch::Records {
                declared: 100,
                counted: 300
            }
            .to_string(),
            "version line declares 100 records, the file has 300"
        );
    }

    #[test]
    fn afrinic_2026_full_file() {
        let file = parse_document(&fixture("delegated-afrinic-extended-20260505")).unwrap();
        assert_eq!(file.header.registry, "afrinic");
        assert_eq!(file.header.records, 19_286);
        assert_eq!(
            file.counted,
            KindCounts {
                asn: 4350,
                ipv4: 5958,
                ipv6: 8978
            }
        );
        assert!(file.mismatches().is_empty(), "{:?}", file.mismatches());
        assert_eq!(delegated_ipv4_totals(&file), (5397, 116_046_848));
        assert!(
            file.records
                .iter()
                .any(|r| r.country.as_deref() == Some("ZZ"))
        );
    }

    #[test]
    fn lacnic_2023_full_file() {
        let file = parse_document(&fixture("delegated-lacnic-extended-20230323")).unwrap();
        assert_eq!(file.header.records, 86_237);
        assert_eq!(
            file.counted,
            KindCounts {
                asn: 14_121,
                ipv4: 19_618,
                ipv6: 52_498
            }
        );
        assert!(file.mismatches().is_empty(), "{:?}", file.mismatches());
        assert_eq!(delegated_ipv4_totals(&file), (19_089, 189_935_872));
    }

    #[test]
    fn bytes_and_text_agree_and_crlf_is_accepted() {
        let text = fixture("excerpts-2019/delegated-iana-extended-2019-excerpt");
        let from_text = parse_document(&text).unwrap();
        assert_eq!(parse_document_bytes(text.as_bytes()).unwrap(), from_text);
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(parse_document(&crlf).unwrap(), from_text);
        assert_eq!(parse_document_bytes(crlf.as_bytes()).unwrap(), from_text);

        let mut latin1 = b"# \xa9 registry\n".to_vec();
        latin1.extend_from_slice(b"2|afrinic|1|0|00000000|20190909|00000\n");
        assert!(
            parse_document_bytes(&latin1).is_ok(),
            "non-UTF-8 comment is skipped"
        );
        latin1.extend_from_slice(b"afrinic|Z\xff|asn|1|1||available|\n");
        let err = parse_document_bytes(&latin1).unwrap_err();
        assert_eq!(err.to_string(), "line 3: the line is not UTF-8");
    }

    #[test]
    fn streaming_returns_each_kind_of_line() {
        let mut parser = DelegatedParser::new();
        assert_eq!(parser.push_line(1, "# comment").unwrap(), None);
        assert_eq!(parser.push_line(2, "").unwrap(), None);
        let header = parser.push_line(3, "2|ripencc|1567979999|1|19830705|20190908|+0200");
        assert!(matches!(header, Ok(Some(DelegatedLine::Header(_)))));
        assert_eq!(
            parser.push_line(4, "ripencc|*|ipv4|*|1|summary").unwrap(),
            Some(DelegatedLine::Summary(Summary {
                resource: ResourceKind::Ipv4,
                count: 1
            }))
        );
        assert_eq!(parser.push_line(5, "   ").unwrap(), None);
        let Some(DelegatedLine::Record(record)) = parser
            .push_line(
                6,
                "ripencc|PS|ipv4|1.178.112.0|768|20071126|allocated|x-1|e1|e2\r\n",
            )
            .unwrap()
        else {
            panic!("expected a record");
        };
        assert_eq!(record.line, 6);
        assert_eq!(record.date, Some(date!(2007 - 11 - 26)));
        assert_eq!(record.extensions, vec!["e1".to_string(), "e2".to_string()]);
        let range = record.ipv4_range().unwrap();
        assert_eq!(range.size(), 768, "non-CIDR counts are kept whole");
        assert_eq!(parser.header().unwrap().registry, "ripencc");
        let totals = parser.finish().unwrap();
        assert_eq!(
            totals.counted,
            KindCounts {
                asn: 0,
                ipv4: 1,
                ipv6: 0
            }
        );
        assert!(totals.mismatches().is_empty());
        assert_eq!(totals.declared(ResourceKind::Ipv4), Some(1));
    }

    #[test]
    fn missing_summary_is_reported_not_failed() {
        let file = parse_document(
            "2|arin|1|2|19700101|20190908|-0400\narin||asn|212|1||reserved|\narin|US|asn|3|1|00000000|assigned|abc\n",
        )
        .unwrap();
        let mismatches = file.mismatches();
        assert_eq!(
            mismatches,
            vec![CountMismatch::Summary {
                resource: ResourceKind::Asn,
                declared: None,
                counted: 2
            }]
        );
        assert_eq!(
            mismatches[0].to_string(),
            "no asn summary line, the file has 2 asn records"
        );
        // ARIN's reserved line ends with an empty opaque-id field.
        assert_eq!(file.records[0].opaque_id, None);
        assert_eq!(file.records[0].country, None);
    }

    #[test]
    fn malformed_lines_name_their_line_and_field() {
        let cases = [
            (
                "apnic|AU|ipv4|1.0.0.0|256",
                r#"line 2: expected at least 7 fields, found 5 in "apnic|AU|ipv4|1.0.0.0|256""#,
            ),
            (
                "apnic|AU|ipv5|1.0.0.0|256|20110811|assigned|A91872ED",
                r#"line 2: "ipv5" is not a resource type (asn, ipv4, ipv6)"#,
            ),
            (
                "apnic|AU|ipv4|1.0.0.0|256|20110811|returned|A91872ED",
                r#"line 2: "returned" is not a record status (allocated, assigned, available, reserved)"#,
            ),
            (
                "apnic|AU|ipv4|1.0.0.0|256|20111311|assigned|A91872ED",
                r#"line 2: "20111311" is not a date (yyyymmdd)"#,
            ),
            (
                "apnic|AU|ipv4|1.0.0.0|2011-08-11|20110811|assigned|A91872ED",
                r#"line 2: "2011-08-11" is not a count"#,
            ),
            (
                "apnic|AU|ipv4|1.2.3.x|256|20110811|assigned|A91872ED",
                r#"line 2: "1.2.3.x" is not an IPv4 address"#,
            ),
            (
                "apnic|AU|ipv6|2001:db8::g|32|20110811|assigned|A91872ED",
                r#"line 2: "2001:db8::g" is not an IPv6 address"#,
            ),
            (
                "apnic|AU|ipv6|2001:db8::|129|20110811|assigned|A91872ED",
                r#"line 2: "129" is not an IPv6 prefix length (0..=128)"#,
            ),
            (
                "apnic|AU|asn|AS64496|1|20110811|assigned|A91872ED",
                r#"line 2: "AS64496" is not an AS number"#,
            ),
            (
                "ripencc|PS|ipv4|1.178.112.0|4096|20071126|allocated|922dc514",
                r#"line 2: registry "ripencc" differs from the version line's "apnic""#,
            ),
            (
                "2.3|apnic|20190910|1||20190906|+1000",
                r#"line 2: "2.3|apnic|20190910|1||20190906|+1000" is a second version line"#,
            ),
            (
                "apnic|*|ipv7|*|1|summary",
                r#"line 2: "ipv7" is not a resource type (asn, ipv4, ipv6)"#,
            ),
            (
                "apnic|*|ipv4|*|-1|summary",
                r#"line 2: "-1" is not a count"#,
            ),
        ];
        for (line, message) in cases {
            let err = error_of(line);
            assert_eq!(err.line, 2, "{line}");
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn ipv4_range_errors_come_from_the_block_type() {
        for line in [
            "apnic|AU|ipv4|255.255.255.0|512|20110811|assigned|A91872ED",
            "apnic|AU|ipv4|1.0.0.0|0|20110811|assigned|A91872ED",
        ] {
            let err = error_of(line);
            assert_eq!(err.line, 2);
            assert!(
                matches!(err.kind, DelegatedErrorKind::BadIpv4Range { .. }),
                "{err}"
            );
        }
        let err = error_of("apnic|AU|ipv4|255.255.255.0|512|20110811|assigned|A91872ED");
        assert!(
            err.to_string()
                .starts_with(r#"line 2: "255.255.255.0" with count 512 is not an IPv4 range: "#)
        );
    }

    #[test]
    fn header_errors() {
        let err =
            parse_document("# legal text\napnic|AU|asn|173|1|20020801|allocated|A\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"line 2: "apnic|AU|asn|173|1|20020801|allocated|A" comes before the version line"#
        );
        let err = parse_document("2.3|apnic|20190909|300||20190906\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"line 1: expected 7 fields, found 6 in "2.3|apnic|20190909|300||20190906""#
        );
        let err = parse_document("2.3|apnic|20190909|3x0||20190906|+1000\n").unwrap_err();
        assert_eq!(err.to_string(), r#"line 1: "3x0" is not a count"#);
        let err = parse_document("2.3|apnic|20190909|300|2019|20190906|+1000\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"line 1: "2019" is not a date (yyyymmdd)"#
        );
        let err = parse_document("# only\n# comments\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: no version line in the file");
    }
}
