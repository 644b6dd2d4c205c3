//! Writing transfers: the row of a filing with its blocks and fee lines, what a transition
//! changes on the row, the timeline, overrides, policy exceptions and fee payments. The
//! services decide; these functions only store, inside the caller's transaction.

use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use time::OffsetDateTime;

use super::entities::{
    document, fee_line, finding_override, policy_exception, transfer, transfer_block,
    transfer_event,
};
use super::transfers::Record;
use crate::domain::Rir;
use crate::domain::currency::Currency;
use crate::domain::fees::FeeLine;
use crate::domain::timeline::TimelineEvent;
use crate::domain::transfer::{NeedJustification, TransferFacts};
use crate::domain::workflow::{Override, State};

/// A transfer being filed: its facts (id and reference not known yet) and first state.
pub struct NewTransfer<'a> {
    pub facts: &'a TransferFacts,
    pub state: &'a State,
    pub deadline: Option<OffsetDateTime>,
    pub agreed_price: Option<&'a (Decimal, Currency)>,
    pub filed_by: Option<i64>,
}

/// Inserts a filed transfer and its blocks. The row goes in under `placeholder` (references
/// are unique) until its id gives the reference `reference(id)`. Returns the id, the reference
/// and the row's record.
pub async fn insert(
    conn: &impl ConnectionTrait,
    new: NewTransfer<'_>,
    placeholder: String,
    reference: impl FnOnce(i64) -> String,
    now: OffsetDateTime,
) -> Result<(i64, String, Record), DbErr> {
    let f = new.facts;
    let (state, state_data) = new.state.to_parts();
    let row = transfer::ActiveModel {
        reference: Set(placeholder),
        kind: Set(f.kind.nro_name().to_owned()),
        source_org_id: Set(f.source.id.get()),
        recipient_org_id: Set(f.recipient.id.get()),
        source_registry: Set(f.source_rir().token().to_owned()),
        recipient_registry: Set(f.recipient_rir().token().to_owned()),
        state: Set(state.to_owned()),
        state_data: Set(state_data),
        deadline: Set(new.deadline),
        version: Set(0),
        agreed_price: Set(new.agreed_price.map(|(p, _)| p.normalize().to_string())),
        price_currency: Set(new.agreed_price.map(|(_, c)| c.to_string())),
        filed_by: Set(new.filed_by),
        filed_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let reference = reference(row.id);
    let mut active: transfer::ActiveModel = row.into();
    active.reference = Set(reference.clone());
    let row = active.update(conn).await?;
    transfer_block::Entity::insert_many(f.blocks.iter().map(|b| transfer_block::ActiveModel {
        transfer_id: Set(row.id),
        start_addr: Set(i64::from(b.start())),
        end_addr: Set(i64::from(b.end())),
        ..Default::default()
    }))
    .exec_without_returning(conn)
    .await?;
    Ok((row.id, reference, Record::of(&row)))
}

/// Inserts the fee lines billed for a transfer.
pub async fn insert_fee_lines(
    conn: &impl ConnectionTrait,
    id: i64,
    lines: &[FeeLine],
) -> Result<(), DbErr> {
    if lines.is_empty() {
        return Ok(());
    }
    fee_line::Entity::insert_many(lines.iter().map(|l| fee_line::ActiveModel {
        transfer_id: Set(id),
        registry: Set(l.registry.token().to_owned()),
        payer: Set(l.payer.as_str().to_owned()),
        description: Set(l.description.clone()),
        amount: Set(l.amount.normalize().to_string()),
        currency: Set(l.currency.to_string()),
        confirmed: Set(l.confirmed),
        ..Default::default()
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// What a transition writes on a transfer's row: its new state, when it changed, its deadline,
/// and the columns the event or the new state set.
pub struct StateWrite<'a> {
    pub state: &'a State,
    pub updated_at: OffsetDateTime,
    pub deadline: Option<OffsetDateTime>,
    /// The need justification given on acceptance.
    pub need: Option<&'a NeedJustification>,
    /// Who confirmed the fees, when it changes (`Some(None)` clears it).
    pub fees_confirmed_by: Option<Option<i64>>,
    /// The first of two finalizers, when it changes.
    pub first_finalizer: Option<Option<i64>>,
    pub completed_at: Option<OffsetDateTime>,
}

/// Stores what a transition writes on the row of transfer `id`.
pub async fn store_state(
    conn: &impl ConnectionTrait,
    id: i64,
    w: StateWrite<'_>,
) -> Result<(), DbErr> {
    let (name, data) = w.state.to_parts();
    let mut row = transfer::ActiveModel {
        id: Unchanged(id),
        state: Set(name.to_owned()),
        state_data: Set(data),
        updated_at: Set(w.updated_at),
        deadline: Set(w.deadline),
        ..Default::default()
    };
    if let Some(need) = w.need {
        row.need_text = Set(Some(need.text.clone()));
        row.need_horizon_months = Set(need.horizon_months.map(|m| m as i32));
        row.need_utilisation_percent = Set(need.planned_utilisation_percent.map(|p| p as i32));
    }
    if let Some(by) = w.fees_confirmed_by {
        row.fees_confirmed_by = Set(by);
    }
    if let Some(first) = w.first_finalizer {
        row.first_finalizer_id = Set(first);
    }
    if let Some(at) = w.completed_at {
        row.completed_at = Set(Some(at));
    }
    row.update(conn).await?;
    Ok(())
}

/// A checked document to store with a transfer.
pub struct NewDocument<'a> {
    pub transfer_id: i64,
    /// The document kind's stored name.
    pub kind: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub sha256: String,
    pub content: Vec<u8>,
    pub uploaded_by: i64,
}

/// Stores a document of a transfer; returns its id.
pub async fn insert_document(
    conn: &impl ConnectionTrait,
    d: NewDocument<'_>,
    now: OffsetDateTime,
) -> Result<i64, DbErr> {
    let row = document::ActiveModel {
        transfer_id: Set(d.transfer_id),
        kind: Set(d.kind.to_owned()),
        filename: Set(d.filename.to_owned()),
        content_type: Set(d.content_type.to_owned()),
        size_bytes: Set(d.content.len() as i64),
        sha256: Set(d.sha256),
        content: Set(d.content),
        uploaded_by: Set(d.uploaded_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// One row of a transfer's timeline: what happened, who did it, and what they wrote.
#[derive(Clone)]
pub struct History {
    pub event: TimelineEvent,
    pub actor: Option<i64>,
    /// As the timeline shows it: "Ana Lima (ARIN hostmaster)", "ipxfer (deadline passed)".
    pub label: String,
    pub comment: Option<String>,
}

/// Appends a row to a transfer's timeline, a blank comment stored as none; returns its id (part
/// of e-mails' Message-IDs).
pub async fn record_event(
    conn: &impl ConnectionTrait,
    transfer_id: i64,
    from: Option<&str>,
    to: &str,
    h: History,
    now: OffsetDateTime,
) -> Result<i64, DbErr> {
    let row = transfer_event::ActiveModel {
        transfer_id: Set(transfer_id),
        event: Set(h.event.as_str().to_owned()),
        from_state: Set(from.map(str::to_owned)),
        to_state: Set(to.to_owned()),
        actor_user_id: Set(h.actor),
        actor_label: Set(h.label),
        comment: Set(h.comment.filter(|c| !c.trim().is_empty())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// Records a hostmaster's override of a warning.
pub async fn insert_override(
    conn: &impl ConnectionTrait,
    id: i64,
    o: &Override,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    finding_override::ActiveModel {
        transfer_id: Set(id),
        rule_id: Set(o.rule_id.clone()),
        reason: Set(o.reason.clone()),
        user_id: Set(user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A policy exception recorded for a transfer, with the hostmaster's reason.
pub struct NewException<'a> {
    pub rule_id: &'a str,
    pub name: &'a str,
    pub reason: &'a str,
    pub user_id: i64,
}

/// Records that a policy exception applies to transfer `id`.
pub async fn insert_exception(
    conn: &impl ConnectionTrait,
    id: i64,
    e: NewException<'_>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    policy_exception::ActiveModel {
        transfer_id: Set(id),
        rule_id: Set(e.rule_id.to_owned()),
        name: Set(e.name.to_owned()),
        reason: Set(e.reason.to_owned()),
        user_id: Set(e.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Marks the fee lines `registry` bills for transfer `id` paid.
pub async fn mark_fees_paid(
    conn: &impl ConnectionTrait,
    id: i64,
    registry: Rir,
    user_id: i64,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    fee_line::Entity::update_many()
        .col_expr(fee_line::Column::PaidBy, Expr::value(Some(user_id)))
        .col_expr(fee_line::Column::PaidAt, Expr::value(Some(now)))
        .filter(fee_line::Column::TransferId.eq(id))
        .filter(fee_line::Column::Registry.eq(registry.token()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Clears every payment of transfer `id`'s fee lines.
pub async fn clear_fee_payments(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    fee_line::Entity::update_many()
        .col_expr(fee_line::Column::PaidBy, Expr::value(Option::<i64>::None))
        .col_expr(
            fee_line::Column::PaidAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .filter(fee_line::Column::TransferId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ids of the transfers whose deadline is at or before `now` (only waiting states carry one).
pub async fn past_deadline(
    conn: &impl ConnectionTrait,
    now: OffsetDateTime,
) -> Result<Vec<i64>, DbErr> {
    transfer::Entity::find()
        .select_only()
        .column(transfer::Column::Id)
        .filter(transfer::Column::Deadline.lte(now))
        .into_tuple()
        .all(conn)
        .await
}
