//! Per-registry policy profiles: the parameters the rules apply, as data.
//!
//! The shipped defaults live in `backend/policy/profiles.toml`, with a comment citing the source
//! of every value; values the research could not confirm are marked UNCONFIRMED there. An
//! operator may override any subset of fields with a second TOML file of the same shape: tables
//! are merged key by key, while a value (including an array such as `restricted` or
//! `fees.items`) replaces the shipped one whole. The merged document is then deserialized
//! strictly, so a misspelt key is an error that names the key and where it sits.

use std::fmt;

use ipnet::Ipv4Net;
use serde::{Deserialize, Deserializer};

use crate::Rir;
use crate::block::PrefixLength;
use crate::fees::FeeSchedule;
use crate::transfer::{DocumentKind, HoldingOrigin};

/// The shipped profiles, compiled into the binary.
pub const SHIPPED_PROFILES: &str = include_str!("../../../policy/profiles.toml");

/// Why a set of profiles could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The shipped file itself is broken (a bug in the release, not the operator's doing).
    #[error("shipped policy profiles are invalid: {0}")]
    Shipped(String),
    /// The operator file is not TOML at all.
    #[error("operator policy override is not valid TOML: {0}")]
    OverrideSyntax(String),
    /// The operator file is TOML but names an unknown key or gives a value of the wrong type.
    #[error("operator policy override rejected: {0}")]
    Override(String),
    /// The merged profiles deserialize but contradict themselves (for example a fee item with
    /// both a flat amount and a size table).
    #[error("policy profile for {registry} is inconsistent: {problem}")]
    Inconsistent { registry: Rir, problem: String },
}

/// One policy profile per registry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profiles {
    afrinic: RegistryProfile,
    apnic: RegistryProfile,
    arin: RegistryProfile,
    lacnic: RegistryProfile,
    ripencc: RegistryProfile,
}

impl Profiles {
    /// The shipped defaults.
    pub fn default_shipped() -> Profiles {
        Profiles::from_toml_with_overrides(SHIPPED_PROFILES, None)
            .expect("backend/policy/profiles.toml is checked by the test suite")
    }

    /// Parses `shipped`, merges `operator_override` over it (tables key by key, other values
    /// replaced whole) and deserializes the result, rejecting unknown keys.
    ///
    /// # Errors
    /// [`ProfileError`] naming the file at fault and, for unknown keys or wrong types, the key.
    pub fn from_toml_with_overrides(
        shipped: &str,
        operator_override: Option<&str>,
    ) -> Result<Profiles, ProfileError> {
        let shipped_table: toml::Table =
            toml::from_str(shipped).map_err(|e| ProfileError::Shipped(one_line(&e)))?;
        // Check the shipped file on its own first, so an error is blamed on the right file.
        let profiles: Profiles = shipped_table
            .clone()
            .try_into()
            .map_err(|e| ProfileError::Shipped(one_line(&e)))?;
        let profiles = match operator_override {
            None => profiles,
            Some(text) => {
                let overrides: toml::Table =
                    toml::from_str(text).map_err(|e| ProfileError::OverrideSyntax(one_line(&e)))?;
                let mut merged = shipped_table;
                merge_tables(&mut merged, overrides);
                merged
                    .try_into()
                    .map_err(|e| ProfileError::Override(one_line(&e)))?
            }
        };
        profiles.validate()?;
        Ok(profiles)
    }

    /// The profile of one registry.
    pub fn get(&self, rir: Rir) -> &RegistryProfile {
        match rir {
            Rir::Afrinic => &self.afrinic,
            Rir::Apnic => &self.apnic,
            Rir::Arin => &self.arin,
            Rir::Lacnic => &self.lacnic,
            Rir::RipeNcc => &self.ripencc,
        }
    }

    /// The profile of one registry, to adjust in code (tests, administrative tools).
    pub fn get_mut(&mut self, rir: Rir) -> &mut RegistryProfile {
        match rir {
            Rir::Afrinic => &mut self.afrinic,
            Rir::Apnic => &mut self.apnic,
            Rir::Arin => &mut self.arin,
            Rir::Lacnic => &mut self.lacnic,
            Rir::RipeNcc => &mut self.ripencc,
        }
    }

    fn validate(&self) -> Result<(), ProfileError> {
        for rir in Rir::ALL {
            self.get(rir)
                .fees
                .validate()
                .map_err(|problem| ProfileError::Inconsistent {
                    registry: rir,
                    problem,
                })?;
        }
        Ok(())
    }
}

/// Deep merge: tables merge key by key, anything else in `over` replaces what `base` had.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(over_table)) => {
                merge_tables(base_table, over_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// toml errors span several lines (snippet, caret); keep them readable in one log line.
fn one_line(error: &impl fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The parameters of one registry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryProfile {
    /// The registry's transfer policy, cited by the findings that apply no specific section
    /// (holder, in-flight overlap, distinct organisations).
    pub transfer_policy: String,
    /// `both.minimum_size`.
    pub minimum_size: MinimumSize,
    /// `source.holding_period`.
    pub holding_period: HoldingPeriod,
    /// `source.restricted_space`: space that may not be transferred (for a while, or ever).
    #[serde(default)]
    pub restricted: Vec<Restriction>,
    /// `both.registry_pair`.
    pub inter_rir: InterRir,
    /// `recipient.membership`.
    pub membership: MembershipPolicy,
    /// `recipient.need`.
    pub need: NeedPolicy,
    /// `both.documents`.
    pub documents: DocumentsPolicy,
    /// What the registry charges for a transfer (see [`crate::fees`]).
    pub fees: FeeSchedule,
}

/// Smallest block the registry transfers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumSize {
    /// Longest prefix allowed, `/24` means 256 addresses at least.
    pub prefix: PrefixLength,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
    /// False for a default not confirmed against the registry's policy (see [`Unconfirmed`]).
    #[serde(default = "yes")]
    pub confirmed: bool,
}

fn yes() -> bool {
    true
}

/// How long the source must have held a block before transferring it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldingPeriod {
    /// Months since the holder received the block; 0 disables the rule.
    pub months: u32,
    /// The hold is on the source, not the block (ARIN NRPM 8.3/8.4, AFRINIC): it may not have
    /// received any IPv4 space from the registry, by allocation or transfer, in the `months`
    /// before approval.
    #[serde(default)]
    pub any_receipt: bool,
    /// A different period for space the registry (or an NIR) issued to the holder.
    #[serde(default)]
    pub registry_issued_months: Option<u32>,
    /// Whether receiving a block by merger or acquisition starts the period (RIPE NCC: yes).
    pub counts_merger_acquisition_receipt: bool,
    /// Whether a merger-or-acquisition transfer may move the block within the period.
    pub exempt_merger_acquisition: bool,
    /// A policy exception a hostmaster of the source registry may record for a transfer, with
    /// a reason; the finding stays blocking until it is recorded.
    #[serde(default)]
    pub exception: Option<PolicyException>,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
    /// False for a default not confirmed against the registry's policy.
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// False when how mergers and acquisitions count (`counts_merger_acquisition_receipt`,
    /// `exempt_merger_acquisition`) is a default not confirmed against the registry's policy.
    #[serde(default = "yes")]
    pub merger_acquisition_confirmed: bool,
}

/// A named exception to a rule that a hostmaster records for one transfer, with a reason.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyException {
    /// Short name shown on the button and in the history ("ARIN-2020-6").
    pub name: String,
    /// When it applies, for the finding's message.
    pub description: String,
}

/// Space the registry does not let go, matched by prefix, by origin or by both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    /// Blocks overlapping this prefix are restricted.
    #[serde(default)]
    pub prefix: Option<Ipv4Net>,
    /// Holdings of this origin are restricted.
    #[serde(default, deserialize_with = "origin_opt")]
    pub origin: Option<HoldingOrigin>,
    /// Months from registration (delegation) during which the block may not move; absent means
    /// never transferable.
    #[serde(default)]
    pub months: Option<u32>,
    /// Whether a merger-or-acquisition transfer is allowed despite the restriction.
    pub exempt_merger_acquisition: bool,
    /// What the restricted space is, for messages ("103/8 final-/8 space").
    pub description: String,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
    /// False for a default not confirmed against the registry's policy.
    #[serde(default = "yes")]
    pub confirmed: bool,
}

/// Which other registries this registry transfers with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterRir {
    /// Whether the registry takes part in inter-RIR transfers at all.
    pub enabled: bool,
    /// Counterpart registries; a pair needs each side to list the other.
    pub partners: Vec<Rir>,
    /// When set, only holdings of these origins may leave the region.
    #[serde(default, deserialize_with = "origins_opt")]
    pub outbound_origins: Option<Vec<HoldingOrigin>>,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
    /// False when `enabled` is a default not confirmed against the registry's policy (AFRINIC:
    /// whether inter-RIR transfers are being processed).
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// Partners listed by default whose arrangement with this registry is not confirmed.
    #[serde(default)]
    pub unconfirmed_partners: Vec<Rir>,
}

/// The recipient's standing with its registry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipPolicy {
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
    /// The source must be a member in good standing too (AFRINIC: both parties), unless all it
    /// transfers is legacy space.
    #[serde(default)]
    pub source_must_be_member: bool,
}

/// What the recipient must show to justify the space.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedPolicy {
    /// Whether the registry is needs-based (also decides RIPE NCC's inbound plan rule).
    pub required: bool,
    /// Longest planning horizon accepted, in months.
    #[serde(default)]
    pub horizon_months: Option<u32>,
    /// Share of the space the plan must use within the horizon.
    #[serde(default)]
    pub min_utilisation_percent: Option<u32>,
    /// Whether merger-or-acquisition recipients are exempt.
    pub exempt_merger_acquisition: bool,
    pub citation: String,
    /// False when the horizon or utilisation is a default not confirmed against the registry's
    /// policy.
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// False when `exempt_merger_acquisition` is a default not confirmed.
    #[serde(default = "yes")]
    pub merger_acquisition_confirmed: bool,
    /// A first block the registry gives without further justification (ARIN NRPM 8.5.4).
    #[serde(default)]
    pub initial_block: Option<InitialBlock>,
    /// Plan required when this registry is not needs-based but the source registry is
    /// (RIPE NCC ripe-807 §3.2).
    #[serde(default)]
    pub inbound_from_needs_based: Option<InboundPlan>,
}

/// A block an organisation new to the registry receives without further justification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialBlock {
    pub prefix: PrefixLength,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
}

/// The usage plan an inbound inter-RIR recipient gives when the source registry is needs-based.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundPlan {
    pub horizon_months: u32,
    pub min_utilisation_percent: u32,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
}

/// Documents the registry needs before it finalizes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsPolicy {
    /// Kinds that must be on file.
    #[serde(deserialize_with = "document_kinds")]
    pub required: Vec<DocumentKind>,
    /// The policy text the findings cite ("ARIN NRPM 8.5.3").
    pub citation: String,
}

fn parse_origin<E: serde::de::Error>(name: &str) -> Result<HoldingOrigin, E> {
    HoldingOrigin::parse(name).ok_or_else(|| {
        E::custom(format!(
            "unknown holding origin \"{name}\": expected registry_issued, waiting_list, \
             transferred, merger_acquisition or legacy"
        ))
    })
}

fn origin_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HoldingOrigin>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|name| parse_origin(&name))
        .transpose()
}

fn origins_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<HoldingOrigin>>, D::Error> {
    Option::<Vec<String>>::deserialize(d)?
        .map(|names| names.iter().map(|name| parse_origin(name)).collect())
        .transpose()
}

fn document_kinds<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DocumentKind>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| {
            DocumentKind::parse(name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown document kind \"{name}\": expected transfer_agreement, \
                     company_registration or other"
                ))
            })
        })
        .collect()
}
