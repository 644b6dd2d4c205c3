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
                    Some(v) => Some(v.as_i64().ok_or_else(bad)?),
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
        states.push(finalization(true, Some(1)));
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
        Event::ConfirmFees { by: 1 },
        Event::Finalize { by: 1 },
        Event::Finalize { by: 2 },
        Event::MarkDisputed { reason: reason() },
        Event::ResolveDispute,
        Event::Expire,
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn need() -> Option<NeedJustification> {
        Some(NeedJustification {
            text: "customer growth in two new regions".into(),
            horizon_months: Some(24),
            planned_utilisation_percent: Some(80),
        })
    }

    fn inter() -> WorkflowContext {
        WorkflowContext {
            inter_rir: true,
            need_required: true,
            need: need(),
            ..WorkflowContext::default()
        }
    }

    fn intra() -> WorkflowContext {
        WorkflowContext {
            inter_rir: false,
            ..inter()
        }
    }

    fn finding(rule_id: &str, side: Side, severity: Severity) -> Finding {
        Finding::new(
            rule_id,
            side,
            severity,
            "test policy",
            format!("{rule_id} applies"),
        )
    }

    fn approve(side: Side) -> Event {
        Event::Approve {
            side,
            overrides: vec![],
        }
    }

    fn approve_with(side: Side, overrides: &[(&str, &str)]) -> Event {
        Event::Approve {
            side,
            overrides: overrides
                .iter()
                .map(|(rule_id, reason)| Override {
                    rule_id: (*rule_id).into(),
                    reason: (*reason).into(),
                })
                .collect(),
        }
    }

    fn request_info(side: Side, asked: Side) -> Event {
        Event::RequestInfo {
            side,
            asked,
            question: "please send the signed agreement".into(),
        }
    }

    /// Applies the event, failing the test with the refusal if there is one.
    fn step(ctx: &WorkflowContext, state: &State, event: Event) -> Transition {
        apply(ctx, state, &event).unwrap_or_else(|e| panic!("{state} x {event} refused: {e}"))
    }

    fn refusal(ctx: &WorkflowContext, state: &State, event: Event) -> WorkflowError {
        match apply(ctx, state, &event) {
            Ok(t) => panic!("{state} x {event} unexpectedly went to {}", t.next),
            Err(e) => e,
        }
    }

    fn notified(t: &Transition) -> Vec<(NotificationKind, Vec<Party>)> {
        t.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Notify(n) => Some((n.kind, n.to.clone())),
                _ => None,
            })
            .collect()
    }

    fn awaiting_finalization(fees_confirmed: bool) -> State {
        State::AwaitingFinalization {
            fees_confirmed,
            first_finalizer: None,
        }
    }

    #[test]
    fn golden_inter_rir_path() {
        let ctx = inter();
        let filed = filed();
        assert_eq!(filed.next, State::AwaitingRecipient);
        assert_eq!(
            filed.effects[0],
            Effect::StartDeadline {
                kind: DeadlineKind::Consent
            }
        );
        assert_eq!(
            filed.next.waiting_on(),
            Some(Party::Organisation(Side::Recipient))
        );

        let accepted = step(&ctx, &filed.next, Event::RecipientAccept);
        assert_eq!(accepted.next, State::SourceReview);
        assert_eq!(accepted.effects[0], Effect::ClearDeadline);
        assert_eq!(
            notified(&accepted),
            [(
                NotificationKind::RecipientAccepted,
                vec![Party::Hostmasters(Side::Source)]
            )]
        );
        assert_eq!(accepted.next.nro_status(true), None);

        let source_ok = step(&ctx, &accepted.next, approve(Side::Source));
        assert_eq!(source_ok.next, State::RecipientReview);
        assert_eq!(
            source_ok.next.nro_status(true),
            Some(NroStatus::SourceInitialized)
        );
        assert_eq!(
            notified(&source_ok),
            [(
                NotificationKind::SourceApproved,
                vec![Party::Hostmasters(Side::Recipient)]
            )]
        );

        let recipient_ok = step(&ctx, &source_ok.next, approve(Side::Recipient));
        assert_eq!(recipient_ok.next, awaiting_finalization(false));
        assert_eq!(
            recipient_ok.next.nro_status(true),
            Some(NroStatus::RecipientAccepted)
        );
        assert_eq!(
            notified(&recipient_ok),
            [(
                NotificationKind::ReadyToFinalize,
                vec![Party::Hostmasters(Side::Source)]
            )]
        );

        let fees = step(&ctx, &recipient_ok.next, Event::ConfirmFees { by: 7 });
        assert_eq!(fees.next, awaiting_finalization(true));
        assert!(fees.effects.is_empty());

        let done = step(&ctx, &fees.next, Event::Finalize { by: 7 });
        assert_eq!(done.next, State::Completed);
        assert_eq!(done.next.nro_status(true), Some(NroStatus::SourceFinalized));
        assert_eq!(
            done.next.nro_status(true).map(NroStatus::as_str),
            Some("SOURCE_FINALIZED")
        );
        assert_eq!(done.effects[0], Effect::MoveBlocks);
        assert_eq!(
            notified(&done),
            [(
                NotificationKind::Completed,
                vec![
                    Party::Organisation(Side::Source),
                    Party::Organisation(Side::Recipient),
                    Party::Hostmasters(Side::Source),
                    Party::Hostmasters(Side::Recipient),
                ]
            )]
        );
        assert!(done.next.is_terminal());
        assert_eq!(done.next.waiting_on(), None);
    }

    #[test]
    fn intra_rir_path_has_one_review_and_no_nro_status() {
        let ctx = intra();
        let mut state = State::INITIAL;
        for event in [
            Event::RecipientAccept,
            approve(Side::Source),
            Event::ConfirmFees { by: 3 },
            Event::Finalize { by: 3 },
        ] {
            state = step(&ctx, &state, event).next;
            assert_eq!(state.nro_status(false), None);
        }
        assert_eq!(state, State::Completed);

        // The one review is the registry's source step; there is no recipient step to approve.
        let err = refusal(&ctx, &State::SourceReview, approve(Side::Recipient));
        assert_eq!(
            err.to_string(),
            "a transfer in source review cannot be approved on the recipient side"
        );
        let approved = step(&ctx, &State::SourceReview, approve(Side::Source));
        assert_eq!(approved.next, awaiting_finalization(false));
        assert_eq!(
            notified(&approved),
            [(
                NotificationKind::ReadyToFinalize,
                vec![Party::Hostmasters(Side::Source)]
            )]
        );
        assert!(matches!(
            refusal(&ctx, &State::RecipientReview, Event::Withdraw),
            WorkflowError::InconsistentState(State::RecipientReview)
        ));
    }

    #[test]
    fn intra_rir_review_weighs_the_findings_of_both_sides() {
        let ctx = WorkflowContext {
            findings: vec![finding(
                "recipient.need",
                Side::Recipient,
                Severity::Warning,
            )],
            ..intra()
        };
        assert_eq!(
            refusal(&ctx, &State::SourceReview, approve(Side::Source)),
            WorkflowError::UnjustifiedWarnings(vec!["recipient.need".into()])
        );
        step(
            &ctx,
            &State::SourceReview,
            approve_with(
                Side::Source,
                &[("recipient.need", "plan reviewed by phone")],
            ),
        );
    }

    #[test]
    fn blocking_findings_refuse_approval_of_their_side_and_finalization() {
        let blocker = finding("recipient.membership", Side::Recipient, Severity::Blocking);
        let ctx = WorkflowContext {
            findings: vec![
                blocker.clone(),
                finding("source.note", Side::Source, Severity::Info),
            ],
            ..inter()
        };
        // The source side has no blocking finding, so its registry may approve.
        step(&ctx, &State::SourceReview, approve(Side::Source));
        let err = refusal(&ctx, &State::RecipientReview, approve(Side::Recipient));
        assert_eq!(err, WorkflowError::BlockingFindings(vec![blocker.clone()]));
        assert_eq!(
            err.to_string(),
            "blocking findings prevent this: recipient.membership"
        );
        // An override cannot lift a blocking finding.
        assert!(matches!(
            refusal(
                &ctx,
                &State::RecipientReview,
                approve_with(Side::Recipient, &[("recipient.membership", "trust me")])
            ),
            WorkflowError::BlockingFindings(_)
        ));
        assert_eq!(
            refusal(
                &ctx,
                &awaiting_finalization(true),
                Event::Finalize { by: 1 }
            ),
            WorkflowError::BlockingFindings(vec![blocker])
        );
    }

    #[test]
    fn each_warning_of_the_side_needs_a_written_override() {
        let ctx = WorkflowContext {
            findings: vec![
                finding("source.holding_period", Side::Source, Severity::Warning),
                finding("source.min_size", Side::Source, Severity::Warning),
                finding("recipient.need", Side::Recipient, Severity::Warning),
            ],
            ..inter()
        };
        let state = State::SourceReview;
        assert_eq!(
            refusal(&ctx, &state, approve(Side::Source)),
            WorkflowError::UnjustifiedWarnings(vec![
                "source.holding_period".into(),
                "source.min_size".into()
            ])
        );
        // A blank reason is no reason; a missing override is still missing.
        assert_eq!(
            refusal(
                &ctx,
                &state,
                approve_with(
                    Side::Source,
                    &[("source.holding_period", "  "), ("source.min_size", "ok")]
                )
            ),
            WorkflowError::UnjustifiedWarnings(vec!["source.holding_period".into()])
        );
        // The recipient-side warning belongs to the other registry's review.
        let t = step(
            &ctx,
            &state,
            approve_with(
                Side::Source,
                &[
                    ("source.holding_period", "received by merger, NRPM 8.2"),
                    ("source.min_size", "aggregate of two /25 is a /24"),
                ],
            ),
        );
        assert_eq!(t.next, State::RecipientReview);
        assert_eq!(
            refusal(&ctx, &State::RecipientReview, approve(Side::Recipient)),
            WorkflowError::UnjustifiedWarnings(vec!["recipient.need".into()])
        );
    }

    #[test]
    fn large_transfers_need_two_different_finalizers() {
        let ctx = WorkflowContext {
            large_transfer: true,
            ..inter()
        };
        let first = step(
            &ctx,
            &awaiting_finalization(true),
            Event::Finalize { by: 7 },
        );
        assert_eq!(
            first.next,
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: Some(7)
            }
        );
        assert_eq!(
            notified(&first),
            [(
                NotificationKind::SecondFinalizerNeeded,
                vec![Party::Hostmasters(Side::Source)]
            )]
        );
        assert!(!first.effects.contains(&Effect::MoveBlocks));

        let same = refusal(&ctx, &first.next, Event::Finalize { by: 7 });
        assert_eq!(same, WorkflowError::SecondFinalizerRequired { first: 7 });

        let second = step(&ctx, &first.next, Event::Finalize { by: 8 });
        assert_eq!(second.next, State::Completed);
        assert!(second.effects.contains(&Effect::MoveBlocks));

        // Below the threshold one hostmaster suffices.
        let small = step(
            &inter(),
            &awaiting_finalization(true),
            Event::Finalize { by: 7 },
        );
        assert_eq!(small.next, State::Completed);
    }

    #[test]
    fn finalization_needs_confirmed_fees() {
        let ctx = inter();
        assert_eq!(
            refusal(
                &ctx,
                &awaiting_finalization(false),
                Event::Finalize { by: 1 }
            ),
            WorkflowError::FeesNotConfirmed
        );
        assert_eq!(
            refusal(
                &ctx,
                &awaiting_finalization(true),
                Event::ConfirmFees { by: 1 }
            ),
            WorkflowError::FeesAlreadyConfirmed
        );
        // Confirming fees between two finalizers keeps the first one.
        let large = WorkflowContext {
            large_transfer: true,
            ..inter()
        };
        let halfway = State::AwaitingFinalization {
            fees_confirmed: false,
            first_finalizer: Some(4),
        };
        assert_eq!(
            step(&large, &halfway, Event::ConfirmFees { by: 5 }).next,
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: Some(4)
            }
        );
    }

    #[test]
    fn information_requested_and_answered_returns_to_the_asking_step() {
        let ctx = inter();
        let asked = step(
            &ctx,
            &State::RecipientReview,
            request_info(Side::Recipient, Side::Source),
        );
        let waiting = State::InfoRequested {
            step: ReviewStep::RecipientReview,
            asked: Side::Source,
        };
        assert_eq!(asked.next, waiting);
        assert_eq!(
            asked.effects,
            [
                Effect::StartDeadline {
                    kind: DeadlineKind::Information
                },
                Effect::Notify(Notification {
                    kind: NotificationKind::InformationRequested,
                    to: vec![Party::Organisation(Side::Source)],
                }),
            ]
        );
        assert_eq!(
            waiting.waiting_on(),
            Some(Party::Organisation(Side::Source))
        );
        assert_eq!(waiting.owner_side(), Some(Side::Recipient));
        // The source registry already initialized; the status stays while the question is open.
        assert_eq!(waiting.nro_status(true), Some(NroStatus::SourceInitialized));

        let answered = step(&ctx, &waiting, Event::AnswerInfo);
        assert_eq!(answered.next, State::RecipientReview);
        assert_eq!(answered.effects[0], Effect::ClearDeadline);
        assert_eq!(
            notified(&answered),
            [(
                NotificationKind::InformationAnswered,
                vec![Party::Hostmasters(Side::Recipient)]
            )]
        );

        let source = step(
            &ctx,
            &State::SourceReview,
            request_info(Side::Source, Side::Recipient),
        );
        assert_eq!(
            step(&ctx, &source.next, Event::AnswerInfo).next,
            State::SourceReview
        );

        // Only the step's own registry asks, and only with a question.
        assert!(matches!(
            refusal(
                &ctx,
                &State::SourceReview,
                request_info(Side::Recipient, Side::Recipient)
            ),
            WorkflowError::NotAllowed { .. }
        ));
        let blank = Event::RequestInfo {
            side: Side::Source,
            asked: Side::Source,
            question: " ".into(),
        };
        assert_eq!(
            refusal(&ctx, &State::SourceReview, blank).to_string(),
            "a request for information needs a written reason"
        );
        // No decision while the question is open.
        assert!(matches!(
            refusal(&ctx, &waiting, approve(Side::Recipient)),
            WorkflowError::NotAllowed { .. }
        ));
    }

    #[test]
    fn cancellations_publish_only_after_source_initialized() {
        use time::macros::datetime;
        let t = |h: u8| datetime!(2026-11-01 0:00 UTC) + time::Duration::hours(h.into());
        // Withdrawn during the source's review: the NRO log never heard of it.
        let early = [
            ("awaiting_recipient", t(0)),
            ("source_review", t(1)),
            ("withdrawn", t(2)),
        ];
        assert_eq!(published_status(&early, &State::Withdrawn), None);
        // Rejected by the recipient registry after the source approved.
        let rejected = [
            ("awaiting_recipient", t(0)),
            ("source_review", t(1)),
            ("recipient_review", t(2)),
            ("info_requested", t(3)),
            ("recipient_review", t(4)),
            ("rejected", t(5)),
        ];
        let by_recipient = State::Rejected {
            by: Side::Recipient,
        };
        assert_eq!(
            published_status(&rejected[..5], &State::RecipientReview),
            Some((NroStatus::SourceInitialized, t(2)))
        );
        assert_eq!(
            published_status(&rejected, &by_recipient),
            Some((NroStatus::RecipientCancelled, t(5)))
        );
        // Withdrawn after RECIPIENT_ACCEPTED, and a dispute keeps RECIPIENT_ACCEPTED's time.
        let late = [
            ("awaiting_recipient", t(0)),
            ("source_review", t(1)),
            ("recipient_review", t(2)),
            ("awaiting_finalization", t(3)),
            ("disputed", t(4)),
        ];
        assert_eq!(
            published_status(&late, &State::Disputed),
            Some((NroStatus::RecipientAccepted, t(3)))
        );
        let mut withdrawn = late.to_vec();
        withdrawn.push(("withdrawn", t(6)));
        assert_eq!(
            published_status(&withdrawn, &State::Withdrawn),
            Some((NroStatus::SourceCancelled, t(6)))
        );
        // The names queries use to tell initialized transfers agree with this function.
        for name in INITIALIZED_NAMES {
            assert!(published_status(&[(name, t(0))], &State::Disputed).is_some());
        }
        for name in ["awaiting_recipient", "source_review", "info_requested"] {
            assert_eq!(
                published_status(&[(name, t(0))], &State::SourceReview),
                None
            );
        }
        let expired = [("awaiting_recipient", t(0)), ("expired", t(9))];
        assert_eq!(
            published_status(&expired, &State::Expired { at: Side::Source }),
            None
        );
    }

    #[test]
    fn deadlines_expire_only_consent_and_information_requests() {
        let ctx = inter();
        let consent = step(&ctx, &State::AwaitingRecipient, Event::Expire);
        assert_eq!(consent.next, State::Expired { at: Side::Source });
        assert_eq!(consent.effects[0], Effect::ClearDeadline);
        assert_eq!(notified(&consent)[0].0, NotificationKind::Expired);
        assert_eq!(
            consent.next.nro_status(true),
            Some(NroStatus::SourceCancelled)
        );

        let info = State::InfoRequested {
            step: ReviewStep::RecipientReview,
            asked: Side::Recipient,
        };
        let lapsed = step(&ctx, &info, Event::Expire);
        assert_eq!(
            lapsed.next,
            State::Expired {
                at: Side::Recipient
            }
        );
        assert_eq!(
            lapsed.next.nro_status(true),
            Some(NroStatus::RecipientCancelled)
        );
        assert!(lapsed.next.is_terminal());

        for state in [
            State::SourceReview,
            State::RecipientReview,
            awaiting_finalization(true),
            State::Disputed,
        ] {
            assert!(matches!(
                refusal(&ctx, &state, Event::Expire),
                WorkflowError::NotAllowed { .. }
            ));
        }
    }

    #[test]
    fn source_may_withdraw_until_completion_except_while_disputed() {
        let ctx = inter();
        for state in representative_states(true) {
            let result = apply(&ctx, &state, &Event::Withdraw);
            if state.is_terminal() || state == State::Disputed {
                assert!(
                    matches!(result, Err(WorkflowError::NotAllowed { .. })),
                    "{state}"
                );
            } else {
                let t = result.unwrap();
                assert_eq!(t.next, State::Withdrawn, "{state}");
                assert_eq!(t.next.nro_status(true), Some(NroStatus::SourceCancelled));
                assert_eq!(
                    t.effects.contains(&Effect::ClearDeadline),
                    state.deadline().is_some()
                );
                assert_eq!(notified(&t)[0].1, ctx.parties_involved());
            }
        }
    }

    #[test]
    fn dispute_holds_finalization_until_resolved() {
        let ctx = inter();
        let blank = Event::MarkDisputed { reason: "".into() };
        assert_eq!(
            refusal(&ctx, &awaiting_finalization(true), blank),
            WorkflowError::MissingReason("a dispute")
        );
        let disputed = step(
            &ctx,
            &awaiting_finalization(true),
            Event::MarkDisputed {
                reason: "a third party claims the block".into(),
            },
        );
        assert_eq!(disputed.next, State::Disputed);
        assert_eq!(
            disputed.next.nro_status(true),
            Some(NroStatus::RecipientAccepted)
        );
        assert_eq!(
            disputed.next.waiting_on(),
            Some(Party::Hostmasters(Side::Source))
        );
        assert_eq!(notified(&disputed)[0].0, NotificationKind::Disputed);
        assert_eq!(
            refusal(&ctx, &State::Disputed, Event::Finalize { by: 1 }).to_string(),
            "a disputed transfer cannot be finalized"
        );

        let resolved = step(&ctx, &State::Disputed, Event::ResolveDispute);
        // The terms may have changed: fees and four eyes start again.
        assert_eq!(resolved.next, awaiting_finalization(false));
        assert_eq!(notified(&resolved)[0].0, NotificationKind::DisputeResolved);
    }

    #[test]
    fn rejection_needs_a_reason_and_cancels_that_side() {
        let ctx = inter();
        let blank = Event::Reject {
            side: Side::Source,
            reason: "\n".into(),
        };
        assert_eq!(
            refusal(&ctx, &State::SourceReview, blank),
            WorkflowError::MissingReason("a rejection")
        );
        for (state, side, status) in [
            (
                State::SourceReview,
                Side::Source,
                NroStatus::SourceCancelled,
            ),
            (
                State::RecipientReview,
                Side::Recipient,
                NroStatus::RecipientCancelled,
            ),
        ] {
            let reject = Event::Reject {
                side,
                reason: "no documented need".into(),
            };
            let t = step(&ctx, &state, reject);
            assert_eq!(t.next, State::Rejected { by: side });
            assert_eq!(t.next.nro_status(true), Some(status));
            assert_eq!(
                notified(&t)[0],
                (NotificationKind::Rejected, ctx.parties_involved())
            );
        }
        // Everyone in an intra-RIR transfer is the two organisations and one registry.
        assert_eq!(intra().parties_involved().len(), 3);
    }

    #[test]
    fn acceptance_needs_a_justification_where_the_recipient_registry_is_needs_based() {
        let without = WorkflowContext {
            need: None,
            ..inter()
        };
        assert_eq!(
            refusal(&without, &State::AwaitingRecipient, Event::RecipientAccept),
            WorkflowError::MissingNeedJustification
        );
        let blank = WorkflowContext {
            need: Some(NeedJustification::default()),
            ..inter()
        };
        assert!(apply(&blank, &State::AwaitingRecipient, &Event::RecipientAccept).is_err());
        let not_needs_based = WorkflowContext {
            need_required: false,
            ..without
        };
        step(
            &not_needs_based,
            &State::AwaitingRecipient,
            Event::RecipientAccept,
        );
    }

    #[test]
    fn refusals_name_the_state_and_the_event() {
        let err = refusal(
            &inter(),
            &State::AwaitingRecipient,
            Event::Finalize { by: 1 },
        );
        assert_eq!(
            err,
            WorkflowError::NotAllowed {
                state: State::AwaitingRecipient,
                event: EventKind::Finalize
            }
        );
        assert_eq!(
            err.to_string(),
            "a transfer awaiting the recipient's consent cannot be finalized"
        );
        assert_eq!(
            refusal(&inter(), &State::Completed, Event::Withdraw).to_string(),
            "a completed transfer cannot be withdrawn"
        );
    }

    #[test]
    fn states_persist_as_name_and_detail() {
        let mut all = representative_states(true);
        all.push(State::InfoRequested {
            step: ReviewStep::RecipientReview,
            asked: Side::Source,
        });
        for state in all {
            let (name, detail) = state.to_parts();
            assert_eq!(name, state.as_str());
            assert_eq!(
                State::from_parts(name, detail.as_deref()),
                Ok(state.clone()),
                "{state}"
            );
        }
        assert_eq!(
            State::AwaitingFinalization {
                fees_confirmed: true,
                first_finalizer: Some(42)
            }
            .to_parts(),
            (
                "awaiting_finalization",
                Some(r#"{"fees_confirmed":true,"first_finalizer":42}"#.to_string())
            )
        );
        assert_eq!(State::Withdrawn.to_parts(), ("withdrawn", None));
        assert!(State::from_parts("approved", None).is_err());
        assert!(State::from_parts("rejected", None).is_err());
        assert!(State::from_parts("rejected", Some(r#"{"by":"iana"}"#)).is_err());
        assert!(State::from_parts("info_requested", Some("not json")).is_err());
    }

    #[test]
    fn who_acts_and_who_owns_each_step() {
        let cases = [
            (
                State::AwaitingRecipient,
                Some(Party::Organisation(Side::Recipient)),
                Some(Side::Source),
            ),
            (
                State::SourceReview,
                Some(Party::Hostmasters(Side::Source)),
                Some(Side::Source),
            ),
            (
                State::RecipientReview,
                Some(Party::Hostmasters(Side::Recipient)),
                Some(Side::Recipient),
            ),
            (
                awaiting_finalization(false),
                Some(Party::Hostmasters(Side::Source)),
                Some(Side::Source),
            ),
            (
                State::Disputed,
                Some(Party::Hostmasters(Side::Source)),
                Some(Side::Source),
            ),
            (State::Completed, None, None),
            (
                State::Rejected {
                    by: Side::Recipient,
                },
                None,
                None,
            ),
        ];
        for (state, waiting_on, owner) in cases {
            assert_eq!(state.waiting_on(), waiting_on, "{state}");
            assert_eq!(state.owner_side(), owner, "{state}");
        }
    }

    #[test]
    fn transition_table_snapshot() {
        insta::assert_snapshot!(transition_table());
    }

    fn any_event() -> impl Strategy<Value = Event> {
        let side = prop_oneof![Just(Side::Source), Just(Side::Recipient)];
        let side2 = prop_oneof![Just(Side::Source), Just(Side::Recipient)];
        let text = prop_oneof![Just(String::new()), Just("because".to_string())];
        prop_oneof![
            Just(Event::RecipientAccept),
            side.clone().prop_map(approve),
            (side.clone(), text.clone()).prop_map(|(side, reason)| Event::Reject { side, reason }),
            (side, side2, text.clone()).prop_map(|(side, asked, question)| Event::RequestInfo {
                side,
                asked,
                question
            }),
            Just(Event::AnswerInfo),
            Just(Event::Withdraw),
            (1i64..3).prop_map(|by| Event::ConfirmFees { by }),
            (1i64..3).prop_map(|by| Event::Finalize { by }),
            text.prop_map(|reason| Event::MarkDisputed { reason }),
            Just(Event::ResolveDispute),
            Just(Event::Expire),
        ]
    }

    proptest! {
        /// Any run of events keeps the invariants: terminal states absorb everything, blocks move
        /// exactly on completion, completion needs the reviews, and every state persists.
        #[test]
        fn random_event_runs_keep_the_invariants(
            inter_rir in any::<bool>(),
            large_transfer in any::<bool>(),
            events in proptest::collection::vec(any_event(), 0..40),
        ) {
            let ctx = WorkflowContext { inter_rir, large_transfer, ..inter() };
            let mut state = State::INITIAL;
            let mut approvals = Vec::new();
            for event in events {
                let Ok(t) = apply(&ctx, &state, &event) else { continue };
                prop_assert!(!state.is_terminal(), "{state} left by {event}");
                prop_assert_eq!(t.effects.contains(&Effect::MoveBlocks), t.next == State::Completed);
                if !inter_rir {
                    prop_assert!(t.next.review_step() != Some(ReviewStep::RecipientReview));
                }
                if let Event::Approve { side, .. } = event {
                    approvals.push(side);
                }
                if t.next == State::Completed {
                    let expected = if inter_rir { vec![Side::Source, Side::Recipient] } else { vec![Side::Source] };
                    prop_assert_eq!(&approvals, &expected);
                }
                let (name, detail) = t.next.to_parts();
                prop_assert_eq!(State::from_parts(name, detail.as_deref()), Ok(t.next.clone()));
                state = t.next;
            }
        }
    }

    #[test]
    fn terminal_names_match_is_terminal() {
        for inter_rir in [false, true] {
            for state in representative_states(inter_rir) {
                let listed = State::TERMINAL_NAMES.contains(&state.as_str());
                assert_eq!(listed, state.is_terminal(), "{state}");
            }
        }
    }
}
