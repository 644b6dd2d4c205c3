//! Transfer statistics for the auditors' page, accumulated one ledger entry or one completed
//! transfer at a time (so a ledger of any size is read in pages): address flows between
//! registries, monthly volume per registry, time from filing to completion, and price per address
//! by year and block size.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::Rir;
use super::ledger::{LedgerEntry, ledger_time};

/// Position of a registry in [`Rir::ALL`], for the flow matrix.
fn index(r: Rir) -> usize {
    Rir::ALL.iter().position(|x| *x == r).unwrap_or_default()
}

/// Block sizes the price chart groups by (prefix length of the total transferred).
pub const SIZE_CLASSES: [&str; 4] = [
    "/24 or smaller",
    "/23 to /22",
    "/21 to /20",
    "/19 or larger",
];

fn size_class(addresses: u64) -> usize {
    match addresses {
        0..=256 => 0,
        257..=1024 => 1,
        1025..=4096 => 2,
        _ => 3,
    }
}

/// Day-count buckets of the filing-to-completion histogram.
pub const DURATION_BUCKETS: [(&str, i64); 6] = [
    ("under 7 days", 7),
    ("7 to 13 days", 14),
    ("14 to 29 days", 30),
    ("30 to 59 days", 60),
    ("60 to 89 days", 90),
    ("90 days or more", i64::MAX),
];

/// Everything the statistics page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferStatistics {
    /// Addresses moved from the row registry to the column registry, in [`Rir::ALL`] order.
    pub flows: [[u64; 5]; 5],
    /// Addresses moved per month (`YYYY-MM`) out of each source registry, in [`Rir::ALL`] order.
    pub monthly: BTreeMap<String, [u64; 5]>,
    /// Completed ipxfer transfers per [`DURATION_BUCKETS`] bucket.
    pub durations: [u64; 6],
    /// Every filing-to-completion time in days, sorted when read through [`Self::median_days`].
    days: Vec<i64>,
    /// Per (year, currency, size class): the sum of prices per address and how many transfers.
    prices: BTreeMap<(i32, String, usize), (Decimal, u64)>,
}

impl TransferStatistics {
    /// Counts one ledger entry (imported history and ipxfer transfers alike).
    pub fn add_entry(&mut self, e: &LedgerEntry) {
        let m = &e.movement;
        let size = m.range.size();
        self.flows[index(m.source_rir)][index(m.recipient_rir)] += size;
        let t = ledger_time(m.transfer_date);
        let month = format!("{:04}-{:02}", t.year(), u8::from(t.month()));
        self.monthly.entry(month).or_default()[index(m.source_rir)] += size;
    }

    /// Counts one transfer completed in ipxfer: how long it took, and its price per address
    /// when a price was agreed.
    pub fn add_completed(
        &mut self,
        filed_at: OffsetDateTime,
        completed_at: OffsetDateTime,
        addresses: u64,
        price: Option<(Decimal, String)>,
    ) {
        let days = (completed_at - filed_at).whole_days().max(0);
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|(_, below)| days < *below)
            .unwrap_or(DURATION_BUCKETS.len() - 1);
        self.durations[bucket] += 1;
        self.days.push(days);
        if let Some((price, currency)) = price
            && addresses > 0
        {
            let per_address = price / Decimal::from(addresses);
            let key = (completed_at.year(), currency, size_class(addresses));
            let slot = self.prices.entry(key).or_insert((Decimal::ZERO, 0));
            slot.0 += per_address;
            slot.1 += 1;
        }
    }

    /// The median filing-to-completion time in days; `None` before any transfer completed.
    pub fn median_days(&self) -> Option<i64> {
        let mut days = self.days.clone();
        days.sort_unstable();
        days.get(days.len() / 2).copied()
    }

    /// The same figures with no price at all, for everyone but auditors: what is rendered for
    /// them cannot show a price it does not hold.
    pub fn without_prices(&self) -> TransferStatistics {
        TransferStatistics {
            prices: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// Mean price per address (rounded to cents) per (year, currency, size class), with the
    /// number of transfers it is the mean of.
    pub fn prices(&self) -> Vec<PricePoint> {
        self.prices
            .iter()
            .map(|((year, currency, class), (sum, n))| PricePoint {
                year: *year,
                currency: currency.clone(),
                size_class: SIZE_CLASSES[*class],
                mean_per_address: (*sum / Decimal::from(*n)).round_dp(2),
                transfers: *n,
            })
            .collect()
    }

    /// The flow matrix's total (every address moved).
    pub fn total_moved(&self) -> u64 {
        self.flows.iter().flatten().sum()
    }
}

/// One cell of the price table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    pub year: i32,
    pub currency: String,
    pub size_class: &'static str,
    pub mean_per_address: Decimal,
    pub transfers: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample_chain;
    use time::macros::datetime;

    #[test]
    fn entries_add_up_to_flows_and_months() {
        let mut s = TransferStatistics::default();
        for e in sample_chain() {
            s.add_entry(&e);
        }
        let (arin, ripe) = (index(Rir::Arin), index(Rir::RipeNcc));
        assert_eq!(s.flows[arin][arin], 1024);
        assert_eq!(s.flows[arin][ripe], 1024 + 768);
        assert_eq!(s.flows[ripe][ripe], 256);
        assert_eq!(s.total_moved(), 1024 + 1024 + 768 + 256);
        assert_eq!(s.monthly["2026-04"][arin], 1024);
        assert_eq!(s.monthly["2026-11"][arin], 1792);
        assert_eq!(s.monthly["2026-11"][ripe], 256);
    }

    #[test]
    fn completed_transfers_give_durations_and_prices_per_address() {
        let mut s = TransferStatistics::default();
        assert_eq!(s.median_days(), None);
        let filed = datetime!(2026-01-01 0:00 UTC);
        s.add_completed(
            filed,
            datetime!(2026-01-03 0:00 UTC),
            1024,
            Some((Decimal::from(51_200), "USD".into())),
        );
        s.add_completed(
            filed,
            datetime!(2026-02-15 0:00 UTC),
            1024,
            Some((Decimal::from(40_960), "USD".into())),
        );
        s.add_completed(filed, datetime!(2026-05-01 0:00 UTC), 256, None);
        assert_eq!(s.durations, [1, 0, 0, 1, 0, 1]);
        assert_eq!(s.median_days(), Some(45));
        assert_eq!(
            s.prices(),
            [PricePoint {
                year: 2026,
                currency: "USD".into(),
                size_class: "/23 to /22",
                mean_per_address: Decimal::new(4500, 2),
                transfers: 2,
            }]
        );
        let public = s.without_prices();
        assert!(public.prices().is_empty());
        assert_eq!(
            (public.durations, public.median_days()),
            (s.durations, s.median_days())
        );
    }

    #[test]
    fn size_classes_follow_prefix_lengths() {
        assert_eq!(
            [256, 257, 1024, 4096, 4097].map(size_class),
            [0, 1, 1, 2, 3]
        );
    }
}
