//! The transfer workflow as a pure state machine (design section 3).
//!
//! [`apply`] takes the current [`State`] and one [`Event`] and returns the next state with the
//! [`Effect`]s the service layer must perform in the same database transaction, or a
//! [`WorkflowError`] saying why the event is refused. Nothing here reads the clock or the
//! database: findings, the need justification and the size class of the transfer arrive in the
//! [`WorkflowContext`]. The service writes one history row per applied event itself.
//!
//! Inter-RIR: `awaiting_recipient -> source_review -> recipient_review -> awaiting_finalization ->
//! completed`, publishing the NRO statuses `SOURCE_INITIALIZED`, `RECIPIENT_ACCEPTED` and
//! `SOURCE_FINALIZED`. Intra-RIR transfers have one review (the `source_review` step, where the
//! registry weighs the findings of both sides) and publish no NRO status.

use std::fmt;

use serde_json::{Value, json};

use super::finding::{Finding, Severity};
use super::transfer::{NeedJustification, Side, UserId};

/// A review step owned by one registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewStep {
    /// The source registry's review; the only review of an intra-RIR transfer.
    SourceReview,
    /// The recipient registry's review (inter-RIR only).
    RecipientReview,
}

impl ReviewStep {
    /// The side whose registry owns this step.
    pub fn side(self) -> Side {
        match self {
            ReviewStep::SourceReview => Side::Source,
            ReviewStep::RecipientReview => Side::Recipient,
        }
    }

    /// The review step a side's registry owns.
    pub fn of(side: Side) -> Self {
        match side {
            Side::Source => ReviewStep::SourceReview,
            Side::Recipient => ReviewStep::RecipientReview,
        }
    }

    /// The state name of this step (`source_review`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStep::SourceReview => "source_review",
            ReviewStep::RecipientReview => "recipient_review",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "source_review" => Some(ReviewStep::SourceReview),
            "recipient_review" => Some(ReviewStep::RecipientReview),
            _ => None,
        }
    }

    /// The state a transfer is in while this step is under way.
    fn state(self) -> State {
        match self {
            ReviewStep::SourceReview => State::SourceReview,
            ReviewStep::RecipientReview => State::RecipientReview,
        }
    }
}

/// Status of an inter-RIR transfer in the NRO transfer-log drafts (registry-reference 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NroStatus {
    SourceInitialized,
    RecipientAccepted,
    SourceFinalized,
    SourceCancelled,
    RecipientCancelled,
}

impl NroStatus {
    /// The schema spelling (`SOURCE_INITIALIZED`).
    pub fn as_str(self) -> &'static str {
        match self {
            NroStatus::SourceInitialized => "SOURCE_INITIALIZED",
            NroStatus::RecipientAccepted => "RECIPIENT_ACCEPTED",
            NroStatus::SourceFinalized => "SOURCE_FINALIZED",
            NroStatus::SourceCancelled => "SOURCE_CANCELLED",
            NroStatus::RecipientCancelled => "RECIPIENT_CANCELLED",
        }
    }

    /// The status a registry side publishes when it ends a transfer unsuccessfully.
    fn cancelled_by(side: Side) -> Self {
        match side {
            Side::Source => NroStatus::SourceCancelled,
            Side::Recipient => NroStatus::RecipientCancelled,
        }
    }
}

impl fmt::Display for NroStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored names of the states an unfinished inter-RIR transfer enters only after its source
/// registry approved: entering one published `SOURCE_INITIALIZED` (first the recipient's review).
pub const INITIALIZED_NAMES: [&str; 3] = ["recipient_review", "awaiting_finalization", "disputed"];

/// The NRO status an inter-RIR transfer has published, and since when: `history` is the name
/// of each state it entered ([`State::as_str`]) with the time, oldest first, and `now` its state
/// now (for the side of a cancellation). `None` while nothing is published: before the source
/// registry approved, and for a transfer cancelled before it ever published
/// `SOURCE_INITIALIZED`, which the NRO log never heard of. The time is that of the event that
/// reached the status; a status held through several states (an information request during
/// the recipient's review, a dispute) keeps its first time.
pub fn published_status(
    history: &[(&str, time::OffsetDateTime)],
    now: &State,
) -> Option<(NroStatus, time::OffsetDateTime)> {
    let mut published: Option<(NroStatus, time::OffsetDateTime)> = None;
    for &(name, at) in history {
        let status = match name {
            "recipient_review" => Some(NroStatus::SourceInitialized),
            "awaiting_finalization" | "disputed" => Some(NroStatus::RecipientAccepted),
            "completed" => Some(NroStatus::SourceFinalized),
            "rejected" | "withdrawn" | "expired" => match published {
                Some(_) => now.nro_status(true).filter(|s| {
                    matches!(
                        s,
                        NroStatus::SourceCancelled | NroStatus::RecipientCancelled
                    )
                }),
                None => None,
            },
            // Filing, the source's review, information requests: nothing new is published.
            _ => published.map(|(s, _)| s),
        };
        published = match (status, published) {
            (Some(s), Some((was, since))) if s == was => Some((was, since)),
            (Some(s), _) => Some((s, at)),
            (None, _) => None,
        };
    }
    published
}

/// Who must act or hear about a transfer; the service resolves it to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The members of the organisation on that side.
    Organisation(Side),
    /// The hostmasters of the registry owning that side.
    Hostmasters(Side),
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Organisation(side) => write!(f, "{}_org", side.as_str()),
            Party::Hostmasters(side) => write!(f, "{}_hostmasters", side.as_str()),
        }
    }
}

/// The deadlines the background job watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadlineKind {
    /// The recipient organisation must accept within it (default 30 days).
    Consent,
    /// The asked organisation must answer a request for information within it.
    Information,
}

/// Where a transfer stands. Persist it with [`State::to_parts`] and [`State::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum State {
    /// Filed by the source organisation; the recipient organisation must consent in time.
    AwaitingRecipient,
    /// The source registry reviews its side (an intra-RIR transfer's only review).
    SourceReview,
    /// The recipient registry reviews its side (inter-RIR only).
    RecipientReview,
    /// A review step waits for an organisation's answer.
    InfoRequested {
        /// The review step the answer returns to.
        step: ReviewStep,
        /// The organisation that must answer.
        asked: Side,
    },
    /// Both reviews passed; the source registry confirms fees and finalizes.
    AwaitingFinalization {
        fees_confirmed: bool,
        /// The first hostmaster to finalize a large transfer; a different one must follow.
        first_finalizer: Option<UserId>,
    },
    /// Held by a hostmaster; publishes `RECIPIENT_ACCEPTED` until resolved.
    Disputed,
    /// The blocks moved.
    Completed,
    /// A registry refused its side.
    Rejected { by: Side },
    /// The source organisation withdrew its filing.
    Withdrawn,
    /// A deadline passed.
    Expired {
        /// The side whose registry held the transfer when it lapsed: the source side for a
        /// consent deadline, the review step's side for an information request.
        at: Side,
    },
}

impl State {
    /// The state a newly filed transfer starts in.
    pub const INITIAL: State = State::AwaitingRecipient;

    /// The stable database name (`awaiting_finalization`); the data of a variant is in
    /// [`State::to_parts`].
    pub fn as_str(&self) -> &'static str {
        match self {
            State::AwaitingRecipient => "awaiting_recipient",
            State::SourceReview => "source_review",
            State::RecipientReview => "recipient_review",
            State::InfoRequested { .. } => "info_requested",
            State::AwaitingFinalization { .. } => "awaiting_finalization",
            State::Disputed => "disputed",
            State::Completed => "completed",
            State::Rejected { .. } => "rejected",
            State::Withdrawn => "withdrawn",
            State::Expired { .. } => "expired",
        }
    }

    /// The database name and, for variants that carry data, that data as a JSON object.
    pub fn to_parts(&self) -> (&'static str, Option<String>) {
        let detail = match self {
            State::InfoRequested { step, asked } => {
                Some(json!({ "step": step.as_str(), "asked": asked.as_str() }))
            }
            State::AwaitingFinalization {
                fees_confirmed,
                first_finalizer,
            } => Some(json!({
                "fees_confirmed": fees_confirmed,
                "first_finalizer": first_finalizer,
            })),
            State::Rejected { by } => Some(json!({ "by": by.as_str() })),
            State::Expired { at } => Some(json!({ "at": at.as_str() })),
            _ => None,
        };
        (self.as_str(), detail.map(|d| d.to_string()))
    }

    /// Restores a state written by [`State::to_parts`].
    pub fn from_parts(name: &str, detail: Option<&str>) -> Result<State, StateParseError> {
        let bad = || StateParseError {
            name: name.to_string(),
            detail: detail.map(str::to_string),
        };
        let detail: Option<Value> = match detail {
            Some(text) => Some(serde_json::from_str(text).map_err(|_| bad())?),
            None => None,
        };
        let field = |key: &str| detail.as_ref().and_then(|d| d.get(key));
        let side = |key: &str| field(key).and_then(Value::as_str).and_then(parse_side);
        let state = match name {
            "awaiting_recipient" => State::AwaitingRecipient,
            "source_review" => State::SourceReview,
            "recipient_review" => State::RecipientReview,
            "info_requested" => State::InfoRequested {
                step: field("step")
                    .and_then(Value::as_str)
                    .and_then(ReviewStep::parse)
                    .ok_or_else(bad)?,
                asked: side("asked").ok_or_else(bad)?,
            },
            "awaiting_finalization" => State::AwaitingFinalization {
                fees_confirmed: field("fees_confirmed")
                    .and_then(Value::as_bool)
                    .ok_or_else(bad)?,
                first_finalizer: match field("first_finalizer") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(UserId(v.as_i64().ok_or_else(bad)?)),
                },
            },
            "disputed" => State::Disputed,
            "completed" => State::Completed,
            "rejected" => State::Rejected {
                by: side("by").ok_or_else(bad)?,
            },
            "withdrawn" => State::Withdrawn,
            "expired" => State::Expired {
                at: side("at").ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        };
        Ok(state)
    }

    /// True once nothing can happen to the transfer any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            State::Completed | State::Rejected { .. } | State::Withdrawn | State::Expired { .. }
        )
    }

    /// The stored names ([`State::as_str`]) of the terminal states, for queries: every other
    /// state still claims the transfer's addresses.
    pub const TERMINAL_NAMES: [&'static str; 4] = ["completed", "rejected", "withdrawn", "expired"];

    /// The stored names of the states in which a registry's hostmasters must act, each with the
    /// side whose registry that is ([`State::waiting_on`] is `Party::Hostmasters(side)`), for
    /// the queries of a registry's queue.
    pub const HOSTMASTER_STEP_NAMES: [(&'static str, Side); 4] = [
        ("source_review", Side::Source),
        ("recipient_review", Side::Recipient),
        ("awaiting_finalization", Side::Source),
        ("disputed", Side::Source),
    ];

    /// The NRO status this state publishes; `None` for intra-RIR transfers and before the
    /// source registry has acted. A cancelled state (rejected, withdrawn, expired) gives the
    /// status its side would publish, which is published only when the transfer had published
    /// `SOURCE_INITIALIZED` before: [`published_status`] decides that from the history.
    pub fn nro_status(&self, inter_rir: bool) -> Option<NroStatus> {
        if !inter_rir {
            return None;
        }
        match self {
            State::AwaitingRecipient | State::SourceReview => None,
            State::InfoRequested { step, .. } => match step {
                ReviewStep::SourceReview => None,
                ReviewStep::RecipientReview => Some(NroStatus::SourceInitialized),
            },
            State::RecipientReview => Some(NroStatus::SourceInitialized),
            // A dispute shows as being stuck at RECIPIENT_ACCEPTED.
            State::AwaitingFinalization { .. } | State::Disputed => {
                Some(NroStatus::RecipientAccepted)
            }
            State::Completed => Some(NroStatus::SourceFinalized),
            State::Rejected { by } => Some(NroStatus::cancelled_by(*by)),
            State::Withdrawn => Some(NroStatus::SourceCancelled),
            State::Expired { at } => Some(NroStatus::cancelled_by(*at)),
        }
    }

    /// Who must act next; `None` once terminal.
    pub fn waiting_on(&self) -> Option<Party> {
        match self {
            State::AwaitingRecipient => Some(Party::Organisation(Side::Recipient)),
            State::SourceReview => Some(Party::Hostmasters(Side::Source)),
            State::RecipientReview => Some(Party::Hostmasters(Side::Recipient)),
            State::InfoRequested { asked, .. } => Some(Party::Organisation(*asked)),
            // The source registry finalizes (NRO protocol) and so also holds disputes.
            State::AwaitingFinalization { .. } | State::Disputed => {
                Some(Party::Hostmasters(Side::Source))
            }
            _ => None,
        }
    }

    /// The side whose registry owns the current step; `None` once terminal.
    pub fn owner_side(&self) -> Option<Side> {
        match self {
            State::RecipientReview => Some(Side::Recipient),
            State::InfoRequested { step, .. } => Some(step.side()),
            s if s.is_terminal() => None,
            // The filing, finalization and disputes belong to the source registry.
            _ => Some(Side::Source),
        }
    }

    /// The review step under way, directly or behind a request for information.
    pub fn review_step(&self) -> Option<ReviewStep> {
        match self {
            State::SourceReview => Some(ReviewStep::SourceReview),
            State::RecipientReview => Some(ReviewStep::RecipientReview),
            State::InfoRequested { step, .. } => Some(*step),
            _ => None,
        }
    }

    /// The deadline running while the transfer is in this state.
    pub fn deadline(&self) -> Option<DeadlineKind> {
        match self {
            State::AwaitingRecipient => Some(DeadlineKind::Consent),
            State::InfoRequested { .. } => Some(DeadlineKind::Information),
            _ => None,
        }
    }

    /// True when the source organisation may still withdraw.
    pub fn is_withdrawable(&self) -> bool {
        !self.is_terminal() && *self != State::Disputed
    }

    /// The noun phrase used in refusals ("a transfer awaiting the recipient's consent").
    pub fn describe(&self) -> String {
        match self {
            State::AwaitingRecipient => "a transfer awaiting the recipient's consent".into(),
            State::SourceReview => "a transfer in source review".into(),
            State::RecipientReview => "a transfer in recipient review".into(),
            State::InfoRequested { asked, .. } => format!(
                "a transfer waiting for information from the {} organisation",
                asked.as_str()
            ),
            State::AwaitingFinalization { .. } => "a transfer awaiting finalization".into(),
            State::Disputed => "a disputed transfer".into(),
            State::Completed => "a completed transfer".into(),
            State::Rejected { by } => format!("a transfer rejected on the {} side", by.as_str()),
            State::Withdrawn => "a withdrawn transfer".into(),
            State::Expired { .. } => "an expired transfer".into(),
        }
    }
}

/// Short form with the variant's data: `info_requested(recipient_review, asked=source)`.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        match self {
            State::InfoRequested { step, asked } => {
                write!(f, "({}, asked={})", step.as_str(), asked.as_str())
            }
            State::AwaitingFinalization {
                fees_confirmed,
                first_finalizer,
            } => {
                write!(f, "(fees_confirmed={fees_confirmed}, first_finalizer=")?;
                match first_finalizer {
                    Some(user) => write!(f, "{user})"),
                    None => f.write_str("none)"),
                }
            }
            State::Rejected { by } => write!(f, "(by={})", by.as_str()),
            State::Expired { at } => write!(f, "(at={})", at.as_str()),
            _ => Ok(()),
        }
    }
}

fn parse_side(s: &str) -> Option<Side> {
    match s {
        "source" => Some(Side::Source),
        "recipient" => Some(Side::Recipient),
        _ => None,
    }
}

/// A stored state name or detail that [`State::from_parts`] does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transfer state {name:?} with detail {detail:?}")]
pub struct StateParseError {
    pub name: String,
    pub detail: Option<String>,
}

/// A hostmaster's decision to approve despite a warning finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The warning's rule, e.g. `source.holding_period`.
    pub rule_id: String,
    /// The written reason; must not be blank.
    pub reason: String,
}

/// Something that happened to a transfer, as asked for by a person or the deadline job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The recipient organisation consents; its need justification is in the context.
    RecipientAccept,
    /// A registry approves its side, overriding each warning of that side with a reason.
    Approve {
        side: Side,
        overrides: Vec<Override>,
    },
    /// A registry refuses its side.
    Reject { side: Side, reason: String },
    /// The registry reviewing `side` asks an organisation for information.
    RequestInfo {
        side: Side,
        asked: Side,
        question: String,
    },
    /// The asked organisation answered (text and documents are in the history row).
    AnswerInfo,
    /// The source organisation withdraws its filing.
    Withdraw,
    /// A source-registry hostmaster confirms the fees are paid.
    ConfirmFees { by: UserId },
    /// A source-registry hostmaster finalizes; large transfers need two different ones.
    Finalize { by: UserId },
    /// A hostmaster holds the transfer before finalization.
    MarkDisputed { reason: String },
    /// The dispute is settled; finalization starts again.
    ResolveDispute,
    /// The consent or information deadline passed.
    Expire,
}

impl Event {
    /// The kind of the event without its free text, for refusals.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::RecipientAccept => EventKind::RecipientAccept,
            Event::Approve { side, .. } => EventKind::Approve(*side),
            Event::Reject { side, .. } => EventKind::Reject(*side),
            Event::RequestInfo { side, .. } => EventKind::RequestInfo(*side),
            Event::AnswerInfo => EventKind::AnswerInfo,
            Event::Withdraw => EventKind::Withdraw,
            Event::ConfirmFees { .. } => EventKind::ConfirmFees,
            Event::Finalize { .. } => EventKind::Finalize,
            Event::MarkDisputed { .. } => EventKind::MarkDisputed,
            Event::ResolveDispute => EventKind::ResolveDispute,
            Event::Expire => EventKind::Expire,
        }
    }
}

/// Short form for tables: `Approve(source)`, `Finalize(by=7)`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Approve { side, .. } => write!(f, "Approve({})", side.as_str()),
            Event::Reject { side, .. } => write!(f, "Reject({})", side.as_str()),
            Event::RequestInfo { side, asked, .. } => {
                write!(
                    f,
                    "RequestInfo({}, asked={})",
                    side.as_str(),
                    asked.as_str()
                )
            }
            Event::ConfirmFees { by } => write!(f, "ConfirmFees(by={by})"),
            Event::Finalize { by } => write!(f, "Finalize(by={by})"),
            other => write!(f, "{:?}", other.kind()),
        }
    }
}

/// An [`Event`] without its data, for messages and history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    RecipientAccept,
    Approve(Side),
    Reject(Side),
    RequestInfo(Side),
    AnswerInfo,
    Withdraw,
    ConfirmFees,
    Finalize,
    MarkDisputed,
    ResolveDispute,
    Expire,
}

impl EventKind {
    /// The verb phrase used in refusals ("be finalized").
    pub fn describe(self) -> String {
        match self {
            EventKind::RecipientAccept => "be accepted by the recipient".into(),
            EventKind::Approve(side) => format!("be approved on the {} side", side.as_str()),
            EventKind::Reject(side) => format!("be rejected on the {} side", side.as_str()),
            EventKind::RequestInfo(side) => {
                format!("have information requested on the {} side", side.as_str())
            }
            EventKind::AnswerInfo => "have a request for information answered".into(),
            EventKind::Withdraw => "be withdrawn".into(),
            EventKind::ConfirmFees => "have its fees confirmed".into(),
            EventKind::Finalize => "be finalized".into(),
            EventKind::MarkDisputed => "be marked disputed".into(),
            EventKind::ResolveDispute => "have a dispute resolved".into(),
            EventKind::Expire => "expire".into(),
        }
    }
}

/// What the workflow needs to know beyond the state; loaded by the service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkflowContext {
    /// Source and recipient registries differ.
    pub inter_rir: bool,
    /// Current findings of both sides.
    pub findings: Vec<Finding>,
    /// A /16 or more in total (configurable); finalization then needs four eyes.
    pub large_transfer: bool,
    /// Policy asks the recipient for a need justification to accept (`policy::need_requirement`:
    /// its registry's need test, or RIPE NCC's plan for space from a needs-based registry).
    pub need_required: bool,
    /// The recipient's need justification, given with its acceptance.
    pub need: Option<NeedJustification>,
}

impl WorkflowContext {
    /// The sides a review step must clear: its own, or both for the one intra-RIR review.
    fn sides_reviewed(&self, step: ReviewStep) -> Vec<Side> {
        if self.inter_rir {
            vec![step.side()]
        } else {
            vec![Side::Source, Side::Recipient]
        }
    }

    fn parties_involved(&self) -> Vec<Party> {
        let mut to = vec![
            Party::Organisation(Side::Source),
            Party::Organisation(Side::Recipient),
            Party::Hostmasters(Side::Source),
        ];
        // One registry owns both sides of an intra-RIR transfer; tell its hostmasters once.
        if self.inter_rir {
            to.push(Party::Hostmasters(Side::Recipient));
        }
        to
    }
}

/// Why a notification goes out; the template is chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// A new filing waits for the recipient's consent (sent by [`filed`]).
    Filed,
    /// The recipient accepted: a review waits for the source registry.
    RecipientAccepted,
    /// An organisation must answer a question.
    InformationRequested,
    /// The answer arrived: the review step continues.
    InformationAnswered,
    /// The source registry approved: a review waits for the recipient registry.
    SourceApproved,
    /// All reviews passed: the source registry confirms fees and finalizes.
    ReadyToFinalize,
    /// A large transfer needs a second, different hostmaster to finalize.
    SecondFinalizerNeeded,
    Completed,
    Rejected,
    Withdrawn,
    Expired,
    Disputed,
    DisputeResolved,
}

/// A message to enqueue in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: NotificationKind,
    pub to: Vec<Party>,
}

/// Work the service performs in the transaction that stores the new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Enqueue e-mails.
    Notify(Notification),
    /// Start the deadline the new state waits under.
    StartDeadline { kind: DeadlineKind },
    /// Stop the deadline of the state left.
    ClearDeadline,
    /// Append ledger entries and move the holdings to the recipient.
    MoveBlocks,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Notify(n) => {
                let to: Vec<String> = n.to.iter().map(Party::to_string).collect();
                write!(f, "Notify({:?} -> {})", n.kind, to.join(", "))
            }
            Effect::StartDeadline { kind } => write!(f, "StartDeadline({kind:?})"),
            Effect::ClearDeadline => f.write_str("ClearDeadline"),
            Effect::MoveBlocks => f.write_str("MoveBlocks"),
        }
    }
}

/// The outcome of an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub next: State,
    pub effects: Vec<Effect>,
}

/// Why an event is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("{} cannot {}", state.describe(), event.describe())]
    NotAllowed { state: State, event: EventKind },
    #[error("an intra-RIR transfer has no recipient review, so it cannot be in state {0}")]
    InconsistentState(State),
    #[error("blocking findings prevent this: {}", rule_ids(.0).join(", "))]
    BlockingFindings(Vec<Finding>),
    #[error("each warning needs an override with a written reason: {}", .0.join(", "))]
    UnjustifiedWarnings(Vec<String>),
    #[error("{0} needs a written reason")]
    MissingReason(&'static str),
    #[error("the recipient registry is needs-based: acceptance needs a need justification")]
    MissingNeedJustification,
    #[error("the fees must be confirmed paid before finalization")]
    FeesNotConfirmed,
    #[error("the fees are already confirmed")]
    FeesAlreadyConfirmed,
    #[error(
        "a large transfer needs a second, different hostmaster to finalize (user {first} already did)"
    )]
    SecondFinalizerRequired { first: UserId },
}

fn rule_ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule_id.as_str()).collect()
}

/// The state and effects of a newly filed transfer: the consent deadline starts and the
/// recipient organisation is told.
pub fn filed() -> Transition {
    Transition {
        next: State::INITIAL,
        effects: vec![
            Effect::StartDeadline {
                kind: DeadlineKind::Consent,
            },
            notify(
                NotificationKind::Filed,
                vec![Party::Organisation(Side::Recipient)],
            ),
        ],
    }
}

/// Applies one event to a state: the next state with its effects, or why it is refused.
pub fn apply(
    ctx: &WorkflowContext,
    state: &State,
    event: &Event,
) -> Result<Transition, WorkflowError> {
    if !ctx.inter_rir && state.review_step() == Some(ReviewStep::RecipientReview) {
        return Err(WorkflowError::InconsistentState(state.clone()));
    }
    let not_allowed = || WorkflowError::NotAllowed {
        state: state.clone(),
        event: event.kind(),
    };
    let everyone = || ctx.parties_involved();

    let (next, mut effects) = match (state, event) {
        (State::AwaitingRecipient, Event::RecipientAccept) => {
            let has_need = ctx.need.as_ref().is_some_and(|n| !n.text.trim().is_empty());
            if ctx.need_required && !has_need {
                return Err(WorkflowError::MissingNeedJustification);
            }
            (
                State::SourceReview,
                vec![notify(
                    NotificationKind::RecipientAccepted,
                    vec![Party::Hostmasters(Side::Source)],
                )],
            )
        }

        (State::SourceReview | State::RecipientReview, Event::Approve { side, overrides }) => {
            let step = current_step(state, *side).ok_or_else(not_allowed)?;
            check_approval(ctx, step, overrides)?;
            match (step, ctx.inter_rir) {
                (ReviewStep::SourceReview, true) => (
                    State::RecipientReview,
                    vec![notify(
                        NotificationKind::SourceApproved,
                        vec![Party::Hostmasters(Side::Recipient)],
                    )],
                ),
                // The last review passed: intra-RIR source review, or inter-RIR recipient review.
                _ => (
                    State::AwaitingFinalization {
                        fees_confirmed: false,
                        first_finalizer: None,
                    },
                    vec![notify(
                        NotificationKind::ReadyToFinalize,
                        vec![Party::Hostmasters(Side::Source)],
                    )],
                ),
            }
        }

        (State::SourceReview | State::RecipientReview, Event::Reject { side, reason }) => {
            current_step(state, *side).ok_or_else(not_allowed)?;
            require_reason("a rejection", reason)?;
            (
                State::Rejected { by: *side },
                vec![notify(NotificationKind::Rejected, everyone())],
            )
        }

        (
            State::SourceReview | State::RecipientReview,
            Event::RequestInfo {
                side,
                asked,
                question,
            },
        ) => {
            let step = current_step(state, *side).ok_or_else(not_allowed)?;
            require_reason("a request for information", question)?;
            (
                State::InfoRequested {
                    step,
                    asked: *asked,
                },
                vec![notify(
                    NotificationKind::InformationRequested,
                    vec![Party::Organisation(*asked)],
                )],
            )
        }

        (State::InfoRequested { step, .. }, Event::AnswerInfo) => (
            step.state(),
            vec![notify(
                NotificationKind::InformationAnswered,
                vec![Party::Hostmasters(step.side())],
            )],
        ),

        (
            State::AwaitingFinalization {
                fees_confirmed: false,
                first_finalizer,
            },
            Event::ConfirmFees { .. },
        ) => (
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: *first_finalizer,
            },
            vec![],
        ),
        (State::AwaitingFinalization { .. }, Event::ConfirmFees { .. }) => {
            return Err(WorkflowError::FeesAlreadyConfirmed);
        }

        (
            State::AwaitingFinalization {
                fees_confirmed,
                first_finalizer,
            },
            Event::Finalize { by },
        ) => {
            if !fees_confirmed {
                return Err(WorkflowError::FeesNotConfirmed);
            }
            let blocking: Vec<Finding> = ctx
                .findings
                .iter()
                .filter(|f| f.is_blocking())
                .cloned()
                .collect();
            if !blocking.is_empty() {
                return Err(WorkflowError::BlockingFindings(blocking));
            }
            match (ctx.large_transfer, first_finalizer) {
                (true, None) => (
                    State::AwaitingFinalization {
                        fees_confirmed: true,
                        first_finalizer: Some(*by),
                    },
                    vec![notify(
                        NotificationKind::SecondFinalizerNeeded,
                        vec![Party::Hostmasters(Side::Source)],
                    )],
                ),
                (true, Some(first)) if first == by => {
                    return Err(WorkflowError::SecondFinalizerRequired { first: *first });
                }
                _ => (
                    State::Completed,
                    vec![
                        Effect::MoveBlocks,
                        notify(NotificationKind::Completed, everyone()),
                    ],
                ),
            }
        }

        (State::AwaitingFinalization { .. }, Event::MarkDisputed { reason }) => {
            require_reason("a dispute", reason)?;
            (
                State::Disputed,
                vec![notify(NotificationKind::Disputed, everyone())],
            )
        }

        // A dispute may change the terms, so fees and four eyes start again.
        (State::Disputed, Event::ResolveDispute) => (
            State::AwaitingFinalization {
                fees_confirmed: false,
                first_finalizer: None,
            },
            vec![notify(NotificationKind::DisputeResolved, everyone())],
        ),

        (s, Event::Withdraw) if s.is_withdrawable() => (
            State::Withdrawn,
            vec![notify(NotificationKind::Withdrawn, everyone())],
        ),

        (State::AwaitingRecipient, Event::Expire) => (
            State::Expired { at: Side::Source },
            vec![notify(NotificationKind::Expired, everyone())],
        ),
        (State::InfoRequested { step, .. }, Event::Expire) => (
            State::Expired { at: step.side() },
            vec![notify(NotificationKind::Expired, everyone())],
        ),

        _ => return Err(not_allowed()),
    };

    // Deadlines follow the states: leaving a waiting state stops its clock, entering one starts it.
    let mut deadlines = Vec::new();
    if state.deadline().is_some() && next != *state {
        deadlines.push(Effect::ClearDeadline);
    }
    if let Some(kind) = next.deadline().filter(|_| next != *state) {
        deadlines.push(Effect::StartDeadline { kind });
    }
    deadlines.append(&mut effects);
    Ok(Transition {
        next,
        effects: deadlines,
    })
}

fn notify(kind: NotificationKind, to: Vec<Party>) -> Effect {
    Effect::Notify(Notification { kind, to })
}

/// The review step `side` may act on in `state`, if it is that side's turn.
fn current_step(state: &State, side: Side) -> Option<ReviewStep> {
    state.review_step().filter(|step| step.side() == side)
}

fn require_reason(what: &'static str, text: &str) -> Result<(), WorkflowError> {
    if text.trim().is_empty() {
        Err(WorkflowError::MissingReason(what))
    } else {
        Ok(())
    }
}

/// No blocking finding of the reviewed sides, and every warning overridden with a reason.
fn check_approval(
    ctx: &WorkflowContext,
    step: ReviewStep,
    overrides: &[Override],
) -> Result<(), WorkflowError> {
    let sides = ctx.sides_reviewed(step);
    let reviewed = || {
        ctx.findings
            .iter()
            .filter(|f| sides.iter().any(|side| f.concerns(*side)))
    };
    let blocking: Vec<Finding> = reviewed().filter(|f| f.is_blocking()).cloned().collect();
    if !blocking.is_empty() {
        return Err(WorkflowError::BlockingFindings(blocking));
    }
    let justified = |rule_id: &str| {
        overrides
            .iter()
            .any(|o| o.rule_id == rule_id && !o.reason.trim().is_empty())
    };
    let mut unjustified: Vec<String> = reviewed()
        .filter(|f| f.severity == Severity::Warning && !justified(&f.rule_id))
        .map(|f| f.rule_id.clone())
        .collect();
    // One override answers every finding of the same rule.
    let mut seen = Vec::new();
    unjustified.retain(|id| {
        let first = !seen.contains(id);
        seen.push(id.clone());
        first
    });
    if !unjustified.is_empty() {
        return Err(WorkflowError::UnjustifiedWarnings(unjustified));
    }
    Ok(())
}

/// Every representative state x every event, for an intra-RIR and an inter-RIR (large) transfer
/// without findings, one line per pair. Snapshot-tested so any workflow change is a reviewed diff.
pub fn transition_table() -> String {
    let need = Some(NeedJustification {
        text: "new data centre".into(),
        ..NeedJustification::default()
    });
    let intra = WorkflowContext {
        inter_rir: false,
        need: need.clone(),
        need_required: true,
        ..WorkflowContext::default()
    };
    let inter = WorkflowContext {
        inter_rir: true,
        large_transfer: true,
        need,
        need_required: true,
        ..WorkflowContext::default()
    };
    let mut out = String::new();
    for (title, ctx) in [
        ("intra-RIR, below the four-eyes size", &intra),
        ("inter-RIR, large (four eyes)", &inter),
    ] {
        out.push_str(&format!("## {title}\n"));
        for state in representative_states(ctx.inter_rir) {
            for event in representative_events() {
                let line = match apply(ctx, &state, &event) {
                    Ok(t) => {
                        let status = t
                            .next
                            .nro_status(ctx.inter_rir)
                            .map(|s| format!(" [{s}]"))
                            .unwrap_or_default();
                        let effects: Vec<String> =
                            t.effects.iter().map(Effect::to_string).collect();
                        let effects = if effects.is_empty() {
                            "none".to_string()
                        } else {
                            effects.join("; ")
                        };
                        format!("-> {}{status} effects: {effects}", t.next)
                    }
                    Err(e) => format!("-> refused: {e}"),
                };
                out.push_str(&format!("{state} x {event} {line}\n"));
            }
        }
        out.push('\n');
    }
    out
}

fn representative_states(inter_rir: bool) -> Vec<State> {
    let info = |step, asked| State::InfoRequested { step, asked };
    let finalization = |fees_confirmed, first_finalizer| State::AwaitingFinalization {
        fees_confirmed,
        first_finalizer,
    };
    let mut states = vec![State::AwaitingRecipient, State::SourceReview];
    if inter_rir {
        states.push(State::RecipientReview);
    }
    states.push(info(ReviewStep::SourceReview, Side::Source));
    states.push(info(ReviewStep::SourceReview, Side::Recipient));
    if inter_rir {
        states.push(info(ReviewStep::RecipientReview, Side::Recipient));
    }
    states.extend([finalization(false, None), finalization(true, None)]);
    if inter_rir {
        states.push(finalization(true, Some(UserId(1))));
    }
    states.extend([
        State::Disputed,
        State::Completed,
        State::Rejected { by: Side::Source },
    ]);
    if inter_rir {
        states.push(State::Rejected {
            by: Side::Recipient,
        });
    }
    states.extend([State::Withdrawn, State::Expired { at: Side::Source }]);
    if inter_rir {
        states.push(State::Expired {
            at: Side::Recipient,
        });
    }
    states
}

fn representative_events() -> Vec<Event> {
    let reason = || "per policy".to_string();
    vec![
        Event::RecipientAccept,
        Event::Approve {
            side: Side::Source,
            overrides: vec![],
        },
        Event::Approve {
            side: Side::Recipient,
            overrides: vec![],
        },
        Event::Reject {
            side: Side::Source,
            reason: reason(),
        },
        Event::Reject {
            side: Side::Recipient,
            reason: reason(),
        },
        Event::RequestInfo {
            side: Side::Source,
            asked: Side::Recipient,
            question: reason(),
        },
        Event::RequestInfo {
            side: Side::Recipient,
            asked: Side::Recipient,
            question: reason(),
        },
        Event::AnswerInfo,
        Event::Withdraw,
        Event::ConfirmFees { by: UserId(1) },
        Event::Finalize { by: UserId(1) },
        Event::Finalize { by: UserId(2) },
        Event::MarkDisputed { reason: reason() },
        Event::ResolveDispute,
        Event::Expire,
    ]
}

#[cfg(test)]
mod tests;
