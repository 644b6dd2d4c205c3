//! The e-mail outbox: rows written in the transaction of the change that causes them.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use time::OffsetDateTime;

use super::entities::email_outbox;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// Stable across retries (`<TX-2026-000001.17.3@ipxfer>`), so a resend is the same message.
    pub message_id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub transfer_id: Option<i64>,
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
    let rows = emails.iter().map(|e| email_outbox::ActiveModel {
        message_id: Set(e.message_id.clone()),
        kind: Set(e.kind.clone()),
        to_address: Set(e.to.clone()),
        subject: Set(e.subject.clone()),
        body_text: Set(e.body_text.clone()),
        body_html: Set(None),
        transfer_id: Set(e.transfer_id),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    });
    email_outbox::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The messages the sender gave up on, newest first, at most `limit`.
pub async fn list_failed(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<email_outbox::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    email_outbox::Entity::find()
        .filter(email_outbox::Column::Status.eq(FAILED))
        .order_by_desc(email_outbox::Column::NextAttemptAt)
        .order_by_desc(email_outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// How many messages failed for good.
pub async fn count_failed(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    email_outbox::Entity::find()
        .filter(email_outbox::Column::Status.eq(FAILED))
        .count(conn)
        .await
}

/// Puts a failed message back in the queue with a fresh retry budget; false when there is no
/// failed message `id` (already retried, sent, or unknown).
pub async fn retry(
    conn: &impl ConnectionTrait,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    let r = email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Status, Expr::value(PENDING))
        .col_expr(email_outbox::Column::Attempts, Expr::value(0))
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(email_outbox::Column::Id.eq(id))
        .filter(email_outbox::Column::Status.eq(FAILED))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Status of a message waiting to be sent (or sent again).
pub const PENDING: &str = "pending";
/// Status of a message the sender gave up on.
pub const FAILED: &str = "failed";
