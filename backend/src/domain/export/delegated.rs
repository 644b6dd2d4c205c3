//! A delegated-extended snapshot of one registry's current holdings (registry-reference section
//! 8): the version line, the IPv4 summary line, then one record per holding and per inventory
//! block. Record counts go in the header, so the caller counts first and streams the rows after.

use std::io::{self, Write};

use time::{Date, OffsetDateTime};

use crate::domain::delegated::RecordStatus;
use crate::domain::{Ipv4Range, Rir};

/// What the version line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub registry: Rir,
    pub produced_at: OffsetDateTime,
    /// Records that follow (holdings plus inventory).
    pub records: u64,
    /// Earliest record date, if any record is dated.
    pub start_date: Option<Date>,
}

/// One record line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRecord {
    /// ISO 3166 alpha-2; `None` writes an empty field (available and reserved space).
    pub country: Option<String>,
    pub range: Ipv4Range,
    pub date: Option<Date>,
    pub status: RecordStatus,
    /// The holder's handle; `None` for available and reserved space.
    pub opaque_id: Option<String>,
}

fn yyyymmdd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Writes the version line and the IPv4 summary line.
pub fn write_header(out: &mut impl Write, h: &SnapshotHeader) -> io::Result<()> {
    let token = h.registry.token();
    let today = yyyymmdd(h.produced_at.date());
    writeln!(
        out,
        "2.3|{token}|{today}|{}|{}|{today}|+0000",
        h.records,
        h.start_date.map_or_else(|| "00000000".to_owned(), yyyymmdd)
    )?;
    writeln!(out, "{token}|*|ipv4|*|{}|summary", h.records)
}

/// Writes one record line.
pub fn write_record(out: &mut impl Write, registry: Rir, r: &SnapshotRecord) -> io::Result<()> {
    writeln!(
        out,
        "{}|{}|ipv4|{}|{}|{}|{}|{}",
        registry.token(),
        r.country.as_deref().unwrap_or_default(),
        r.range.first(),
        r.range.size(),
        r.date.map(yyyymmdd).unwrap_or_default(),
        r.status.as_str(),
        r.opaque_id.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::delegated::parse_document;
    use time::macros::{date, datetime};

    #[test]
    fn the_snapshot_parses_back_with_the_delegated_parser() {
        let records = [
            SnapshotRecord {
                country: Some("NL".into()),
                range: "193.0.0.0/22".parse().unwrap(),
                date: Some(date!(2010 - 01 - 01)),
                status: RecordStatus::Allocated,
                opaque_id: Some("ripe-holder".into()),
            },
            SnapshotRecord {
                country: Some("NL".into()),
                // 768 addresses: not one CIDR, as delegated files allow.
                range: "20.0.9.0 - 20.0.11.255".parse().unwrap(),
                date: Some(date!(2026 - 11 - 28)),
                status: RecordStatus::Assigned,
                opaque_id: Some("ripe-holder".into()),
            },
            SnapshotRecord {
                country: None,
                range: "185.0.0.0/16".parse().unwrap(),
                date: None,
                status: RecordStatus::Available,
                opaque_id: None,
            },
        ];
        let mut out = Vec::new();
        write_header(
            &mut out,
            &SnapshotHeader {
                registry: Rir::RipeNcc,
                produced_at: datetime!(2026-11-29 10:00 UTC),
                records: records.len() as u64,
                start_date: Some(date!(2010 - 01 - 01)),
            },
        )
        .unwrap();
        for r in &records {
            write_record(&mut out, Rir::RipeNcc, r).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().take(3).collect::<Vec<_>>(),
            [
                "2.3|ripencc|20261129|3|20100101|20261129|+0000",
                "ripencc|*|ipv4|*|3|summary",
                "ripencc|NL|ipv4|193.0.0.0|1024|20100101|allocated|ripe-holder",
            ]
        );
        let file = parse_document(&text).unwrap();
        assert!(file.mismatches().is_empty(), "{:?}", file.mismatches());
        assert_eq!(file.header.registry, "ripencc");
        let back: Vec<SnapshotRecord> = file
            .records
            .iter()
            .map(|r| SnapshotRecord {
                country: r.country.clone(),
                range: r.ipv4_range().unwrap(),
                date: r.date,
                status: r.status,
                opaque_id: r.opaque_id.clone(),
            })
            .collect();
        assert_eq!(back, records);
    }
}
