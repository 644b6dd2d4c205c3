//! The policy rules. Each reads the transfer's facts and the registries' profiles and returns
//! findings whose message starts with the policy it applies ("ARIN NRPM 8.5.3: ...").

use time::{Date, Month};

use super::profile::Profiles;
use super::{PolicyInput, Stage};
use crate::domain::format::group_thousands;
use crate::domain::transfer::{DocumentKind, HoldingFacts, HoldingOrigin, Membership, OrgId};
use crate::domain::{Finding, Ipv4Range, Severity, Side, TransferFacts, TransferType};

/// The stable ids of the rules, as stored with findings and overrides.
pub mod rule_id {
    pub const SOURCE_HOLDER: &str = "source.holder";
    pub const IN_FLIGHT: &str = "both.in_flight";
    pub const MINIMUM_SIZE: &str = "both.minimum_size";
    pub const HOLDING_PERIOD: &str = "source.holding_period";
    pub const RESTRICTED_SPACE: &str = "source.restricted_space";
    pub const REGISTRY_PAIR: &str = "both.registry_pair";
    pub const SPECIAL_PURPOSE: &str = "both.special_purpose";
    pub const MEMBERSHIP: &str = "recipient.membership";
    pub const NEED: &str = "recipient.need";
    pub const DOCUMENTS: &str = "both.documents";
    pub const DISTINCT_ORGS: &str = "both.distinct_orgs";
}

/// IANA's special-purpose registry is defined by this RFC, whatever entry a block touches.
const SPECIAL_PURPOSE_CITATION: &str = "RFC 6890";

fn finding(rule_id: &str, side: Side, severity: Severity, citation: &str, text: String) -> Finding {
    Finding {
        rule_id: rule_id.to_owned(),
        side,
        severity,
        message: format!("{citation}: {text}"),
        citation: citation.to_owned(),
    }
}

/// The sides a `both.` rule reports for: one per registry involved.
fn sides(transfer: &TransferFacts) -> &'static [Side] {
    if transfer.is_inter_rir() {
        &[Side::Source, Side::Recipient]
    } else {
        &[Side::Source]
    }
}

/// The source organisation's holding at the source registry that contains the whole block.
fn holding_of<'a>(input: &PolicyInput<'a>, block: &Ipv4Range) -> Option<&'a HoldingFacts> {
    let source = &input.transfer.source;
    input.source_holdings.iter().find(|holding| {
        holding.org_id == source.id
            && holding.registry == source.registry
            && holding.range.contains(block)
    })
}

fn org_label(transfer: &TransferFacts, org_id: OrgId) -> String {
    if org_id == transfer.source.id {
        transfer.source.name.clone()
    } else if org_id == transfer.recipient.id {
        transfer.recipient.name.clone()
    } else {
        format!("organisation #{org_id}")
    }
}

fn origin_phrase(origin: HoldingOrigin) -> &'static str {
    match origin {
        HoldingOrigin::RegistryIssued => "registry-issued",
        HoldingOrigin::WaitingList => "waiting-list",
        HoldingOrigin::Transferred => "transferred-in",
        HoldingOrigin::MergerAcquisition => "received by merger or acquisition",
        HoldingOrigin::Legacy => "legacy",
    }
}

fn document_phrase(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::TransferAgreement => "the signed transfer agreement",
        DocumentKind::CompanyRegistration => "the company registration",
        DocumentKind::Other => "a supporting document",
    }
}

/// "a", "a and b", "a, b and c" (or with "or").
fn join_words(items: &[&str], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// `date` plus whole calendar months; the 31st becomes the month's last day when needed.
pub(crate) fn add_months(date: Date, months: u32) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month()) - 1);
    let index = index + i64::from(months);
    let Ok(year) = i32::try_from(index.div_euclid(12)) else {
        return Date::MAX;
    };
    // rem_euclid(12) is 0..=11, so the month number is 1..=12.
    let month = Month::try_from(index.rem_euclid(12) as u8 + 1).unwrap_or(Month::December);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX)
}

/// `source.holder`: each block lies within one holding of the source at the source registry.
pub(super) fn source_holder(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let registry = transfer.source_rir();
    let citation = &profiles.get(registry).transfer_policy;
    transfer
        .blocks
        .iter()
        .filter(|block| holding_of(input, block).is_none())
        .map(|block| {
            let holders: Vec<String> = input
                .source_holdings
                .iter()
                .filter(|holding| holding.range.overlaps(block))
                .map(|holding| {
                    format!(
                        "{} is held by {} at {}",
                        holding.range,
                        org_label(transfer, holding.org_id),
                        holding.registry
                    )
                })
                .collect();
            let detail = if holders.is_empty() {
                "no registry holds it".to_owned()
            } else {
                holders.join("; ")
            };
            finding(
                rule_id::SOURCE_HOLDER,
                Side::Source,
                Severity::Blocking,
                citation,
                format!(
                    "{block} does not lie within one holding of {} at {registry}: {detail}",
                    transfer.source.name
                ),
            )
        })
        .collect()
}

/// `both.in_flight`: no block overlaps a block of another transfer still in flight.
pub(super) fn in_flight(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let mut findings = Vec::new();
    for &side in sides(transfer) {
        let citation = &profiles.get(transfer.registry_of(side)).transfer_policy;
        for block in &transfer.blocks {
            for claim in input.in_flight {
                // The caller may pass this transfer's own claims; they are no conflict.
                if claim.reference == transfer.reference || !claim.range.overlaps(block) {
                    continue;
                }
                findings.push(finding(
                    rule_id::IN_FLIGHT,
                    side,
                    Severity::Blocking,
                    citation,
                    format!(
                        "{block} overlaps {} of transfer {}, which is still in flight",
                        claim.range, claim.reference
                    ),
                ));
            }
        }
    }
    findings
}

/// `both.minimum_size`: every block is at least the registry's minimum, on each side.
pub(super) fn minimum_size(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let mut findings = Vec::new();
    for &side in sides(transfer) {
        let rule = &profiles.get(transfer.registry_of(side)).minimum_size;
        let minimum = rule.prefix;
        for block in &transfer.blocks {
            let shortfall = if block.size() < minimum.addresses() {
                Some(format!(
                    "{block} has {} addresses",
                    group_thousands(block.size())
                ))
            } else {
                // A range of the right size can still be cut into smaller prefixes.
                block
                    .to_cidrs()
                    .into_iter()
                    .find(|net| net.prefix_len() > minimum.bits())
                    .map(|net| {
                        let piece = Ipv4Range::from_net(net);
                        format!(
                            "{block} includes {net}, which has {} addresses",
                            group_thousands(piece.size())
                        )
                    })
            };
            if let Some(shortfall) = shortfall {
                findings.push(finding(
                    rule_id::MINIMUM_SIZE,
                    side,
                    Severity::Blocking,
                    &rule.citation,
                    format!("minimum transfer size is {minimum}, but {shortfall}"),
                ));
            }
        }
    }
    findings
}

/// `source.holding_period`: the source has held each block long enough.
pub(super) fn holding_period(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let registry = transfer.source_rir();
    let rule = &profiles.get(registry).holding_period;
    if transfer.kind == TransferType::MergerAcquisition && rule.exempt_merger_acquisition {
        return Vec::new();
    }
    let source = &transfer.source.name;
    let mut findings = Vec::new();
    for block in &transfer.blocks {
        // Without a holding, source.holder already blocks.
        let Some(holding) = holding_of(input, block) else {
            continue;
        };
        let months = match holding.origin {
            HoldingOrigin::RegistryIssued | HoldingOrigin::WaitingList => {
                rule.registry_issued_months.unwrap_or(rule.months)
            }
            HoldingOrigin::MergerAcquisition if !rule.counts_merger_acquisition_receipt => 0,
            _ => rule.months,
        };
        if months == 0 {
            continue;
        }
        // For space the holder got first-hand, registration and receipt are the same day.
        let received = match holding.origin {
            HoldingOrigin::Transferred | HoldingOrigin::MergerAcquisition => holding.received_on,
            _ => holding.received_on.or(holding.registered_on),
        };
        let Some(received) = received else {
            findings.push(finding(
                rule_id::HOLDING_PERIOD,
                Side::Source,
                Severity::Warning,
                &rule.citation,
                format!(
                    "the date {source} received {block} is not recorded, so the {months}-month \
                     holding period cannot be checked"
                ),
            ));
            continue;
        };
        let eligible = add_months(received, months);
        if input.today >= eligible {
            continue;
        }
        let mut text = format!(
            "{source} received {block} ({}) on {received} and may transfer it only {months} \
             months later, from {eligible}",
            origin_phrase(holding.origin)
        );
        let severity = match &rule.exception {
            Some(exception) => {
                text.push_str("; ");
                text.push_str(exception);
                Severity::Warning
            }
            None => Severity::Blocking,
        };
        findings.push(finding(
            rule_id::HOLDING_PERIOD,
            Side::Source,
            severity,
            &rule.citation,
            text,
        ));
    }
    findings
}

/// `source.restricted_space`: no block is space the source registry keeps from transfer.
pub(super) fn restricted_space(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let merger = transfer.kind == TransferType::MergerAcquisition;
    let mut findings = Vec::new();
    for block in &transfer.blocks {
        let holding = holding_of(input, block);
        for restriction in &profiles.get(transfer.source_rir()).restricted {
            if restriction.prefix.is_none() && restriction.origin.is_none() {
                continue;
            }
            let in_prefix = restriction
                .prefix
                .is_none_or(|net| Ipv4Range::from_net(net).overlaps(block));
            let of_origin = restriction
                .origin
                .is_none_or(|origin| holding.is_some_and(|h| h.origin == origin));
            if !in_prefix || !of_origin || (merger && restriction.exempt_merger_acquisition) {
                continue;
            }
            let subject = match restriction.prefix {
                Some(net) => format!("{block} lies in {net}, {}", restriction.description),
                None => format!("{block} is {}", restriction.description),
            };
            let blocked = |text: String, severity| {
                finding(
                    rule_id::RESTRICTED_SPACE,
                    Side::Source,
                    severity,
                    &restriction.citation,
                    text,
                )
            };
            let Some(months) = restriction.months else {
                findings.push(blocked(
                    format!("{subject}, which is never transferable"),
                    Severity::Blocking,
                ));
                continue;
            };
            // The clock runs from delegation; without a holding, source.holder already blocks.
            let Some(holding) = holding else { continue };
            let Some(delegated) = holding.registered_on.or(holding.received_on) else {
                findings.push(blocked(
                    format!(
                        "{subject}, which may not be transferred for {months} months after \
                         delegation, and its delegation date is not recorded"
                    ),
                    Severity::Warning,
                ));
                continue;
            };
            let eligible = add_months(delegated, months);
            if input.today < eligible {
                findings.push(blocked(
                    format!(
                        "{subject}, which may not be transferred for {months} months after \
                         delegation; it was delegated on {delegated}, so not before {eligible}"
                    ),
                    Severity::Blocking,
                ));
            }
        }
    }
    findings
}

/// `both.registry_pair`: both registries take part in inter-RIR transfers with each other, and
/// the source registry lets this space leave.
pub(super) fn registry_pair(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    if !transfer.is_inter_rir() {
        return Vec::new();
    }
    let (from, to) = (transfer.source_rir(), transfer.recipient_rir());
    let outbound = &profiles.get(from).inter_rir;
    let inbound = &profiles.get(to).inter_rir;
    let mut findings = Vec::new();
    let mut refuse = |side, citation: &str, text: String| {
        findings.push(finding(
            rule_id::REGISTRY_PAIR,
            side,
            Severity::Blocking,
            citation,
            text,
        ));
    };

    if !outbound.enabled {
        refuse(
            Side::Source,
            &outbound.citation,
            format!(
                "{from} takes part in intra-RIR transfers only, so a transfer from {from} to \
                 {to} is not allowed"
            ),
        );
    } else if !outbound.partners.contains(&to) {
        refuse(
            Side::Source,
            &outbound.citation,
            format!("{from} has no inter-RIR transfer arrangement with {to}"),
        );
    } else if let Some(origins) = &outbound.outbound_origins {
        let allowed: Vec<&str> = origins.iter().map(|o| origin_phrase(*o)).collect();
        for block in &transfer.blocks {
            let Some(holding) = holding_of(input, block) else {
                continue;
            };
            if !origins.contains(&holding.origin) {
                refuse(
                    Side::Source,
                    &outbound.citation,
                    format!(
                        "only {} space may leave {from}, but {block} is {}",
                        join_words(&allowed, "or"),
                        origin_phrase(holding.origin)
                    ),
                );
            }
        }
    }

    if !inbound.enabled {
        refuse(
            Side::Recipient,
            &inbound.citation,
            format!(
                "{to} takes part in intra-RIR transfers only, so a transfer from {from} to {to} \
                 is not allowed"
            ),
        );
    } else if !inbound.partners.contains(&from) {
        refuse(
            Side::Recipient,
            &inbound.citation,
            format!("{to} has no inter-RIR transfer arrangement with {from}"),
        );
    }
    findings
}

/// `both.special_purpose`: no block touches RFC 6890 special-purpose space.
pub(super) fn special_purpose(input: &PolicyInput<'_>, _profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let mut findings = Vec::new();
    for &side in sides(transfer) {
        for block in &transfer.blocks {
            for entry in block.special_purpose() {
                findings.push(finding(
                    rule_id::SPECIAL_PURPOSE,
                    side,
                    Severity::Blocking,
                    SPECIAL_PURPOSE_CITATION,
                    format!(
                        "{block} overlaps {} ({}, {}); special-purpose addresses are never \
                         transferable",
                        entry.net, entry.name, entry.rfc
                    ),
                ));
            }
        }
    }
    findings
}

/// `recipient.membership`: the recipient is a member in good standing of its registry.
pub(super) fn membership(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let recipient = &input.transfer.recipient;
    let standing = match recipient.membership {
        Membership::GoodStanding => return Vec::new(),
        Membership::Suspended => "is suspended",
        Membership::NonMember => "is not a member",
    };
    let registry = recipient.registry;
    vec![finding(
        rule_id::MEMBERSHIP,
        Side::Recipient,
        Severity::Blocking,
        &profiles.get(registry).membership.citation,
        format!(
            "the recipient must be a member in good standing of {registry}, but {} {standing}",
            recipient.name
        ),
    )]
}

/// What a need justification must show, from whichever policy asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedRequirement<'a> {
    pub horizon_months: Option<u32>,
    pub min_utilisation_percent: Option<u32>,
    pub citation: &'a str,
}

/// The justification the recipient of `transfer` must give, if any: its own registry's need
/// test, or, for a registry without one (RIPE NCC), the plan it asks of space arriving from a
/// needs-based registry. The `recipient.need` rule checks it; acceptance asks for it.
pub fn need_requirement<'a>(
    transfer: &TransferFacts,
    profiles: &'a Profiles,
) -> Option<NeedRequirement<'a>> {
    let policy = &profiles.get(transfer.recipient_rir()).need;
    if transfer.kind == TransferType::MergerAcquisition && policy.exempt_merger_acquisition {
        return None;
    }
    let source_needs_based = profiles.get(transfer.source_rir()).need.required;
    if policy.required {
        return Some(NeedRequirement {
            horizon_months: policy.horizon_months,
            min_utilisation_percent: policy.min_utilisation_percent,
            citation: &policy.citation,
        });
    }
    policy
        .inbound_from_needs_based
        .as_ref()
        .filter(|_| transfer.is_inter_rir() && source_needs_based)
        .map(|plan| NeedRequirement {
            horizon_months: Some(plan.horizon_months),
            min_utilisation_percent: Some(plan.min_utilisation_percent),
            citation: &plan.citation,
        })
}

impl NeedRequirement<'_> {
    /// What the justification must contain, as a phrase ("a plan to use at least 50% ...").
    pub fn phrase(&self) -> String {
        match (self.horizon_months, self.min_utilisation_percent) {
            (Some(h), Some(u)) => {
                format!("a plan to use at least {u}% of the space within {h} months")
            }
            (Some(h), None) => format!("a plan for the space's use within {h} months"),
            (None, Some(u)) => format!("a plan to use at least {u}% of the space"),
            (None, None) => "a detailed plan for the space's use".to_owned(),
        }
    }
}

/// `recipient.need`: the recipient justifies the space where its registry (or, for RIPE NCC,
/// a needs-based source registry) requires it.
pub(super) fn need(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let policy = &profiles.get(transfer.recipient_rir()).need;
    let Some(requirement) = need_requirement(transfer, profiles) else {
        return Vec::new();
    };

    let name = &transfer.recipient.name;
    let given = transfer.need.as_ref().filter(|j| !j.text.trim().is_empty());
    let shortfalls: Vec<String> = match given {
        None => Vec::new(),
        Some(justification) => {
            let mut found = Vec::new();
            if let Some(max) = requirement.horizon_months {
                match justification.horizon_months {
                    None => found.push("it gives no horizon".to_owned()),
                    Some(h) if h > max => {
                        found.push(format!("it spans {h} months, more than {max}"));
                    }
                    Some(_) => {}
                }
            }
            if let Some(min) = requirement.min_utilisation_percent {
                match justification.planned_utilisation_percent {
                    None => found.push("it gives no planned utilisation".to_owned()),
                    Some(p) if p < min => {
                        found.push(format!("it plans to use {p}%, less than {min}%"));
                    }
                    Some(_) => {}
                }
            }
            found
        }
    };
    if given.is_some() && shortfalls.is_empty() {
        return Vec::new();
    }

    // ARIN NRPM 8.5.4: a first /24 needs no justification, which only the reviewer can confirm
    // (the rules do not see the recipient's other holdings).
    if let Some(initial) = policy
        .initial_block
        .as_ref()
        .filter(|b| policy.required && transfer.address_count() <= b.prefix.addresses())
    {
        return vec![finding(
            rule_id::NEED,
            Side::Recipient,
            Severity::Info,
            &initial.citation,
            format!(
                "an organisation without direct {} assignments or allocations qualifies for a \
                 {} without further justification; confirm that {name} holds none, or ask for \
                 {} ({})",
                transfer.recipient_rir(),
                initial.prefix,
                requirement.phrase(),
                requirement.citation
            ),
        )];
    }

    let (severity, text) = match (given, input.stage) {
        (None, Stage::Filing) => (
            Severity::Info,
            format!(
                "{name} has not yet given {}; the recipient will be asked when it accepts",
                requirement.phrase()
            ),
        ),
        (None, _) => (
            Severity::Blocking,
            format!("{name} has not given {}", requirement.phrase()),
        ),
        (Some(_), stage) => (
            if stage == Stage::Filing {
                Severity::Warning
            } else {
                Severity::Blocking
            },
            format!(
                "{name}'s justification falls short of {}: {}",
                requirement.phrase(),
                shortfalls.join("; ")
            ),
        ),
    };
    vec![finding(
        rule_id::NEED,
        Side::Recipient,
        severity,
        requirement.citation,
        text,
    )]
}

/// `both.documents`: the documents each registry requires are on file; blocking at
/// finalization, a warning before.
pub(super) fn documents(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let mut findings = Vec::new();
    for &side in sides(transfer) {
        let registry = transfer.registry_of(side);
        let policy = &profiles.get(registry).documents;
        let missing: Vec<&str> = policy
            .required
            .iter()
            .filter(|kind| !transfer.documents.contains(kind))
            .map(|kind| document_phrase(*kind))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let (verb, pronoun) = if missing.len() == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        let list = join_words(&missing, "and");
        let (severity, text) = if input.stage == Stage::Finalization {
            (
                Severity::Blocking,
                format!(
                    "{list} {verb} missing; {registry} cannot finalize the transfer without \
                     {pronoun}"
                ),
            )
        } else {
            (
                Severity::Warning,
                format!("{list} {verb} missing; {registry} needs {pronoun} before finalization"),
            )
        };
        findings.push(finding(
            rule_id::DOCUMENTS,
            side,
            severity,
            &policy.citation,
            text,
        ));
    }
    findings
}

/// `both.distinct_orgs`: nobody transfers to itself.
pub(super) fn distinct_orgs(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    if transfer.source.id != transfer.recipient.id {
        return Vec::new();
    }
    sides(transfer)
        .iter()
        .map(|&side| {
            finding(
                rule_id::DISTINCT_ORGS,
                side,
                Severity::Blocking,
                &profiles.get(transfer.registry_of(side)).transfer_policy,
                format!(
                    "source and recipient are the same organisation ({}, #{})",
                    transfer.source.name, transfer.source.id
                ),
            )
        })
        .collect()
}
