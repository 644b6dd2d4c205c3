//! The deadline scheduler: one [`tick`] expires overdue transfers (telling everyone), reminds the
//! party a transfer waits on 7 days and 1 day before its consent or information deadline, and
//! reminds hostmasters whose step has waited longer than their registry's service level.
//!
//! A tick may run any number of times, from any number of processes: each reminder's Message-ID
//! names the transfer, the reminder, its deadline (or the start of the wait) and the person, and
//! the outbox ignores a Message-ID it already holds, so every reminder is queued once.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};
use time::OffsetDateTime;

use crate::config::Settings;
use crate::db::entities::transfer;
use crate::db::packed::id_in_expr;
use crate::db::transfers::Loaded;
use crate::db::{outbox, transfers as transfers_db};
use crate::domain::Rir;
use crate::domain::notification::{self, WEEK_BEFORE};
use crate::domain::transfer::Side;
use crate::domain::workflow::{Party, State};
use crate::error::AppResult;
use crate::services::notifications;
use crate::services::transfers;

/// Transfers loaded whole at once to render their reminders.
const LOAD_BATCH: usize = 1_000;

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

    // Every reminder due by the clock, decided from the transfers' rows alone; then one
    // question to the outbox for all of them (an overdue transfer stays overdue for days, and
    // the tick runs every minute); only the transfers of reminders not queued yet are loaded
    // whole, for their e-mails. At the registries' volumes nearly every open transfer is past
    // a service level: loading them all with their blocks, parties and documents each minute
    // was most of a tick.
    let mut due: Vec<Due> = Vec::new();
    let soon = waiting(
        db,
        Condition::all()
            .add(transfer::Column::Deadline.gt(now))
            .add(transfer::Column::Deadline.lte(now + WEEK_BEFORE)),
    )
    .await?;
    for w in soon {
        let Some(deadline) = w.row.deadline else {
            continue;
        };
        if let Some((reminder, party)) = notification::deadline_reminder(&w.state, deadline, now) {
            due.push(Due::new(&w, reminder, party, deadline, Kind::Deadline));
        }
    }
    let overdue = waiting(
        db,
        Condition::all()
            .add(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
            .add(transfer::Column::UpdatedAt.lte(now - settings.service_levels.shortest())),
    )
    .await?;
    for w in overdue {
        // The step began with the transfer's last change.
        let since = w.row.updated_at;
        let reminder = notification::service_level_reminder(
            &w.state,
            since,
            now,
            &settings.service_levels,
            |side| w.registry_of(side),
        );
        if let Some((reminder, party)) = reminder {
            due.push(Due::new(&w, reminder, party, since, Kind::ServiceLevel));
        }
    }

    let prefixes: Vec<String> = due.iter().map(|d| d.prefix.clone()).collect();
    let queued = outbox::with_prefixes(db, &prefixes).await?;
    due.retain(|d| !queued.contains(&d.prefix));
    // The transfers of the others are loaded whole in batches, each once though it may be due
    // both kinds of reminder: after an outage of the scheduler every waiting transfer may be
    // due at once, and a batch bounds the memory (each statement binds its ids as one
    // parameter, however many).
    due.sort_by_key(|d| d.transfer);
    let mut ids: Vec<i64> = due.iter().map(|d| d.transfer).collect();
    ids.dedup();
    let (mut deadline_reminders, mut service_level_reminders) = (0, 0);
    let mut from = 0;
    for batch in ids.chunks(LOAD_BATCH) {
        let rows = transfer::Entity::find()
            .filter(id_in_expr(db.get_database_backend(), "id", batch))
            .all(db)
            .await?;
        let loaded: HashMap<i64, Loaded> = transfers_db::load_many(db, rows)
            .await?
            .into_iter()
            .map(|l| (l.row.id, l))
            .collect();
        let to = due.partition_point(|d| d.transfer <= batch[batch.len() - 1]);
        for d in &due[from..to] {
            let l = loaded
                .get(&d.transfer)
                .ok_or_else(|| DbErr::Custom(format!("transfer {} was not loaded", d.transfer)))?;
            let sent = remind(db, settings, l, d, now).await?;
            match d.kind {
                Kind::Deadline => deadline_reminders += sent,
                Kind::ServiceLevel => service_level_reminders += sent,
            }
        }
        from = to;
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

/// The columns of a transfer's row that a reminder's timing needs: at the registries' volumes a
/// tick reads thousands of them each minute, and decoding the whole rows (22 columns) was most
/// of its time.
#[derive(Debug, FromQueryResult)]
struct TimingRow {
    id: i64,
    reference: String,
    state: String,
    state_data: Option<String>,
    source_registry: String,
    recipient_registry: String,
    deadline: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

/// A waiting transfer as its row says, which is all a reminder's timing needs.
struct Waiting {
    row: TimingRow,
    state: State,
    registries: (Rir, Rir),
}

impl Waiting {
    fn registry_of(&self, side: Side) -> Rir {
        match side {
            Side::Source => self.registries.0,
            Side::Recipient => self.registries.1,
        }
    }
}

/// The transfers matching `condition`, the columns of [`TimingRow`] only.
async fn waiting(db: &DatabaseConnection, condition: Condition) -> Result<Vec<Waiting>, DbErr> {
    use transfer::Column as C;
    let rows = transfer::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::Reference,
            C::State,
            C::StateData,
            C::SourceRegistry,
            C::RecipientRegistry,
            C::Deadline,
            C::UpdatedAt,
        ])
        .filter(condition)
        .into_model::<TimingRow>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let corrupt = |what: String| DbErr::Custom(format!("transfer {}: {what}", row.id));
            let state = State::from_parts(&row.state, row.state_data.as_deref())
                .map_err(|e| corrupt(e.to_string()))?;
            let rir = |token: &str| {
                Rir::from_token(token).ok_or_else(|| corrupt(format!("registry {token:?}")))
            };
            let registries = (rir(&row.source_registry)?, rir(&row.recipient_registry)?);
            Ok(Waiting {
                row,
                state,
                registries,
            })
        })
        .collect()
}

/// Which count a reminder adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deadline,
    ServiceLevel,
}

/// A reminder the clock says is due: of the transfer `transfer`, to `party`, about the deadline
/// or wait that began at `anchor`; `prefix` begins the Message-IDs of its e-mails.
struct Due {
    transfer: i64,
    reminder: notification::Reminder,
    party: Party,
    anchor: OffsetDateTime,
    kind: Kind,
    prefix: String,
}

impl Due {
    fn new(
        w: &Waiting,
        reminder: notification::Reminder,
        party: Party,
        anchor: OffsetDateTime,
        kind: Kind,
    ) -> Self {
        Due {
            prefix: notifications::reminder_message_prefix(&w.row.reference, reminder, anchor),
            transfer: w.row.id,
            reminder,
            party,
            anchor,
            kind,
        }
    }
}

/// Queues the e-mails of one reminder that the outbox did not hold; returns how many it queued
/// (none if another process queued them meanwhile: the outbox ignores a Message-ID it holds).
async fn remind(
    db: &DatabaseConnection,
    settings: &Settings,
    l: &Loaded,
    d: &Due,
    now: OffsetDateTime,
) -> AppResult<u64> {
    let emails =
        notifications::reminder_emails(db, &settings.base_url, l, d.reminder, d.party, d.anchor)
            .await?;
    Ok(outbox::enqueue_once(db, &emails, now).await?)
}
