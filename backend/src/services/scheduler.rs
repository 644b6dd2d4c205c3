//! The deadline scheduler: one [`tick`] expires overdue transfers (telling everyone), reminds the
//! party a transfer waits on 7 days and 1 day before its consent or information deadline, and
//! reminds hostmasters whose step has waited longer than their registry's service level.
//!
//! A tick may run any number of times, from any number of processes: each reminder's Message-ID
//! names the transfer, the reminder, its deadline (or the start of the wait) and the person, and
//! the outbox ignores a Message-ID it already holds, so every reminder is queued once.

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use time::OffsetDateTime;

use crate::db::entities::transfer;
use crate::db::{outbox, transfers as transfers_db};
use crate::domain::notification::{self, WEEK_BEFORE};
use crate::domain::workflow::State;
use crate::error::AppResult;
use crate::services::notifications;
use crate::services::transfers::{self, Settings};

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

    let mut deadline_reminders = 0;
    let soon = ids(
        db,
        Condition::all()
            .add(transfer::Column::Deadline.gt(now))
            .add(transfer::Column::Deadline.lte(now + WEEK_BEFORE)),
    )
    .await?;
    for id in soon {
        let Some(l) = transfers_db::load(db, id).await? else {
            continue;
        };
        let Some(deadline) = l.row.deadline else {
            continue;
        };
        if let Some((reminder, party)) = notification::deadline_reminder(&l.state, deadline, now) {
            let emails =
                notifications::reminder_emails(db, settings, &l, reminder, party, deadline).await?;
            deadline_reminders += outbox::enqueue_once(db, &emails, now).await?;
        }
    }

    let mut service_level_reminders = 0;
    let waiting = ids(
        db,
        Condition::all()
            .add(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
            .add(transfer::Column::UpdatedAt.lte(now - settings.service_levels.shortest())),
    )
    .await?;
    for id in waiting {
        let Some(l) = transfers_db::load(db, id).await? else {
            continue;
        };
        // The step began with the transfer's last change.
        let since = l.row.updated_at;
        let due = notification::service_level_reminder(
            &l.state,
            since,
            now,
            &settings.service_levels,
            |side| l.facts.registry_of(side),
        );
        if let Some((reminder, party)) = due {
            let emails =
                notifications::reminder_emails(db, settings, &l, reminder, party, since).await?;
            service_level_reminders += outbox::enqueue_once(db, &emails, now).await?;
        }
    }

    let pruned = crate::services::accounts::prune(db, now).await?;

    Ok(Tick {
        expired,
        deadline_reminders,
        service_level_reminders,
        pruned,
    })
}

/// Ids of the transfers matching `condition`.
async fn ids(db: &DatabaseConnection, condition: Condition) -> Result<Vec<i64>, DbErr> {
    transfer::Entity::find()
        .select_only()
        .column(transfer::Column::Id)
        .filter(condition)
        .into_tuple()
        .all(db)
        .await
}
