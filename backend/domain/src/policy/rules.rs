//! The policy rules. Each reads the transfer's facts and the registries' profiles and returns
//! findings whose message starts with the policy it applies ("ARIN NRPM 8.5.3: ...").

use time::{Date, Month};

use super::profile::{HoldingPeriod, Profiles};
use super::{PolicyInput, Stage};
use crate::format::group_thousands;
use crate::transfer::{DocumentKind, HoldingFacts, HoldingOrigin, Membership, OrgFacts, OrgId};
use crate::{Finding, Ipv4Range, Severity, Side, TransferFacts, TransferType};

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
    pub const SOURCE_MEMBERSHIP: &str = "source.membership";
    pub const NEED: &str = "recipient.need";
    pub const DOCUMENTS: &str = "both.documents";
    pub const DISTINCT_ORGS: &str = "both.distinct_orgs";
}

/// IANA's special-purpose registry is defined by this RFC, whatever entry a block touches.
const SPECIAL_PURPOSE_CITATION: &str = "RFC 6890";

fn finding(rule_id: &str, side: Side, severity: Severity, citation: &str, text: String) -> Finding {
    Finding::new(
        rule_id,
        side,
        severity,
        citation,
        format!("{citation}: {text}"),
    )
}

/// A `both.` rule reports once: in an inter-RIR transfer, a recipient-side finding that says
/// what a source-side finding of the same rule says (same text, severity and confirmation) is
/// folded into it, which then cites both registries and is weighed by both reviews.
pub(super) fn once_for_both(findings: Vec<Finding>) -> Vec<Finding> {
    let body = |f: &Finding| {
        f.message
            .strip_prefix(&format!("{}: ", f.citation))
            .unwrap_or(&f.message)
            .to_owned()
    };
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        let twin = kept.iter_mut().find(|k| {
            k.side == Side::Source
                && !k.shared
                && f.side == Side::Recipient
                && k.rule_id == f.rule_id
                && k.severity == f.severity
                && k.confirmed == f.confirmed
                && body(k) == body(&f)
        });
        match twin {
            Some(k) => {
                if k.citation != f.citation {
                    let text = body(k);
                    k.citation = format!("{}; {}", k.citation, f.citation);
                    k.message = format!("{}: {text}", k.citation);
                }
                k.shared = true;
            }
            None => kept.push(f),
        }
    }
    kept
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
    shift_months(date, i64::from(months))
}

/// `date` minus whole calendar months (the start of a look-back period).
pub fn months_before(date: Date, months: u32) -> Date {
    shift_months(date, -i64::from(months))
}

fn shift_months(date: Date, months: i64) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month()) - 1);
    let index = index + months;
    let Ok(year) = i32::try_from(index.div_euclid(12)) else {
        return if months < 0 { Date::MIN } else { Date::MAX };
    };
    // rem_euclid(12) is 0..=11, so the month number is 1..=12.
    let month = Month::try_from(index.rem_euclid(12) as u8 + 1).unwrap_or(Month::December);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(if months < 0 {
        Date::MIN
    } else {
        Date::MAX
    })
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
                findings.push(
                    finding(
                        rule_id::MINIMUM_SIZE,
                        side,
                        Severity::Blocking,
                        &rule.citation,
                        format!("minimum transfer size is {minimum}, but {shortfall}"),
                    )
                    .resting_on(rule.confirmed),
                );
            }
        }
    }
    findings
}

/// `source.holding_period`: the source has held each block long enough or, where the hold is on
/// the source (`any_receipt`: ARIN NRPM 8.3/8.4, AFRINIC), has received no IPv4 space from the
/// registry within the period at all.
pub(super) fn holding_period(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let registry = transfer.source_rir();
    let rule = &profiles.get(registry).holding_period;
    if transfer.kind == TransferType::MergerAcquisition && rule.exempt_merger_acquisition {
        return Vec::new();
    }
    let source = &transfer.source.name;
    let months_for = |holding: &HoldingFacts| match holding.origin {
        HoldingOrigin::RegistryIssued | HoldingOrigin::WaitingList => {
            rule.registry_issued_months.unwrap_or(rule.months)
        }
        HoldingOrigin::MergerAcquisition if !rule.counts_merger_acquisition_receipt => 0,
        _ => rule.months,
    };
    // For space the holder got first-hand, registration and receipt are the same day.
    let received = |holding: &HoldingFacts| match holding.origin {
        HoldingOrigin::Transferred | HoldingOrigin::MergerAcquisition => holding.received_on,
        _ => holding.received_on.or(holding.registered_on),
    };
    // Whether receipt by merger starts the period is not confirmed everywhere; a finding about
    // space received by merger rests on it.
    let confirmed = |holding: &HoldingFacts| {
        rule.confirmed
            && (rule.merger_acquisition_confirmed
                || holding.origin != HoldingOrigin::MergerAcquisition)
    };
    let mut findings = Vec::new();
    let mut own = Vec::new();
    for block in &transfer.blocks {
        // Without a holding, source.holder already blocks.
        let Some(holding) = holding_of(input, block) else {
            continue;
        };
        let months = months_for(holding);
        if months == 0 {
            continue;
        }
        if received(holding).is_none() {
            findings.push(
                finding(
                    rule_id::HOLDING_PERIOD,
                    Side::Source,
                    Severity::Warning,
                    &rule.citation,
                    format!(
                        "the date {source} received {block} is not recorded, so the \
                         {months}-month holding period cannot be checked"
                    ),
                )
                .resting_on(confirmed(holding)),
            );
            continue;
        }
        own.push((*block, holding));
    }

    if rule.any_receipt {
        // Every receipt from this registry counts, the transferred blocks' own included; the
        // latest one decides when the source may transfer again.
        let mut receipts: Vec<(Ipv4Range, &HoldingFacts)> = own.clone();
        receipts.extend(
            input
                .source_receipts
                .iter()
                .filter(|h| {
                    h.org_id == transfer.source.id
                        && h.registry == registry
                        && h.origin != HoldingOrigin::Legacy
                })
                .map(|h| (h.range, h)),
        );
        let latest = receipts
            .into_iter()
            .filter_map(|(range, holding)| {
                let months = months_for(holding);
                let on = received(holding)?;
                let eligible = add_months(on, months);
                (months > 0 && input.today < eligible).then_some((eligible, on, range, holding))
            })
            .max_by_key(|(eligible, ..)| *eligible);
        if let Some((eligible, on, range, holding)) = latest {
            let text = format!(
                "{source} received {range} ({}) from {registry} on {on}; a source may not have \
                 received IPv4 space from {registry} in the {} months before the transfer is \
                 approved, so it may transfer only from {eligible}",
                origin_phrase(holding.origin),
                months_for(holding)
            );
            findings.push(held(input, rule, text).resting_on(confirmed(holding)));
        }
        return findings;
    }

    for (block, holding) in own {
        let months = months_for(holding);
        let Some(on) = received(holding) else {
            continue;
        };
        let eligible = add_months(on, months);
        if input.today >= eligible {
            continue;
        }
        let text = format!(
            "{source} received {block} ({}) on {on} and may transfer it only {months} months \
             later, from {eligible}",
            origin_phrase(holding.origin)
        );
        findings.push(held(input, rule, text).resting_on(confirmed(holding)));
    }
    findings
}

/// A holding-period finding: blocking, unless the profile's exception has been recorded for
/// this transfer by a hostmaster (then for information, quoting the reason); while it is not,
/// the message says when it applies, and at filing (before anyone can record it) it warns.
fn held(input: &PolicyInput<'_>, rule: &HoldingPeriod, text: String) -> Finding {
    let mut f = finding(
        rule_id::HOLDING_PERIOD,
        Side::Source,
        Severity::Blocking,
        &rule.citation,
        text,
    );
    let Some(exception) = &rule.exception else {
        return f;
    };
    let recorded = input
        .exceptions
        .iter()
        .find(|e| e.rule_id == rule_id::HOLDING_PERIOD && e.name == exception.name);
    match recorded {
        Some(e) => {
            f.severity = Severity::Info;
            f.message = format!(
                "{}; a hostmaster recorded that {} applies: {}",
                f.message, exception.name, e.reason
            );
        }
        None => {
            f.message = format!(
                "{}; unless {} applies ({}), which a hostmaster records with a reason",
                f.message, exception.name, exception.description
            );
            f.exception = Some(exception.name.clone());
            // The hostmaster can only record it once the transfer is filed.
            if input.stage == Stage::Filing {
                f.severity = Severity::Warning;
            }
        }
    }
    f
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
                .resting_on(restriction.confirmed)
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
    let mut refuse = |side, citation: &str, text: String, confirmed: bool| {
        findings.push(
            finding(
                rule_id::REGISTRY_PAIR,
                side,
                Severity::Blocking,
                citation,
                text,
            )
            .resting_on(confirmed),
        );
    };

    if !outbound.enabled {
        refuse(
            Side::Source,
            &outbound.citation,
            format!(
                "{from} takes part in intra-RIR transfers only, so a transfer from {from} to \
                 {to} is not allowed"
            ),
            outbound.confirmed,
        );
    } else if !outbound.partners.contains(&to) {
        refuse(
            Side::Source,
            &outbound.citation,
            format!("{from} has no inter-RIR transfer arrangement with {to}"),
            true,
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
                    true,
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
            inbound.confirmed,
        );
    } else if !inbound.partners.contains(&from) {
        refuse(
            Side::Recipient,
            &inbound.citation,
            format!("{to} has no inter-RIR transfer arrangement with {from}"),
            true,
        );
    }
    // A pair allowed only by a partner listed by default says so.
    for (side, registry, policy, other) in [
        (Side::Source, from, outbound, to),
        (Side::Recipient, to, inbound, from),
    ] {
        if policy.enabled && policy.unconfirmed_partners.contains(&other) {
            findings.push(
                finding(
                    rule_id::REGISTRY_PAIR,
                    side,
                    Severity::Info,
                    &policy.citation,
                    format!("{registry} lists {other} as an inter-RIR partner"),
                )
                .resting_on(false),
            );
        }
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

/// Why `org` is not a member in good standing, if it is not.
fn standing(org: &OrgFacts) -> Option<&'static str> {
    match org.membership {
        Membership::GoodStanding => None,
        Membership::Suspended => Some("is suspended"),
        Membership::NonMember => Some("is not a member"),
    }
}

/// `recipient.membership`: the recipient is a member in good standing of its registry.
pub(super) fn membership(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let recipient = &input.transfer.recipient;
    let Some(standing) = standing(recipient) else {
        return Vec::new();
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

/// `source.membership`: where the source registry asks it of both parties (AFRINIC), the source
/// is a member in good standing too, unless all it transfers is legacy space (legacy holders
/// are sources in their own right).
pub(super) fn source_membership(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let source = &transfer.source;
    let policy = &profiles.get(source.registry).membership;
    if !policy.source_must_be_member {
        return Vec::new();
    }
    let Some(standing) = standing(source) else {
        return Vec::new();
    };
    let all_legacy = transfer
        .blocks
        .iter()
        .all(|block| holding_of(input, block).is_some_and(|h| h.origin == HoldingOrigin::Legacy));
    if all_legacy && source.membership == Membership::NonMember {
        return Vec::new();
    }
    vec![finding(
        rule_id::SOURCE_MEMBERSHIP,
        Side::Source,
        Severity::Blocking,
        &policy.citation,
        format!(
            "the source must be a member in good standing of {} unless it transfers legacy \
             space only, but {} {standing}",
            source.registry, source.name
        ),
    )]
}

/// What a need justification must show, from whichever policy asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedRequirement<'a> {
    pub horizon_months: Option<u32>,
    pub min_utilisation_percent: Option<u32>,
    pub citation: &'a str,
    /// False when the horizon or utilisation is an unconfirmed default.
    pub confirmed: bool,
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
            confirmed: policy.confirmed,
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
            confirmed: true,
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
    // Only a shortfall against the horizon or utilisation rests on those numbers.
    let confirmed = given.is_none() || requirement.confirmed;
    vec![
        finding(
            rule_id::NEED,
            Side::Recipient,
            severity,
            requirement.citation,
            text,
        )
        .resting_on(confirmed),
    ]
}

/// `both.documents`: the documents each registry requires are on file; blocking at
/// finalization, a warning before.
pub(super) fn documents(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    let transfer = input.transfer;
    let mut findings = Vec::new();
    for &side in sides(transfer) {
        let policy = &profiles.get(transfer.registry_of(side)).documents;
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
        // The registry is named by the citation, so that both registries' findings read the
        // same and report once.
        let (severity, text) = if input.stage == Stage::Finalization {
            (
                Severity::Blocking,
                format!(
                    "{list} {verb} missing; the transfer cannot be finalized without {pronoun}"
                ),
            )
        } else {
            (
                Severity::Warning,
                format!("{list} {verb} missing and needed before finalization"),
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
