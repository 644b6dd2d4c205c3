//! The history of corrections to a registry's records (`record_changes`): one row per changed
//! field, with who, when, the old and new value and why. Written inside the caller's transaction,
//! beside the change it records.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use time::OffsetDateTime;

use super::entities::record_change;

/// One changed field of a record.
pub struct NewRecordChange<'a> {
    /// `holding` or `organisation`.
    pub subject: &'a str,
    pub subject_id: i64,
    pub registry: &'a str,
    /// The holding's first and last address, as stored.
    pub range: Option<(i64, i64)>,
    pub field: &'a str,
    pub old_value: &'a str,
    pub new_value: &'a str,
    pub reason: &'a str,
    /// None for the operator's command line.
    pub user_id: Option<i64>,
    pub actor_label: &'a str,
}

/// Appends a change to the history.
pub async fn insert(
    conn: &impl ConnectionTrait,
    c: NewRecordChange<'_>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    record_change::ActiveModel {
        subject: Set(c.subject.to_owned()),
        subject_id: Set(c.subject_id),
        registry: Set(c.registry.to_owned()),
        start_addr: Set(c.range.map(|r| r.0)),
        end_addr: Set(c.range.map(|r| r.1)),
        field: Set(c.field.to_owned()),
        old_value: Set(c.old_value.to_owned()),
        new_value: Set(c.new_value.to_owned()),
        reason: Set(c.reason.to_owned()),
        user_id: Set(c.user_id),
        actor_label: Set(c.actor_label.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The history of one record, oldest first.
pub async fn of_subject(
    conn: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
) -> Result<Vec<record_change::Model>, DbErr> {
    record_change::Entity::find()
        .filter(record_change::Column::Subject.eq(subject))
        .filter(record_change::Column::SubjectId.eq(subject_id))
        .order_by_asc(record_change::Column::Id)
        .all(conn)
        .await
}
