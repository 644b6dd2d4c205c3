//! The facts about a transfer that the workflow, the policy rules, the fees and authorization
//! decide on. Loaded by the service layer; never fetched from here.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{Ipv4Range, Rir};

/// Declares a database key as its own type, so that an organisation's id can never be passed
/// where a transfer's is meant. The number is the row's key; `Display` writes it bare, as URLs
/// and messages do.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The database key.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(key: i64) -> Self {
                $name(key)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// Identifier of an organisation (database key).
    OrgId
);
id_type!(
    /// Identifier of a user (database key).
    UserId
);
id_type!(
    /// Identifier of a transfer (database key).
    TransferId
);

/// The NRO transfer types; no other values exist in the NRO transfer log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferType {
    #[serde(rename = "RESOURCE_TRANSFER")]
    ResourceTransfer,
    #[serde(rename = "MERGER_ACQUISITION")]
    MergerAcquisition,
}

impl TransferType {
    /// The NRO spelling (`RESOURCE_TRANSFER`).
    pub fn nro_name(self) -> &'static str {
        match self {
            TransferType::ResourceTransfer => "RESOURCE_TRANSFER",
            TransferType::MergerAcquisition => "MERGER_ACQUISITION",
        }
    }

    /// Parses the NRO spelling.
    pub fn from_nro_name(s: &str) -> Option<Self> {
        match s {
            "RESOURCE_TRANSFER" => Some(TransferType::ResourceTransfer),
            "MERGER_ACQUISITION" => Some(TransferType::MergerAcquisition),
            _ => None,
        }
    }
}

/// The two sides of a transfer; each side is owned by one registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Side {
    Source,
    Recipient,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Recipient => "recipient",
        }
    }
}

/// Standing of an organisation with its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Membership {
    /// Member (or account holder) with fees paid: may receive space.
    GoodStanding,
    /// Member with unpaid fees or suspended services.
    Suspended,
    /// Known to the registry (for example a legacy holder) but not a member.
    NonMember,
}

impl Membership {
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::GoodStanding => "good_standing",
            Membership::Suspended => "suspended",
            Membership::NonMember => "non_member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "good_standing" => Some(Membership::GoodStanding),
            "suspended" => Some(Membership::Suspended),
            "non_member" => Some(Membership::NonMember),
            _ => None,
        }
    }
}

/// An organisation as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: OrgId,
    pub registry: Rir,
    pub name: String,
    pub membership: Membership,
}

/// How the current holder came to hold a block; decides holding periods and restrictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HoldingOrigin {
    /// Issued by the registry (or an NIR) from its pool.
    RegistryIssued,
    /// Issued from ARIN's waiting list (NRPM 4.1.8).
    WaitingList,
    /// Received by a transfer.
    Transferred,
    /// Received by a merger or acquisition.
    MergerAcquisition,
    /// Legacy space, issued before the registry existed.
    Legacy,
}

impl HoldingOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldingOrigin::RegistryIssued => "registry_issued",
            HoldingOrigin::WaitingList => "waiting_list",
            HoldingOrigin::Transferred => "transferred",
            HoldingOrigin::MergerAcquisition => "merger_acquisition",
            HoldingOrigin::Legacy => "legacy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registry_issued" => Some(HoldingOrigin::RegistryIssued),
            "waiting_list" => Some(HoldingOrigin::WaitingList),
            "transferred" => Some(HoldingOrigin::Transferred),
            "merger_acquisition" => Some(HoldingOrigin::MergerAcquisition),
            "legacy" => Some(HoldingOrigin::Legacy),
            _ => None,
        }
    }
}

/// A registered holding: one organisation holds one range at one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingFacts {
    pub range: Ipv4Range,
    pub registry: Rir,
    pub org_id: OrgId,
    /// Date the registry first registered the space (delegated-extended `date`).
    pub registered_on: Option<Date>,
    /// Date the current holder received it (equals `registered_on` for registry-issued space).
    pub received_on: Option<Date>,
    pub origin: HoldingOrigin,
}

/// Kinds of supporting documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocumentKind {
    TransferAgreement,
    CompanyRegistration,
    Other,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::TransferAgreement => "transfer_agreement",
            DocumentKind::CompanyRegistration => "company_registration",
            DocumentKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "transfer_agreement" => Some(DocumentKind::TransferAgreement),
            "company_registration" => Some(DocumentKind::CompanyRegistration),
            "other" => Some(DocumentKind::Other),
            _ => None,
        }
    }
}

/// The recipient's statement of need, given when it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeedJustification {
    /// Free text: what the addresses are for.
    pub text: String,
    /// Months over which the recipient plans to use the space.
    pub horizon_months: Option<u32>,
    /// Percentage of the space the recipient expects to use within the horizon.
    pub planned_utilisation_percent: Option<u32>,
}

/// Another transfer still in flight that claims some of the same addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightClaim {
    pub reference: String,
    pub range: Ipv4Range,
}

/// Everything the pure core knows about one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFacts {
    pub id: TransferId,
    pub reference: String,
    pub kind: TransferType,
    pub source: OrgFacts,
    pub recipient: OrgFacts,
    pub blocks: Vec<Ipv4Range>,
    pub need: Option<NeedJustification>,
    pub documents: Vec<DocumentKind>,
}

impl TransferFacts {
    pub fn source_rir(&self) -> Rir {
        self.source.registry
    }

    pub fn recipient_rir(&self) -> Rir {
        self.recipient.registry
    }

    /// True when two registries are involved.
    pub fn is_inter_rir(&self) -> bool {
        self.source.registry != self.recipient.registry
    }

    /// Total number of addresses moved.
    pub fn address_count(&self) -> u64 {
        self.blocks.iter().map(|b| b.size()).sum()
    }

    /// The registry that owns a side.
    pub fn registry_of(&self, side: Side) -> Rir {
        match side {
            Side::Source => self.source.registry,
            Side::Recipient => self.recipient.registry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_their_bare_key() {
        let id = TransferId(42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(id.get(), 42);
        assert_eq!(i64::from(id), 42);
        assert_eq!(TransferId::from(42), id);
        // The ledger hashes ids inside its canonical JSON: the type must not change the bytes.
        assert_eq!(serde_json::to_string(&Some(OrgId(7))).unwrap(), "7");
        assert_eq!(serde_json::from_str::<UserId>("9").unwrap(), UserId(9));
    }
}
