//! Corrections hostmasters make to a registry's records: how a holder came by a holding (its
//! origin, which the origin-based policy rules read) and the real name of an organisation that
//! was imported under the registry's opaque id. Each change is written with a `record_changes`
//! row (who, when, old and new value, why) in the same transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use time::OffsetDateTime;

use crate::db;
use crate::db::entities::{holding, organisation, record_change};
use crate::domain::authz::{self, Actor};
use crate::domain::origins::{self, OriginLine};
use crate::domain::transfer::HoldingOrigin;
use crate::domain::{Ipv4Range, Rir};
use crate::error::{AppError, AppResult};
use crate::services::accounts::actor_label;

/// Longest organisation name accepted (the delegated files' opaque ids are far shorter).
pub const MAX_NAME: usize = 200;

/// What `record_changes.subject` says.
pub const HOLDING: &str = "holding";
pub const ORGANISATION: &str = "organisation";

/// Who made a change, for its history row.
struct Author {
    user_id: Option<i64>,
    label: String,
}

fn registry_of(token: &str, what: &str) -> AppResult<Rir> {
    Rir::from_token(token)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("{what}: unknown registry {token}")))
}

fn require_reason(reason: &str, what: &str) -> AppResult<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(format!(
            "say why: {what} needs a written reason"
        )));
    }
    Ok(reason.to_owned())
}

#[allow(clippy::too_many_arguments)]
async fn write_change(
    conn: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
    registry: &str,
    range: Option<(i64, i64)>,
    field: &str,
    old_value: &str,
    new_value: &str,
    reason: &str,
    author: &Author,
    now: OffsetDateTime,
) -> AppResult<()> {
    record_change::ActiveModel {
        subject: Set(subject.to_owned()),
        subject_id: Set(subject_id),
        registry: Set(registry.to_owned()),
        start_addr: Set(range.map(|r| r.0)),
        end_addr: Set(range.map(|r| r.1)),
        field: Set(field.to_owned()),
        old_value: Set(old_value.to_owned()),
        new_value: Set(new_value.to_owned()),
        reason: Set(reason.to_owned()),
        user_id: Set(author.user_id),
        actor_label: Set(author.label.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records how the holder came by a holding. Only a hostmaster of the holding's registry, or the
/// administrator, may; the reason is required and kept in the holding's history.
pub async fn record_origin(
    db: &DatabaseConnection,
    actor: &Actor,
    holding_id: i64,
    origin: HoldingOrigin,
    reason: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    let h = holding::Entity::find_by_id(holding_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no holding {holding_id}")))?;
    let registry = registry_of(&h.registry, "holding")?;
    if !authz::can_edit_records(actor, registry) {
        return Err(AppError::Forbidden(format!(
            "only a {registry} hostmaster or the administrator records the origin of {registry} \
             holdings"
        )));
    }
    if !origins::RECORDABLE.iter().any(|(o, _)| *o == origin) {
        return Err(AppError::invalid(
            "a merger's origin is recorded by the transfer that moves the space",
        ));
    }
    let reason = require_reason(reason, "recording an origin")?;
    if h.origin == origin.as_str() {
        return Err(AppError::invalid(format!(
            "the holding's origin is already {}",
            origin.as_str().replace('_', " ")
        )));
    }
    let (user_id, label) = actor_label(&txn, actor).await?;
    let author = Author {
        user_id: Some(user_id),
        label,
    };
    set_origin(&txn, &h, origin, &reason, &author, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn set_origin(
    conn: &impl ConnectionTrait,
    h: &holding::Model,
    origin: HoldingOrigin,
    reason: &str,
    author: &Author,
    now: OffsetDateTime,
) -> AppResult<()> {
    let mut row: holding::ActiveModel = h.clone().into();
    row.origin = Set(origin.as_str().to_owned());
    row.update(conn).await?;
    write_change(
        conn,
        HOLDING,
        h.id,
        &h.registry,
        Some((h.start_addr, h.end_addr)),
        "origin",
        &h.origin,
        origin.as_str(),
        reason,
        author,
        now,
    )
    .await
}

/// What `ipxfer import origins` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginsImported {
    /// Holdings whose origin changed.
    pub changed: usize,
    /// Lines that named the origin the holding already had.
    pub unchanged: usize,
}

/// Sets the origins listed in a CSV file (`range,origin`), each range being exactly one
/// holding. Every line is checked first: on any bad line, or a range that is not exactly one
/// holding, nothing changes and every problem is reported with its line number.
pub async fn import_origins(
    db: &DatabaseConnection,
    text: &str,
    source: &str,
    now: OffsetDateTime,
) -> AppResult<OriginsImported> {
    let lines = origins::parse_origins_csv(text).map_err(|e| AppError::Invalid(e.join("\n")))?;
    let txn = db::begin_write(db).await?;
    let mut errors = Vec::new();
    let mut found: Vec<(&OriginLine, holding::Model)> = Vec::with_capacity(lines.len());
    for line in &lines {
        match exact_holding(&txn, line.range).await? {
            Ok(h) => found.push((line, h)),
            Err(problem) => errors.push(format!("line {}: {problem}", line.line)),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors.join("\n")));
    }
    let author = Author {
        user_id: None,
        label: format!("ipxfer import origins ({source})"),
    };
    let reason = format!("bulk import from {source}");
    let mut result = OriginsImported {
        changed: 0,
        unchanged: 0,
    };
    for (line, h) in found {
        if h.origin == line.origin.as_str() {
            result.unchanged += 1;
            continue;
        }
        set_origin(&txn, &h, line.origin, &reason, &author, now).await?;
        result.changed += 1;
    }
    txn.commit().await?;
    Ok(result)
}

/// The one holding whose range is exactly `range`, or why there is none.
async fn exact_holding(
    conn: &impl ConnectionTrait,
    range: Ipv4Range,
) -> AppResult<Result<holding::Model, String>> {
    let overlapping = db::holdings::overlapping(conn, range).await?;
    if let Some(h) = overlapping
        .iter()
        .find(|h| h.start_addr == i64::from(range.start()) && h.end_addr == i64::from(range.end()))
    {
        return Ok(Ok(h.clone()));
    }
    let problem = match overlapping.first() {
        None => format!("no holding covers {range}"),
        Some(h) => match db::holdings::range_of(h.start_addr, h.end_addr) {
            Ok(other) => format!(
                "{range} is not exactly one holding (it overlaps the {} holding {other}); \
                 list whole holdings",
                h.registry
            ),
            Err(_) => format!("{range} is not exactly one holding"),
        },
    };
    Ok(Err(problem))
}

/// Gives an organisation its real name; the registry's opaque id (`handle`) stays. Only a
/// hostmaster of the organisation's registry, or the administrator, may.
pub async fn rename_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    org_id: i64,
    name: &str,
    reason: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("enter the organisation's name"));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::invalid(format!(
            "a name has at most {MAX_NAME} characters and no control characters"
        )));
    }
    let txn = db::begin_write(db).await?;
    let org = organisation::Entity::find_by_id(org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no organisation {org_id}")))?;
    let registry = registry_of(&org.registry, "organisation")?;
    if !authz::can_edit_records(actor, registry) {
        return Err(AppError::Forbidden(format!(
            "only a {registry} hostmaster or the administrator names {registry} organisations"
        )));
    }
    let reason = require_reason(reason, "renaming an organisation")?;
    if org.name == name {
        return Err(AppError::invalid(format!(
            "the organisation is already named {name}"
        )));
    }
    let (user_id, label) = actor_label(&txn, actor).await?;
    let old = org.name.clone();
    let mut row: organisation::ActiveModel = org.into();
    row.name = Set(name.to_owned());
    row.update(&txn).await?;
    let author = Author {
        user_id: Some(user_id),
        label,
    };
    write_change(
        &txn,
        ORGANISATION,
        org_id,
        registry.token(),
        None,
        "name",
        &old,
        name,
        &reason,
        &author,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The history of one record, oldest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
) -> AppResult<Vec<record_change::Model>> {
    Ok(record_change::Entity::find()
        .filter(record_change::Column::Subject.eq(subject))
        .filter(record_change::Column::SubjectId.eq(subject_id))
        .order_by_asc(record_change::Column::Id)
        .all(conn)
        .await?)
}
