//! What each notification says, and when reminders fall due: pure text and date arithmetic.
//!
//! Who hears a workflow event is decided by the workflow itself (`Effect::Notify` in
//! [`super::workflow`]); this module words the message and decides the reminders the scheduler
//! sends: 7 days and 1 day before a consent or information deadline, to the party the transfer
//! waits on, and to hostmasters whenever a step of theirs has waited one more service level.
//! The table of who hears what is in `docs/notifications.md`.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::rir::Rir;
use super::transfer::Side;
use super::workflow::{DeadlineKind, NotificationKind, Party, State};

/// The name stored in the outbox's `kind` column and used in Message-IDs.
pub fn kind_name(kind: NotificationKind) -> &'static str {
    use NotificationKind as K;
    match kind {
        K::Filed => "Filed",
        K::RecipientAccepted => "RecipientAccepted",
        K::InformationRequested => "InformationRequested",
        K::InformationAnswered => "InformationAnswered",
        K::SourceApproved => "SourceApproved",
        K::ReadyToFinalize => "ReadyToFinalize",
        K::SecondFinalizerNeeded => "SecondFinalizerNeeded",
        K::Completed => "Completed",
        K::Rejected => "Rejected",
        K::Withdrawn => "Withdrawn",
        K::Expired => "Expired",
        K::Disputed => "Disputed",
        K::DisputeResolved => "DisputeResolved",
    }
}

/// The subject line after the reference: what happened, from the reader's point of view.
pub fn headline(kind: NotificationKind, source_org: &str) -> String {
    use NotificationKind as K;
    match kind {
        K::Filed => format!("{source_org} asks you to accept a transfer"),
        K::RecipientAccepted => "the recipient accepted: source review needed".into(),
        K::InformationRequested => "information requested".into(),
        K::InformationAnswered => "information answered: review continues".into(),
        K::SourceApproved => "source registry approved: recipient review needed".into(),
        K::ReadyToFinalize => "reviews passed: confirm fees and finalize".into(),
        K::SecondFinalizerNeeded => "a second hostmaster must finalize".into(),
        K::Completed => "transfer completed".into(),
        K::Rejected => "transfer rejected".into(),
        K::Withdrawn => "transfer withdrawn".into(),
        K::Expired => "transfer expired".into(),
        K::Disputed => "transfer disputed".into(),
        K::DisputeResolved => "dispute resolved".into(),
    }
}

/// What the reader must do, when the message asks them to act; `None` when it only informs.
pub fn call_to_action(kind: NotificationKind) -> Option<&'static str> {
    use NotificationKind as K;
    match kind {
        K::Filed => Some("Review the transfer and accept it before the deadline."),
        K::RecipientAccepted | K::InformationAnswered => {
            Some("Review the transfer for your registry.")
        }
        K::InformationRequested => Some("Answer the registry's question before the deadline."),
        K::SourceApproved => Some("Review the recipient side for your registry."),
        K::ReadyToFinalize => Some("Confirm the fees are paid, then finalize the transfer."),
        K::SecondFinalizerNeeded => {
            Some("A different hostmaster must finalize this large transfer.")
        }
        K::Disputed => Some("Finalization is on hold until a hostmaster resolves the dispute."),
        K::DisputeResolved => Some("Finalization starts again: the fees must be confirmed anew."),
        K::Completed | K::Rejected | K::Withdrawn | K::Expired => None,
    }
}

/// How an e-mail introduces what the person who acted wrote, for the notifications that carry
/// it (the reason of a rejection, the question of a request for information); `None` when the
/// e-mail quotes nothing.
pub fn quote_heading(kind: NotificationKind) -> Option<&'static str> {
    use NotificationKind as K;
    match kind {
        K::Rejected => Some("The reason given"),
        K::InformationRequested => Some("The registry's question"),
        K::InformationAnswered => Some("The answer"),
        K::Disputed => Some("What is disputed"),
        K::Filed
        | K::RecipientAccepted
        | K::SourceApproved
        | K::ReadyToFinalize
        | K::SecondFinalizerNeeded
        | K::Completed
        | K::Withdrawn
        | K::Expired
        | K::DisputeResolved => None,
    }
}

/// A reminder the scheduler sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// A consent or information deadline is at most 7 days (and more than 1 day) away.
    WeekBefore { kind: DeadlineKind },
    /// A consent or information deadline is at most 1 day away.
    DayBefore { kind: DeadlineKind },
    /// A hostmasters' step has waited `periods` whole service levels.
    ServiceLevel { periods: i64 },
}

/// How long before a deadline the first reminder goes out.
pub const WEEK_BEFORE: Duration = Duration::days(7);
/// How long before a deadline the last reminder goes out.
pub const DAY_BEFORE: Duration = Duration::days(1);

impl Reminder {
    /// The name stored in the outbox's `kind` column.
    pub fn kind_name(self) -> &'static str {
        match self {
            Reminder::WeekBefore { .. } => "ReminderWeekBefore",
            Reminder::DayBefore { .. } => "ReminderDayBefore",
            Reminder::ServiceLevel { .. } => "ReminderServiceLevel",
        }
    }

    /// The part of the Message-ID that makes one reminder of one wait unique, so the scheduler
    /// may run any number of times and each reminder is queued once: it names the deadline (or
    /// the start of the wait) and which reminder of it this is.
    pub fn key(self, deadline_or_since: OffsetDateTime) -> String {
        let at = deadline_or_since.unix_timestamp();
        match self {
            Reminder::WeekBefore { .. } => format!("week-before.{at}"),
            Reminder::DayBefore { .. } => format!("day-before.{at}"),
            Reminder::ServiceLevel { periods } => format!("overdue.{at}.{periods}"),
        }
    }

    /// The subject line after the reference.
    pub fn headline(self) -> String {
        let what = |kind| match kind {
            DeadlineKind::Consent => "to accept the transfer",
            DeadlineKind::Information => "to answer the registry's question",
        };
        match self {
            Reminder::WeekBefore { kind } => format!("reminder: 7 days left {}", what(kind)),
            Reminder::DayBefore { kind } => format!("reminder: 1 day left {}", what(kind)),
            Reminder::ServiceLevel { periods: 1 } => {
                "reminder: this step has waited longer than its service level".into()
            }
            Reminder::ServiceLevel { periods } => {
                format!("reminder: this step has waited {periods} times its service level")
            }
        }
    }

    /// What the reader must do.
    pub fn call_to_action(self) -> &'static str {
        match self {
            Reminder::WeekBefore {
                kind: DeadlineKind::Consent,
            }
            | Reminder::DayBefore {
                kind: DeadlineKind::Consent,
            } => "Accept the transfer before the deadline, or it expires.",
            Reminder::WeekBefore {
                kind: DeadlineKind::Information,
            }
            | Reminder::DayBefore {
                kind: DeadlineKind::Information,
            } => "Answer before the deadline, or the transfer expires.",
            Reminder::ServiceLevel { .. } => {
                "Take the next step of the transfer for your registry."
            }
        }
    }
}

/// The deadline reminder due now for a transfer in `state` with `deadline`, and who gets it:
/// the party the transfer waits on. More than 7 days out nothing is due; from 7 days to 1 day the
/// week reminder; within the last day the day reminder; once passed, expiry takes over. The
/// caller queues each reminder once (see [`Reminder::key`]), so a transfer filed with less than
/// 7 days left gets only the reminders whose window it is in.
pub fn deadline_reminder(
    state: &State,
    deadline: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<(Reminder, Party)> {
    let kind = state.deadline()?;
    let to = state.waiting_on()?;
    let left = deadline - now;
    let reminder = if left <= Duration::ZERO {
        return None;
    } else if left <= DAY_BEFORE {
        Reminder::DayBefore { kind }
    } else if left <= WEEK_BEFORE {
        Reminder::WeekBefore { kind }
    } else {
        return None;
    };
    Some((reminder, to))
}

/// Days each registry's hostmasters have for a step of theirs (a review, finalization, a
/// dispute) before the scheduler reminds them, and again after each further period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLevels {
    /// For registries without their own entry.
    pub default_days: i64,
    pub by_registry: BTreeMap<Rir, i64>,
}

impl Default for ServiceLevels {
    /// Ten days everywhere: an operator's choice, not a published registry commitment.
    fn default() -> Self {
        ServiceLevels {
            default_days: 10,
            by_registry: BTreeMap::new(),
        }
    }
}

impl ServiceLevels {
    /// The service level of one registry.
    pub fn of(&self, registry: Rir) -> Duration {
        Duration::days(
            self.by_registry
                .get(&registry)
                .copied()
                .unwrap_or(self.default_days)
                .max(1),
        )
    }

    /// The shortest service level of any registry: transfers waiting less are never overdue.
    pub fn shortest(&self) -> Duration {
        Rir::ALL
            .iter()
            .map(|r| self.of(*r))
            .min()
            .unwrap_or(Duration::days(self.default_days.max(1)))
    }
}

/// The service-level reminder due for a transfer in `state` since `waiting_since`: the
/// hostmasters it waits on and how many whole service levels they have let pass. `registry_of`
/// names the registry of a side.
pub fn service_level_reminder(
    state: &State,
    waiting_since: OffsetDateTime,
    now: OffsetDateTime,
    levels: &ServiceLevels,
    registry_of: impl Fn(Side) -> Rir,
) -> Option<(Reminder, Party)> {
    let to = state.waiting_on()?;
    let Party::Hostmasters(side) = to else {
        return None;
    };
    let level = levels.of(registry_of(side));
    let periods = (now - waiting_since).whole_seconds() / level.whole_seconds();
    (periods >= 1).then_some((Reminder::ServiceLevel { periods }, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::ReviewStep;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

    #[test]
    fn rejections_and_questions_quote_what_was_written() {
        use NotificationKind as K;
        assert_eq!(quote_heading(K::Rejected), Some("The reason given"));
        assert_eq!(
            quote_heading(K::InformationRequested),
            Some("The registry's question")
        );
        // Events without words of their own quote nothing.
        for k in [K::Filed, K::Completed, K::Withdrawn, K::Expired] {
            assert_eq!(quote_heading(k), None);
        }
    }

    #[test]
    fn every_kind_has_a_distinct_name_and_headline() {
        use NotificationKind as K;
        let all = [
            K::Filed,
            K::RecipientAccepted,
            K::InformationRequested,
            K::InformationAnswered,
            K::SourceApproved,
            K::ReadyToFinalize,
            K::SecondFinalizerNeeded,
            K::Completed,
            K::Rejected,
            K::Withdrawn,
            K::Expired,
            K::Disputed,
            K::DisputeResolved,
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(|k| kind_name(*k)).collect();
        let heads: std::collections::BTreeSet<_> =
            all.iter().map(|k| headline(*k, "Acme")).collect();
        assert_eq!((names.len(), heads.len()), (all.len(), all.len()));
        assert_eq!(
            headline(K::Filed, "Acme"),
            "Acme asks you to accept a transfer"
        );
        // Terminal outcomes only inform.
        for k in [K::Completed, K::Rejected, K::Withdrawn, K::Expired] {
            assert_eq!(call_to_action(k), None);
        }
        assert!(
            call_to_action(K::ReadyToFinalize)
                .unwrap()
                .contains("finalize")
        );
    }

    #[test]
    fn deadline_reminders_fall_in_their_windows() {
        let deadline = NOW + Duration::days(30);
        let at = |days_left: i64, hours: i64| {
            deadline_reminder(
                &State::AwaitingRecipient,
                deadline,
                deadline - Duration::days(days_left) + Duration::hours(hours),
            )
        };
        let consent = DeadlineKind::Consent;
        let recipient = Party::Organisation(Side::Recipient);
        assert_eq!(at(8, 0), None);
        assert_eq!(at(7, -1), None);
        assert_eq!(
            at(7, 0),
            Some((Reminder::WeekBefore { kind: consent }, recipient))
        );
        assert_eq!(
            at(2, 0),
            Some((Reminder::WeekBefore { kind: consent }, recipient))
        );
        assert_eq!(
            at(1, 1),
            Some((Reminder::DayBefore { kind: consent }, recipient))
        );
        assert_eq!(
            at(1, 0),
            Some((Reminder::DayBefore { kind: consent }, recipient))
        );
        assert_eq!(
            at(0, -1),
            Some((Reminder::DayBefore { kind: consent }, recipient))
        );
        assert_eq!(
            at(0, 0),
            None,
            "the deadline passed: expiry, not a reminder"
        );
    }

    #[test]
    fn information_reminders_go_to_the_asked_organisation() {
        let state = State::InfoRequested {
            step: ReviewStep::RecipientReview,
            asked: Side::Source,
        };
        let (r, to) = deadline_reminder(&state, NOW + Duration::hours(5), NOW).unwrap();
        assert_eq!(
            r,
            Reminder::DayBefore {
                kind: DeadlineKind::Information
            }
        );
        assert_eq!(to, Party::Organisation(Side::Source));
        assert!(r.headline().contains("1 day left to answer"));
        // States without a deadline get no deadline reminder.
        assert_eq!(
            deadline_reminder(&State::SourceReview, NOW + Duration::hours(5), NOW),
            None
        );
    }

    #[test]
    fn reminder_keys_differ_by_reminder_and_deadline() {
        let kind = DeadlineKind::Consent;
        let d = datetime!(2026-12-28 12:00 UTC);
        assert_eq!(
            Reminder::WeekBefore { kind }.key(d),
            format!("week-before.{}", d.unix_timestamp())
        );
        assert_ne!(
            Reminder::WeekBefore { kind }.key(d),
            Reminder::DayBefore { kind }.key(d)
        );
        assert_ne!(
            Reminder::ServiceLevel { periods: 1 }.key(d),
            Reminder::ServiceLevel { periods: 2 }.key(d)
        );
        assert_ne!(
            Reminder::DayBefore { kind }.key(d),
            Reminder::DayBefore { kind }.key(d + Duration::days(1))
        );
    }

    #[test]
    fn service_levels_count_whole_periods_per_registry() {
        let mut levels = ServiceLevels::default();
        levels.by_registry.insert(Rir::RipeNcc, 3);
        assert_eq!(levels.of(Rir::Arin), Duration::days(10));
        assert_eq!(levels.shortest(), Duration::days(3));
        let registry_of = |side| match side {
            Side::Source => Rir::Arin,
            Side::Recipient => Rir::RipeNcc,
        };
        let since = NOW;
        let due = |state: &State, days: i64| {
            service_level_reminder(
                state,
                since,
                NOW + Duration::days(days),
                &levels,
                registry_of,
            )
        };
        assert_eq!(due(&State::SourceReview, 9), None);
        assert_eq!(
            due(&State::SourceReview, 10),
            Some((
                Reminder::ServiceLevel { periods: 1 },
                Party::Hostmasters(Side::Source)
            ))
        );
        assert_eq!(
            due(&State::RecipientReview, 7),
            Some((
                Reminder::ServiceLevel { periods: 2 },
                Party::Hostmasters(Side::Recipient)
            ))
        );
        let finalizing = State::AwaitingFinalization {
            fees_confirmed: false,
            first_finalizer: None,
        };
        assert!(due(&finalizing, 10).is_some());
        assert!(due(&State::Disputed, 10).is_some());
        // Organisations' waits have deadlines instead; finished transfers wait on no one.
        assert_eq!(due(&State::AwaitingRecipient, 100), None);
        assert_eq!(due(&State::Completed, 100), None);
        assert!(
            Reminder::ServiceLevel { periods: 2 }
                .headline()
                .contains("2 times")
        );
    }
}
