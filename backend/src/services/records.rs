//! Corrections hostmasters make to a registry's records: how a holder came by a holding (its
//! origin, which the origin-based policy rules read) and the real name of an organisation that
//! was imported under the registry's opaque id. Each change is written with a `record_changes`
//! row (who, when, old and new value, why) in the same transaction.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::OffsetDateTime;

use crate::db;
use crate::db::entities::{holding, record_change};
use crate::db::record_changes::{self, NewRecordChange};
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

impl Author {
    /// A change by this author, to complete with what changed.
    fn change<'a>(
        &'a self,
        subject: &'a str,
        subject_id: i64,
        registry: &'a str,
    ) -> NewRecordChange<'a> {
        NewRecordChange {
            subject,
            subject_id,
            registry,
            range: None,
            field: "",
            old_value: "",
            new_value: "",
            reason: "",
            user_id: self.user_id,
            actor_label: &self.label,
        }
    }
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
    let h = db::holdings::by_id(&txn, holding_id)
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
    db::holdings::set_origin(conn, h.id, origin).await?;
    let change = NewRecordChange {
        range: Some((h.start_addr, h.end_addr)),
        field: "origin",
        old_value: &h.origin,
        new_value: origin.as_str(),
        reason,
        ..author.change(HOLDING, h.id, &h.registry)
    };
    Ok(record_changes::insert(conn, change, now).await?)
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
    let org = db::organisations::by_id(&txn, org_id)
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
    db::organisations::rename(&txn, org_id, name).await?;
    let author = Author {
        user_id: Some(user_id),
        label,
    };
    let change = NewRecordChange {
        field: "name",
        old_value: &old,
        new_value: name,
        reason: &reason,
        ..author.change(ORGANISATION, org_id, registry.token())
    };
    record_changes::insert(&txn, change, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The history of one record, oldest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
) -> AppResult<Vec<record_change::Model>> {
    Ok(record_changes::of_subject(conn, subject, subject_id).await?)
}
