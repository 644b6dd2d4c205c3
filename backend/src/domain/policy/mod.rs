//! Policy checks: small pure rules that turn the facts of a transfer into findings.
//!
//! Each rule is a `fn(&PolicyInput, &Profiles) -> Vec<Finding>`; the registry-specific numbers
//! (sizes, periods, partners, citations) come from the [`Profiles`], which are data shipped in
//! `backend/policy/profiles.toml` and overridable by the operator. [`evaluate`] runs every rule in
//! a fixed order.
//!
//! Rules whose id starts with `both.` speak for each registry involved: in an inter-RIR transfer
//! they report once per side, citing that side's registry; within one registry, once, on the
//! source side.

mod profile;
mod rules;

use serde::{Deserialize, Serialize};
use time::Date;

use super::Finding;
use super::transfer::{HoldingFacts, InFlightClaim, TransferFacts};

pub use profile::{
    DocumentsPolicy, HoldingPeriod, InboundPlan, InitialBlock, InterRir, MembershipPolicy,
    MinimumSize, NeedPolicy, PrefixLength, ProfileError, Profiles, RegistryProfile, Restriction,
    SHIPPED_PROFILES,
};
pub use rules::{NeedRequirement, need_requirement, rule_id};

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
    pub today: Date,
    pub stage: Stage,
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
    (rule_id::NEED, rules::need),
    (rule_id::DOCUMENTS, rules::documents),
    (rule_id::DISTINCT_ORGS, rules::distinct_orgs),
];

/// Runs every rule; findings come in rule order, then in block order within a rule.
pub fn evaluate(input: &PolicyInput<'_>, profiles: &Profiles) -> Vec<Finding> {
    RULES
        .iter()
        .flat_map(|(_, rule)| rule(input, profiles))
        .collect()
}

#[cfg(test)]
mod tests;
