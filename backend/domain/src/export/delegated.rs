//! A delegated-extended snapshot of one registry's current holdings (registry-reference section
//! 8): the version line, the IPv4 summary line, then one record per holding and per inventory
//! block. Record counts go in the header, so the caller counts first and streams the rows after.
//!
//! Each registry's own way of writing its file is kept where ipxfer knows it: ARIN dates old
//! records `00000000` (ipxfer reads that as "no date" and writes it back so), AFRINIC gives
//! available and reserved space the country `ZZ` and starts its version line at `00000000`,
//! APNIC leaves that start date empty, LACNIC ends its `available` lines after the status (no
//! opaque-id field), and the version line's format version, serial and UTC offset are the ones
//! of the registry's imported file (see [`SnapshotHeader`]).

use std::io::{self, Write};

use time::{Date, OffsetDateTime};

use crate::delegated::RecordStatus;
use crate::{Ipv4Range, Rir};

/// What the version line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub registry: Rir,
    pub produced_at: OffsetDateTime,
    /// Records that follow (holdings plus inventory).
    pub records: u64,
    /// Earliest record date, if any record is dated.
    pub start_date: Option<Date>,
    /// The version line as the registry's own file had it, where ipxfer imported one.
    pub registry_file: Option<RegistryFile>,
}

/// What the version line of a registry's imported file said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFile {
    /// `2.3`, or `2` (AFRINIC, RIPE NCC).
    pub format_version: String,
    /// The file's serial; written back only while the snapshot is unchanged since it was
    /// imported (no ipxfer transfer moved this registry's space).
    pub serial: Option<String>,
    /// As written: `-0400`, AFRINIC's `00000`.
    pub utc_offset: String,
}

/// A serial in the registry's own form for a file produced at `t`: epoch milliseconds (ARIN),
/// epoch seconds (RIPE NCC), the date elsewhere.
pub fn serial_for(registry: Rir, t: OffsetDateTime) -> String {
    match registry {
        Rir::Arin => (t.unix_timestamp_nanos() / 1_000_000).to_string(),
        Rir::RipeNcc => t.unix_timestamp().to_string(),
        _ => yyyymmdd(t.date()),
    }
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
    let file = h.registry_file.as_ref();
    let version = file.map_or("2.3", |f| f.format_version.as_str());
    let serial = file
        .and_then(|f| f.serial.clone())
        .unwrap_or_else(|| serial_for(h.registry, h.produced_at));
    let offset = file.map_or("+0000", |f| f.utc_offset.as_str());
    let start = match h.registry {
        Rir::Afrinic => "00000000".to_owned(),
        Rir::Apnic => String::new(),
        _ => h.start_date.map_or_else(|| "00000000".to_owned(), yyyymmdd),
    };
    writeln!(
        out,
        "{version}|{token}|{serial}|{}|{start}|{today}|{offset}",
        h.records
    )?;
    writeln!(out, "{token}|*|ipv4|*|{}|summary", h.records)
}

/// Writes one record line, as `registry` writes its own.
pub fn write_record(out: &mut impl Write, registry: Rir, r: &SnapshotRecord) -> io::Result<()> {
    let inventory = !r.status.is_delegated();
    let country = match (registry, inventory) {
        (Rir::Afrinic, true) => "ZZ",
        _ => r.country.as_deref().unwrap_or_default(),
    };
    let date = match (r.date, registry, inventory) {
        (Some(d), _, _) => yyyymmdd(d),
        // ARIN dates its oldest records 00000000; ipxfer reads that as no date.
        (None, Rir::Arin, false) => "00000000".to_owned(),
        (None, _, _) => String::new(),
    };
    write!(
        out,
        "{}|{country}|ipv4|{}|{}|{date}|{}",
        registry.token(),
        r.range.first(),
        r.range.size(),
        r.status.as_str(),
    )?;
    if registry == Rir::Lacnic && r.status == RecordStatus::Available {
        // LACNIC's available lines have seven fields.
        return writeln!(out);
    }
    writeln!(out, "|{}", r.opaque_id.as_deref().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegated::parse_document;
    use time::macros::{date, datetime};

    #[test]
    fn each_registry_writes_its_lines_as_it_does_itself() {
        let line = |registry: Rir, r: SnapshotRecord| {
            let mut out = Vec::new();
            write_record(&mut out, registry, &r).unwrap();
            String::from_utf8(out).unwrap()
        };
        let undated = |status, opaque_id: Option<&str>| SnapshotRecord {
            country: opaque_id.map(|_| "US".to_owned()),
            range: "23.0.0.0/24".parse().unwrap(),
            date: None,
            status,
            opaque_id: opaque_id.map(str::to_owned),
        };
        assert_eq!(
            line(Rir::Arin, undated(RecordStatus::Assigned, Some("h1"))),
            "arin|US|ipv4|23.0.0.0|256|00000000|assigned|h1\n"
        );
        assert_eq!(
            line(Rir::Arin, undated(RecordStatus::Available, None)),
            "arin||ipv4|23.0.0.0|256||available|\n"
        );
        assert_eq!(
            line(Rir::Afrinic, undated(RecordStatus::Reserved, None)),
            "afrinic|ZZ|ipv4|23.0.0.0|256||reserved|\n"
        );
        assert_eq!(
            line(Rir::Lacnic, undated(RecordStatus::Available, None)),
            "lacnic||ipv4|23.0.0.0|256||available\n"
        );
        assert_eq!(
            line(Rir::Lacnic, undated(RecordStatus::Reserved, None)),
            "lacnic||ipv4|23.0.0.0|256||reserved|\n"
        );
        let header = |registry, registry_file| {
            let mut out = Vec::new();
            write_header(
                &mut out,
                &SnapshotHeader {
                    registry,
                    produced_at: datetime!(2026-11-29 10:00 UTC),
                    records: 1,
                    start_date: Some(date!(1984 - 01 - 01)),
                    registry_file,
                },
            )
            .unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            header(Rir::Arin, None),
            "2.3|arin|1795946400000|1|19840101|20261129|+0000"
        );
        let afrinic = RegistryFile {
            format_version: "2".into(),
            serial: Some("20260505".into()),
            utc_offset: "00000".into(),
        };
        assert_eq!(
            header(Rir::Afrinic, Some(afrinic)),
            "2|afrinic|20260505|1|00000000|20261129|00000"
        );
        let arin = RegistryFile {
            format_version: "2.3".into(),
            serial: None,
            utc_offset: "-0400".into(),
        };
        assert_eq!(
            header(Rir::Arin, Some(arin)),
            "2.3|arin|1795946400000|1|19840101|20261129|-0400"
        );
    }

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
                registry_file: None,
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
                "2.3|ripencc|1795946400|3|20100101|20261129|+0000",
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
