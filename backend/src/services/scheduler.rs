//! The deadline scheduler: one [`tick`] expires overdue transfers (telling everyone), reminds the
//! party a transfer waits on 7 days and 1 day before its consent or information deadline, and
//! reminds hostmasters whose step has waited longer than their registry's service level.
//!
//! A tick may run any number of times, from any number of processes: each reminder's Message-ID
//! names the transfer, the reminder, its deadline (or the start of the wait) and the person, and
//! the outbox ignores a Message-ID it already holds, so every reminder is queued once.

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::config::Settings;
use crate::db::entities::transfer;
use crate::db::transfers::Loaded;
use crate::db::{outbox, transfers as transfers_db};
use crate::domain::notification::{self, WEEK_BEFORE};
use crate::domain::workflow::{Party, State};
use crate::error::AppResult;
use crate::services::notifications;
use crate::services::transfers;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Transfers expired.
    pub expired: u64,
    /// Deadline reminder e-mails queued.
    pub deadline_reminders: u64,
    /// Service-level reminder e-mails queued.
    pub service_level_reminders: u64,
    /// Expired sessions and old sign-in attempts deleted.
    pub pruned: u64,
}

/// Expiry first (a lapsed transfer gets no reminder), then both kinds of reminder.
pub async fn tick(
    db: &DatabaseConnection,
    settings: &Settings,
    now: OffsetDateTime,
) -> AppResult<Tick> {
    let expired = transfers::expire_overdue(db, settings, now).await?;

    // Every reminder due by the clock, then one question to the outbox for all of them: which
    // were queued before (an overdue transfer stays overdue for days, and the tick runs every
    // minute).
    let mut due: Vec<Due> = Vec::new();
    let soon = waiting(
        db,
        Condition::all()
            .add(transfer::Column::Deadline.gt(now))
            .add(transfer::Column::Deadline.lte(now + WEEK_BEFORE)),
    )
    .await?;
    for l in soon {
        let Some(deadline) = l.row.deadline else {
            continue;
        };
        if let Some((reminder, party)) = notification::deadline_reminder(&l.state, deadline, now) {
            due.push(Due::new(l, reminder, party, deadline, Kind::Deadline));
        }
    }
    let overdue = waiting(
        db,
        Condition::all()
            .add(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
            .add(transfer::Column::UpdatedAt.lte(now - settings.service_levels.shortest())),
    )
    .await?;
    for l in overdue {
        // The step began with the transfer's last change.
        let since = l.row.updated_at;
        let reminder = notification::service_level_reminder(
            &l.state,
            since,
            now,
            &settings.service_levels,
            |side| l.facts.registry_of(side),
        );
        if let Some((reminder, party)) = reminder {
            due.push(Due::new(l, reminder, party, since, Kind::ServiceLevel));
        }
    }

    let prefixes: Vec<String> = due.iter().map(|d| d.prefix.clone()).collect();
    let queued = outbox::with_prefixes(db, &prefixes).await?;
    let (mut deadline_reminders, mut service_level_reminders) = (0, 0);
    for d in due.iter().filter(|d| !queued.contains(&d.prefix)) {
        let sent = remind(db, settings, d, now).await?;
        match d.kind {
            Kind::Deadline => deadline_reminders += sent,
            Kind::ServiceLevel => service_level_reminders += sent,
        }
    }

    let pruned = crate::services::accounts::prune(db, now).await?
        + crate::services::idempotency::prune(db, now).await?;

    Ok(Tick {
        expired,
        deadline_reminders,
        service_level_reminders,
        pruned,
    })
}

/// The transfers matching `condition`, loaded in one batch.
async fn waiting(db: &DatabaseConnection, condition: Condition) -> Result<Vec<Loaded>, DbErr> {
    let rows = transfer::Entity::find().filter(condition).all(db).await?;
    transfers_db::load_many(db, rows).await
}

/// Which count a reminder adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deadline,
    ServiceLevel,
}

/// A reminder the clock says is due: of transfer `l`, to `party`, about the deadline or wait
/// that began at `anchor`; `prefix` begins the Message-IDs of its e-mails.
struct Due {
    l: Loaded,
    reminder: notification::Reminder,
    party: Party,
    anchor: OffsetDateTime,
    kind: Kind,
    prefix: String,
}

impl Due {
    fn new(
        l: Loaded,
        reminder: notification::Reminder,
        party: Party,
        anchor: OffsetDateTime,
        kind: Kind,
    ) -> Self {
        let prefix = notifications::reminder_message_prefix(&l, reminder, anchor);
        Due {
            l,
            reminder,
            party,
            anchor,
            kind,
            prefix,
        }
    }
}

/// Queues the e-mails of one reminder that the outbox did not hold; returns how many it queued
/// (none if another process queued them meanwhile: the outbox ignores a Message-ID it holds).
async fn remind(
    db: &DatabaseConnection,
    settings: &Settings,
    d: &Due,
    now: OffsetDateTime,
) -> AppResult<u64> {
    let emails =
        notifications::reminder_emails(db, &settings.base_url, &d.l, d.reminder, d.party, d.anchor)
            .await?;
    Ok(outbox::enqueue_once(db, &emails, now).await?)
}
