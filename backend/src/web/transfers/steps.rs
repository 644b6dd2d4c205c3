//! How a workflow step is taken from a page (authorized, checked, applied, or shown again with
//! the errors), and the review steps: accept, answer, approve, ask for information.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::TEXT_MAX;
use super::show::{Typed, show_page};
use crate::domain::Side;
use crate::domain::authz::Action;
use crate::domain::format::capitalise;
use crate::domain::transfer::NeedJustification;
use crate::domain::workflow::Override;
use crate::error::AppError;
use crate::services::transfer_access as access;
use crate::services::transfers::{self, Applied, Command};
use crate::web::AppState;
use crate::web::auth::{CsrfForm, Viewer};
use crate::web::extract::Path;
use crate::web::forms::{self, FormErrors};

/// Refuses unless the viewer may take `action` on the transfer now: checked before a form's
/// errors are shown, so a person who may not act learns nothing from them. A valid form needs
/// no such read: the service refuses the step in the same words (`transfers::take_step`).
pub(super) async fn authorize(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    action: Action,
) -> Result<(), AppError> {
    access::authorize(&app.db, &viewer.actor, id, action).await?;
    Ok(())
}

/// Applies a command, refused if the step is not the viewer's; a refusal the person can act on
/// comes back on the transfer page, next to the form it concerns, with what they typed. The
/// flash says what happened from what the service answers, so the transfer is read once.
pub(super) async fn apply(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    command: Command,
    field: &'static str,
    typed: Typed,
    done: impl FnOnce(&Applied) -> String,
) -> Result<Response, AppError> {
    let now = app.clock.now();
    match transfers::take_step(&app.db, &app.settings, &viewer.actor, id, command, now).await {
        Ok(applied) => {
            viewer.flash(done(&applied)).await?;
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            refuse(
                app,
                viewer,
                id,
                field,
                m,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            refuse(app, viewer, id, field, m, typed, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn refuse(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    field: &'static str,
    message: String,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    errors.add(field, capitalise(&message));
    let page = show_page(app, viewer, id, errors, typed).await?;
    Ok((status, page).into_response())
}

pub(super) async fn invalid_form(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Response, AppError> {
    let page = show_page(app, viewer, id, errors, typed).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The form of a step comes back with its errors, if the step is the viewer's to take.
async fn invalid_step(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    action: Action,
    errors: FormErrors,
    typed: Typed,
) -> Result<Response, AppError> {
    authorize(app, viewer, id, action).await?;
    invalid_form(app, viewer, id, errors, typed).await
}

/// A step that is one button (withdraw, confirm fees, finalize, resolve a dispute).
pub(super) async fn button_step(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    command: Command,
    field: &'static str,
    done: impl FnOnce(&Applied) -> String,
) -> Result<Response, AppError> {
    apply(app, viewer, id, command, field, Typed::default(), done).await
}

/// A step whose form is one required text (an answer, what is disputed): checked, then applied,
/// or, if it is the viewer's step, shown again with the error and the text as typed.
pub(super) struct TextStep {
    pub(super) action: Action,
    pub(super) field: &'static str,
    pub(super) label: &'static str,
}

impl TextStep {
    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one step, named at the call"
    )]
    pub(super) async fn apply(
        &self,
        app: &AppState,
        viewer: &Viewer,
        id: i64,
        text: String,
        typed: Typed,
        command: impl FnOnce(String) -> Command,
        done: impl FnOnce(&Applied) -> String,
    ) -> Result<Response, AppError> {
        let mut errors = FormErrors::default();
        forms::text(&mut errors, self.field, &text, self.label, true, TEXT_MAX);
        if !errors.is_empty() {
            return invalid_step(app, viewer, id, self.action, errors, typed).await;
        }
        let command = command(text.trim().to_owned());
        apply(app, viewer, id, command, self.field, typed, done).await
    }
}

#[derive(Deserialize, Default)]
pub(super) struct AcceptForm {
    #[serde(default)]
    need_text: String,
    #[serde(default)]
    horizon_months: String,
    #[serde(default)]
    utilisation_percent: String,
}

fn number_field(
    errors: &mut FormErrors,
    field: &'static str,
    value: &str,
    label: &str,
    max: u32,
) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<u32>() {
        Ok(n) if n <= max => Some(n),
        _ => {
            errors.add(
                field,
                format!("Enter {label} as a whole number from 0 to {max}"),
            );
            None
        }
    }
}

pub(super) async fn accept(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<AcceptForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        need_text: form.need_text.clone(),
        horizon_months: form.horizon_months.clone(),
        utilisation_percent: form.utilisation_percent.clone(),
        ..Default::default()
    };
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "need_text",
        &form.need_text,
        "what the addresses are for",
        false,
        TEXT_MAX,
    );
    let horizon = number_field(
        &mut errors,
        "horizon_months",
        &form.horizon_months,
        "the months",
        120,
    );
    let percent = number_field(
        &mut errors,
        "utilisation_percent",
        &form.utilisation_percent,
        "the percentage",
        100,
    );
    if !errors.is_empty() {
        let action = Action::AcceptAsRecipient;
        return invalid_step(&app, &viewer, id, action, errors, typed).await;
    }
    let need = NeedJustification {
        text: form.need_text.trim().to_owned(),
        horizon_months: horizon,
        planned_utilisation_percent: percent,
    };
    apply(
        &app,
        &viewer,
        id,
        Command::Accept { need },
        "need_text",
        typed,
        |l| {
            format!(
                "You accepted {}. {} reviews it next.",
                l.reference, l.source_rir
            )
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    answer: String,
}

pub(super) async fn answer(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<AnswerForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        answer: form.answer.clone(),
        ..Default::default()
    };
    let step = TextStep {
        action: Action::AnswerInfo,
        field: "answer",
        label: "your answer",
    };
    step.apply(
        &app,
        &viewer,
        id,
        form.answer,
        typed,
        |text| Command::Answer { text },
        |l| format!("Your answer is with the hostmasters of {}.", l.reference),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct ApproveForm {
    #[serde(default)]
    side: String,
    /// Warning rule ids, each followed by its reason in `reason` at the same position.
    #[serde(default)]
    rule: Vec<String>,
    #[serde(default)]
    reason: Vec<String>,
}

pub(super) fn parse_side(s: &str) -> Result<Side, AppError> {
    match s {
        "source" => Ok(Side::Source),
        "recipient" => Ok(Side::Recipient),
        _ => Err(AppError::invalid(
            "Say which side you decide for (source or recipient).",
        )),
    }
}

pub(super) async fn approve(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ApproveForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    let mut errors = FormErrors::default();
    for r in &form.reason {
        forms::text(&mut errors, "override", r, "the reason", false, TEXT_MAX);
    }
    if !errors.is_empty() {
        let action = Action::Decide { side };
        return invalid_step(&app, &viewer, id, action, errors, Typed::default()).await;
    }
    let overrides = form
        .rule
        .iter()
        .zip(&form.reason)
        .filter(|(_, reason)| !reason.trim().is_empty())
        .map(|(rule_id, reason)| Override {
            rule_id: rule_id.clone(),
            reason: reason.trim().to_owned(),
        })
        .collect();
    apply(
        &app,
        &viewer,
        id,
        Command::Approve { side, overrides },
        "override",
        Typed::default(),
        move |l| {
            format!(
                "You approved the {} side of {}.",
                side.as_str(),
                l.reference
            )
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct RequestInfoForm {
    #[serde(default)]
    side: String,
    #[serde(default)]
    asked: String,
    #[serde(default)]
    question: String,
}

pub(super) async fn request_info(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<RequestInfoForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    let typed = Typed {
        question: form.question.clone(),
        ..Default::default()
    };
    let mut errors = FormErrors::default();
    let asked = match form.asked.as_str() {
        "source" => Some(Side::Source),
        "recipient" => Some(Side::Recipient),
        _ => {
            errors.add("asked", "Choose the organisation to ask");
            None
        }
    };
    forms::text(
        &mut errors,
        "question",
        &form.question,
        "your question",
        true,
        TEXT_MAX,
    );
    let (Some(asked), true) = (asked, errors.is_empty()) else {
        let action = Action::Decide { side };
        return invalid_step(&app, &viewer, id, action, errors, typed).await;
    };
    let question = form.question.trim().to_owned();
    apply(
        &app,
        &viewer,
        id,
        Command::RequestInfo {
            side,
            asked,
            question,
        },
        "question",
        typed,
        |l| format!("Your question on {} was sent.", l.reference),
    )
    .await
}
