//! The events of a transfer's timeline: the name each is stored under in `transfer_events.event`
//! and the label people read. One enum holds both so that no event is written without a label
//! (a stored name and a label once drifted apart: `document_added` was written while the page
//! labelled `document_attached`). Stored names never change: rows written years ago must still
//! read back.

use super::format::capitalise;
use super::transfer::Side;
use super::workflow::{Event, State};

/// Something that happened to a transfer, as its timeline records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimelineEvent {
    Filed,
    RecipientAccepted,
    Approved(Side),
    Rejected(Side),
    InformationRequested(Side),
    InformationAnswered,
    Withdrawn,
    /// One registry marked its own fee lines paid; others still bill.
    FeesPaid,
    FeesConfirmed,
    /// A large transfer's first finalization moves nothing yet: a second hostmaster must follow.
    FirstOfTwoFinalizations,
    Finalized,
    Disputed,
    DisputeResolved,
    Expired,
    DocumentAdded,
    /// A hostmaster recorded a policy exception for a finding.
    ExceptionRecorded,
}

impl TimelineEvent {
    /// Every event, in the order a transfer usually meets them.
    pub const ALL: [TimelineEvent; 19] = [
        TimelineEvent::Filed,
        TimelineEvent::DocumentAdded,
        TimelineEvent::RecipientAccepted,
        TimelineEvent::InformationRequested(Side::Source),
        TimelineEvent::InformationRequested(Side::Recipient),
        TimelineEvent::InformationAnswered,
        TimelineEvent::ExceptionRecorded,
        TimelineEvent::Approved(Side::Source),
        TimelineEvent::Approved(Side::Recipient),
        TimelineEvent::Rejected(Side::Source),
        TimelineEvent::Rejected(Side::Recipient),
        TimelineEvent::Withdrawn,
        TimelineEvent::FeesPaid,
        TimelineEvent::FeesConfirmed,
        TimelineEvent::FirstOfTwoFinalizations,
        TimelineEvent::Finalized,
        TimelineEvent::Disputed,
        TimelineEvent::DisputeResolved,
        TimelineEvent::Expired,
    ];

    /// The event a workflow transition records; `next` tells a large transfer's first
    /// finalization from the one that moves the addresses.
    pub fn of(event: &Event, next: &State) -> TimelineEvent {
        match event {
            Event::RecipientAccept => TimelineEvent::RecipientAccepted,
            Event::Approve { side, .. } => TimelineEvent::Approved(*side),
            Event::Reject { side, .. } => TimelineEvent::Rejected(*side),
            Event::RequestInfo { side, .. } => TimelineEvent::InformationRequested(*side),
            Event::AnswerInfo => TimelineEvent::InformationAnswered,
            Event::Withdraw => TimelineEvent::Withdrawn,
            Event::ConfirmFees { .. } => TimelineEvent::FeesConfirmed,
            Event::Finalize { .. } if *next != State::Completed => {
                TimelineEvent::FirstOfTwoFinalizations
            }
            Event::Finalize { .. } => TimelineEvent::Finalized,
            Event::MarkDisputed { .. } => TimelineEvent::Disputed,
            Event::ResolveDispute => TimelineEvent::DisputeResolved,
            Event::Expire => TimelineEvent::Expired,
        }
    }

    /// The name in `transfer_events.event`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineEvent::Filed => "filed",
            TimelineEvent::RecipientAccepted => "recipient_accepted",
            TimelineEvent::Approved(Side::Source) => "approved_source",
            TimelineEvent::Approved(Side::Recipient) => "approved_recipient",
            TimelineEvent::Rejected(Side::Source) => "rejected_source",
            TimelineEvent::Rejected(Side::Recipient) => "rejected_recipient",
            TimelineEvent::InformationRequested(Side::Source) => "information_requested_source",
            TimelineEvent::InformationRequested(Side::Recipient) => {
                "information_requested_recipient"
            }
            TimelineEvent::InformationAnswered => "information_answered",
            TimelineEvent::Withdrawn => "withdrawn",
            TimelineEvent::FeesPaid => "fees_paid",
            TimelineEvent::FeesConfirmed => "fees_confirmed",
            TimelineEvent::FirstOfTwoFinalizations => "first_of_two_finalizations",
            TimelineEvent::Finalized => "finalized",
            TimelineEvent::Disputed => "disputed",
            TimelineEvent::DisputeResolved => "dispute_resolved",
            TimelineEvent::Expired => "expired",
            TimelineEvent::DocumentAdded => "document_added",
            TimelineEvent::ExceptionRecorded => "exception_recorded",
        }
    }

    /// Reads a stored name back.
    pub fn parse(name: &str) -> Option<TimelineEvent> {
        TimelineEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// What the timeline shows.
    pub fn label(self) -> &'static str {
        match self {
            TimelineEvent::Filed => "Filed",
            TimelineEvent::RecipientAccepted => "Recipient accepted",
            TimelineEvent::Approved(Side::Source) => "Source registry approved",
            TimelineEvent::Approved(Side::Recipient) => "Recipient registry approved",
            TimelineEvent::Rejected(Side::Source) => "Source registry rejected",
            TimelineEvent::Rejected(Side::Recipient) => "Recipient registry rejected",
            TimelineEvent::InformationRequested(Side::Source) => {
                "Source registry asked for information"
            }
            TimelineEvent::InformationRequested(Side::Recipient) => {
                "Recipient registry asked for information"
            }
            TimelineEvent::InformationAnswered => "Information given",
            TimelineEvent::Withdrawn => "Withdrawn",
            TimelineEvent::FeesPaid => "Fees paid",
            TimelineEvent::FeesConfirmed => "Fees confirmed",
            TimelineEvent::FirstOfTwoFinalizations => "First of two finalizations",
            TimelineEvent::Finalized => "Finalized: the addresses moved",
            TimelineEvent::Disputed => "Marked disputed",
            TimelineEvent::DisputeResolved => "Dispute resolved",
            TimelineEvent::Expired => "Expired",
            TimelineEvent::DocumentAdded => "Document attached",
            TimelineEvent::ExceptionRecorded => "Exception recorded",
        }
    }

    /// The label of a stored name; a name this version does not know (a row from an older or
    /// newer version) is shown as its words.
    pub fn label_of(name: &str) -> String {
        TimelineEvent::parse(name).map_or_else(
            || capitalise(&name.replace('_', " ")),
            |e| e.label().to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::transfer::UserId;
    use std::collections::HashSet;

    use super::*;

    /// Fails to compile when a variant is added, as a reminder to list it in `ALL`.
    fn listed(e: TimelineEvent) -> bool {
        match e {
            TimelineEvent::Filed
            | TimelineEvent::RecipientAccepted
            | TimelineEvent::Approved(_)
            | TimelineEvent::Rejected(_)
            | TimelineEvent::InformationRequested(_)
            | TimelineEvent::InformationAnswered
            | TimelineEvent::Withdrawn
            | TimelineEvent::FeesPaid
            | TimelineEvent::FeesConfirmed
            | TimelineEvent::FirstOfTwoFinalizations
            | TimelineEvent::Finalized
            | TimelineEvent::Disputed
            | TimelineEvent::DisputeResolved
            | TimelineEvent::Expired
            | TimelineEvent::DocumentAdded
            | TimelineEvent::ExceptionRecorded => TimelineEvent::ALL.contains(&e),
        }
    }

    #[test]
    fn every_event_round_trips_its_stored_name_and_has_its_own_label() {
        let mut names = HashSet::new();
        let mut labels = HashSet::new();
        for e in TimelineEvent::ALL {
            assert!(listed(e));
            assert_eq!(TimelineEvent::parse(e.as_str()), Some(e), "{e:?}");
            assert!(names.insert(e.as_str()), "{} is stored twice", e.as_str());
            assert!(!e.label().is_empty(), "{e:?} has no label");
            assert!(labels.insert(e.label()), "{} is shown twice", e.label());
            assert_eq!(TimelineEvent::label_of(e.as_str()), e.label());
        }
        for side in [Side::Source, Side::Recipient] {
            for e in [
                TimelineEvent::Approved(side),
                TimelineEvent::Rejected(side),
                TimelineEvent::InformationRequested(side),
            ] {
                assert!(listed(e), "{e:?}");
            }
        }
    }

    #[test]
    fn stored_names_are_the_ones_rows_already_carry() {
        // Existing rows keep these names; renaming one would orphan its label.
        assert_eq!(TimelineEvent::DocumentAdded.as_str(), "document_added");
        assert_eq!(TimelineEvent::DocumentAdded.label(), "Document attached");
        assert_eq!(
            TimelineEvent::InformationRequested(Side::Recipient).as_str(),
            "information_requested_recipient"
        );
        assert_eq!(TimelineEvent::parse("document_attached"), None);
    }

    #[test]
    fn an_unknown_stored_name_is_shown_as_its_words() {
        assert_eq!(TimelineEvent::label_of("owner_changed"), "Owner changed");
    }

    #[test]
    fn a_transition_records_its_event_and_a_first_finalization_is_told_apart() {
        let finalize = Event::Finalize { by: UserId(7) };
        let waiting = State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: Some(UserId(7)),
        };
        assert_eq!(
            TimelineEvent::of(&finalize, &waiting),
            TimelineEvent::FirstOfTwoFinalizations
        );
        assert_eq!(
            TimelineEvent::of(&finalize, &State::Completed),
            TimelineEvent::Finalized
        );
        assert_eq!(
            TimelineEvent::of(&Event::Withdraw, &State::Withdrawn),
            TimelineEvent::Withdrawn
        );
    }
}
