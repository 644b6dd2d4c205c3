//! Writers of the ledger and the holdings in the formats auditors take away: the NRO transfer log
//! 4.0 and 5.0 ([`nro`]), CSV with one row per moved range ([`csv_rows`]), a delegated-extended
//! snapshot of one registry's holdings ([`delegated`]) and a verification bundle that checks
//! offline ([`bundle`]).
//!
//! Every writer takes rows one at a time and writes them to an `std::io::Write` as it goes, so an
//! export of any size runs in constant memory; callers read their rows in pages. Nothing here
//! does I/O of its own: the caller owns the writer (a file, standard output, an HTTP body).

pub mod bundle;
pub mod csv_rows;
pub mod delegated;
pub mod nro;
pub mod spreadsheet;

pub use spreadsheet::starts_formula;

use time::Date;

use super::ledger::{LedgerEntry, ledger_time};
use super::transfer::OrgId;
use super::{Ipv4Range, Rir};

/// Which entries an export (or the ledger browser) takes. Every condition that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    /// Entries with this registry on either side.
    pub registry: Option<Rir>,
    /// Entries naming one of these organisations on either side (the ids a handle resolved to).
    pub org_ids: Option<Vec<OrgId>>,
    /// Transfer date on or after this day (UTC).
    pub from: Option<Date>,
    /// Transfer date on or before this day (UTC).
    pub to: Option<Date>,
    /// Entries of this kind (`imported`, `transfer`).
    pub kind: Option<super::ledger::EntryKind>,
    /// Entries of this NRO type.
    pub transfer_type: Option<super::TransferType>,
    /// Entries whose range shares at least one address with this one.
    pub touching: Option<Ipv4Range>,
}

impl LedgerFilter {
    /// True when no condition is set: the export is the whole ledger.
    pub fn is_empty(&self) -> bool {
        *self == LedgerFilter::default()
    }

    /// Whether an entry passes the filter (the database applies the same conditions in SQL; this
    /// is the reference the tests compare it with).
    pub fn matches(&self, e: &LedgerEntry) -> bool {
        let m = &e.movement;
        let day = ledger_time(m.transfer_date).date();
        self.registry
            .is_none_or(|r| m.source_rir == r || m.recipient_rir == r)
            && self.org_ids.as_ref().is_none_or(|ids| {
                [m.source.org_id, m.recipient.org_id]
                    .into_iter()
                    .flatten()
                    .any(|id| ids.contains(&id))
            })
            && self.from.is_none_or(|d| day >= d)
            && self.to.is_none_or(|d| day <= d)
            && self.kind.is_none_or(|k| m.kind == k)
            && self.transfer_type.is_none_or(|t| m.transfer_type == t)
            && self.touching.is_none_or(|r| m.range.overlaps(&r))
    }
}

/// Parses a day given on the command line or in a form: `2026-11-28`.
pub fn parse_day(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), format)
        .map_err(|_| format!("{s:?} is not a date; write it as YYYY-MM-DD, for example 2026-11-28"))
}

/// RFC 3339 in UTC to the second, ending in `Z` as the 4.1 schema asks: the ledger's own form.
pub(crate) use super::ledger::rfc3339 as utc;

/// The CIDR prefixes covering a range, joined by `sep` (`20.0.9.0/24 20.0.10.0/23`).
pub fn cidr_list(r: &Ipv4Range, sep: &str) -> String {
    r.to_cidrs()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// An ISO 3166 alpha-2 code as the schemas allow it (`^[A-Z]{2}$`); anything else is left out.
pub(crate) fn country_code(c: Option<&str>) -> Option<&str> {
    c.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::TransferType;
    use crate::ledger::{EntryKind, LedgerParty, Movement, next_entry};
    use crate::transfer::{OrgId, TransferId};
    use time::macros::{date, datetime};

    /// A small chain for the writers' tests: an imported intra-ARIN entry, then one transfer
    /// ARIN → RIPE NCC of two ranges (one transfer id), then an intra-RIPE transfer.
    pub fn sample_chain() -> Vec<LedgerEntry> {
        let party = |id: Option<i64>, name: &str, cc: &str| LedgerParty {
            org_id: id.map(OrgId),
            name: Some(name.to_owned()),
            country: Some(cc.to_owned()),
        };
        let m = |kind, tid: Option<i64>, from: Rir, to: Rir, r: &str, day| Movement {
            kind,
            transfer_id: tid.map(TransferId),
            transfer_reference: tid.map(|t| format!("TX-2026-{t:06}")),
            transfer_type: TransferType::ResourceTransfer,
            source_rir: from,
            recipient_rir: to,
            source: party(tid.map(|_| 1), "Source Inc", "US"),
            recipient: party(tid.map(|_| 2), "Recipient BV", "NL"),
            range: r.parse().unwrap(),
            original: Some("20.0.0.0/16".parse().unwrap()),
            transfer_date: day,
            source_registration_date: Some(datetime!(2010-01-01 0:00 UTC)),
        };
        let movements = [
            m(
                EntryKind::Imported,
                None,
                Rir::Arin,
                Rir::Arin,
                "162.208.48.0/22",
                datetime!(2026-04-14 18:59:21 UTC),
            ),
            m(
                EntryKind::Transfer,
                Some(7),
                Rir::Arin,
                Rir::RipeNcc,
                "20.0.4.0/22",
                datetime!(2026-11-28 12:00 UTC),
            ),
            m(
                EntryKind::Transfer,
                Some(7),
                Rir::Arin,
                Rir::RipeNcc,
                "20.0.9.0 - 20.0.11.255",
                datetime!(2026-11-28 12:00 UTC),
            ),
            m(
                EntryKind::Transfer,
                Some(8),
                Rir::RipeNcc,
                Rir::RipeNcc,
                "20.0.4.0/24",
                datetime!(2026-11-29 09:30 UTC),
            ),
        ];
        let mut out: Vec<LedgerEntry> = Vec::new();
        for mv in movements {
            let head = out.last().map(|e| crate::ledger::ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            });
            out.push(next_entry(
                head.as_ref(),
                mv,
                datetime!(2026-11-29 10:00 UTC),
            ));
        }
        out
    }

    #[test]
    fn filter_conditions_all_hold() {
        let chain = sample_chain();
        let seqs = |f: &LedgerFilter| -> Vec<i64> {
            chain
                .iter()
                .filter(|e| f.matches(e))
                .map(|e| e.seq)
                .collect()
        };
        assert!(LedgerFilter::default().is_empty());
        assert_eq!(seqs(&LedgerFilter::default()), [1, 2, 3, 4]);
        let ripe = LedgerFilter {
            registry: Some(Rir::RipeNcc),
            ..Default::default()
        };
        assert_eq!(seqs(&ripe), [2, 3, 4]);
        let org = LedgerFilter {
            org_ids: Some(vec![OrgId(1)]),
            ..Default::default()
        };
        assert_eq!(seqs(&org), [2, 3, 4]);
        let days = LedgerFilter {
            from: Some(date!(2026 - 11 - 28)),
            to: Some(date!(2026 - 11 - 28)),
            ..Default::default()
        };
        assert_eq!(seqs(&days), [2, 3]);
        let touching = LedgerFilter {
            touching: Some("20.0.4.7".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(seqs(&touching), [2, 4]);
        let kind = LedgerFilter {
            kind: Some(EntryKind::Imported),
            transfer_type: Some(TransferType::ResourceTransfer),
            ..Default::default()
        };
        assert_eq!(seqs(&kind), [1]);
    }

    #[test]
    fn days_parse_or_say_how_to_write_them() {
        assert_eq!(parse_day("2026-11-28"), Ok(date!(2026 - 11 - 28)));
        let err = parse_day("28/11/2026").unwrap_err();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
        assert!(parse_day("2026-02-30").is_err());
    }

    #[test]
    fn country_codes_follow_the_schema_pattern() {
        assert_eq!(country_code(Some("NL")), Some("NL"));
        assert_eq!(country_code(Some("nl")), None);
        assert_eq!(country_code(Some("NLD")), None);
        assert_eq!(country_code(None), None);
    }
}
