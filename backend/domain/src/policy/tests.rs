//! Tests of the policy rules and the profile loader: for every rule a passing and a failing case,
//! with the exact message text the reviewer reads.

use time::Date;
use time::macros::date;

use super::rules::{self, add_months};
use super::*;
use crate::transfer::TransferId;
use crate::transfer::{
    DocumentKind, HoldingOrigin, Membership, NeedJustification, OrgFacts, OrgId,
};
use crate::{Ipv4Range, Rir, Severity, Side, TransferType};

const TODAY: Date = date!(2026 - 06 - 01);

fn block(text: &str) -> Ipv4Range {
    text.parse().expect("test block")
}

fn org(id: OrgId, registry: Rir, name: &str) -> OrgFacts {
    OrgFacts {
        id,
        registry,
        name: name.to_owned(),
        membership: Membership::GoodStanding,
    }
}

fn plan(horizon_months: u32, planned_utilisation_percent: u32) -> NeedJustification {
    NeedJustification {
        text: "new data centre".to_owned(),
        horizon_months: Some(horizon_months),
        planned_utilisation_percent: Some(planned_utilisation_percent),
    }
}

/// A transfer of `blocks` from "Source Org" (#1) to "Recipient Org" (#2), with a plan that meets
/// every 24-month policy and both documents on file.
fn transfer(from: Rir, to: Rir, blocks: &[&str]) -> TransferFacts {
    TransferFacts {
        id: TransferId(10),
        reference: "XFER-10".to_owned(),
        kind: TransferType::ResourceTransfer,
        source: org(OrgId(1), from, "Source Org"),
        recipient: org(OrgId(2), to, "Recipient Org"),
        blocks: blocks.iter().map(|b| block(b)).collect(),
        need: Some(plan(24, 60)),
        documents: vec![
            DocumentKind::TransferAgreement,
            DocumentKind::CompanyRegistration,
        ],
    }
}

fn holding(range: &str, registry: Rir, org_id: OrgId, received: Date) -> HoldingFacts {
    HoldingFacts {
        range: block(range),
        registry,
        org_id,
        registered_on: Some(received),
        received_on: Some(received),
        origin: HoldingOrigin::Transferred,
    }
}

/// Owns what a [`PolicyInput`] borrows.
struct Case {
    transfer: TransferFacts,
    holdings: Vec<HoldingFacts>,
    in_flight: Vec<InFlightClaim>,
    receipts: Vec<HoldingFacts>,
    exceptions: Vec<RecordedException>,
    today: Date,
    stage: Stage,
}

impl Case {
    /// `blocks` moving from `from` to `to`, each held by the source as a transferred-in holding
    /// received three years ago.
    fn new(from: Rir, to: Rir, blocks: &[&str]) -> Case {
        let transfer = transfer(from, to, blocks);
        let holdings = blocks
            .iter()
            .map(|b| holding(b, from, OrgId(1), date!(2023 - 06 - 01)))
            .collect();
        Case {
            transfer,
            holdings,
            in_flight: Vec::new(),
            receipts: Vec::new(),
            exceptions: Vec::new(),
            today: TODAY,
            stage: Stage::Review,
        }
    }

    fn input(&self) -> PolicyInput<'_> {
        PolicyInput {
            transfer: &self.transfer,
            source_holdings: &self.holdings,
            in_flight: &self.in_flight,
            source_receipts: &self.receipts,
            exceptions: &self.exceptions,
            today: self.today,
            stage: self.stage,
        }
    }

    fn run(&self, rule: Rule) -> Vec<Finding> {
        rule(&self.input(), &Profiles::default_shipped())
    }

    fn run_with(&self, rule: Rule, profiles: &Profiles) -> Vec<Finding> {
        rule(&self.input(), profiles)
    }
}

fn with_override(text: &str) -> Profiles {
    Profiles::from_toml_with_overrides(SHIPPED_PROFILES, Some(text)).expect("valid override")
}

/// (rule id, side, severity, message) of each finding, for exact comparison.
fn summary(findings: &[Finding]) -> Vec<(&str, Side, Severity, &str)> {
    findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.side, f.severity, f.message.as_str()))
        .collect()
}

/// Each message starts with the citation it carries.
fn assert_cited(findings: &[Finding]) {
    for f in findings {
        assert!(
            f.message.starts_with(&format!("{}: ", f.citation)),
            "{f:?} does not start with its citation"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// evaluate

#[test]
fn clean_arin_to_ripe_transfer_has_no_blocking_findings() {
    // A /22 cut from a /20 the source has held for three years.
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.holdings = vec![holding(
        "64.32.0.0/20",
        Rir::Arin,
        OrgId(1),
        date!(2023 - 05 - 15),
    )];
    for stage in [Stage::Filing, Stage::Review, Stage::Finalization] {
        case.stage = stage;
        let findings = evaluate(&case.input(), &Profiles::default_shipped());
        assert!(
            findings.iter().all(|f| !f.is_blocking()),
            "{stage:?}: {findings:#?}"
        );
        assert_eq!(findings, Vec::new(), "{stage:?}");
    }
}

#[test]
fn evaluate_runs_rules_in_a_stable_order() {
    let ids: Vec<&str> = RULES.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        [
            "source.holder",
            "both.in_flight",
            "both.minimum_size",
            "source.holding_period",
            "source.restricted_space",
            "both.registry_pair",
            "both.special_purpose",
            "recipient.membership",
            "source.membership",
            "recipient.need",
            "both.documents",
            "both.distinct_orgs",
        ]
    );

    // Everything wrong at once: findings come in rule order.
    let mut case = Case::new(Rir::Arin, Rir::Afrinic, &["10.0.0.0/25"]);
    case.holdings.clear();
    case.transfer.recipient.id = OrgId(1);
    case.transfer.recipient.membership = Membership::Suspended;
    case.transfer.source.registry = Rir::Afrinic;
    case.transfer.source.membership = Membership::Suspended;
    case.transfer.recipient.registry = Rir::Arin;
    case.transfer.need = None;
    case.transfer.documents.clear();
    case.in_flight = vec![InFlightClaim {
        reference: "XFER-7".to_owned(),
        range: block("10.0.0.0/24"),
    }];
    let findings = evaluate(&case.input(), &Profiles::default_shipped());
    assert_cited(&findings);
    let order: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|id| ids.iter().position(|r| r == id));
    assert_eq!(order, sorted);
    for id in ids {
        if id == "source.holding_period" || id == "source.restricted_space" {
            continue; // no holding to measure
        }
        assert!(order.contains(&id), "{id} missing from {order:?}");
    }
    assert_eq!(
        evaluate(&case.input(), &Profiles::default_shipped()),
        findings
    );
}

// ---------------------------------------------------------------------------------------------
// source.holder

#[test]
fn holder_passes_when_one_holding_contains_the_block() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.holdings = vec![holding(
        "64.32.0.0/20",
        Rir::Arin,
        OrgId(1),
        date!(2020 - 01 - 01),
    )];
    assert_eq!(case.run(rules::source_holder), Vec::new());
}

#[test]
fn holder_blocks_unheld_space() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.holdings.clear();
    assert_eq!(
        summary(&case.run(rules::source_holder)),
        [(
            "source.holder",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.3, 8.4: 64.32.4.0/22 does not lie within one holding of Source Org at \
             ARIN: no registry holds it"
        )]
    );
}

#[test]
fn holder_names_someone_else_who_holds_the_block() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.holdings = vec![holding(
        "64.32.0.0/20",
        Rir::Arin,
        OrgId(42),
        date!(2020 - 01 - 01),
    )];
    let findings = case.run(rules::source_holder);
    assert_eq!(
        summary(&findings),
        [(
            "source.holder",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.3, 8.4: 64.32.4.0/22 does not lie within one holding of Source Org at \
             ARIN: 64.32.0.0/20 is held by organisation #42 at ARIN"
        )]
    );
    assert_eq!(findings[0].citation, "ARIN NRPM 8.3, 8.4");
}

#[test]
fn holder_blocks_a_block_spanning_two_holdings_or_the_wrong_registry() {
    let mut case = Case::new(Rir::RipeNcc, Rir::RipeNcc, &["185.10.0.0/22"]);
    case.holdings = vec![
        holding(
            "185.10.0.0/23",
            Rir::RipeNcc,
            OrgId(1),
            date!(2020 - 01 - 01),
        ),
        holding(
            "185.10.2.0/23",
            Rir::RipeNcc,
            OrgId(1),
            date!(2020 - 01 - 01),
        ),
    ];
    assert_eq!(
        case.run(rules::source_holder)[0].message,
        "RIPE NCC ripe-807 §2: 185.10.0.0/22 does not lie within one holding of Source Org at \
         RIPE NCC: 185.10.0.0/23 is held by Source Org at RIPE NCC; 185.10.2.0/23 is held by \
         Source Org at RIPE NCC"
    );

    // The source holds it, but at another registry than the one it transfers from.
    case.holdings = vec![holding(
        "185.10.0.0/22",
        Rir::Apnic,
        OrgId(1),
        date!(2020 - 01 - 01),
    )];
    assert_eq!(
        case.run(rules::source_holder)[0].message,
        "RIPE NCC ripe-807 §2: 185.10.0.0/22 does not lie within one holding of Source Org at \
         RIPE NCC: 185.10.0.0/22 is held by Source Org at APNIC"
    );
}

// ---------------------------------------------------------------------------------------------
// both.in_flight

#[test]
fn in_flight_ignores_disjoint_claims_and_the_transfer_itself() {
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.in_flight = vec![
        InFlightClaim {
            reference: "XFER-7".to_owned(),
            range: block("64.32.8.0/22"),
        },
        InFlightClaim {
            reference: "XFER-10".to_owned(),
            range: block("64.32.4.0/22"),
        },
    ];
    assert_eq!(case.run(rules::in_flight), Vec::new());
}

#[test]
fn in_flight_blocks_both_sides_naming_the_other_transfer() {
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.in_flight = vec![InFlightClaim {
        reference: "XFER-7".to_owned(),
        range: block("64.32.5.0/24"),
    }];
    assert_eq!(
        summary(&case.run(rules::in_flight)),
        [
            (
                "both.in_flight",
                Side::Source,
                Severity::Blocking,
                "ARIN NRPM 8.3, 8.4: 64.32.4.0/22 overlaps 64.32.5.0/24 of transfer XFER-7, \
                 which is still in flight"
            ),
            (
                "both.in_flight",
                Side::Recipient,
                Severity::Blocking,
                "RIPE NCC ripe-807 §2: 64.32.4.0/22 overlaps 64.32.5.0/24 of transfer XFER-7, \
                 which is still in flight"
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// both.minimum_size

#[test]
fn minimum_size_accepts_a_24() {
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/24"]);
    assert_eq!(case.run(rules::minimum_size), Vec::new());
}

#[test]
fn minimum_size_blocks_a_25() {
    let case = Case::new(Rir::Arin, Rir::Arin, &["198.51.100.0/25"]);
    assert_eq!(
        summary(&case.run(rules::minimum_size)),
        [(
            "both.minimum_size",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.5.3: minimum transfer size is /24, but 198.51.100.0/25 has 128 addresses"
        )]
    );
}

#[test]
fn minimum_size_blocks_a_range_that_splits_into_small_prefixes() {
    let case = Case::new(Rir::Lacnic, Rir::Lacnic, &["200.10.0.128 - 200.10.1.127"]);
    assert_eq!(
        case.run(rules::minimum_size)[0].message,
        "LACNIC Policy Manual 2.3.2.18: minimum transfer size is /24, but 200.10.0.128 - \
         200.10.1.127 includes 200.10.0.128/25, which has 128 addresses"
    );
}

#[test]
fn minimum_size_checks_each_registry_with_its_own_profile() {
    // RIPE NCC's minimum is an unconfirmed default: its finding says so and only warns ...
    let profiles = with_override("[ripencc.minimum_size]\nprefix = \"/23\"\n");
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/24"]);
    let text = "RIPE NCC practice (ripe-807): minimum transfer size is /23, but 64.32.4.0/24 has \
                256 addresses";
    let unconfirmed = format!(
        "{text} (configurable default, not confirmed against the registry's published policy)"
    );
    let findings = case.run_with(rules::minimum_size, &profiles);
    assert_eq!(
        summary(&findings),
        [(
            "both.minimum_size",
            Side::Recipient,
            Severity::Warning,
            unconfirmed.as_str()
        )]
    );
    assert!(!findings[0].confirmed);
    // ... until the operator confirms it in the override file.
    let profiles = with_override("[ripencc.minimum_size]\nprefix = \"/23\"\nconfirmed = true\n");
    assert_eq!(
        summary(&case.run_with(rules::minimum_size, &profiles)),
        [(
            "both.minimum_size",
            Side::Recipient,
            Severity::Blocking,
            text
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// source.holding_period

fn held_since(from: Rir, to: Rir, range: &str, received: Date, origin: HoldingOrigin) -> Case {
    let mut case = Case::new(from, to, &[range]);
    case.holdings[0].received_on = Some(received);
    case.holdings[0].registered_on = Some(received);
    case.holdings[0].origin = origin;
    case
}

#[test]
fn holding_period_passes_after_the_period() {
    let case = held_since(
        Rir::Arin,
        Rir::RipeNcc,
        "64.32.4.0/22",
        date!(2025 - 05 - 01),
        HoldingOrigin::Transferred,
    );
    assert_eq!(case.run(rules::holding_period), Vec::new());

    // Exactly twelve months later is enough.
    let case = held_since(
        Rir::Arin,
        Rir::RipeNcc,
        "64.32.4.0/22",
        date!(2025 - 06 - 01),
        HoldingOrigin::Transferred,
    );
    assert_eq!(case.run(rules::holding_period), Vec::new());
}

const ARIN_HOLD: &str = "ARIN NRPM 8.3, 8.4: Source Org received 64.32.4.0/22 (transferred-in) \
    from ARIN on 2025-12-01; a source may not have received IPv4 space from ARIN in the 12 months \
    before the transfer is approved, so it may transfer only from 2026-12-01";

#[test]
fn holding_period_arin_blocks_unless_the_swap_exception_is_recorded() {
    let mut case = held_since(
        Rir::Arin,
        Rir::RipeNcc,
        "64.32.4.0/22",
        date!(2025 - 12 - 01),
        HoldingOrigin::Transferred,
    );
    let findings = case.run(rules::holding_period);
    let expected = format!(
        "{ARIN_HOLD}; unless ARIN-2020-6 applies (a source that received a smaller block to \
         renumber into may still transfer out its larger block), which a hostmaster records \
         with a reason"
    );
    assert_eq!(
        summary(&findings),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Blocking,
            expected.as_str()
        )]
    );
    assert_eq!(findings[0].exception.as_deref(), Some("ARIN-2020-6"));
    // Filing is not refused: the exception can only be recorded once the transfer is filed.
    case.stage = Stage::Filing;
    assert_eq!(
        case.run(rules::holding_period)[0].severity,
        Severity::Warning
    );
    case.stage = Stage::Review;

    // A recorded exception of another name, or for another rule, changes nothing.
    case.exceptions = vec![RecordedException {
        rule_id: "source.holding_period".into(),
        name: "ARIN-2099-1".into(),
        reason: "x".into(),
    }];
    assert!(case.run(rules::holding_period)[0].is_blocking());

    case.exceptions = vec![RecordedException {
        rule_id: "source.holding_period".into(),
        name: "ARIN-2020-6".into(),
        reason: "renumbered into 64.40.0.0/24 before releasing the /22".into(),
    }];
    let findings = case.run(rules::holding_period);
    let expected = format!(
        "{ARIN_HOLD}; a hostmaster recorded that ARIN-2020-6 applies: renumbered into \
         64.40.0.0/24 before releasing the /22"
    );
    assert_eq!(
        summary(&findings),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Info,
            expected.as_str()
        )]
    );
    assert_eq!(findings[0].exception, None);
}

#[test]
fn holding_period_arin_counts_any_receipt_of_the_source_not_only_the_block() {
    // The block itself was received three years ago ...
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    assert_eq!(case.run(rules::holding_period), Vec::new());
    // ... but ARIN allocated the source another block four months ago, and one seven months ago.
    let mut recent = holding("23.10.0.0/24", Rir::Arin, OrgId(1), date!(2026 - 02 - 01));
    recent.origin = HoldingOrigin::RegistryIssued;
    let older = holding("23.11.0.0/24", Rir::Arin, OrgId(1), date!(2025 - 11 - 01));
    // Receipts of other organisations, from other registries, or of legacy space do not count.
    let other_org = holding("23.12.0.0/24", Rir::Arin, OrgId(7), date!(2026 - 05 - 01));
    let other_registry = holding(
        "185.1.0.0/24",
        Rir::RipeNcc,
        OrgId(1),
        date!(2026 - 05 - 01),
    );
    let mut legacy = holding("23.13.0.0/24", Rir::Arin, OrgId(1), date!(2026 - 05 - 01));
    legacy.origin = HoldingOrigin::Legacy;
    case.receipts = vec![older, recent, other_org, other_registry, legacy];
    assert_eq!(
        summary(&case.run(rules::holding_period))
            .into_iter()
            .map(|(id, side, severity, message)| (
                id,
                side,
                severity,
                message.split(';').next().unwrap().to_owned()
            ))
            .collect::<Vec<_>>(),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.3, 8.4: Source Org received 23.10.0.0/24 (registry-issued) from ARIN on \
             2026-02-01"
                .to_owned()
        )]
    );
    let message = &case.run(rules::holding_period)[0].message;
    assert!(
        message.contains("so it may transfer only from 2027-02-01"),
        "{message}"
    );
    // A receipt received by merger does not count at ARIN (8.2 is out of scope).
    case.receipts[1].origin = HoldingOrigin::MergerAcquisition;
    case.receipts[0].origin = HoldingOrigin::MergerAcquisition;
    assert_eq!(case.run(rules::holding_period), Vec::new());
    // Twelve months after the latest receipt, the source is free again.
    case.receipts[0].origin = HoldingOrigin::Transferred;
    case.today = date!(2026 - 11 - 01);
    assert_eq!(case.run(rules::holding_period), Vec::new());
}

#[test]
fn holding_period_afrinic_any_receipt_blocks_without_exception() {
    let mut case = Case::new(Rir::Afrinic, Rir::Afrinic, &["196.4.160.0/22"]);
    let mut recent = holding("41.1.0.0/24", Rir::Afrinic, OrgId(1), date!(2026 - 01 - 15));
    recent.origin = HoldingOrigin::RegistryIssued;
    case.receipts = vec![recent];
    let findings = case.run(rules::holding_period);
    assert_eq!(
        summary(&findings),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Blocking,
            "AFPUB-2020-GEN-006-D3: Source Org received 41.1.0.0/24 (registry-issued) from \
             AFRINIC on 2026-01-15; a source may not have received IPv4 space from AFRINIC in the \
             12 months before the transfer is approved, so it may transfer only from 2027-01-15"
        )]
    );
    assert_eq!(findings[0].exception, None);
}

#[test]
fn holding_period_ripe_counts_receipt_by_merger() {
    let case = held_since(
        Rir::RipeNcc,
        Rir::RipeNcc,
        "185.10.0.0/22",
        date!(2025 - 01 - 31),
        HoldingOrigin::MergerAcquisition,
    );
    assert_eq!(
        summary(&case.run(rules::holding_period)),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Blocking,
            "RIPE NCC ripe-807 §2.2: Source Org received 185.10.0.0/22 (received by merger or \
             acquisition) on 2025-01-31 and may transfer it only 24 months later, from 2027-01-31"
        )]
    );

    // A further merger may still move it.
    let mut merger = case;
    merger.transfer.kind = TransferType::MergerAcquisition;
    assert_eq!(merger.run(rules::holding_period), Vec::new());
}

#[test]
fn holding_period_arin_ignores_receipt_by_merger() {
    let case = held_since(
        Rir::Arin,
        Rir::Arin,
        "64.32.4.0/22",
        date!(2026 - 05 - 01),
        HoldingOrigin::MergerAcquisition,
    );
    assert_eq!(case.run(rules::holding_period), Vec::new());
}

#[test]
fn holding_period_lacnic_three_years_for_issued_space_and_no_merger_exemption() {
    let case = held_since(
        Rir::Lacnic,
        Rir::Lacnic,
        "200.10.0.0/22",
        date!(2024 - 06 - 02),
        HoldingOrigin::RegistryIssued,
    );
    let findings = case.run(rules::holding_period);
    assert_eq!(
        summary(&findings),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Blocking,
            "LACNIC Policy Manual 2.3.2.18: Source Org received 200.10.0.0/22 (registry-issued) \
             on 2024-06-02 and may transfer it only 36 months later, from 2027-06-02"
        )]
    );
    let mut merger = case;
    merger.transfer.kind = TransferType::MergerAcquisition;
    assert_eq!(merger.run(rules::holding_period), findings);
    // Whether LACNIC counts a receipt by merger is not confirmed: such a finding says so.
    merger.holdings[0].origin = HoldingOrigin::MergerAcquisition;
    merger.holdings[0].received_on = Some(date!(2026 - 01 - 01));
    merger.transfer.kind = TransferType::ResourceTransfer;
    let profiles =
        with_override("[lacnic.holding_period]\ncounts_merger_acquisition_receipt = true\n");
    let findings = merger.run_with(rules::holding_period, &profiles);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(!findings[0].confirmed);

    // Transferred-in space needs one year only.
    let case = held_since(
        Rir::Lacnic,
        Rir::Lacnic,
        "200.10.0.0/22",
        date!(2025 - 05 - 01),
        HoldingOrigin::Transferred,
    );
    assert_eq!(case.run(rules::holding_period), Vec::new());
}

#[test]
fn holding_period_warns_when_the_receipt_date_is_unknown() {
    let mut case = Case::new(Rir::RipeNcc, Rir::Arin, &["185.10.0.0/22"]);
    case.holdings[0].received_on = None;
    assert_eq!(
        summary(&case.run(rules::holding_period)),
        [(
            "source.holding_period",
            Side::Source,
            Severity::Warning,
            "RIPE NCC ripe-807 §2.2: the date Source Org received 185.10.0.0/22 is not recorded, \
             so the 24-month holding period cannot be checked"
        )]
    );
}

#[test]
fn add_months_clamps_to_the_end_of_the_month() {
    assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
    assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
    assert_eq!(add_months(date!(2024 - 02 - 29), 12), date!(2025 - 02 - 28));
    assert_eq!(add_months(date!(2023 - 11 - 15), 38), date!(2027 - 01 - 15));
    assert_eq!(add_months(date!(2023 - 11 - 15), 0), date!(2023 - 11 - 15));
}

// ---------------------------------------------------------------------------------------------
// source.restricted_space

#[test]
fn restricted_apnic_103_is_held_for_five_years_even_by_merger() {
    let mut case = held_since(
        Rir::Apnic,
        Rir::Apnic,
        "103.10.20.0/24",
        date!(2023 - 05 - 01),
        HoldingOrigin::RegistryIssued,
    );
    let expected = [(
        "source.restricted_space",
        Side::Source,
        Severity::Blocking,
        "APNIC prop-116: 103.10.20.0/24 lies in 103.0.0.0/8, 103/8 final-/8 space, which may not \
         be transferred for 60 months after delegation; it was delegated on 2023-05-01, so not \
         before 2028-05-01",
    )];
    assert_eq!(summary(&case.run(rules::restricted_space)), expected);
    case.transfer.kind = TransferType::MergerAcquisition;
    assert_eq!(summary(&case.run(rules::restricted_space)), expected);
}

#[test]
fn restricted_apnic_103_is_free_after_five_years() {
    let case = held_since(
        Rir::Apnic,
        Rir::Arin,
        "103.10.20.0/24",
        date!(2021 - 05 - 01),
        HoldingOrigin::RegistryIssued,
    );
    assert_eq!(case.run(rules::restricted_space), Vec::new());
}

#[test]
fn restricted_arin_waiting_list_space_except_by_merger() {
    let mut case = held_since(
        Rir::Arin,
        Rir::Arin,
        "64.32.4.0/24",
        date!(2023 - 01 - 10),
        HoldingOrigin::WaitingList,
    );
    assert_eq!(
        summary(&case.run(rules::restricted_space)),
        [(
            "source.restricted_space",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 4.1.8, 8.2: 64.32.4.0/24 is waiting-list space, which may not be \
             transferred for 60 months after delegation; it was delegated on 2023-01-10, so not \
             before 2028-01-10"
        )]
    );
    case.transfer.kind = TransferType::MergerAcquisition;
    assert_eq!(case.run(rules::restricted_space), Vec::new());
}

#[test]
fn restricted_arin_reserved_pool_is_never_transferable() {
    // The prefix of the 4.10 pool is not in the reference: an unconfirmed default.
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["23.128.4.0/24"]);
    assert_eq!(
        summary(&case.run(rules::restricted_space)),
        [(
            "source.restricted_space",
            Side::Source,
            Severity::Warning,
            "ARIN NRPM 4.10: 23.128.4.0/24 lies in 23.128.0.0/10, the NRPM 4.10 IPv6-transition \
             reserved pool, which is never transferable (configurable default, not confirmed against the registry's published policy)"
        )]
    );
}

#[test]
fn restricted_prefixes_are_configurable() {
    let profiles = with_override(
        r#"
[[ripencc.restricted]]
prefix = "185.10.0.0/16"
exempt_merger_acquisition = false
description = "the operator's quarantine"
citation = "RIPE NCC operator notice"
"#,
    );
    let case = Case::new(Rir::RipeNcc, Rir::Arin, &["185.10.0.0/22"]);
    assert_eq!(case.run(rules::restricted_space), Vec::new());
    assert_eq!(
        case.run_with(rules::restricted_space, &profiles)[0].message,
        "RIPE NCC operator notice: 185.10.0.0/22 lies in 185.10.0.0/16, the operator's \
         quarantine, which is never transferable"
    );
}

// ---------------------------------------------------------------------------------------------
// both.registry_pair

#[test]
fn registry_pair_allows_the_four_partners_and_intra_rir() {
    let partners = [Rir::Apnic, Rir::Arin, Rir::Lacnic, Rir::RipeNcc];
    for from in partners {
        for to in partners {
            let case = Case::new(from, to, &["64.32.4.0/22"]);
            assert_eq!(case.run(rules::registry_pair), Vec::new(), "{from} -> {to}");
        }
    }
    let case = Case::new(Rir::Afrinic, Rir::Afrinic, &["196.4.160.0/22"]);
    assert_eq!(case.run(rules::registry_pair), Vec::new());
}

#[test]
fn registry_pair_keeps_afrinic_intra_rir_by_default() {
    // Whether AFRINIC processes inter-RIR transfers is not confirmed, nor is ARIN's acceptance
    // of AFRINIC: both findings say so, and neither blocks.
    let case = Case::new(Rir::Arin, Rir::Afrinic, &["64.32.4.0/22"]);
    assert_eq!(
        summary(&case.run(rules::registry_pair)),
        [
            (
                "both.registry_pair",
                Side::Recipient,
                Severity::Warning,
                "AFPUB-2020-GEN-006-D3: AFRINIC takes part in intra-RIR transfers only, so a \
                 transfer from ARIN to AFRINIC is not allowed (configurable default, not confirmed against the registry's published policy)"
            ),
            (
                "both.registry_pair",
                Side::Source,
                Severity::Info,
                "ARIN NRPM 8.4: ARIN lists AFRINIC as an inter-RIR partner (configurable default, not confirmed against the registry's published policy)"
            )
        ]
    );
    // An operator who confirms AFRINIC's flag makes the refusal blocking.
    let profiles = with_override("[afrinic.inter_rir]\nconfirmed = true\n");
    let case = Case::new(Rir::Afrinic, Rir::RipeNcc, &["196.4.160.0/22"]);
    assert_eq!(
        summary(&case.run_with(rules::registry_pair, &profiles))[0],
        (
            "both.registry_pair",
            Side::Source,
            Severity::Blocking,
            "AFPUB-2020-GEN-006-D3: AFRINIC takes part in intra-RIR transfers only, so a \
             transfer from AFRINIC to RIPE NCC is not allowed"
        )
    );
}

#[test]
fn registry_pair_lacnic_does_not_transfer_with_afrinic() {
    let profiles = with_override("[afrinic.inter_rir]\nenabled = true\n");
    for (from, to, block) in [
        (Rir::Lacnic, Rir::Afrinic, "200.10.0.0/22"),
        (Rir::Afrinic, Rir::Lacnic, "196.4.160.0/22"),
    ] {
        let mut case = Case::new(from, to, &[block]);
        case.holdings[0].origin = HoldingOrigin::Legacy;
        let findings = case.run_with(rules::registry_pair, &profiles);
        let lacnic: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.citation.starts_with("LACNIC"))
            .collect();
        assert_eq!(lacnic.len(), 1, "{from} -> {to}: {findings:#?}");
        assert!(lacnic[0].is_blocking());
        assert!(
            lacnic[0]
                .message
                .ends_with("LACNIC has no inter-RIR transfer arrangement with AFRINIC")
        );
    }
}

#[test]
fn registry_pair_afrinic_flag_lets_only_legacy_and_transferred_in_space_leave() {
    let profiles = with_override(
        "[afrinic.inter_rir]\nenabled = true\n[ripencc.inter_rir]\nunconfirmed_partners = []\n\
         [arin.inter_rir]\nunconfirmed_partners = []\n",
    );
    let mut case = Case::new(Rir::Afrinic, Rir::RipeNcc, &["196.4.160.0/22"]);
    assert_eq!(case.run_with(rules::registry_pair, &profiles), Vec::new());
    case.holdings[0].origin = HoldingOrigin::Legacy;
    assert_eq!(case.run_with(rules::registry_pair, &profiles), Vec::new());
    case.holdings[0].origin = HoldingOrigin::RegistryIssued;
    assert_eq!(
        summary(&case.run_with(rules::registry_pair, &profiles)),
        [(
            "both.registry_pair",
            Side::Source,
            Severity::Blocking,
            "AFPUB-2020-GEN-006-D3: only legacy or transferred-in space may leave AFRINIC, but \
             196.4.160.0/22 is registry-issued"
        )]
    );
    // Inbound to AFRINIC has no origin condition.
    let case = Case::new(Rir::Arin, Rir::Afrinic, &["64.32.4.0/22"]);
    assert_eq!(case.run_with(rules::registry_pair, &profiles), Vec::new());
}

#[test]
fn registry_pair_needs_each_side_to_list_the_other() {
    let profiles = with_override("[ripencc.inter_rir]\npartners = [\"APNIC\", \"ARIN\"]\n");
    let case = Case::new(Rir::Lacnic, Rir::RipeNcc, &["200.10.0.0/22"]);
    assert_eq!(
        summary(&case.run_with(rules::registry_pair, &profiles)),
        [(
            "both.registry_pair",
            Side::Recipient,
            Severity::Blocking,
            "RIPE NCC ripe-807 §3: RIPE NCC has no inter-RIR transfer arrangement with LACNIC"
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// both.special_purpose

#[test]
fn special_purpose_passes_ordinary_unicast() {
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    assert_eq!(case.run(rules::special_purpose), Vec::new());
}

#[test]
fn special_purpose_blocks_private_space_on_each_side() {
    let case = Case::new(Rir::Arin, Rir::Arin, &["10.1.0.0/24"]);
    assert_eq!(
        summary(&case.run(rules::special_purpose)),
        [(
            "both.special_purpose",
            Side::Source,
            Severity::Blocking,
            "RFC 6890: 10.1.0.0/24 overlaps 10.0.0.0/8 (Private-Use, RFC 1918); special-purpose \
             addresses are never transferable"
        )]
    );
    let case = Case::new(Rir::Arin, Rir::Apnic, &["192.0.2.0/24"]);
    let findings = case.run(rules::special_purpose);
    assert_eq!(
        findings.iter().map(|f| f.side).collect::<Vec<_>>(),
        [Side::Source, Side::Recipient]
    );
    assert_eq!(
        findings[1].message,
        "RFC 6890: 192.0.2.0/24 overlaps 192.0.2.0/24 (Documentation (TEST-NET-1), RFC 5737); \
         special-purpose addresses are never transferable"
    );
    assert_eq!(findings[1].citation, "RFC 6890");
}

// ---------------------------------------------------------------------------------------------
// recipient.membership

#[test]
fn membership_passes_good_standing() {
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    assert_eq!(case.run(rules::membership), Vec::new());
}

#[test]
fn membership_blocks_suspended_and_non_members() {
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.transfer.recipient.membership = Membership::Suspended;
    assert_eq!(
        summary(&case.run(rules::membership)),
        [(
            "recipient.membership",
            Side::Recipient,
            Severity::Blocking,
            "RIPE NCC ripe-807 §2: the recipient must be a member in good standing of RIPE NCC, \
             but Recipient Org is suspended"
        )]
    );
    case.transfer.recipient.membership = Membership::NonMember;
    assert_eq!(
        case.run(rules::membership)[0].message,
        "RIPE NCC ripe-807 §2: the recipient must be a member in good standing of RIPE NCC, but \
         Recipient Org is not a member"
    );
}

// ---------------------------------------------------------------------------------------------
// recipient.need

#[test]
fn need_passes_a_sufficient_plan() {
    for (from, to) in [
        (Rir::Arin, Rir::Arin),
        (Rir::RipeNcc, Rir::Apnic),
        (Rir::Arin, Rir::RipeNcc),
    ] {
        let case = Case::new(from, to, &["64.32.4.0/22"]);
        assert_eq!(case.run(rules::need), Vec::new(), "{from} -> {to}");
    }
}

#[test]
fn need_missing_is_info_at_filing_and_blocking_at_review() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.transfer.need = None;
    case.stage = Stage::Filing;
    assert_eq!(
        summary(&case.run(rules::need)),
        [(
            "recipient.need",
            Side::Recipient,
            Severity::Info,
            "ARIN NRPM 8.5.5: Recipient Org has not yet given a plan to use at least 50% of the \
             space within 24 months; the recipient will be asked when it accepts"
        )]
    );
    case.stage = Stage::Review;
    assert_eq!(
        summary(&case.run(rules::need)),
        [(
            "recipient.need",
            Side::Recipient,
            Severity::Blocking,
            "ARIN NRPM 8.5.5: Recipient Org has not given a plan to use at least 50% of the space \
             within 24 months"
        )]
    );
    // Blank text is no justification.
    case.transfer.need = Some(NeedJustification::default());
    assert_eq!(case.run(rules::need)[0].severity, Severity::Blocking);
}

#[test]
fn need_short_plan_is_a_warning_at_filing_and_blocking_later() {
    let mut case = Case::new(Rir::RipeNcc, Rir::Apnic, &["1.178.112.0/22"]);
    case.transfer.need = Some(plan(36, 30));
    let text = "APNIC-127 §11 (prop-104): Recipient Org's justification falls short of a plan to \
                use at least 50% of the space within 24 months: it spans 36 months, more than \
                24; it plans to use 30%, less than 50%";
    // APNIC's 50% is a default: the shortfall is labelled and only warns ...
    let unconfirmed = format!(
        "{text} (configurable default, not confirmed against the registry's published policy)"
    );
    assert_eq!(
        summary(&case.run(rules::need)),
        [(
            "recipient.need",
            Side::Recipient,
            Severity::Warning,
            unconfirmed.as_str()
        )]
    );
    // ... blocking at review once the operator confirms it, a warning at filing.
    let profiles = with_override("[apnic.need]\nconfirmed = true\n");
    assert_eq!(
        summary(&case.run_with(rules::need, &profiles)),
        [("recipient.need", Side::Recipient, Severity::Blocking, text)]
    );
    case.stage = Stage::Filing;
    assert_eq!(
        summary(&case.run_with(rules::need, &profiles)),
        [("recipient.need", Side::Recipient, Severity::Warning, text)]
    );
}

#[test]
fn need_arin_first_24_needs_no_justification() {
    let mut case = Case::new(Rir::RipeNcc, Rir::Arin, &["185.10.0.0/24"]);
    case.transfer.need = None;
    assert_eq!(
        summary(&case.run(rules::need)),
        [(
            "recipient.need",
            Side::Recipient,
            Severity::Info,
            "ARIN NRPM 8.5.4: an organisation without direct ARIN assignments or allocations \
             qualifies for a /24 without further justification; confirm that Recipient Org holds \
             none, or ask for a plan to use at least 50% of the space within 24 months (ARIN \
             NRPM 8.5.5)"
        )]
    );
}

#[test]
fn need_ripe_asks_a_five_year_plan_only_from_needs_based_sources() {
    let mut case = Case::new(Rir::RipeNcc, Rir::RipeNcc, &["185.10.0.0/22"]);
    case.transfer.need = None;
    assert_eq!(case.run(rules::need), Vec::new());

    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.transfer.need = None;
    assert_eq!(
        summary(&case.run(rules::need)),
        [(
            "recipient.need",
            Side::Recipient,
            Severity::Blocking,
            "RIPE NCC ripe-807 §3.2: Recipient Org has not given a plan to use at least 50% of \
             the space within 60 months"
        )]
    );
    // A five-year plan is enough for RIPE NCC, though ARIN itself would want 24 months.
    case.transfer.need = Some(plan(60, 50));
    assert_eq!(case.run(rules::need), Vec::new());
}

#[test]
fn need_lacnic_twelve_months_and_afrinic_detailed_plan() {
    let case = Case::new(Rir::Arin, Rir::Lacnic, &["64.32.4.0/22"]);
    assert_eq!(
        case.run(rules::need)[0].message,
        "LACNIC Policy Manual 2.3.2.18: Recipient Org's justification falls short of a plan for \
         the space's use within 12 months: it spans 24 months, more than 12 (configurable default, not confirmed against the registry's published policy)"
    );

    let mut case = Case::new(Rir::Afrinic, Rir::Afrinic, &["196.4.160.0/22"]);
    case.transfer.need = Some(NeedJustification {
        text: "usage plan attached".to_owned(),
        ..NeedJustification::default()
    });
    assert_eq!(case.run(rules::need), Vec::new());
    case.transfer.need = None;
    assert_eq!(
        case.run(rules::need)[0].message,
        "AFPUB-2020-GEN-006-D3 §3.6: Recipient Org has not given a detailed plan for the space's \
         use"
    );
}

#[test]
fn need_merger_is_exempt() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.transfer.need = None;
    case.transfer.kind = TransferType::MergerAcquisition;
    assert_eq!(case.run(rules::need), Vec::new());
}

// ---------------------------------------------------------------------------------------------
// both.documents

#[test]
fn documents_pass_when_on_file() {
    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.stage = Stage::Finalization;
    assert_eq!(case.run(rules::documents), Vec::new());
}

#[test]
fn documents_missing_warn_before_and_block_at_finalization() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.transfer.documents.clear();
    assert_eq!(
        summary(&case.run(rules::documents)),
        [(
            "both.documents",
            Side::Source,
            Severity::Warning,
            "ARIN NRPM 8.3, 8.4: the signed transfer agreement and the company registration are \
             missing and needed before finalization"
        )]
    );

    let mut case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/22"]);
    case.transfer.documents = vec![DocumentKind::TransferAgreement, DocumentKind::Other];
    case.stage = Stage::Finalization;
    // Each registry's rule speaks for itself ...
    assert_eq!(
        summary(&case.run(rules::documents)),
        [
            (
                "both.documents",
                Side::Source,
                Severity::Blocking,
                "ARIN NRPM 8.3, 8.4: the company registration is missing; the transfer cannot be \
                 finalized without it"
            ),
            (
                "both.documents",
                Side::Recipient,
                Severity::Blocking,
                "RIPE NCC ripe-816: the company registration is missing; the transfer cannot be \
                 finalized without it"
            ),
        ]
    );
    // ... and evaluate reports the same conclusion once, citing both, for both reviews.
    let findings: Vec<Finding> = evaluate(&case.input(), &Profiles::default_shipped())
        .into_iter()
        .filter(|f| f.rule_id == "both.documents")
        .collect();
    assert_eq!(
        summary(&findings),
        [(
            "both.documents",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.3, 8.4; RIPE NCC ripe-816: the company registration is missing; the \
             transfer cannot be finalized without it"
        )]
    );
    assert!(findings[0].shared);
    assert!(findings[0].concerns(Side::Source) && findings[0].concerns(Side::Recipient));
    assert_cited(&findings);
}

#[test]
fn both_rules_report_once_per_inter_rir_transfer() {
    let mut case = Case::new(Rir::Arin, Rir::Apnic, &["10.0.0.0/25"]);
    case.transfer.recipient.id = OrgId(1);
    case.in_flight = vec![InFlightClaim {
        reference: "XFER-7".to_owned(),
        range: block("10.0.0.0/24"),
    }];
    let findings = evaluate(&case.input(), &Profiles::default_shipped());
    for id in [
        "both.in_flight",
        "both.minimum_size",
        "both.special_purpose",
        "both.distinct_orgs",
    ] {
        let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule_id == id).collect();
        assert_eq!(of_rule.len(), 1, "{id}: {of_rule:#?}");
        assert!(of_rule[0].shared, "{id}");
    }
    let special = findings
        .iter()
        .find(|f| f.rule_id == "both.special_purpose")
        .unwrap();
    // One citation when both registries cite the same text.
    assert_eq!(special.citation, "RFC 6890");
    let minimum = findings
        .iter()
        .find(|f| f.rule_id == "both.minimum_size")
        .unwrap();
    assert_eq!(
        minimum.message,
        "ARIN NRPM 8.5.3; APNIC-127 §11 (prop-050): minimum transfer size is /24, but \
         10.0.0.0/25 has 128 addresses"
    );
    // Different conclusions stay apart: RIPE NCC's minimum is unconfirmed, ARIN's is not.
    let case = Case::new(Rir::Arin, Rir::RipeNcc, &["64.32.4.0/25"]);
    let findings = evaluate(&case.input(), &Profiles::default_shipped());
    let minimum: Vec<(Side, Severity, bool)> = findings
        .iter()
        .filter(|f| f.rule_id == "both.minimum_size")
        .map(|f| (f.side, f.severity, f.shared))
        .collect();
    assert_eq!(
        minimum,
        [
            (Side::Source, Severity::Blocking, false),
            (Side::Recipient, Severity::Warning, false)
        ]
    );
    // Within one registry nothing is shared.
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["10.0.0.0/25"]);
    case.transfer.recipient.id = OrgId(1);
    assert!(
        evaluate(&case.input(), &Profiles::default_shipped())
            .iter()
            .all(|f| !f.shared && f.side == Side::Source)
    );
}

#[test]
fn source_membership_is_checked_where_the_registry_asks_it_of_both_parties() {
    let mut case = Case::new(Rir::Afrinic, Rir::Afrinic, &["196.4.160.0/22"]);
    assert_eq!(case.run(rules::source_membership), Vec::new());
    case.transfer.source.membership = Membership::Suspended;
    assert_eq!(
        summary(&case.run(rules::source_membership)),
        [(
            "source.membership",
            Side::Source,
            Severity::Blocking,
            "AFPUB-2020-GEN-006-D3: the source must be a member in good standing of AFRINIC \
             unless it transfers legacy space only, but Source Org is suspended"
        )]
    );
    // A legacy holder that is not a member may transfer its legacy space ...
    case.transfer.source.membership = Membership::NonMember;
    case.holdings[0].origin = HoldingOrigin::Legacy;
    assert_eq!(case.run(rules::source_membership), Vec::new());
    // ... but not registry-issued space.
    case.holdings[0].origin = HoldingOrigin::RegistryIssued;
    assert_eq!(case.run(rules::source_membership).len(), 1);
    // Other registries do not ask it of the source.
    let mut case = Case::new(Rir::Arin, Rir::Afrinic, &["64.32.4.0/22"]);
    case.transfer.source.membership = Membership::NonMember;
    assert_eq!(case.run(rules::source_membership), Vec::new());
}

#[test]
fn afrinic_rules_cite_the_policy_that_replaced_cpm_5_7() {
    let profiles = Profiles::default_shipped();
    let p = profiles.get(Rir::Afrinic);
    for citation in [
        &p.transfer_policy,
        &p.minimum_size.citation,
        &p.holding_period.citation,
        &p.inter_rir.citation,
        &p.membership.citation,
        &p.need.citation,
    ] {
        assert!(!citation.contains("CPM 5.7"), "{citation}");
        assert!(citation.contains("AFPUB-2020-GEN-006-D3"), "{citation}");
    }
    assert!(
        !profiles
            .get(Rir::Lacnic)
            .inter_rir
            .partners
            .contains(&Rir::Afrinic)
    );
}

#[test]
fn unconfirmed_values_are_listed_and_confirming_one_removes_it() {
    let shipped = unconfirmed(&Profiles::default_shipped());
    let keys: Vec<(Rir, &str)> = shipped
        .iter()
        .map(|u| (u.registry, u.key.as_str()))
        .collect();
    for expected in [
        (Rir::Arin, "restricted[1]"),
        (Rir::Arin, "inter_rir.unconfirmed_partners"),
        (Rir::Arin, "fees.items[1]"),
        (Rir::RipeNcc, "minimum_size"),
        (Rir::RipeNcc, "fees"),
        (Rir::Apnic, "holding_period"),
        (Rir::Apnic, "need"),
        (Rir::Lacnic, "need"),
        (Rir::Lacnic, "holding_period.merger_acquisition_confirmed"),
        (Rir::Afrinic, "minimum_size"),
        (Rir::Afrinic, "inter_rir.enabled"),
        (Rir::Afrinic, "fees"),
    ] {
        assert!(keys.contains(&expected), "{expected:?} not in {keys:?}");
    }
    assert!(!keys.contains(&(Rir::Arin, "minimum_size")));
    let confirmed = unconfirmed(&with_override("[ripencc.minimum_size]\nconfirmed = true\n"));
    assert_eq!(confirmed.len(), shipped.len() - 1);
}

// ---------------------------------------------------------------------------------------------
// both.distinct_orgs

#[test]
fn distinct_orgs_pass() {
    let case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    assert_eq!(case.run(rules::distinct_orgs), Vec::new());
}

#[test]
fn distinct_orgs_block_a_transfer_to_oneself() {
    let mut case = Case::new(Rir::Arin, Rir::Arin, &["64.32.4.0/22"]);
    case.transfer.recipient = case.transfer.source.clone();
    assert_eq!(
        summary(&case.run(rules::distinct_orgs)),
        [(
            "both.distinct_orgs",
            Side::Source,
            Severity::Blocking,
            "ARIN NRPM 8.3, 8.4: source and recipient are the same organisation (Source Org, #1)"
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// profiles

#[test]
fn shipped_profiles_load_and_cover_every_registry() {
    let profiles = Profiles::default_shipped();
    for rir in Rir::ALL {
        let profile = profiles.get(rir);
        assert_eq!(profile.minimum_size.prefix.to_string(), "/24", "{rir}");
        assert!(!profile.transfer_policy.is_empty());
    }
    assert_eq!(profiles.get(Rir::RipeNcc).holding_period.months, 24);
    assert_eq!(
        profiles
            .get(Rir::Lacnic)
            .holding_period
            .registry_issued_months,
        Some(36)
    );
    assert!(!profiles.get(Rir::Afrinic).inter_rir.enabled);
}

#[test]
fn operator_override_changes_only_the_named_fields() {
    let profiles = with_override("[ripencc.minimum_size]\nprefix = \"/22\"\n");
    let shipped = Profiles::default_shipped();
    assert_eq!(profiles.get(Rir::RipeNcc).minimum_size.prefix.bits(), 22);
    // The sibling key of the overridden table is kept.
    assert_eq!(
        profiles.get(Rir::RipeNcc).minimum_size.citation,
        shipped.get(Rir::RipeNcc).minimum_size.citation
    );
    assert_eq!(profiles.get(Rir::Arin), shipped.get(Rir::Arin));
}

#[test]
fn operator_override_rejects_a_misspelt_key() {
    let error = Profiles::from_toml_with_overrides(
        SHIPPED_PROFILES,
        Some("[ripencc.minimum_size]\nprefx = \"/22\"\n"),
    )
    .unwrap_err();
    assert!(matches!(error, ProfileError::Override(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("operator policy override rejected: "),
        "{message}"
    );
    assert!(message.contains("unknown field `prefx`"), "{message}");
    assert!(message.contains("ripencc.minimum_size"), "{message}");

    let error = Profiles::from_toml_with_overrides(
        SHIPPED_PROFILES,
        Some("[ripe.need]\nrequired = true\n"),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("unknown field `ripe`"),
        "{error}"
    );
}

#[test]
fn operator_override_rejects_bad_values_and_bad_toml() {
    let error = Profiles::from_toml_with_overrides(
        SHIPPED_PROFILES,
        Some("[arin.minimum_size]\nprefix = \"24\"\n"),
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("\"24\" is not a prefix length"),
        "{message}"
    );
    assert!(message.contains("arin.minimum_size.prefix"), "{message}");

    let error = Profiles::from_toml_with_overrides(
        SHIPPED_PROFILES,
        Some("[arin.holding_period]\nexempt_merger_acquisition = \"yes\"\n"),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("arin.holding_period.exempt_merger_acquisition"),
        "{error}"
    );

    let error = Profiles::from_toml_with_overrides(SHIPPED_PROFILES, Some("[arin\n")).unwrap_err();
    assert!(
        matches!(error, ProfileError::OverrideSyntax(_)),
        "{error:?}"
    );

    let error = Profiles::from_toml_with_overrides("[arin]\n", None).unwrap_err();
    assert!(matches!(error, ProfileError::Shipped(_)), "{error:?}");
}
