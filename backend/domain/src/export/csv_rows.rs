//! CSV with one row per moved range (one per ledger entry), for spreadsheets and scripts. The
//! header names the columns; addresses are dotted quads with the count and CIDRs beside them.
//! Every cell is quoted, and one that a spreadsheet would run as a formula (an organisation named
//! `=HYPERLINK(...)`) starts with `'` ([`super::spreadsheet`]).

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use super::spreadsheet::{SafeWriter, Staging};
use super::utc;
use crate::Ipv4Range;
use crate::ledger::LedgerEntry;
use crate::transfer::OrgId;

/// One row of the CSV export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvRow {
    pub seq: i64,
    pub kind: String,
    pub transfer_reference: Option<String>,
    pub transfer_type: String,
    pub source_rir: String,
    pub recipient_rir: String,
    pub source_org_id: Option<OrgId>,
    pub source_org: Option<String>,
    pub source_country: Option<String>,
    pub recipient_org_id: Option<OrgId>,
    pub recipient_org: Option<String>,
    pub recipient_country: Option<String>,
    pub start_address: String,
    pub end_address: String,
    pub addresses: u64,
    /// The CIDR prefixes covering the range, separated by spaces.
    pub cidrs: String,
    pub original_block: Option<String>,
    pub transfer_date: String,
    pub source_registration_date: Option<String>,
    pub recorded_at: String,
    pub hash: String,
}

impl CsvRow {
    pub fn of(e: &LedgerEntry) -> Self {
        let m = &e.movement;
        CsvRow {
            seq: e.seq,
            kind: m.kind.as_str().to_owned(),
            transfer_reference: m.transfer_reference.clone(),
            transfer_type: m.transfer_type.nro_name().to_owned(),
            source_rir: m.source_rir.nro_name().to_owned(),
            recipient_rir: m.recipient_rir.nro_name().to_owned(),
            source_org_id: m.source.org_id,
            source_org: m.source.name.clone(),
            source_country: m.source.country.clone(),
            recipient_org_id: m.recipient.org_id,
            recipient_org: m.recipient.name.clone(),
            recipient_country: m.recipient.country.clone(),
            start_address: m.range.first().to_string(),
            end_address: m.range.last().to_string(),
            addresses: m.range.size(),
            cidrs: super::cidr_list(&m.range, " "),
            original_block: m.original.map(|r| r.to_string()),
            transfer_date: utc(m.transfer_date),
            source_registration_date: m.source_registration_date.map(utc),
            recorded_at: utc(e.recorded_at),
            hash: e.hash.clone(),
        }
    }

    /// The moved range, read back from the two address columns.
    pub fn range(&self) -> Result<Ipv4Range, String> {
        format!("{} - {}", self.start_address, self.end_address)
            .parse()
            .map_err(|e| format!("row {}: {e}", self.seq))
    }
}

/// Writes the CSV export one row at a time into a staging buffer that the export hands on to
/// its sink between rows ([`CsvWriter::hand_on`]).
pub struct CsvWriter {
    w: SafeWriter<Staging>,
    buffer: Staging,
    rows: u64,
}

impl CsvWriter {
    /// The header row is written with the first row (or by [`CsvWriter::finish`] when empty).
    pub fn new() -> Self {
        let buffer = Staging::default();
        CsvWriter {
            w: SafeWriter::new(buffer.clone()),
            buffer,
            rows: 0,
        }
    }

    pub fn push(&mut self, e: &LedgerEntry) -> io::Result<()> {
        if self.rows == 0 {
            self.w.write_row(&HEADER).map_err(io::Error::other)?;
        }
        self.w.write_row(&CsvRow::of(e)).map_err(io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the rows pushed so far to `sink`.
    pub fn hand_on(&mut self, sink: &mut impl Write) -> io::Result<()> {
        self.w.flush()?;
        let mut staged = self.buffer.staged();
        sink.write_all(&staged)?;
        staged.clear();
        Ok(())
    }

    /// The rest of the CSV (the header alone when no row was pushed).
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        if self.rows == 0 {
            self.w.write_row(&HEADER).map_err(io::Error::other)?;
        }
        let mut rest = Vec::new();
        self.hand_on(&mut rest)?;
        Ok(rest)
    }
}

impl Default for CsvWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// The column names, in order (written alone when there are no rows).
pub const HEADER: [&str; 21] = [
    "seq",
    "kind",
    "transfer_reference",
    "transfer_type",
    "source_rir",
    "recipient_rir",
    "source_org_id",
    "source_org",
    "source_country",
    "recipient_org_id",
    "recipient_org",
    "recipient_country",
    "start_address",
    "end_address",
    "addresses",
    "cidrs",
    "original_block",
    "transfer_date",
    "source_registration_date",
    "recorded_at",
    "hash",
];

/// Reads a CSV export back, row by row (cells as written: one that would start a formula keeps
/// its leading `'`).
pub fn read(input: impl Read) -> impl Iterator<Item = Result<CsvRow, String>> {
    csv::Reader::from_reader(input)
        .into_deserialize()
        .map(|r| r.map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample_chain;

    #[test]
    fn rows_read_back_as_the_same_ranges() {
        let chain = sample_chain();
        let mut w = CsvWriter::new();
        for e in &chain {
            w.push(e).unwrap();
        }
        let bytes = w.finish().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let quoted = |cells: &[&str]| format!("\"{}\"", cells.join("\",\""));
        assert!(text.starts_with(&quoted(&HEADER)), "{text}");
        assert!(
            text.contains(&quoted(&[
                "20.0.9.0",
                "20.0.11.255",
                "768",
                "20.0.9.0/24 20.0.10.0/23"
            ])),
            "{text}"
        );
        let rows: Vec<CsvRow> = read(bytes.as_slice()).collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len(), chain.len());
        for (row, e) in rows.iter().zip(&chain) {
            assert_eq!(row, &CsvRow::of(e));
            assert_eq!(row.range().unwrap(), e.movement.range);
        }
    }

    #[test]
    fn an_empty_export_still_has_its_header() {
        let bytes = CsvWriter::new().finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!("\"{}\"\n", HEADER.join("\",\""))
        );
    }
}
