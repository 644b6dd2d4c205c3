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
        status: Set("pending".to_owned()),
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
