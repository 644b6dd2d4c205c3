//! Who may do what (design section 2), decided in one pure function, [`can`].
//!
//! Every route asks [`can`] before it acts or shows anything, and templates ask it to decide
//! which buttons to offer, so the answer depends on the transfer's workflow state as well as on
//! the actor: a hostmaster may decide a side only while the transfer is at that side's review.
//! A member sees only its organisation's transfers; a hostmaster sees every transfer that touches
//! its registry; auditors read everything and change nothing; admins run the system.

use std::fmt;

use super::rir::Rir;
use super::transfer::{OrgId, Side, TransferFacts, UserId};
use super::workflow::State;

/// What an actor is in the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Staff of a resource holder or prospective recipient.
    Member { org_id: OrgId },
    /// Staff of one registry.
    Hostmaster { registry: Rir },
    /// Reads everything, verifies and exports the ledger; never changes anything.
    Auditor,
    /// Operates the system: organisations, users, policy profiles, failed e-mails.
    Admin,
    /// Not signed in.
    Anonymous,
}

/// The role an account is given (`users.role`); with the account's organisation or registry it
/// makes the [`Role`] it acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountRole {
    Member,
    Hostmaster,
    Auditor,
    Admin,
}

impl AccountRole {
    pub const ALL: [AccountRole; 4] = [
        AccountRole::Member,
        AccountRole::Hostmaster,
        AccountRole::Auditor,
        AccountRole::Admin,
    ];

    /// The name stored in `users.role` and typed in forms and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Member => "member",
            AccountRole::Hostmaster => "hostmaster",
            AccountRole::Auditor => "auditor",
            AccountRole::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<AccountRole> {
        AccountRole::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::str::FromStr for AccountRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountRole::parse(s)
            .ok_or_else(|| format!("{s:?} is not a role: use member, hostmaster, auditor or admin"))
    }
}

/// The person asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actor {
    /// `None` when not signed in.
    pub user_id: Option<UserId>,
    pub role: Role,
}

impl Actor {
    /// A signed-in user.
    pub fn new(user_id: UserId, role: Role) -> Self {
        Actor {
            user_id: Some(user_id),
            role,
        }
    }

    /// Someone who is not signed in.
    pub fn anonymous() -> Self {
        Actor {
            user_id: None,
            role: Role::Anonymous,
        }
    }
}

/// What authorization needs to know about one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferAccess {
    pub source_org: OrgId,
    pub recipient_org: OrgId,
    pub source_rir: Rir,
    pub recipient_rir: Rir,
    pub state: State,
}

impl TransferAccess {
    /// From the transfer's facts and its current workflow state.
    pub fn new(facts: &TransferFacts, state: State) -> Self {
        TransferAccess {
            source_org: facts.source.id,
            recipient_org: facts.recipient.id,
            source_rir: facts.source_rir(),
            recipient_rir: facts.recipient_rir(),
            state,
        }
    }

    /// The organisation on a side.
    pub fn org_of(&self, side: Side) -> OrgId {
        match side {
            Side::Source => self.source_org,
            Side::Recipient => self.recipient_org,
        }
    }

    /// The registry owning a side.
    pub fn rir_of(&self, side: Side) -> Rir {
        match side {
            Side::Source => self.source_rir,
            Side::Recipient => self.recipient_rir,
        }
    }

    /// True when the organisation is the source or the recipient.
    pub fn involves_org(&self, org_id: OrgId) -> bool {
        self.source_org == org_id || self.recipient_org == org_id
    }

    /// True when the registry owns either side.
    pub fn involves_rir(&self, rir: Rir) -> bool {
        self.source_rir == rir || self.recipient_rir == rir
    }
}

/// Everything a route may ask permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a transfer; without a transfer, open the list of transfers (filtered per actor).
    ViewTransfer,
    /// File a new transfer as the source organisation (asked without a transfer).
    FileTransfer,
    /// Consent as the recipient organisation, with the need justification.
    AcceptAsRecipient,
    /// Answer a request for information addressed to the actor's organisation.
    AnswerInfo,
    UploadDocument,
    /// Withdraw the source organisation's filing.
    Withdraw,
    /// Approve, reject or request information at the review step of `side`.
    Decide {
        side: Side,
    },
    ConfirmFees,
    Finalize,
    MarkDisputed,
    ResolveDispute,
    ViewLedger,
    VerifyLedger,
    /// Export the ledger in the registries' published formats.
    Export,
    ManageOrganisations,
    ManageUsers,
    ManagePolicyProfiles,
    ViewFailedEmails,
    RetryEmail,
}

impl Action {
    /// Every action, in a stable order (for matrices and admin screens).
    pub const ALL: [Action; 20] = [
        Action::ViewTransfer,
        Action::FileTransfer,
        Action::AcceptAsRecipient,
        Action::AnswerInfo,
        Action::UploadDocument,
        Action::Withdraw,
        Action::Decide { side: Side::Source },
        Action::Decide {
            side: Side::Recipient,
        },
        Action::ConfirmFees,
        Action::Finalize,
        Action::MarkDisputed,
        Action::ResolveDispute,
        Action::ViewLedger,
        Action::VerifyLedger,
        Action::Export,
        Action::ManageOrganisations,
        Action::ManageUsers,
        Action::ManagePolicyProfiles,
        Action::ViewFailedEmails,
        Action::RetryEmail,
    ];

    /// True when the action only reads; auditors are limited to these.
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Action::ViewTransfer | Action::ViewLedger | Action::VerifyLedger | Action::Export
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Decide { side } => write!(f, "Decide({})", side.as_str()),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Whether `actor` may perform `action`, on `transfer` where the action concerns one.
///
/// Actions on a transfer are refused without one, except [`Action::ViewTransfer`] (the list of
/// transfers, which the service filters per actor). [`Action::FileTransfer`] concerns no
/// existing transfer, so it is refused with one; the service files for the member's own
/// organisation. State conditions mirror the workflow so that only usable buttons show.
pub fn can(actor: &Actor, action: Action, transfer: Option<&TransferAccess>) -> bool {
    match actor.role {
        Role::Anonymous => false,
        // Admins read transfers to support users but never drive the workflow.
        Role::Admin => matches!(
            action,
            Action::ViewTransfer
                | Action::ViewLedger
                | Action::VerifyLedger
                | Action::Export
                | Action::ManageOrganisations
                | Action::ManageUsers
                | Action::ManagePolicyProfiles
                | Action::ViewFailedEmails
                | Action::RetryEmail
        ),
        Role::Auditor => action.is_read_only(),
        Role::Member { org_id } => member_can(org_id, action, transfer),
        Role::Hostmaster { registry } => hostmaster_can(actor, registry, action, transfer),
    }
}

/// Whether the actor may correct one registry's records (a holding's origin, the real name of
/// an imported organisation): that registry's hostmasters, and the administrator.
pub fn can_edit_records(actor: &Actor, registry: Rir) -> bool {
    actor.user_id.is_some()
        && match actor.role {
            Role::Admin => true,
            Role::Hostmaster { registry: own } => own == registry,
            _ => false,
        }
}

fn member_can(org_id: OrgId, action: Action, transfer: Option<&TransferAccess>) -> bool {
    let Some(t) = transfer else {
        return matches!(action, Action::ViewTransfer | Action::FileTransfer);
    };
    match action {
        Action::ViewTransfer => t.involves_org(org_id),
        Action::Withdraw => t.source_org == org_id && t.state.is_withdrawable(),
        Action::AcceptAsRecipient => {
            t.recipient_org == org_id && t.state == State::AwaitingRecipient
        }
        Action::AnswerInfo => match t.state {
            State::InfoRequested { asked, .. } => t.org_of(asked) == org_id,
            _ => false,
        },
        Action::UploadDocument => t.involves_org(org_id) && !t.state.is_terminal(),
        _ => false,
    }
}

fn hostmaster_can(
    actor: &Actor,
    registry: Rir,
    action: Action,
    transfer: Option<&TransferAccess>,
) -> bool {
    match action {
        Action::ViewLedger => return true,
        Action::ViewTransfer if transfer.is_none() => return true,
        _ => {}
    }
    let Some(t) = transfer else {
        return false;
    };
    // The source registry finalizes (NRO protocol), so it also owns fees and disputes.
    let source_registry = t.source_rir == registry;
    match action {
        Action::ViewTransfer => t.involves_rir(registry),
        Action::Decide { side } => {
            t.rir_of(side) == registry
                && matches!(
                    (&t.state, side),
                    (State::SourceReview, Side::Source) | (State::RecipientReview, Side::Recipient)
                )
        }
        // Each registry confirms its own fee lines (the service checks which are unpaid).
        Action::ConfirmFees => {
            t.involves_rir(registry)
                && matches!(
                    t.state,
                    State::AwaitingFinalization {
                        fees_confirmed: false,
                        ..
                    }
                )
        }
        Action::MarkDisputed => {
            source_registry && matches!(t.state, State::AwaitingFinalization { .. })
        }
        Action::Finalize => match t.state {
            // The first of two finalizers may not also be the second.
            State::AwaitingFinalization {
                first_finalizer, ..
            } => source_registry && (first_finalizer.is_none() || first_finalizer != actor.user_id),
            _ => false,
        },
        Action::ResolveDispute => source_registry && t.state == State::Disputed,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn account_roles_round_trip_their_stored_names() {
        for r in AccountRole::ALL {
            assert_eq!(AccountRole::parse(r.as_str()), Some(r));
            assert_eq!(r.as_str().parse::<AccountRole>(), Ok(r));
        }
        assert_eq!(AccountRole::parse("Admin"), None);
        assert!(
            "root"
                .parse::<AccountRole>()
                .unwrap_err()
                .contains("not a role")
        );
    }

    use super::*;
    use crate::workflow::ReviewStep;

    const SOURCE_ORG: OrgId = OrgId(10);
    const RECIPIENT_ORG: OrgId = OrgId(20);
    const OTHER_ORG: OrgId = OrgId(30);

    /// The columns of the matrix, in order.
    fn actors() -> [(&'static str, Actor); 9] {
        [
            (
                "src_mem",
                Actor::new(UserId(1), Role::Member { org_id: SOURCE_ORG }),
            ),
            (
                "rcp_mem",
                Actor::new(
                    UserId(2),
                    Role::Member {
                        org_id: RECIPIENT_ORG,
                    },
                ),
            ),
            (
                "oth_mem",
                Actor::new(UserId(3), Role::Member { org_id: OTHER_ORG }),
            ),
            (
                "src_hm",
                Actor::new(
                    UserId(4),
                    Role::Hostmaster {
                        registry: Rir::Arin,
                    },
                ),
            ),
            (
                "rcp_hm",
                Actor::new(
                    UserId(5),
                    Role::Hostmaster {
                        registry: Rir::RipeNcc,
                    },
                ),
            ),
            (
                "oth_hm",
                Actor::new(
                    UserId(6),
                    Role::Hostmaster {
                        registry: Rir::Apnic,
                    },
                ),
            ),
            ("auditor", Actor::new(UserId(7), Role::Auditor)),
            ("admin", Actor::new(UserId(8), Role::Admin)),
            ("anon", Actor::anonymous()),
        ]
    }

    /// An inter-RIR transfer from an ARIN organisation to a RIPE NCC one.
    fn transfer(state: State) -> TransferAccess {
        TransferAccess {
            source_org: SOURCE_ORG,
            recipient_org: RECIPIENT_ORG,
            source_rir: Rir::Arin,
            recipient_rir: Rir::RipeNcc,
            state,
        }
    }

    fn source_hostmaster() -> Actor {
        actors()[3].1
    }

    /// One row per action: `x` allowed, `.` refused, one character per actor column.
    fn row(action: Action, transfer: Option<&TransferAccess>) -> String {
        actors()
            .iter()
            .map(|(_, actor)| {
                if can(actor, action, transfer) {
                    'x'
                } else {
                    '.'
                }
            })
            .collect()
    }

    fn matrix(title: &str, transfer: Option<&TransferAccess>) -> String {
        let names: Vec<&str> = actors().iter().map(|(name, _)| *name).collect();
        let mut out = format!("## {title}\n{:<22}{}\n", "action", names.join(" "));
        for action in Action::ALL {
            let cells: Vec<String> = row(action, transfer)
                .chars()
                .zip(&names)
                .map(|(c, name)| format!("{c:<width$}", width = name.len()))
                .collect();
            let line = format!("{:<22}{}", action.to_string(), cells.join(" "));
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    #[test]
    fn matrix_at_source_review_matches_the_expected_table() {
        // Columns: src_mem rcp_mem oth_mem src_hm rcp_hm oth_hm auditor admin anon.
        let expected = [
            (Action::ViewTransfer, "xx.xx.xx."),
            (Action::FileTransfer, "........."),
            (Action::AcceptAsRecipient, "........."),
            (Action::AnswerInfo, "........."),
            (Action::UploadDocument, "xx......."),
            (Action::Withdraw, "x........"),
            (Action::Decide { side: Side::Source }, "...x....."),
            (
                Action::Decide {
                    side: Side::Recipient,
                },
                ".........",
            ),
            (Action::ConfirmFees, "........."),
            (Action::Finalize, "........."),
            (Action::MarkDisputed, "........."),
            (Action::ResolveDispute, "........."),
            (Action::ViewLedger, "...xxxxx."),
            (Action::VerifyLedger, "......xx."),
            (Action::Export, "......xx."),
            (Action::ManageOrganisations, ".......x."),
            (Action::ManageUsers, ".......x."),
            (Action::ManagePolicyProfiles, ".......x."),
            (Action::ViewFailedEmails, ".......x."),
            (Action::RetryEmail, ".......x."),
        ];
        assert_eq!(expected.len(), Action::ALL.len());
        let t = transfer(State::SourceReview);
        for (action, want) in expected {
            assert_eq!(row(action, Some(&t)), want, "{action}");
        }
    }

    #[test]
    fn matrix_at_each_step_snapshot() {
        let states = [
            State::AwaitingRecipient,
            State::SourceReview,
            State::InfoRequested {
                step: ReviewStep::RecipientReview,
                asked: Side::Source,
            },
            State::RecipientReview,
            State::AwaitingFinalization {
                fees_confirmed: false,
                first_finalizer: None,
            },
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: Some(UserId(4)),
            },
            State::Disputed,
            State::Completed,
        ];
        let mut out = matrix("no transfer (global actions, transfer lists)", None);
        for state in states {
            out.push('\n');
            let title = format!("inter-RIR ARIN -> RIPE NCC, {state}");
            out.push_str(&matrix(&title, Some(&transfer(state))));
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn unrelated_member_cannot_see_or_touch_the_transfer() {
        let stranger = Actor::new(UserId(3), Role::Member { org_id: OTHER_ORG });
        let t = transfer(State::AwaitingRecipient);
        for action in Action::ALL {
            assert!(!can(&stranger, action, Some(&t)), "{action}");
        }
        // A hostmaster of an uninvolved registry does not see it either.
        let apnic = Actor::new(
            UserId(6),
            Role::Hostmaster {
                registry: Rir::Apnic,
            },
        );
        assert!(!can(&apnic, Action::ViewTransfer, Some(&t)));
    }

    #[test]
    fn auditors_never_change_anything() {
        let auditor = Actor::new(UserId(7), Role::Auditor);
        for state in [
            State::AwaitingRecipient,
            State::SourceReview,
            State::RecipientReview,
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: None,
            },
            State::Disputed,
        ] {
            let t = transfer(state);
            for action in Action::ALL {
                assert_eq!(
                    can(&auditor, action, Some(&t)),
                    action.is_read_only(),
                    "{action}"
                );
            }
        }
        assert!(!can(
            &auditor,
            Action::Decide { side: Side::Source },
            Some(&transfer(State::SourceReview))
        ));
    }

    #[test]
    fn each_registry_decides_only_its_own_side_at_its_own_step() {
        let arin = source_hostmaster();
        let ripe = Actor::new(
            UserId(5),
            Role::Hostmaster {
                registry: Rir::RipeNcc,
            },
        );
        let source_review = transfer(State::SourceReview);
        let recipient_review = transfer(State::RecipientReview);
        let decide = |side| Action::Decide { side };

        assert!(can(&arin, decide(Side::Source), Some(&source_review)));
        assert!(!can(&ripe, decide(Side::Source), Some(&source_review)));
        assert!(!can(&ripe, decide(Side::Recipient), Some(&source_review)));
        assert!(can(&ripe, decide(Side::Recipient), Some(&recipient_review)));
        assert!(!can(
            &arin,
            decide(Side::Recipient),
            Some(&recipient_review)
        ));
        assert!(!can(&arin, decide(Side::Source), Some(&recipient_review)));
        // Nothing to decide while an organisation owes an answer.
        let waiting = transfer(State::InfoRequested {
            step: ReviewStep::SourceReview,
            asked: Side::Recipient,
        });
        assert!(!can(&arin, decide(Side::Source), Some(&waiting)));

        // Intra-RIR: the one registry holds the single (source) review.
        let intra = TransferAccess {
            recipient_rir: Rir::Arin,
            ..transfer(State::SourceReview)
        };
        assert!(can(&arin, decide(Side::Source), Some(&intra)));
        assert!(!can(&arin, decide(Side::Recipient), Some(&intra)));
    }

    #[test]
    fn the_source_registry_owns_finalization_and_disputes() {
        let arin = source_hostmaster();
        let ripe = Actor::new(
            UserId(5),
            Role::Hostmaster {
                registry: Rir::RipeNcc,
            },
        );
        let ready = transfer(State::AwaitingFinalization {
            fees_confirmed: false,
            first_finalizer: None,
        });
        for action in [Action::Finalize, Action::MarkDisputed] {
            assert!(can(&arin, action, Some(&ready)), "{action}");
            assert!(!can(&ripe, action, Some(&ready)), "{action}");
        }
        // Each registry confirms its own fee lines; one that is not involved confirms none.
        let apnic = Actor::new(
            UserId(6),
            Role::Hostmaster {
                registry: Rir::Apnic,
            },
        );
        assert!(can(&arin, Action::ConfirmFees, Some(&ready)));
        assert!(can(&ripe, Action::ConfirmFees, Some(&ready)));
        assert!(!can(&apnic, Action::ConfirmFees, Some(&ready)));
        let paid = transfer(State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: None,
        });
        assert!(!can(&arin, Action::ConfirmFees, Some(&paid)));
        // Four eyes: the first finalizer may not finalize again, a colleague may.
        let halfway = transfer(State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: Some(UserId(4)),
        });
        assert!(!can(&arin, Action::Finalize, Some(&halfway)));
        let colleague = Actor::new(
            UserId(40),
            Role::Hostmaster {
                registry: Rir::Arin,
            },
        );
        assert!(can(&colleague, Action::Finalize, Some(&halfway)));

        let disputed = transfer(State::Disputed);
        assert!(can(&arin, Action::ResolveDispute, Some(&disputed)));
        assert!(!can(&ripe, Action::ResolveDispute, Some(&disputed)));
        assert!(!can(&arin, Action::Finalize, Some(&disputed)));
    }

    #[test]
    fn organisations_act_only_when_it_is_their_turn() {
        let source = Actor::new(UserId(1), Role::Member { org_id: SOURCE_ORG });
        let recipient = Actor::new(
            UserId(2),
            Role::Member {
                org_id: RECIPIENT_ORG,
            },
        );
        let awaiting = transfer(State::AwaitingRecipient);
        assert!(can(&recipient, Action::AcceptAsRecipient, Some(&awaiting)));
        assert!(!can(&source, Action::AcceptAsRecipient, Some(&awaiting)));

        let asked_source = transfer(State::InfoRequested {
            step: ReviewStep::RecipientReview,
            asked: Side::Source,
        });
        assert!(can(&source, Action::AnswerInfo, Some(&asked_source)));
        assert!(!can(&recipient, Action::AnswerInfo, Some(&asked_source)));

        let done = transfer(State::Completed);
        assert!(can(&recipient, Action::ViewTransfer, Some(&done)));
        assert!(!can(&recipient, Action::UploadDocument, Some(&done)));
        assert!(!can(&source, Action::Withdraw, Some(&done)));
        assert!(!can(
            &source,
            Action::Withdraw,
            Some(&transfer(State::Disputed))
        ));
        assert!(!can(&recipient, Action::Withdraw, Some(&awaiting)));
    }

    #[test]
    fn anonymous_may_do_nothing() {
        let t = transfer(State::SourceReview);
        for action in Action::ALL {
            assert!(!can(&Actor::anonymous(), action, Some(&t)), "{action}");
            assert!(!can(&Actor::anonymous(), action, None), "{action}");
        }
    }
}
