//! Every workflow step of the transfer page through the API: accept, answer, withdraw; approve
//! with override reasons, request information, reject, confirm fees, finalize.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ID;
use super::answers::{TransferDetail, detail};
use crate::domain::Side;
use crate::domain::authz::Action;
use crate::domain::format::capitalise;
use crate::domain::transfer::NeedJustification;
use crate::domain::workflow::Override;
use crate::error::AppError;
use crate::services::api_tokens::{Caller, Scope};
use crate::services::transfer_access as access;
use crate::services::transfers::{self, Command};
use crate::web::AppState;
use crate::web::api::IdempotencyKey;
use crate::web::api::problem::{ApiError, ApiJson, ApiPath, Problems};
use crate::web::forms::{self, FormErrors};
use crate::web::transfers::TEXT_MAX;

/// Checks the scope, then the input, then applies the command with the one service, which
/// refuses a step that is not the owner's to take. The input's errors are told only to someone
/// whose step it is (checked first, as the pages do), so nobody learns anything from them.
async fn step(
    app: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
    checked: impl FnOnce(&mut FormErrors) -> Option<Command>,
) -> Result<Json<TransferDetail>, ApiError> {
    caller.require(Scope::TransfersWrite)?;
    let mut errors = FormErrors::default();
    let command = checked(&mut errors);
    let (Some(command), true) = (command, errors.is_empty()) else {
        access::authorize(&app.db, &caller.actor, id, action).await?;
        return Err(errors.into_invalid().into());
    };
    let now = app.clock.now();
    transfers::take_step(&app.db, &app.settings, &caller.actor, id, command, now)
        .await
        .map_err(|e| match e {
            // The page shows these next to the form, capitalised; the problem's detail does too.
            AppError::Invalid(m) => AppError::Invalid(capitalise(&m)),
            AppError::Conflict(m) => AppError::Conflict(capitalise(&m)),
            other => other,
        })?;
    Ok(Json(detail(app, &caller.actor, id).await?))
}

/// The recipient accepts, saying what the addresses are for where its registry asks.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptBody {
    #[serde(default)]
    pub need_text: Option<String>,
    /// Months over which the space will be used (0 to 120).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 120)]
    pub horizon_months: Option<u32>,
    /// Percentage planned to be used within the horizon (0 to 100).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub utilisation_percent: Option<u32>,
}

/// Accepts a transfer as its recipient.
#[utoipa::path(post, path = "/transfers/{id}/accept", tag = "transfers", request_body = AcceptBody,
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Accepted", body = TransferDetail), Problems))]
pub(super) async fn accept(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::AcceptAsRecipient, |errors| {
        let text = body.need_text.unwrap_or_default();
        forms::text(
            errors,
            "need_text",
            &text,
            "what the addresses are for",
            false,
            TEXT_MAX,
        );
        if body.horizon_months.is_some_and(|m| m > 120) {
            errors.add(
                "horizon_months",
                "Enter the months as a whole number from 0 to 120",
            );
        }
        if body.utilisation_percent.is_some_and(|p| p > 100) {
            errors.add(
                "utilisation_percent",
                "Enter the percentage as a whole number from 0 to 100",
            );
        }
        Some(Command::Accept {
            need: NeedJustification {
                text: text.trim().to_owned(),
                horizon_months: body.horizon_months,
                planned_utilisation_percent: body.utilisation_percent,
            },
        })
    })
    .await
}

/// An answer to a registry's request for information.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub answer: String,
}

/// Answers a request for information.
#[utoipa::path(post, path = "/transfers/{id}/answer", tag = "transfers", request_body = AnswerBody,
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Answered", body = TransferDetail), Problems))]
pub(super) async fn answer(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::AnswerInfo, |errors| {
        forms::text(
            errors,
            "answer",
            &body.answer,
            "your answer",
            true,
            TEXT_MAX,
        );
        Some(Command::Answer {
            text: body.answer.trim().to_owned(),
        })
    })
    .await
}

/// Withdraws a transfer (the source organisation, before it is finalized).
#[utoipa::path(post, path = "/transfers/{id}/withdraw", tag = "transfers",
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Withdrawn", body = TransferDetail), Problems))]
pub(super) async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::Withdraw, |_| {
        Some(Command::Withdraw)
    })
    .await
}

/// A side of a transfer.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SideIn {
    Source,
    Recipient,
}

impl From<SideIn> for Side {
    fn from(s: SideIn) -> Side {
        match s {
            SideIn::Source => Side::Source,
            SideIn::Recipient => Side::Recipient,
        }
    }
}

/// A warning approved over, with the hostmaster's reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideIn {
    pub rule_id: String,
    pub reason: String,
}

/// A hostmaster's approval of their side.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveBody {
    pub side: SideIn,
    /// Every warning of the side needs a reason to approve over it.
    #[serde(default)]
    pub overrides: Vec<OverrideIn>,
}

/// Approves one side of a transfer (a hostmaster of that side's registry).
#[utoipa::path(post, path = "/transfers/{id}/approve", tag = "review", request_body = ApproveBody,
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Approved", body = TransferDetail), Problems))]
pub(super) async fn approve(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> Result<Json<TransferDetail>, ApiError> {
    let side = Side::from(body.side);
    step(&app, &caller, id, Action::Decide { side }, |errors| {
        for o in &body.overrides {
            forms::text(errors, "override", &o.reason, "the reason", false, TEXT_MAX);
        }
        let overrides = body
            .overrides
            .into_iter()
            .filter(|o| !o.reason.trim().is_empty())
            .map(|o| Override {
                rule_id: o.rule_id,
                reason: o.reason.trim().to_owned(),
            })
            .collect();
        Some(Command::Approve { side, overrides })
    })
    .await
}

/// A hostmaster's question to one of the organisations.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestInfoBody {
    /// The side the hostmaster reviews.
    pub side: SideIn,
    /// The organisation asked: `source` or `recipient`.
    pub asked: SideIn,
    pub question: String,
}

/// Asks an organisation for information, pausing the review.
#[utoipa::path(post, path = "/transfers/{id}/request-info", tag = "review", request_body = RequestInfoBody,
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Asked", body = TransferDetail), Problems))]
pub(super) async fn request_info(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RequestInfoBody>,
) -> Result<Json<TransferDetail>, ApiError> {
    let side = Side::from(body.side);
    step(&app, &caller, id, Action::Decide { side }, |errors| {
        forms::text(
            errors,
            "question",
            &body.question,
            "your question",
            true,
            TEXT_MAX,
        );
        Some(Command::RequestInfo {
            side,
            asked: body.asked.into(),
            question: body.question.trim().to_owned(),
        })
    })
    .await
}

/// A hostmaster's rejection of their side, with the reason both organisations see.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectBody {
    pub side: SideIn,
    pub reason: String,
}

/// Rejects a transfer for one side's registry: it ends and nothing moves.
#[utoipa::path(post, path = "/transfers/{id}/reject", tag = "review", request_body = RejectBody,
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Rejected", body = TransferDetail), Problems))]
pub(super) async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<TransferDetail>, ApiError> {
    let side = Side::from(body.side);
    step(&app, &caller, id, Action::Decide { side }, |errors| {
        forms::text(
            errors,
            "reason",
            &body.reason,
            "the reason for rejecting",
            true,
            TEXT_MAX,
        );
        Some(Command::Reject {
            side,
            reason: body.reason.trim().to_owned(),
        })
    })
    .await
}

/// Confirms that the registries' fees are paid (a hostmaster of the source registry).
#[utoipa::path(post, path = "/transfers/{id}/confirm-fees", tag = "review",
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Fees confirmed", body = TransferDetail), Problems))]
pub(super) async fn confirm_fees(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::ConfirmFees, |_| {
        Some(Command::ConfirmFees)
    })
    .await
}

/// Finalizes a transfer: the addresses move and the ledger gets one entry per block. A large
/// transfer needs a second hostmaster's finalization.
#[utoipa::path(post, path = "/transfers/{id}/finalize", tag = "review",
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    responses((status = 200, description = "Finalized (or the first of two finalizations)", body = TransferDetail), Problems))]
pub(super) async fn finalize(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::Finalize, |_| {
        Some(Command::Finalize)
    })
    .await
}
