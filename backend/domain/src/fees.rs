//! Registry fees for a transfer, computed exactly with `Decimal` (never floating point).
//!
//! Each registry's schedule is data: the `fees` table of its policy profile
//! (`backend/policy/profiles.toml`), overridable by the operator like every other profile field.
//! A schedule is a list of items; an item is a flat amount or a table of amounts by the size of
//! the whole transfer, optionally scaled by a percentage (APNIC charges 20% of the annual fee).
//! In an inter-RIR transfer each registry invoices only the party on its own side.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize};

use super::block::PrefixLength;
use super::currency::Currency;
use super::format::{group_digits, group_thousands};
use super::{Rir, Side, TransferFacts, TransferType};

/// One line of a transfer's invoice: what one registry charges one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub registry: Rir,
    pub payer: Side,
    pub description: String,
    pub amount: Decimal,
    pub currency: Currency,
    /// False when the line rests on a schedule value marked `confirmed = false`.
    pub confirmed: bool,
}

impl FeeLine {
    /// The amount for display, `USD 1,500.00`.
    pub fn display_amount(&self) -> String {
        format_amount(self.amount, &self.currency)
    }
}

/// Who pays an item, and so when the registry charges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// Charged when the registry holds the source side; the source pays.
    Source,
    /// Charged when the registry holds the recipient side; the recipient pays.
    Recipient,
    /// Charged once, to the party the registry serves; the recipient when it serves both.
    RecipientElseSource,
    /// Charged once, to the party the registry serves; the source when it serves both.
    SourceElseRecipient,
}

impl Payer {
    /// The side that pays, given which sides the registry holds; `None` when not charged.
    fn side(self, holds_source: bool, holds_recipient: bool) -> Option<Side> {
        match self {
            Payer::Source => holds_source.then_some(Side::Source),
            Payer::Recipient => holds_recipient.then_some(Side::Recipient),
            Payer::RecipientElseSource if holds_recipient => Some(Side::Recipient),
            Payer::RecipientElseSource => holds_source.then_some(Side::Source),
            Payer::SourceElseRecipient if holds_source => Some(Side::Source),
            Payer::SourceElseRecipient => holds_recipient.then_some(Side::Recipient),
        }
    }
}

/// One row of a size table: the amount for transfers up to (or below) a size.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeBand {
    /// Applies to totals of at most this many addresses.
    #[serde(default)]
    pub up_to: Option<PrefixLength>,
    /// Applies to totals of fewer than this many addresses.
    #[serde(default)]
    pub below: Option<PrefixLength>,
    #[serde(deserialize_with = "exact_decimal")]
    pub amount: Decimal,
}

impl SizeBand {
    fn matches(&self, addresses: u64) -> bool {
        match (self.up_to, self.below) {
            (Some(limit), _) => addresses <= limit.addresses(),
            (None, Some(limit)) => addresses < limit.addresses(),
            (None, None) => true,
        }
    }
}

/// One charge of a registry's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub description: String,
    pub payer: Payer,
    /// A flat amount; exclusive with `bands`.
    #[serde(default, deserialize_with = "exact_decimal_opt")]
    pub amount: Option<Decimal>,
    /// Amounts by the total size of the transfer, first match wins; the last band is open.
    #[serde(default)]
    pub bands: Option<Vec<SizeBand>>,
    /// Charge this percentage of the amount (APNIC: 20% of the annual fee).
    #[serde(default, deserialize_with = "exact_decimal_opt")]
    pub percent: Option<Decimal>,
    /// Whether merger-or-acquisition transfers are charged (LACNIC: no).
    #[serde(default = "yes")]
    pub merger_acquisition: bool,
    /// False when the amount is a default not confirmed against the registry's schedule.
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// False when whether mergers and acquisitions are charged is not confirmed.
    #[serde(default = "yes")]
    pub merger_acquisition_confirmed: bool,
    /// False when the item is confirmed for transfers within the registry only.
    #[serde(default = "yes")]
    pub inter_rir_confirmed: bool,
}

fn yes() -> bool {
    true
}

impl FeeItem {
    /// The amount for a transfer of `addresses` addresses, in cents (two decimal places).
    fn amount_for(&self, addresses: u64) -> Decimal {
        let base = match (&self.amount, &self.bands) {
            (Some(flat), _) => *flat,
            (None, Some(bands)) => bands
                .iter()
                .find(|band| band.matches(addresses))
                .map_or(Decimal::ZERO, |band| band.amount),
            (None, None) => Decimal::ZERO,
        };
        let amount = match self.percent {
            Some(percent) => base * percent / Decimal::ONE_HUNDRED,
            None => base,
        };
        to_cents(amount)
    }

    fn validate(&self) -> Result<(), String> {
        let name = &self.description;
        match (&self.amount, &self.bands) {
            (Some(_), Some(_)) => {
                return Err(format!("fee item \"{name}\" has both `amount` and `bands`"));
            }
            (None, None) => {
                return Err(format!("fee item \"{name}\" needs `amount` or `bands`"));
            }
            (Some(amount), None) if amount.is_sign_negative() => {
                return Err(format!("fee item \"{name}\" has a negative amount"));
            }
            (Some(_), None) => {}
            (None, Some(bands)) => {
                let Some((last, rest)) = bands.split_last() else {
                    return Err(format!("fee item \"{name}\" has an empty `bands` table"));
                };
                if last.up_to.is_some() || last.below.is_some() {
                    return Err(format!(
                        "fee item \"{name}\": the last band must have no `up_to` or `below` \
                         so that every size has an amount"
                    ));
                }
                for band in bands {
                    if band.up_to.is_some() && band.below.is_some() {
                        return Err(format!(
                            "fee item \"{name}\": a band has both `up_to` and `below`"
                        ));
                    }
                    if band.amount.is_sign_negative() {
                        return Err(format!("fee item \"{name}\" has a negative band amount"));
                    }
                }
                if rest
                    .iter()
                    .any(|band| band.up_to.is_none() && band.below.is_none())
                {
                    return Err(format!(
                        "fee item \"{name}\": only the last band may be open-ended"
                    ));
                }
            }
        }
        if let Some(percent) = self.percent
            && (percent.is_sign_negative() || percent > Decimal::ONE_HUNDRED)
        {
            return Err(format!(
                "fee item \"{name}\": `percent` must be between 0 and 100"
            ));
        }
        Ok(())
    }
}

/// One registry's fee schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    /// The currency of every amount in the schedule.
    pub currency: Currency,
    #[serde(default)]
    pub items: Vec<FeeItem>,
    /// False when the list of items itself is a default (no fee is confirmed: RIPE NCC,
    /// AFRINIC).
    #[serde(default = "yes")]
    pub confirmed: bool,
}

impl FeeSchedule {
    /// Checks what the types cannot: one amount per item, an open last band.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.items.iter().try_for_each(FeeItem::validate)
    }
}

/// The invoice lines of a transfer: the source registry's lines first, then (inter-RIR) the
/// recipient registry's, each in schedule order. `schedule` gives each registry's schedule (the
/// `fees` table of its profile: the profiles hold the one copy).
pub fn invoice<'a>(
    transfer: &TransferFacts,
    schedule: impl Fn(Rir) -> &'a FeeSchedule,
) -> Vec<FeeLine> {
    let addresses = transfer.address_count();
    let merger = transfer.kind == TransferType::MergerAcquisition;
    let mut registries = vec![transfer.source_rir()];
    if transfer.is_inter_rir() {
        registries.push(transfer.recipient_rir());
    }

    let mut lines = Vec::new();
    for registry in registries {
        let schedule = schedule(registry);
        let holds_source = transfer.source_rir() == registry;
        let holds_recipient = transfer.recipient_rir() == registry;
        for item in &schedule.items {
            if merger && !item.merger_acquisition {
                continue;
            }
            let Some(payer) = item.payer.side(holds_source, holds_recipient) else {
                continue;
            };
            let description = if item.bands.is_some() {
                format!(
                    "{} for {} addresses",
                    item.description,
                    group_thousands(addresses)
                )
            } else {
                item.description.clone()
            };
            let confirmed = item.confirmed
                && (!merger || item.merger_acquisition_confirmed)
                && (!transfer.is_inter_rir() || item.inter_rir_confirmed);
            lines.push(FeeLine {
                registry,
                payer,
                description,
                amount: item.amount_for(addresses),
                currency: schedule.currency.clone(),
                confirmed,
            });
        }
    }
    lines
}

/// Rounds half away from zero to cents and keeps two decimal places, so `236` reads `236.00`.
fn to_cents(amount: Decimal) -> Decimal {
    let mut cents = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    cents.rescale(2);
    cents
}

/// The sum of the lines per currency (amounts in different currencies are never added).
pub fn total_by_currency(lines: &[FeeLine]) -> BTreeMap<String, Decimal> {
    let mut totals = BTreeMap::new();
    for line in lines {
        *totals
            .entry(line.currency.to_string())
            .or_insert(Decimal::ZERO) += line.amount;
    }
    totals
}

/// An amount for people: currency code, thousands separators, two decimals (`USD 1,500.00`).
pub fn format_amount(amount: Decimal, currency: &str) -> String {
    let cents = to_cents(amount);
    let text = cents.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let sign = if cents.is_sign_negative() && !cents.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{currency} {sign}{}.{fraction}", group_digits(whole))
}

/// Reads money as a string ("1500.00") or an integer, refusing TOML floats, which are binary
/// fractions and would not stay exact.
fn exact_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(ExactDecimal)
}

fn exact_decimal_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    exact_decimal(d).map(Some)
}

struct ExactDecimal;

impl serde::de::Visitor<'_> for ExactDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount written as a string such as \"1500.00\", or a whole number")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::from_str(v.trim()).map_err(|_| {
            E::custom(format!(
                "\"{v}\" is not a decimal amount such as \"1500.00\""
            ))
        })
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "{v} is a floating-point number; write amounts as strings (\"{v}\") so they stay exact"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Profiles, SHIPPED_PROFILES};
    use crate::transfer::{OrgId, TransferId};

    /// The invoice under `profiles`' fee tables.
    fn bill(facts: &TransferFacts, profiles: &Profiles) -> Vec<FeeLine> {
        invoice(facts, |rir| &profiles.get(rir).fees)
    }
    use crate::transfer::{Membership, OrgFacts};

    /// An exact decimal from its literal text (rust_decimal's own `dec!` needs a feature).
    macro_rules! dec {
        ($amount:literal) => {
            Decimal::from_str(stringify!($amount)).expect("decimal literal")
        };
    }

    fn transfer(from: Rir, to: Rir, blocks: &[&str]) -> TransferFacts {
        let org = |id, registry, name: &str| OrgFacts {
            id,
            registry,
            name: name.to_owned(),
            membership: Membership::GoodStanding,
        };
        TransferFacts {
            id: TransferId(10),
            reference: "XFER-10".to_owned(),
            kind: TransferType::ResourceTransfer,
            source: org(OrgId(1), from, "Source Org"),
            recipient: org(OrgId(2), to, "Recipient Org"),
            blocks: blocks
                .iter()
                .map(|b| b.parse().expect("test block"))
                .collect(),
            need: None,
            documents: Vec::new(),
        }
    }

    fn merger(mut facts: TransferFacts) -> TransferFacts {
        facts.kind = TransferType::MergerAcquisition;
        facts
    }

    /// (registry, payer, description, amount as text, currency) per line.
    fn lines(facts: &TransferFacts) -> Vec<(Rir, Side, String, String, String)> {
        bill(facts, &Profiles::default_shipped())
            .into_iter()
            .map(|l| {
                (
                    l.registry,
                    l.payer,
                    l.description,
                    l.amount.to_string(),
                    l.currency.to_string(),
                )
            })
            .collect()
    }

    fn line(
        rir: Rir,
        payer: Side,
        description: &str,
        amount: &str,
        currency: &str,
    ) -> (Rir, Side, String, String, String) {
        (
            rir,
            payer,
            description.to_owned(),
            amount.to_owned(),
            currency.to_owned(),
        )
    }

    fn amounts(facts: &TransferFacts) -> Vec<Decimal> {
        bill(facts, &Profiles::default_shipped())
            .into_iter()
            .map(|l| l.amount)
            .collect()
    }

    #[test]
    fn arin_intra_charges_the_source_and_the_recipient() {
        assert_eq!(
            lines(&transfer(Rir::Arin, Rir::Arin, &["64.32.4.0/22"])),
            [
                line(
                    Rir::Arin,
                    Side::Source,
                    "ARIN transfer processing fee",
                    "500.00",
                    "USD"
                ),
                line(
                    Rir::Arin,
                    Side::Recipient,
                    "ARIN recipient transfer processing fee for 1,024 addresses",
                    "750.00",
                    "USD"
                ),
            ]
        );
    }

    #[test]
    fn arin_inter_rir_charges_only_its_own_side() {
        assert_eq!(
            lines(&transfer(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"])),
            [line(
                Rir::Arin,
                Side::Source,
                "ARIN transfer processing fee",
                "500.00",
                "USD"
            )]
        );
        // NRPM 8.4 inbound: ARIN bills its processing fee to the ARIN-side party, the
        // recipient, as well as the recipient fee.
        let inbound = bill(
            &transfer(Rir::RipeNcc, Rir::Arin, &["185.10.0.0/24"]),
            &Profiles::default_shipped(),
        );
        assert_eq!(
            inbound
                .iter()
                .map(|l| (l.registry, l.payer, l.amount, l.confirmed))
                .collect::<Vec<_>>(),
            [
                (Rir::Arin, Side::Recipient, dec!(500.00), true),
                (Rir::Arin, Side::Recipient, dec!(187.50), false),
            ]
        );
    }

    #[test]
    fn lines_resting_on_unconfirmed_values_say_so() {
        let facts = transfer(Rir::Lacnic, Rir::Lacnic, &["200.10.0.0/22"]);
        let intra = bill(&facts, &Profiles::default_shipped());
        assert!(intra.iter().all(|l| l.confirmed), "{intra:?}");
        // LACNIC's fee is confirmed within the region only.
        let inter = bill(
            &transfer(Rir::Lacnic, Rir::RipeNcc, &["200.10.0.0/22"]),
            &Profiles::default_shipped(),
        );
        assert!(inter.iter().all(|l| !l.confirmed), "{inter:?}");
        // Whether ARIN charges mergers is not confirmed.
        let arin = bill(
            &merger(transfer(Rir::Arin, Rir::Arin, &["64.32.4.0/22"])),
            &Profiles::default_shipped(),
        );
        assert_eq!(
            arin.iter()
                .map(|l| (l.amount, l.confirmed))
                .collect::<Vec<_>>(),
            [(dec!(500.00), false)]
        );
        // The operator confirms an amount in the override file.
        let schedules = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some("[[lacnic.fees.items]]\ndescription = \"LACNIC transfer fee\"\npayer = \"source_else_recipient\"\namount = \"1000.00\"\n"),
        )
        .expect("valid override");
        assert!(
            bill(
                &transfer(Rir::Lacnic, Rir::RipeNcc, &["200.10.0.0/22"]),
                &schedules
            )[0]
            .confirmed
        );
    }

    #[test]
    fn arin_recipient_fee_follows_the_size_table() {
        // The processing fee first, then the recipient fee.
        let recipient_fee =
            |blocks: &[&str]| amounts(&transfer(Rir::RipeNcc, Rir::Arin, blocks))[1..].to_vec();
        assert_eq!(recipient_fee(&["185.10.0.0/24"]), [dec!(187.50)]);
        assert_eq!(recipient_fee(&["185.10.0.0/23"]), [dec!(750.00)]);
        // 768 addresses: more than a /24, not more than a /22.
        assert_eq!(
            recipient_fee(&["185.10.0.0/23", "185.10.4.0/24"]),
            [dec!(750.00)]
        );
        assert_eq!(recipient_fee(&["185.10.0.0/22"]), [dec!(750.00)]);
        assert_eq!(recipient_fee(&["185.10.0.0/21"]), [dec!(3000.00)]);
        assert_eq!(recipient_fee(&["185.0.0.0/16"]), [dec!(3000.00)]);
        assert_eq!(recipient_fee(&["185.0.0.0/15"]), [dec!(6000.00)]);
    }

    #[test]
    fn arin_merger_pays_the_processing_fee_only() {
        assert_eq!(
            amounts(&merger(transfer(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]))),
            [dec!(500.00)]
        );
    }

    #[test]
    fn lacnic_fee_changes_at_a_19() {
        let lacnic = |blocks: &[&str]| lines(&transfer(Rir::Lacnic, Rir::Lacnic, blocks));
        assert_eq!(
            lacnic(&["200.10.0.0/20"]),
            [
                line(
                    Rir::Lacnic,
                    Side::Source,
                    "LACNIC transfer fee for 4,096 addresses",
                    "1000.00",
                    "USD"
                ),
                line(
                    Rir::Lacnic,
                    Side::Source,
                    "LACNIC transfer request deposit",
                    "200.00",
                    "USD"
                ),
            ]
        );
        assert_eq!(
            lacnic(&["200.10.0.0/19"])[0],
            line(
                Rir::Lacnic,
                Side::Source,
                "LACNIC transfer fee for 8,192 addresses",
                "1500.00",
                "USD"
            )
        );
        // The size of the whole transfer counts: a /20 and a /21 are 6,144 addresses, below a /19.
        assert_eq!(lacnic(&["200.10.0.0/20", "200.10.16.0/21"])[0].3, "1000.00");
        assert_eq!(
            lacnic(&["200.10.0.0/20", "200.10.16.0/20", "200.10.32.0/24"])[0].3,
            "1500.00"
        );
        assert_eq!(lacnic(&["200.10.0.0/24"])[0].3, "1000.00");
    }

    #[test]
    fn lacnic_merger_is_free() {
        assert_eq!(
            lines(&merger(transfer(
                Rir::Lacnic,
                Rir::Lacnic,
                &["200.10.0.0/20"]
            ))),
            []
        );
    }

    #[test]
    fn lacnic_inter_rir_charges_its_own_side() {
        // Outbound: the LACNIC source pays LACNIC; ARIN charges its recipient.
        assert_eq!(
            bill(
                &transfer(Rir::Lacnic, Rir::Arin, &["200.10.0.0/22"]),
                &Profiles::default_shipped()
            )
            .iter()
            .map(|l| (l.registry, l.payer, l.amount))
            .collect::<Vec<_>>(),
            [
                (Rir::Lacnic, Side::Source, dec!(1000.00)),
                (Rir::Lacnic, Side::Source, dec!(200.00)),
                (Rir::Arin, Side::Recipient, dec!(500.00)),
                (Rir::Arin, Side::Recipient, dec!(750.00)),
            ]
        );
        // Inbound: the LACNIC recipient pays LACNIC.
        assert_eq!(
            bill(
                &transfer(Rir::Arin, Rir::Lacnic, &["64.32.0.0/19"]),
                &Profiles::default_shipped()
            )
            .iter()
            .map(|l| (l.registry, l.payer, l.amount))
            .collect::<Vec<_>>(),
            [
                (Rir::Arin, Side::Source, dec!(500.00)),
                (Rir::Lacnic, Side::Recipient, dec!(1500.00)),
                (Rir::Lacnic, Side::Recipient, dec!(200.00)),
            ]
        );
    }

    #[test]
    fn apnic_charges_a_fifth_of_the_annual_fee_in_aud() {
        let apnic = |blocks: &[&str]| lines(&transfer(Rir::Apnic, Rir::Apnic, blocks));
        // The published examples: AUD 236 for 256, 674 for 4,096, 1,925.20 for 65,536 addresses.
        assert_eq!(
            apnic(&["1.178.112.0/24"]),
            [line(
                Rir::Apnic,
                Side::Recipient,
                "APNIC IPv4 transfer fee (20% of the annual fee) for 256 addresses",
                "236.00",
                "AUD"
            )]
        );
        assert_eq!(apnic(&["1.178.112.0/20"])[0].3, "674.00");
        assert_eq!(apnic(&["1.178.0.0/16"])[0].3, "1925.20");
        assert_eq!(apnic(&["1.178.112.0/22"])[0].3, "398.80");
    }

    #[test]
    fn apnic_side_party_pays_inter_rir() {
        let outbound = bill(
            &transfer(Rir::Apnic, Rir::RipeNcc, &["1.178.112.0/22"]),
            &Profiles::default_shipped(),
        );
        assert_eq!(outbound.len(), 1);
        assert_eq!(
            (outbound[0].registry, outbound[0].payer),
            (Rir::Apnic, Side::Source)
        );
        let inbound = bill(
            &transfer(Rir::Arin, Rir::Apnic, &["64.32.4.0/22"]),
            &Profiles::default_shipped(),
        );
        assert_eq!(
            inbound
                .iter()
                .map(|l| (l.registry, l.payer, l.display_amount()))
                .collect::<Vec<_>>(),
            [
                (Rir::Arin, Side::Source, "USD 500.00".to_owned()),
                (Rir::Apnic, Side::Recipient, "AUD 398.80".to_owned()),
            ]
        );
    }

    #[test]
    fn ripe_and_afrinic_charge_nothing_by_default() {
        assert_eq!(
            lines(&transfer(Rir::RipeNcc, Rir::RipeNcc, &["185.10.0.0/22"])),
            []
        );
        assert_eq!(
            lines(&transfer(Rir::Afrinic, Rir::Afrinic, &["196.4.160.0/22"])),
            []
        );
        assert_eq!(
            lines(&merger(transfer(
                Rir::RipeNcc,
                Rir::RipeNcc,
                &["185.10.0.0/22"]
            ))),
            []
        );
    }

    #[test]
    fn operator_can_add_a_ripe_fee() {
        let schedules = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some(
                r#"
[[ripencc.fees.items]]
description = "RIPE NCC transfer fee"
payer = "source_else_recipient"
amount = "500.00"
"#,
            ),
        )
        .expect("valid override");
        let facts = transfer(Rir::RipeNcc, Rir::Arin, &["185.10.0.0/22"]);
        let lines = bill(&facts, &schedules);
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.registry, l.payer, l.display_amount()))
                .collect::<Vec<_>>(),
            [
                (Rir::RipeNcc, Side::Source, "EUR 500.00".to_owned()),
                (Rir::Arin, Side::Recipient, "USD 500.00".to_owned()),
                (Rir::Arin, Side::Recipient, "USD 750.00".to_owned()),
            ]
        );
        assert_eq!(
            total_by_currency(&lines),
            BTreeMap::from([
                ("EUR".to_owned(), dec!(500.00)),
                ("USD".to_owned(), dec!(1250.00))
            ])
        );
    }

    #[test]
    fn totals_add_exactly_per_currency() {
        let lines = bill(
            &transfer(Rir::Arin, Rir::Lacnic, &["64.32.0.0/19"]),
            &Profiles::default_shipped(),
        );
        assert_eq!(
            total_by_currency(&lines),
            BTreeMap::from([("USD".to_owned(), dec!(2200.00))])
        );
        // Ten cents ten times is exactly one unit in Decimal (it would not be in binary floats).
        let cent_lines: Vec<FeeLine> = (0..10)
            .map(|_| FeeLine {
                registry: Rir::RipeNcc,
                payer: Side::Source,
                description: "test".to_owned(),
                amount: dec!(0.10),
                currency: "EUR".parse().unwrap(),
                confirmed: true,
            })
            .collect();
        assert_eq!(total_by_currency(&cent_lines)["EUR"], dec!(1.00));
        assert_eq!(total_by_currency(&[]), BTreeMap::new());
    }

    #[test]
    fn percent_rounds_half_away_from_zero_to_cents() {
        let item = FeeItem {
            description: "test".to_owned(),
            payer: Payer::Source,
            amount: Some(dec!(10.05)),
            bands: None,
            percent: Some(dec!(50)),
            merger_acquisition: true,
            confirmed: true,
            merger_acquisition_confirmed: true,
            inter_rir_confirmed: true,
        };
        assert_eq!(item.amount_for(256), dec!(5.03));
    }

    #[test]
    fn amounts_format_with_separators_and_two_decimals() {
        assert_eq!(format_amount(dec!(1500), "USD"), "USD 1,500.00");
        assert_eq!(format_amount(dec!(187.5), "USD"), "USD 187.50");
        assert_eq!(format_amount(dec!(0), "EUR"), "EUR 0.00");
        assert_eq!(format_amount(dec!(999.995), "AUD"), "AUD 1,000.00");
        assert_eq!(format_amount(dec!(1234567.891), "USD"), "USD 1,234,567.89");
        assert_eq!(format_amount(dec!(-1500), "USD"), "USD -1,500.00");
        assert_eq!(format_amount(dec!(-0.001), "USD"), "USD 0.00");
        assert_eq!(format_amount(dec!(100000), "USD"), "USD 100,000.00");
    }

    #[test]
    fn schedules_refuse_floats_and_inconsistent_items() {
        let error = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some("[[ripencc.fees.items]]\ndescription = \"x\"\npayer = \"source\"\namount = 0.1\n"),
        )
        .unwrap_err();
        assert!(error.to_string().contains("floating-point"), "{error}");
        assert!(error.to_string().contains("ripencc.fees.items"), "{error}");

        let error = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some(
                "[[ripencc.fees.items]]\ndescription = \"x\"\npayer = \"source\"\namount = \"1\"\n\
                 bands = [{ amount = \"2\" }]\n",
            ),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "policy profile for RIPE NCC is inconsistent: fee item \"x\" has both `amount` and `bands`"
        );

        let error = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some(
                "[[ripencc.fees.items]]\ndescription = \"x\"\npayer = \"source\"\n\
                 bands = [{ up_to = \"/24\", amount = \"2\" }]\n",
            ),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("the last band must have no"),
            "{error}"
        );

        let error = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some("[ripencc.fees]\ncurrency = \"euro\"\n"),
        )
        .unwrap_err();
        assert!(error.to_string().contains("ISO 4217"), "{error}");

        let error = Profiles::from_toml_with_overrides(
            SHIPPED_PROFILES,
            Some(
                "[[ripencc.fees.items]]\ndescription = \"x\"\npayer = \"buyer\"\namount = \"1\"\n",
            ),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown variant `buyer`"),
            "{error}"
        );
    }

    proptest::proptest! {
        #[test]
        fn formatted_amounts_read_back_as_the_rounded_amount(cents in -10_000_000_000i64..10_000_000_000i64) {
            let amount = Decimal::new(cents, 2);
            let text = format_amount(amount, "USD");
            let digits = text.trim_start_matches("USD ").replace(',', "");
            proptest::prop_assert_eq!(digits.parse::<Decimal>().unwrap(), amount);
            let cents_text = format!("{:02}", cents.unsigned_abs() % 100);
            proptest::prop_assert!(text.ends_with(&cents_text));
        }

        #[test]
        fn fees_never_decrease_with_size(prefix in 8u8..=24, extra in 8u8..=24) {
            // Compare a block with the same block plus a disjoint extra one.
            let small = format!("64.0.0.0/{prefix}");
            let larger = [small.clone(), format!("128.0.0.0/{extra}")];
            for (from, to) in [(Rir::Arin, Rir::Arin), (Rir::Lacnic, Rir::Lacnic), (Rir::Apnic, Rir::Apnic)] {
                let before: Decimal = amounts(&transfer(from, to, &[small.as_str()])).iter().sum();
                let after: Decimal = amounts(&transfer(from, to, &[larger[0].as_str(), larger[1].as_str()])).iter().sum();
                proptest::prop_assert!(after >= before, "{from}: {before} > {after}");
            }
        }
    }
}
