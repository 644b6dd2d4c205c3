//! How transfers are shown, the same on every page: one tag (colour and word) per state, who a
//! transfer waits on, a one-sentence status, and blocks with their address counts. Pure
//! functions of the state and names, tested here.

use time::OffsetDateTime;

use crate::domain::format::{group_thousands, relative, span, utc_day, utc_minute};
use crate::domain::transfer::TransferFacts;
use crate::domain::workflow::{Party, State};
use crate::domain::{Ipv4Range, Rir, Side};

/// A state's tag: a CSS class and the word shown in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub class: &'static str,
    pub word: &'static str,
}

pub fn state_tag(state: &State) -> Tag {
    let (class, word) = match state {
        State::AwaitingRecipient => ("tag-waiting", "Awaiting recipient"),
        State::SourceReview => ("tag-review", "Source review"),
        State::RecipientReview => ("tag-review", "Recipient review"),
        State::InfoRequested { .. } => ("tag-waiting", "Information requested"),
        State::AwaitingFinalization { .. } => ("tag-final", "Awaiting finalization"),
        State::Disputed => ("tag-stopped", "Disputed"),
        State::Completed => ("tag-done", "Completed"),
        State::Rejected { .. } => ("tag-stopped", "Rejected"),
        State::Withdrawn => ("tag-muted", "Withdrawn"),
        State::Expired { .. } => ("tag-muted", "Expired"),
    };
    Tag { class, word }
}

/// The two parties of a transfer as people name them.
#[derive(Debug, Clone)]
pub struct Parties {
    pub source: String,
    pub recipient: String,
    pub source_rir: Rir,
    pub recipient_rir: Rir,
}

impl Parties {
    /// The parties of a loaded transfer.
    pub fn of(f: &TransferFacts) -> Parties {
        Parties {
            source: f.source.name.clone(),
            recipient: f.recipient.name.clone(),
            source_rir: f.source_rir(),
            recipient_rir: f.recipient_rir(),
        }
    }

    fn org(&self, side: Side) -> &str {
        match side {
            Side::Source => &self.source,
            Side::Recipient => &self.recipient,
        }
    }

    fn rir(&self, side: Side) -> Rir {
        match side {
            Side::Source => self.source_rir,
            Side::Recipient => self.recipient_rir,
        }
    }

    /// "RIPE NCC hostmasters", "Example Networks (recipient)".
    pub fn name(&self, party: Party) -> String {
        match party {
            Party::Hostmasters(side) => format!("{} hostmasters", self.rir(side)),
            Party::Organisation(side) => format!("{} ({})", self.org(side), side.as_str()),
        }
    }
}

/// Who a transfer waits on, or `None` once it is over.
pub fn waiting_on(state: &State, parties: &Parties) -> Option<String> {
    state.waiting_on().map(|p| parties.name(p))
}

/// The one sentence under a transfer's title: where it stands and since when.
pub fn status_sentence(
    state: &State,
    parties: &Parties,
    since: OffsetDateTime,
    deadline: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> String {
    let waited = format!("since {}, {}", utc_day(since), span(now - since));
    let until = deadline
        .map(|d| format!(" The deadline is {} ({}).", utc_minute(d), relative(d, now)))
        .unwrap_or_default();
    match state {
        State::AwaitingRecipient => format!(
            "Waiting for {} to accept {waited}.{until}",
            parties.recipient
        ),
        State::SourceReview => format!(
            "Waiting for {} to review the source side {waited}.",
            parties.source_rir
        ),
        State::RecipientReview => format!(
            "Waiting for {} to review the recipient side {waited}.",
            parties.recipient_rir
        ),
        State::InfoRequested { asked, step } => format!(
            "{} asked {} for information {waited}.{until}",
            parties.rir(step.side()),
            parties.org(*asked)
        ),
        State::AwaitingFinalization {
            fees_confirmed,
            first_finalizer,
        } => {
            let next = match (fees_confirmed, first_finalizer) {
                (false, _) => "confirm the fees and finalize",
                (true, Some(_)) => "finalize a second time (four eyes)",
                (true, None) => "finalize",
            };
            format!(
                "Both reviews passed. Waiting for {} to {next} {waited}.",
                parties.source_rir
            )
        }
        State::Disputed => format!(
            "Disputed {waited}. {} resolves the dispute.",
            parties.source_rir
        ),
        State::Completed => format!("Completed on {}. The addresses moved.", utc_day(since)),
        State::Rejected { by } => {
            format!("Rejected by {} on {}.", parties.rir(*by), utc_day(since))
        }
        State::Withdrawn => format!("Withdrawn by {} on {}.", parties.source, utc_day(since)),
        State::Expired { at } => format!(
            "Expired on {}: {} did not act before the deadline.",
            utc_day(since),
            parties.org(*at)
        ),
    }
}

/// A registry as people name it (`RIPE NCC`) from its database token (`ripencc`); an unknown
/// token is shown as it is.
pub fn registry_name(token: &str) -> String {
    Rir::from_token(token).map_or_else(|| token.to_owned(), |r| r.to_string())
}

/// A block for people: `198.51.100.0/22, 1,024 addresses` (a range that is not one prefix is
/// written as its prefixes).
pub fn block_line(b: &Ipv4Range) -> String {
    let prefixes: Vec<String> = b.to_cidrs().iter().map(ToString::to_string).collect();
    format!(
        "{}, {} addresses",
        prefixes.join(" + "),
        group_thousands(b.size())
    )
}

/// The blocks of a transfer in one short line: `198.51.100.0/22` or `198.51.100.0/22 and 2 more`.
pub fn blocks_brief(blocks: &[Ipv4Range]) -> String {
    match blocks {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

/// Total addresses of blocks, grouped: `1,024`.
pub fn total_addresses(blocks: &[Ipv4Range]) -> String {
    group_thousands(blocks.iter().map(Ipv4Range::size).sum())
}

/// What a row of a list of transfers (the lists and the queue) shows of a transfer that is the
/// same for every viewer at every minute: worked out once when `web::cache` reads a page, so a
/// view of a kept page of 50 rows formats only what is its own (the time since, its next step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferCells {
    pub id: i64,
    pub reference: String,
    /// `198.51.100.0/22 and 2 more` ([`blocks_brief`]).
    pub blocks: String,
    pub addresses: String,
    /// `Example Networks (ARIN)`.
    pub source: String,
    pub recipient: String,
    pub tag: Tag,
}

impl TransferCells {
    pub fn of(f: &TransferFacts, state: &State) -> TransferCells {
        TransferCells {
            id: f.id.get(),
            reference: f.reference.clone(),
            blocks: blocks_brief(&f.blocks),
            addresses: total_addresses(&f.blocks),
            source: format!("{} ({})", f.source.name, f.source_rir()),
            recipient: format!("{} ({})", f.recipient.name, f.recipient_rir()),
            tag: state_tag(state),
        }
    }
}

/// Whether a wait exceeds its service level, and the words that say so.
pub fn service_level(
    since: OffsetDateTime,
    now: OffsetDateTime,
    level_days: i64,
) -> (bool, String) {
    let waited = now - since;
    let overdue = waited.whole_days() >= level_days;
    let words = if overdue {
        format!(
            "{}, overdue (service level {level_days} days)",
            span(waited)
        )
    } else {
        format!("{} of {level_days} days", span(waited))
    };
    (overdue, words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::ReviewStep;
    use time::Duration;
    use time::macros::datetime;

    fn parties() -> Parties {
        Parties {
            source: "Example Hosting".into(),
            recipient: "Nordic Net".into(),
            source_rir: Rir::Arin,
            recipient_rir: Rir::RipeNcc,
        }
    }

    #[test]
    fn every_state_has_one_tag_and_a_sentence() {
        let now = datetime!(2026-11-28 12:00 UTC);
        let since = now - Duration::days(5);
        let states = [
            State::AwaitingRecipient,
            State::SourceReview,
            State::RecipientReview,
            State::InfoRequested {
                step: ReviewStep::RecipientReview,
                asked: Side::Recipient,
            },
            State::AwaitingFinalization {
                fees_confirmed: false,
                first_finalizer: None,
            },
            State::Disputed,
            State::Completed,
            State::Rejected { by: Side::Source },
            State::Withdrawn,
            State::Expired {
                at: Side::Recipient,
            },
        ];
        let mut words = std::collections::HashSet::new();
        for s in &states {
            assert!(words.insert(state_tag(s).word), "{s} shares its tag word");
            let sentence = status_sentence(s, &parties(), since, None, now);
            assert!(sentence.ends_with('.'), "{sentence}");
        }
        assert_eq!(
            status_sentence(&State::RecipientReview, &parties(), since, None, now),
            "Waiting for RIPE NCC to review the recipient side since 2026-11-23, 5 days."
        );
        assert_eq!(
            status_sentence(
                &State::AwaitingRecipient,
                &parties(),
                since,
                Some(now + Duration::days(25)),
                now
            ),
            "Waiting for Nordic Net to accept since 2026-11-23, 5 days. The deadline is 2026-12-23 12:00 UTC (in 25 days)."
        );
        assert_eq!(
            status_sentence(
                &State::InfoRequested {
                    step: ReviewStep::SourceReview,
                    asked: Side::Source
                },
                &parties(),
                since,
                None,
                now
            ),
            "ARIN asked Example Hosting for information since 2026-11-23, 5 days."
        );
    }

    #[test]
    fn waiting_on_names_the_party() {
        assert_eq!(
            waiting_on(&State::AwaitingRecipient, &parties()).as_deref(),
            Some("Nordic Net (recipient)")
        );
        assert_eq!(
            waiting_on(&State::RecipientReview, &parties()).as_deref(),
            Some("RIPE NCC hostmasters")
        );
        assert_eq!(waiting_on(&State::Completed, &parties()), None);
    }

    #[test]
    fn blocks_are_written_with_counts() {
        let a: Ipv4Range = "198.51.100.0/22".parse().unwrap();
        let b: Ipv4Range = "203.0.113.0/24".parse().unwrap();
        assert_eq!(block_line(&a), "198.51.100.0/22, 1,024 addresses");
        assert_eq!(blocks_brief(&[a, b]), "198.51.100.0/22 and 1 more");
        assert_eq!(total_addresses(&[a, b]), "1,280");
        let odd: Ipv4Range = "10.0.0.0 - 10.0.2.255".parse().unwrap();
        assert_eq!(block_line(&odd), "10.0.0.0/23 + 10.0.2.0/24, 768 addresses");
    }

    #[test]
    fn a_rows_cells_name_the_parties_with_their_registries() {
        use crate::domain::transfer::{Membership, OrgFacts, OrgId, TransferId, TransferType};
        let org = |id, registry, name: &str| OrgFacts {
            id: OrgId(id),
            registry,
            name: name.to_owned(),
            membership: Membership::GoodStanding,
        };
        let facts = TransferFacts {
            id: TransferId(42),
            reference: "XFER-42".to_owned(),
            kind: TransferType::ResourceTransfer,
            source: org(1, Rir::Arin, "Source <Org>"),
            recipient: org(2, Rir::RipeNcc, "Recipient Org"),
            blocks: vec![
                "198.51.100.0/22".parse().unwrap(),
                "203.0.113.0/24".parse().unwrap(),
            ],
            need: None,
            documents: Vec::new(),
        };
        let cells = TransferCells::of(&facts, &State::SourceReview);
        assert_eq!(
            cells,
            TransferCells {
                id: 42,
                reference: "XFER-42".to_owned(),
                blocks: "198.51.100.0/22 and 1 more".to_owned(),
                addresses: "1,280".to_owned(),
                // Escaping is the template's: the cells keep the names as they are.
                source: "Source <Org> (ARIN)".to_owned(),
                recipient: "Recipient Org (RIPE NCC)".to_owned(),
                tag: state_tag(&State::SourceReview),
            }
        );
    }

    #[test]
    fn service_levels_say_overdue_in_words() {
        let now = datetime!(2026-11-28 12:00 UTC);
        assert_eq!(
            service_level(now - Duration::days(3), now, 10),
            (false, "3 days of 10 days".to_owned())
        );
        assert_eq!(
            service_level(now - Duration::days(12), now, 10),
            (true, "12 days, overdue (service level 10 days)".to_owned())
        );
    }
}
