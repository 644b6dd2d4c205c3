//! The steps asked twice (withdraw, reject, finalize, with their confirmation pages) and the
//! other buttons of the transfer page: confirm fees, record an exception, dispute, resolve.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::TEXT_MAX;
use super::show::{Typed, load_visible};
use super::steps::{TextStep, apply, authorize, button_step, invalid_form, parse_side, refuse};
use crate::domain::Side;
use crate::domain::authz::{self, Action};
use crate::domain::workflow::State as WorkflowState;
use crate::error::AppError;
use crate::services::transfers::{self, Command};
use crate::web::AppState;
use crate::web::auth::{CsrfForm, SignedIn, Viewer};
use crate::web::extract::{Path, Query};
use crate::web::forms::{self, FormErrors};
use crate::web::page::{Chrome, render};
use crate::web::view;

#[derive(Deserialize)]
pub(super) struct ReasonForm {
    #[serde(default)]
    side: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "pages/transfers/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    errors: FormErrors,
    id: i64,
    reference: String,
    heading: String,
    consequences: Vec<String>,
    action: String,
    button: String,
    danger: bool,
    side: String,
    asks_reason: bool,
    reason: String,
}

#[derive(Deserialize)]
pub(super) struct SideQuery {
    side: Option<String>,
}

async fn confirm_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    what: &str,
    side: Option<Side>,
    errors: FormErrors,
    reason: String,
) -> Result<Html<String>, AppError> {
    let (l, access) = load_visible(app, viewer, id).await?;
    let f = &l.facts;
    let blocks: Vec<String> = f.blocks.iter().map(view::block_line).collect();
    let (allowed, heading, consequences, button, danger, asks_reason) = match (what, side) {
        ("withdraw", _) => (
            authz::can(&viewer.actor, Action::Withdraw, Some(&access)),
            format!("Withdraw transfer {}?", f.reference),
            vec![
                format!(
                    "The transfer of {} to {} stops for good.",
                    blocks.join("; "),
                    f.recipient.name
                ),
                "The recipient and the registries are told by e-mail.".into(),
                "To transfer these addresses later, file a new transfer.".into(),
            ],
            "Withdraw this transfer".to_owned(),
            true,
            false,
        ),
        ("reject", Some(side)) => (
            authz::can(&viewer.actor, Action::Decide { side }, Some(&access)),
            format!(
                "Reject transfer {} for {}?",
                f.reference,
                f.registry_of(side)
            ),
            vec![
                "The transfer ends: no address moves.".into(),
                format!(
                    "{} and {} see your reason, and are told by e-mail.",
                    f.source.name, f.recipient.name
                ),
            ],
            format!("Reject for {}", f.registry_of(side)),
            true,
            true,
        ),
        ("finalize", _) => (
            authz::can(&viewer.actor, Action::Finalize, Some(&access)),
            format!("Finalize transfer {}?", f.reference),
            if f.address_count() >= app.settings.four_eyes_addresses
                && matches!(
                    l.state,
                    WorkflowState::AwaitingFinalization {
                        first_finalizer: None,
                        ..
                    }
                )
            {
                vec![format!(
                    "This transfer moves {} addresses, so a second {} hostmaster must finalize after you. Nothing moves yet.",
                    view::total_addresses(&f.blocks),
                    f.source_rir()
                )]
            } else {
                vec![
                    format!(
                        "{} move from {} ({}) to {} ({}).",
                        blocks.join("; "),
                        f.source.name,
                        f.source_rir(),
                        f.recipient.name,
                        f.recipient_rir()
                    ),
                    "Each block is appended to the ledger; this cannot be undone.".into(),
                    "Both organisations and both registries are told by e-mail.".into(),
                ]
            },
            "Finalize the transfer".to_owned(),
            false,
            false,
        ),
        _ => return Err(AppError::NotFound("There is no such step.".into())),
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "You cannot {what} transfer {} now.",
            f.reference
        )));
    }
    render(&ConfirmPage {
        chrome: viewer.chrome(app).await?,
        errors,
        id,
        reference: f.reference.clone(),
        heading,
        consequences,
        action: format!("/transfers/{id}/{what}"),
        button,
        danger,
        side: side.map(Side::as_str).unwrap_or_default().to_owned(),
        asks_reason,
        reason,
    })
}

pub(super) async fn confirm_withdraw(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    confirm_page(
        &app,
        &viewer,
        id,
        "withdraw",
        None,
        FormErrors::default(),
        String::new(),
    )
    .await
}

pub(super) async fn confirm_reject(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<SideQuery>,
) -> Result<Html<String>, AppError> {
    let side = parse_side(q.side.as_deref().unwrap_or_default())?;
    confirm_page(
        &app,
        &viewer,
        id,
        "reject",
        Some(side),
        FormErrors::default(),
        String::new(),
    )
    .await
}

pub(super) async fn confirm_finalize(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    confirm_page(
        &app,
        &viewer,
        id,
        "finalize",
        None,
        FormErrors::default(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct Empty {}

pub(super) async fn withdraw(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(&app, &viewer, id, Command::Withdraw, "withdraw", |l| {
        format!("You withdrew {}.", l.reference)
    })
    .await
}

pub(super) async fn reject(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "reason",
        &form.reason,
        "the reason for rejecting",
        true,
        TEXT_MAX,
    );
    if !errors.is_empty() {
        authorize(&app, &viewer, id, Action::Decide { side }).await?;
        let page =
            confirm_page(&app, &viewer, id, "reject", Some(side), errors, form.reason).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let reason = form.reason.trim().to_owned();
    let typed = Typed {
        reason: reason.clone(),
        ..Default::default()
    };
    apply(
        &app,
        &viewer,
        id,
        Command::Reject { side, reason },
        "reject",
        typed,
        |l| {
            format!(
                "You rejected {}. Both organisations are told why.",
                l.reference
            )
        },
    )
    .await
}

pub(super) async fn confirm_fees(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(
        &app,
        &viewer,
        id,
        Command::ConfirmFees,
        "fees",
        |l| match l.state {
            WorkflowState::AwaitingFinalization {
                fees_confirmed: true,
                ..
            } => format!(
                "Fees of {} confirmed. It can be finalized now.",
                l.reference
            ),
            _ => format!(
                "Your registry's fees of {} are confirmed; the other registry confirms its own.",
                l.reference
            ),
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct ExceptionForm {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    reason: String,
}

/// Records that a policy exception applies (ARIN-2020-6), with the hostmaster's reason.
pub(super) async fn record_exception(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ExceptionForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        reason: form.reason.clone(),
        ..Typed::default()
    };
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "exception",
        &form.reason,
        "why the exception applies",
        true,
        TEXT_MAX,
    );
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, typed).await;
    }
    let now = app.clock.now();
    match transfers::record_exception(
        &app.db,
        &app.settings,
        &viewer.actor,
        id,
        &form.rule,
        &form.reason,
        now,
    )
    .await
    {
        Ok(()) => {
            viewer
                .flash("The exception is recorded; its finding no longer blocks approval.")
                .await?;
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refuse(&app, &viewer, id, "exception", m, typed, status).await
        }
        Err(AppError::Conflict(m)) => {
            refuse(
                &app,
                &viewer,
                id,
                "exception",
                m,
                typed,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn finalize(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(&app, &viewer, id, Command::Finalize, "finalize", |l| {
        if l.state == WorkflowState::Completed {
            format!(
                "{} is complete: the addresses moved and the ledger has the entries.",
                l.reference
            )
        } else {
            format!(
                "You finalized {} once. A second hostmaster must finalize it too.",
                l.reference
            )
        }
    })
    .await
}

pub(super) async fn dispute(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        reason: form.reason.clone(),
        ..Default::default()
    };
    let step = TextStep {
        action: Action::MarkDisputed,
        field: "dispute_reason",
        label: "what is disputed",
    };
    step.apply(
        &app,
        &viewer,
        id,
        form.reason,
        typed,
        |reason| Command::MarkDisputed { reason },
        |l| {
            format!(
                "{} is marked disputed; nothing moves until it is resolved.",
                l.reference
            )
        },
    )
    .await
}

pub(super) async fn resolve_dispute(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let step = Command::ResolveDispute;
    button_step(&app, &viewer, id, step, "dispute_reason", |l| {
        format!(
            "The dispute over {} is resolved; it awaits finalization again.",
            l.reference
        )
    })
    .await
}
