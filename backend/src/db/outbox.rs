//! The e-mail outbox: rows written in the transaction of the change that causes them, then
//! claimed, sent and marked by the delivery worker (`services::outbox`).
//!
//! A row is `pending` until sent (`sent`) or out of attempts (`failed`). Claiming a row pushes its
//! `next_attempt_at` out by a lease and counts the attempt, in a short transaction of its own;
//! on PostgreSQL the claim reads with `FOR UPDATE SKIP LOCKED`, so workers running side by side
//! never claim the same row, and on SQLite the write transaction (`BEGIN IMMEDIATE`) serialises
//! them. A claim names its process (`claimed_by`, `claimed_pid`, `claimed_pid_namespace`), so
//! the claims of a process that died are released as soon as another process sees it dead.

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use time::{Duration, OffsetDateTime};

use super::entities::email_outbox::{self, Column, Entity as Outbox};
use crate::process::Claimer;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// Stable across retries (`<TX-2026-000001.17.3@ipxfer>`), so a resend is the same message.
    pub message_id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    /// The HTML alternative of the same content; sent as multipart/alternative when present.
    pub body_html: Option<String>,
    pub transfer_id: Option<i64>,
}

/// Status of a row waiting to be sent.
pub const PENDING: &str = "pending";
/// Status of a row handed to the mail server.
pub const SENT: &str = "sent";
/// Status of a row that ran out of attempts (or was refused for good); an admin may retry it.
pub const FAILED: &str = "failed";

fn row(e: &OutboundEmail, now: OffsetDateTime) -> email_outbox::ActiveModel {
    email_outbox::ActiveModel {
        message_id: Set(e.message_id.clone()),
        kind: Set(e.kind.clone()),
        to_address: Set(e.to.clone()),
        subject: Set(e.subject.clone()),
        body_text: Set(e.body_text.clone()),
        body_html: Set(e.body_html.clone()),
        transfer_id: Set(e.transfer_id),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// Enqueues messages inside the caller's transaction.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    emails: &[OutboundEmail],
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    if emails.is_empty() {
        return Ok(());
    }
    Outbox::insert_many(emails.iter().map(|e| row(e, now)))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Enqueues messages whose Message-ID is not queued yet; returns how many were new. Reminders use
/// it: their Message-ID names the reminder, so queueing one again changes nothing.
pub async fn enqueue_once(
    conn: &impl ConnectionTrait,
    emails: &[OutboundEmail],
    now: OffsetDateTime,
) -> Result<u64, DbErr> {
    if emails.is_empty() {
        return Ok(0);
    }
    Outbox::insert_many(emails.iter().map(|e| row(e, now)))
        .on_conflict(
            OnConflict::column(Column::MessageId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await
}

/// Which of `prefixes` begin the Message-ID of some message (reminders already queued to
/// someone), asked in one statement per 10,000 prefixes: the scheduler asks this of every
/// overdue transfer each minute, and one statement per transfer was thousands of round trips
/// per tick at the registries' volumes (docs/performance.md).
///
/// Each prefix is a range of the unique `message_id` index, so only the matches are read (byte
/// order: every string starting with the prefix lies between it and the prefix followed by the
/// largest character), and then compared literally (no `LIKE`: a `_` or `%` is itself).
/// PostgreSQL's collation need not sort by bytes, so there the range is compared under the "C"
/// collation, which the index `email_outbox_message_id_bytes` is built on.
pub async fn with_prefixes(
    conn: &impl ConnectionTrait,
    prefixes: &[String],
) -> Result<HashSet<String>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            r#"SELECT q.p FROM jsonb_array_elements_text($1::jsonb) AS q(p) WHERE EXISTS (
                 SELECT 1 FROM email_outbox o
                 WHERE o.message_id COLLATE "C" >= q.p
                   AND o.message_id COLLATE "C" < q.p || chr(1114111)
                   AND left(o.message_id, length(q.p)) = q.p)"#
        }
        _ => {
            "SELECT q.value AS p FROM json_each(?) AS q WHERE EXISTS (
                 SELECT 1 FROM email_outbox o
                 WHERE o.message_id >= q.value AND o.message_id < q.value || char(1114111)
                   AND substr(o.message_id, 1, length(q.value)) = q.value)"
        }
    };
    let mut found = HashSet::new();
    for chunk in prefixes.chunks(10_000) {
        let json = serde_json::to_string(chunk)
            .map_err(|e| DbErr::Custom(format!("reminder prefixes: {e}")))?;
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [json.into()]))
            .await?;
        for r in rows {
            found.insert(r.try_get_by_index::<String>(0)?);
        }
    }
    Ok(found)
}

/// Claims up to `limit` pending rows due at `now`: each gets `next_attempt_at = now + lease` and
/// one more attempt, so no other worker takes it while this one sends, and a worker that dies
/// with it leaves it to be claimed again once the lease runs out.
pub async fn claim_due(
    db: &DatabaseConnection,
    limit: u64,
    lease: Duration,
    now: OffsetDateTime,
) -> Result<Vec<email_outbox::Model>, DbErr> {
    let txn = super::begin_write(db).await?;
    let mut due = Outbox::find()
        .filter(Column::Status.eq(PENDING))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(limit);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut rows = due.all(&txn).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    let me = Claimer::current();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    Outbox::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(now + lease))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::ClaimedBy, Expr::value(Some(me.label.clone())))
        .col_expr(Column::ClaimedPid, Expr::value(Some(i64::from(me.pid))))
        .col_expr(
            Column::ClaimedPidNamespace,
            Expr::value(me.namespace.clone()),
        )
        .filter(super::packed::id_in_expr(
            txn.get_database_backend(),
            "id",
            &ids,
        ))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    for r in &mut rows {
        r.attempts += 1;
        r.next_attempt_at = now + lease;
        r.claimed_by = Some(me.label.clone());
        r.claimed_pid = Some(i64::from(me.pid));
        r.claimed_pid_namespace = me.namespace.clone();
    }
    Ok(rows)
}

/// Makes the claims of processes this one sees dead due at `now` (see [`crate::process`]), so a
/// restarted or neighbouring process sends them without waiting out the lease; returns how many.
/// Each claim is released only if it is still that process's, so a claim renewed meanwhile by a
/// live worker stays.
pub async fn release_dead_claims(
    db: &DatabaseConnection,
    now: OffsetDateTime,
) -> Result<u64, DbErr> {
    let me = Claimer::current();
    let Some(namespace) = me.namespace.as_deref() else {
        return Ok(0);
    };
    let claimers: Vec<(String, i64)> = Outbox::find()
        .select_only()
        .column(Column::ClaimedBy)
        .column(Column::ClaimedPid)
        .distinct()
        .filter(Column::Status.eq(PENDING))
        .filter(Column::NextAttemptAt.gt(now))
        .filter(Column::ClaimedPidNamespace.eq(namespace))
        .filter(Column::ClaimedBy.is_not_null())
        .filter(Column::ClaimedPid.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut released = 0;
    for (label, pid) in claimers {
        if !me.sees_dead(&label, pid, namespace) {
            continue;
        }
        let res = Outbox::update_many()
            .col_expr(Column::NextAttemptAt, Expr::value(now))
            .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(Column::ClaimedPid, Expr::value(Option::<i64>::None))
            .col_expr(
                Column::ClaimedPidNamespace,
                Expr::value(Option::<String>::None),
            )
            .filter(Column::Status.eq(PENDING))
            .filter(Column::ClaimedBy.eq(label.as_str()))
            .filter(Column::ClaimedPidNamespace.eq(namespace))
            .exec(db)
            .await?;
        if res.rows_affected > 0 {
            tracing::info!(claimer = %label, rows = res.rows_affected, "released the outbox claims of a process that ended");
        }
        released += res.rows_affected;
    }
    Ok(released)
}

/// The claim columns of a row no worker holds any more.
fn unclaimed(update: sea_orm::UpdateMany<Outbox>) -> sea_orm::UpdateMany<Outbox> {
    update
        .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(Column::ClaimedPid, Expr::value(Option::<i64>::None))
        .col_expr(
            Column::ClaimedPidNamespace,
            Expr::value(Option::<String>::None),
        )
}

/// Marks a claimed row sent.
pub async fn mark_sent(db: &DatabaseConnection, id: i64, now: OffsetDateTime) -> Result<(), DbErr> {
    unclaimed(Outbox::update_many())
        .col_expr(Column::Status, Expr::value(SENT))
        .col_expr(Column::SentAt, Expr::value(Some(now)))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: the row waits until `retry_at`, or is `failed` when `None`.
pub async fn mark_attempt_failed(
    db: &DatabaseConnection,
    id: i64,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> Result<(), DbErr> {
    let mut update = unclaimed(Outbox::update_many())
        .col_expr(Column::LastError, Expr::value(Some(error.to_owned())))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(PENDING));
    update = match retry_at {
        Some(at) => update.col_expr(Column::NextAttemptAt, Expr::value(at)),
        None => update.col_expr(Column::Status, Expr::value(FAILED)),
    };
    update.exec(db).await?;
    Ok(())
}

/// Rows that ran out of attempts, newest first.
pub async fn failed(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<email_outbox::Model>, DbErr> {
    Outbox::find()
        .filter(Column::Status.eq(FAILED))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Puts a failed row back in the queue with a fresh budget of attempts; false when there is no
/// failed row with this id.
pub async fn requeue_failed(
    db: &DatabaseConnection,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let res = unclaimed(Outbox::update_many())
        .col_expr(Column::Status, Expr::value(PENDING))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(FAILED))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// How many rows wait in each status.
pub async fn count_by_status(conn: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    Outbox::find()
        .select_only()
        .column(Column::Status)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::Status)
        .order_by_asc(Column::Status)
        .into_tuple()
        .all(conn)
        .await
}

/// How many messages failed for good.
pub async fn count_failed(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Outbox::find()
        .filter(Column::Status.eq(FAILED))
        .count(conn)
        .await
}
