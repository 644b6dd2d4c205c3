//! A holding's page for registry staff: who holds it, how the holder came by it (its origin, which
//! the origin-based policy rules read), and the history of corrections. A hostmaster of the
//! holding's registry, or the administrator, records the origin and gives an imported
//! organisation its real name there; auditors and other registries' hostmasters read it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::auth::{CsrfForm, SignedIn, Viewer};
use super::extract::Path;
use super::forms::{self, FormErrors};
use super::page::{Chrome, render};
use crate::db::holdings::{self, range_of};
use crate::db::organisations;
use crate::domain::authz::{self, Role};
use crate::domain::format::{group_thousands, utc_minute};
use crate::domain::origins::{self, RECORDABLE};
use crate::domain::transfer::HoldingOrigin;
use crate::domain::{Rir, format::capitalise};
use crate::error::AppError;
use crate::services::records;

/// Longest reason accepted.
const REASON_MAX: usize = 4000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/holdings/{id}", get(show))
        .route("/holdings/{id}/origin", post(record_origin))
        .route("/holdings/{id}/holder-name", post(rename_holder))
}

struct OriginChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct ChangeRow {
    when: String,
    what: String,
    who: String,
    reason: String,
}

/// Values typed into the forms, kept when one comes back with an error.
#[derive(Default)]
struct Typed {
    origin: String,
    origin_reason: String,
    name: String,
    name_reason: String,
}

#[derive(Template)]
#[template(path = "pages/holding.html")]
struct HoldingPage {
    chrome: Chrome,
    errors: FormErrors,
    id: i64,
    range: String,
    addresses: String,
    registry: &'static str,
    holder: String,
    handle: String,
    origin: String,
    since: String,
    status: String,
    can_edit: bool,
    origins: Vec<OriginChoice>,
    typed: Typed,
    changes: Vec<ChangeRow>,
}

fn origin_label(origin: &str) -> String {
    HoldingOrigin::parse(origin)
        .and_then(|o| RECORDABLE.iter().find(|(r, _)| *r == o).map(|(_, l)| *l))
        .map_or_else(|| origin.replace('_', " "), str::to_owned)
}

/// Registry staff and auditors read holdings' records; members look blocks up instead.
fn require_staff(viewer: &Viewer) -> Result<(), AppError> {
    match viewer.actor.role {
        Role::Hostmaster { .. } | Role::Admin | Role::Auditor => Ok(()),
        _ => Err(AppError::Forbidden(
            "Only registry staff and auditors may see a holding's records.".into(),
        )),
    }
}

async fn page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Html<String>, AppError> {
    require_staff(viewer)?;
    let h = holdings::by_id(&app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no holding {id}.")))?;
    let org = organisations::by_id(&app.db, h.organisation_id).await?;
    let registry = Rir::from_token(&h.registry);
    let range = range_of(h.start_addr, h.end_addr)?;
    let mut changes = records::history(&app.db, records::HOLDING, id).await?;
    changes.extend(records::history(&app.db, records::ORGANISATION, h.organisation_id).await?);
    changes.sort_by_key(|c| (c.created_at, c.id));
    let selected = if typed.origin.is_empty() {
        h.origin.clone()
    } else {
        typed.origin.clone()
    };
    render(&HoldingPage {
        chrome: viewer.chrome(app).await?,
        errors,
        id,
        range: range.to_string(),
        addresses: group_thousands(range.size()),
        registry: registry.map_or("unknown", Rir::nro_name),
        holder: org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        handle: org.as_ref().map(|o| o.handle.clone()).unwrap_or_default(),
        origin: origin_label(&h.origin),
        since: h
            .received_on
            .or(h.registered_on)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown".into()),
        status: h.status.clone(),
        can_edit: registry.is_some_and(|r| authz::can_edit_records(&viewer.actor, r)),
        origins: RECORDABLE
            .iter()
            .map(|(o, label)| OriginChoice {
                value: o.as_str(),
                label,
                selected: o.as_str() == selected,
            })
            .collect(),
        typed,
        changes: changes
            .into_iter()
            .map(|c| ChangeRow {
                when: utc_minute(c.created_at),
                what: match c.field.as_str() {
                    "origin" => format!(
                        "Origin: {} → {}",
                        origin_label(&c.old_value),
                        origin_label(&c.new_value)
                    ),
                    "name" => format!("Holder's name: {} → {}", c.old_value, c.new_value),
                    other => format!("{other}: {} → {}", c.old_value, c.new_value),
                },
                who: c.actor_label,
                reason: c.reason,
            })
            .collect(),
    })
}

async fn show(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    page(&app, &viewer, id, FormErrors::default(), Typed::default()).await
}

#[derive(Deserialize)]
struct OriginForm {
    #[serde(default)]
    origin: String,
    #[serde(default)]
    reason: String,
}

/// The holding's page again with the form's errors and what was typed (422).
async fn again(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        page(app, viewer, id, errors, typed).await?,
    )
        .into_response())
}

/// What a recorded change answers: the holding's page with `flash` when it was recorded, or the
/// form again with the service's refusal beside `field`.
async fn settle(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    outcome: Result<(), AppError>,
    flash: String,
    (field, mut errors, typed): (&'static str, FormErrors, Typed),
) -> Result<Response, AppError> {
    match outcome {
        Ok(()) => {
            viewer.flash(flash).await?;
            Ok(Redirect::to(&format!("/holdings/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            errors.add(field, capitalise(&m));
            again(app, viewer, id, errors, typed).await
        }
        Err(e) => Err(e),
    }
}

async fn record_origin(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<OriginForm>,
) -> Result<Response, AppError> {
    require_staff(&viewer)?;
    let typed = Typed {
        origin: form.origin.clone(),
        origin_reason: form.reason.clone(),
        ..Typed::default()
    };
    let mut errors = FormErrors::default();
    let origin = origins::parse_recordable(&form.origin);
    if origin.is_none() {
        errors.add("origin", "Choose how the holder came by the space");
    }
    forms::text(
        &mut errors,
        "origin_reason",
        &form.reason,
        "why (the record it rests on)",
        true,
        REASON_MAX,
    );
    let (Some(origin), true) = (origin, errors.is_empty()) else {
        return again(&app, &viewer, id, errors, typed).await;
    };
    let now = app.clock.now();
    let outcome =
        records::record_origin(&app.db, &viewer.actor, id, origin, &form.reason, now).await;
    let flash = format!(
        "Origin recorded: {}.",
        origin_label(origin.as_str()).to_lowercase()
    );
    settle(&app, &viewer, id, outcome, flash, ("origin", errors, typed)).await
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    reason: String,
}

async fn rename_holder(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<NameForm>,
) -> Result<Response, AppError> {
    require_staff(&viewer)?;
    let h = holdings::by_id(&app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no holding {id}.")))?;
    let typed = Typed {
        name: form.name.clone(),
        name_reason: form.reason.clone(),
        ..Typed::default()
    };
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "name",
        &form.name,
        "the organisation's name",
        true,
        records::MAX_NAME,
    );
    forms::text(
        &mut errors,
        "name_reason",
        &form.reason,
        "why (the record it rests on)",
        true,
        REASON_MAX,
    );
    if !errors.is_empty() {
        return again(&app, &viewer, id, errors, typed).await;
    }
    let now = app.clock.now();
    let org = h.organisation_id;
    let outcome =
        records::rename_organisation(&app.db, &viewer.actor, org, &form.name, &form.reason, now)
            .await;
    let flash = format!("The holder is now named {}.", form.name.trim());
    settle(&app, &viewer, id, outcome, flash, ("name", errors, typed)).await
}
