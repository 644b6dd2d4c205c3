//! Holding origins as hostmasters record them: the spelling people and files use, and the bulk
//! file `ipxfer import origins` reads (CSV, one `range,origin` per line).
//!
//! Delegated statistics files do not say how a holder came by its space, so every imported
//! holding starts as registry-issued; the origin-based rules (ARIN's waiting-list restriction,
//! AFRINIC's outbound-origin rule) and the hold on legacy space only see the truth once a
//! hostmaster records it. Reading the file is pure: the service matches each range to a holding.

use super::Ipv4Range;
use super::transfer::HoldingOrigin;

/// The origins a hostmaster may record, with their labels, in the order forms offer them.
/// (`merger_acquisition` is set by the workflow when a merger moves space, not by hand.)
pub const RECORDABLE: [(HoldingOrigin, &str); 4] = [
    (HoldingOrigin::Legacy, "Legacy (issued before the registry)"),
    (HoldingOrigin::WaitingList, "Waiting list"),
    (HoldingOrigin::RegistryIssued, "Registry issued"),
    (HoldingOrigin::Transferred, "Transferred in"),
];

/// Parses an origin as written in a form or file: the stored spelling (`waiting_list`) or the
/// words (`waiting list`, `transferred in`), any case.
pub fn parse_recordable(text: &str) -> Option<HoldingOrigin> {
    let words = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let origin = match words.as_str() {
        "transferred_in" => HoldingOrigin::Transferred,
        other => HoldingOrigin::parse(other)?,
    };
    RECORDABLE
        .iter()
        .any(|(o, _)| *o == origin)
        .then_some(origin)
}

/// One line of an origins file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginLine {
    /// 1-based line number in the file.
    pub line: usize,
    pub range: Ipv4Range,
    pub origin: HoldingOrigin,
}

/// Reads an origins file: CSV with two columns, a range (`198.51.100.0/22` or
/// `198.51.100.0 - 198.51.103.255`) and an origin; an optional header line `range,origin`;
/// blank lines and lines starting with `#` are skipped. Every bad line is reported with its
/// number, and a range listed twice is an error.
///
/// # Errors
/// One message per bad line, in file order.
pub fn parse_origins_csv(text: &str) -> Result<Vec<OriginLine>, Vec<String>> {
    let mut lines: Vec<OriginLine> = Vec::new();
    let mut errors = Vec::new();
    let mut first = true;
    // Line by line, so that numbers count blank and comment lines too; each line is one CSV
    // record (quoted fields allowed, no field spans lines).
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let header_allowed = std::mem::replace(&mut first, false);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(raw.as_bytes());
        let record = match reader.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                errors.push(format!("line {line}: not readable as CSV: {e}"));
                continue;
            }
            None => continue,
        };
        let fields: Vec<&str> = record.iter().collect();
        if header_allowed
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case("range"))
            && fields
                .get(1)
                .is_some_and(|f| f.eq_ignore_ascii_case("origin"))
        {
            continue;
        }
        let [range, origin] = fields[..] else {
            errors.push(format!(
                "line {line}: expected two columns, a range and an origin, but found {}",
                fields.len()
            ));
            continue;
        };
        let range = match range.parse::<Ipv4Range>() {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let Some(origin) = parse_recordable(origin) else {
            errors.push(format!(
                "line {line}: unknown origin \"{origin}\": expected legacy, waiting_list, \
                 registry_issued or transferred"
            ));
            continue;
        };
        if let Some(first) = lines.iter().find(|l| l.range == range) {
            errors.push(format!(
                "line {line}: {range} is already listed on line {}",
                first.line
            ));
            continue;
        }
        lines.push(OriginLine {
            line,
            range,
            origin,
        });
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> Ipv4Range {
        s.parse().unwrap()
    }

    #[test]
    fn reads_ranges_and_origins_with_an_optional_header() {
        let text = "range,origin\n\
                    198.51.100.0/24, legacy\n\
                    \n\
                    # a comment\n\
                    203.0.113.0 - 203.0.113.255,Waiting List\n\
                    192.0.2.0/24,transferred in\n\
                    100.64.0.0/24,registry_issued\n";
        let lines = parse_origins_csv(text).unwrap();
        assert_eq!(
            lines,
            vec![
                OriginLine {
                    line: 2,
                    range: range("198.51.100.0/24"),
                    origin: HoldingOrigin::Legacy
                },
                OriginLine {
                    line: 5,
                    range: range("203.0.113.0/24"),
                    origin: HoldingOrigin::WaitingList
                },
                OriginLine {
                    line: 6,
                    range: range("192.0.2.0/24"),
                    origin: HoldingOrigin::Transferred
                },
                OriginLine {
                    line: 7,
                    range: range("100.64.0.0/24"),
                    origin: HoldingOrigin::RegistryIssued
                },
            ]
        );
        assert_eq!(parse_origins_csv(""), Ok(vec![]));
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "198.51.100.0/24,legacy\n\
                    198.51.100.1/24,legacy\n\
                    203.0.113.0/24,stolen\n\
                    192.0.2.0/24\n\
                    192.0.2.0/24,legacy,extra\n\
                    198.51.100.0/24,waiting_list\n\
                    10.0.0.0/8,merger_acquisition\n";
        let errors = parse_origins_csv(text).unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].starts_with("line 2: "), "{}", errors[0]);
        assert!(errors[1].starts_with("line 3: unknown origin \"stolen\""));
        assert!(errors[2].starts_with("line 4: expected two columns"));
        assert!(errors[3].starts_with("line 5: expected two columns"));
        assert_eq!(
            errors[4],
            "line 6: 198.51.100.0/24 is already listed on line 1"
        );
        // Mergers are recorded by the workflow, not by hand.
        assert!(errors[5].starts_with("line 7: unknown origin"));
    }

    #[test]
    fn origins_parse_in_every_spelling_forms_use() {
        for (origin, label) in RECORDABLE {
            assert_eq!(parse_recordable(origin.as_str()), Some(origin), "{label}");
        }
        assert_eq!(
            parse_recordable(" Transferred-In "),
            Some(HoldingOrigin::Transferred)
        );
        assert_eq!(parse_recordable("merger_acquisition"), None);
        assert_eq!(parse_recordable(""), None);
    }
}
