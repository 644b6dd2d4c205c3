//! Policy checks: small pure rules that turn the facts of a transfer into findings.
//!
//! Each rule is a `fn(&PolicyInput, &Profiles) -> Vec<Finding>`; the registry-specific numbers
//! (sizes, periods, partners, citations) come from the [`Profiles`], which are data shipped in
//! `backend/policy/profiles.toml` and overridable by the operator. [`evaluate`] runs every rule in
//! a fixed order.
//!
//! Rules whose id starts with `both.` speak for each registry involved: in an inter-RIR transfer
//! they report once per side, citing that side's registry; within one registry, once, on the
//! source side; a conclusion that is the same for both registries is reported once, citing both.

mod profile;
mod rules;
mod unconfirmed;

use serde::{Deserialize, Serialize};
use time::Date;

use super::Finding;
use super::transfer::{HoldingFacts, InFlightClaim, TransferFacts};

pub use profile::{
    DocumentsPolicy, HoldingPeriod, InboundPlan, InitialBlock, InterRir, MembershipPolicy,
    MinimumSize, NeedPolicy, PolicyException, ProfileError, Profiles, RegistryProfile, Restriction,
    SHIPPED_PROFILES,
};
pub use rules::{NeedRequirement, months_before, need_requirement, rule_id};
pub use unconfirmed::{Unconfirmed, unconfirmed};

/// Where the transfer stands, which decides how hard some rules are (a missing need
/// justification is expected at filing, blocking at review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The source has filed; the recipient has not answered yet.
    Filing,
    /// A hostmaster is reviewing a side.
    Review,
    /// The registries are about to record the transfer.
    Finalization,
}

impl Stage {
    /// The stored spelling (`"review"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Filing => "filing",
            Stage::Review => "review",
            Stage::Finalization => "finalization",
        }
    }
}

/// The facts the rules read, gathered by the service layer.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    pub transfer: &'a TransferFacts,
    /// Current holdings that overlap the transfer's blocks, whoever holds them.
    pub source_holdings: &'a [HoldingFacts],
    /// Blocks of other open transfers that overlap this one's.
    pub in_flight: &'a [InFlightClaim],
    /// Holdings the source organisation received from the source registry recently enough to
    /// matter to an `any_receipt` holding period (more may be passed; the rule filters).
    pub source_receipts: &'a [HoldingFacts],
    /// Policy exceptions hostmasters recorded for this transfer.
    pub exceptions: &'a [RecordedException],
    pub today: Date,
    pub stage: Stage,
}

/// A hostmaster's record that a named policy exception applies to a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedException {
    /// The rule it lifts (`source.holding_period`).
    pub rule_id: String,
    /// The profile's name for it (`ARIN-2020-6`).
    pub name: String,
    pub reason: String,
}

/// A policy rule.
pub type Rule = fn(&PolicyInput<'_>, &Profiles) -> Vec<Finding>;

/// Every rule with its id, in evaluation order.
pub const RULES: &[(&str, Rule)] = &[
    (rule_id::SOURCE_HOLDER, rules::source_holder),
    (rule_id::IN_FLIGHT, rules::in_flight),
    (rule_id::MINIMUM_SIZE, rules::minimum_size),
    (rule_id::HOLDING_PERIOD, rules::holding_period),
    (rule_id::RESTRICTED_SPACE, rules::restricted_space),
    (rule_id::REGISTRY_PAIR, rules::registry_pair),
    (rule_id::SPECIAL_PURPOSE, rules::special_purpose),
    (rule_id::MEMBERSHIP, rules::membership),
    (rule_id::SOURCE_MEMBERSHIP, rules::source_membership),
    (rule_id::NEED, rules::need),
    (rule_id::DOCUMENTS, rules::documents),
    (rule_id::DISTINCT_ORGS, rules::distinct_orgs),
];

/// Runs every rule; findings come in rule order, then in block order within a rule.
/// A `both.` rule that comes to the same conclusion for both registries of an inter-RIR
/// transfer reports it once (see [`Finding::shared`]).
pub fn evaluate(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    RULES
        .iter()
        .flat_map(|(id, rule)| {
            let findings = rule(input, profiles);
            if id.starts_with("both.") {
                rules::once_for_both(findings)
            } else {
                findings
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
