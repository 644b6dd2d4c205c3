//! Transfers through the API: the list (keyset pages, open or all), one transfer with its
//! findings, fees, documents and history, filing (JSON; documents as a separate upload), and
//! every workflow step of the transfer page (accept, answer, withdraw; approve with override
//! reasons, request information, reject, confirm fees, finalize) plus the hostmasters' queue.
//!
//! Each handler checks the token's scope, then does what the page's handler does: the same
//! `transfer_access` reads and authorization, the same input checks and messages, and the same
//! one service call (`services::transfers::act`, `file_with_documents`, `documents::attach`).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page_size;
use super::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problems};
use crate::db::transfers::{self as transfers_db, Loaded};
use crate::domain::authz::{self, Action, Actor, TransferAccess};
use crate::domain::block::parse_block_list;
use crate::domain::finding::Finding;
use crate::domain::format::capitalise;
use crate::domain::transfer::{DocumentKind, NeedJustification};
use crate::domain::workflow::Override;
use crate::domain::{Side, TransferType};
use crate::error::AppError;
use crate::services::api_tokens::{Caller, Scope};
use crate::services::documents::{self, NewDocument};
use crate::services::transfer_access::{self as access, DocumentInfo};
use crate::services::transfers::{self, Command, Filing};
use crate::web::AppState;
use crate::web::forms::{self, FormErrors};
use crate::web::transfers::{TEXT_MAX, agreed_price, check_upload, listed};
use crate::web::view;

/// Most transfers one page of the list holds.
const MAX_LIMIT: u64 = 100;
const DEFAULT_LIMIT: u64 = 50;
/// Most rows of the queue, as on the queue page.
const QUEUE_SIZE: u64 = 200;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, file))
        .routes(routes!(show))
        .routes(routes!(upload))
        .routes(routes!(accept))
        .routes(routes!(answer))
        .routes(routes!(withdraw))
        .routes(routes!(approve))
        .routes(routes!(request_info))
        .routes(routes!(reject))
        .routes(routes!(confirm_fees))
        .routes(routes!(finalize))
        .routes(routes!(queue))
        .routes(routes!(recipients))
}

// ---------------------------------------------------------------------------------------------
// What is answered

/// An organisation taking part in a transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Party {
    pub org_id: i64,
    pub name: String,
    /// The organisation's registry (NRO name: AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC).
    pub registry: String,
}

/// A transfer as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferSummary {
    pub id: i64,
    /// `TX-2026-000012`.
    pub reference: String,
    /// The workflow state: awaiting_recipient, source_review, recipient_review,
    /// info_requested, awaiting_finalization, disputed, completed, rejected, withdrawn, expired.
    pub state: String,
    /// The state in words, as the pages' tags say it.
    pub status: String,
    /// The NRO transfer-log status, where one applies.
    pub nro_status: Option<String>,
    /// RESOURCE_TRANSFER or MERGER_ACQUISITION.
    pub kind: String,
    pub inter_rir: bool,
    pub source: Party,
    pub recipient: Party,
    /// The blocks, in CIDR or range notation.
    pub blocks: Vec<String>,
    pub addresses: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub filed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// When the step waited for expires, if it does.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<OffsetDateTime>,
    /// The steps the token's owner may take now: accept, answer, withdraw, approve_source,
    /// approve_recipient, confirm_fees, finalize, upload_document.
    pub actions: Vec<String>,
}

/// A page of transfers, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferSummary>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// An agreed price.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Price {
    /// A decimal number with at most 4 decimals, such as `45000.00`.
    pub amount: String,
    /// A three-letter currency code, such as `USD`.
    pub currency: String,
}

/// What the recipient said the addresses are for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Need {
    pub text: String,
    pub horizon_months: Option<u32>,
    pub utilisation_percent: Option<u32>,
}

/// One fee a registry charges.
#[derive(Debug, Serialize, ToSchema)]
pub struct Fee {
    pub registry: String,
    /// `source` or `recipient`.
    pub payer: String,
    pub description: String,
    pub amount: String,
    pub currency: String,
}

/// A registry policy finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOut {
    /// `source` or `recipient`.
    pub side: String,
    /// `blocking`, `warning` or `info`.
    pub severity: String,
    pub rule_id: String,
    pub message: String,
    pub citation: String,
    /// The hostmaster's reason, when a warning was overridden.
    pub override_reason: Option<String>,
}

/// One event of the transfer's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The event's name, such as `approved_source`.
    pub event: String,
    /// The event in words, as the timeline says it.
    pub what: String,
    pub who: String,
    pub comment: Option<String>,
}

/// A document attached to a transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    pub id: i64,
    /// `transfer_agreement`, `company_registration` or `other`.
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: OffsetDateTime,
}

/// A transfer with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferDetail {
    #[serde(flatten)]
    pub summary: TransferSummary,
    /// Confidential to the parties, their registries and auditors.
    pub price: Option<Price>,
    pub need: Option<Need>,
    pub fees: Vec<Fee>,
    pub fees_confirmed: bool,
    /// Both registries' findings as they stand (none once the transfer has ended).
    pub findings: Vec<FindingOut>,
    pub documents: Vec<DocumentOut>,
    pub events: Vec<EventOut>,
}

/// The steps the actor may take now, by name.
fn actions_of(actor: &Actor, access: &TransferAccess) -> Vec<String> {
    let candidates = [
        (Action::AcceptAsRecipient, "accept"),
        (Action::AnswerInfo, "answer"),
        (Action::Withdraw, "withdraw"),
        (Action::Decide { side: Side::Source }, "approve_source"),
        (
            Action::Decide {
                side: Side::Recipient,
            },
            "approve_recipient",
        ),
        (Action::ConfirmFees, "confirm_fees"),
        (Action::Finalize, "finalize"),
        (Action::UploadDocument, "upload_document"),
    ];
    candidates
        .into_iter()
        .filter(|(a, _)| authz::can(actor, *a, Some(access)))
        .map(|(_, name)| name.to_owned())
        .collect()
}

fn summary(actor: &Actor, l: &Loaded) -> TransferSummary {
    let f = &l.facts;
    let access = TransferAccess::new(f, l.state.clone());
    let party = |o: &crate::domain::transfer::OrgFacts| Party {
        org_id: o.id,
        name: o.name.clone(),
        registry: o.registry.nro_name().to_owned(),
    };
    TransferSummary {
        id: f.id,
        reference: f.reference.clone(),
        state: l.state.to_parts().0.to_owned(),
        status: view::state_tag(&l.state).word.to_owned(),
        nro_status: l
            .state
            .nro_status(f.is_inter_rir())
            .map(|s| s.as_str().to_owned()),
        kind: f.kind.nro_name().to_owned(),
        inter_rir: f.is_inter_rir(),
        source: party(&f.source),
        recipient: party(&f.recipient),
        blocks: f.blocks.iter().map(ToString::to_string).collect(),
        addresses: f.address_count(),
        filed_at: l.row.filed_at,
        updated_at: l.row.updated_at,
        deadline: l.row.deadline,
        actions: actions_of(actor, &access),
    }
}

async fn detail(app: &AppState, actor: &Actor, id: i64) -> Result<TransferDetail, ApiError> {
    let (d, _) = access::details(&app.db, actor, id, false).await?;
    let l = &d.transfer;
    let now = app.clock.now();
    let findings: Vec<Finding> = if l.state.is_terminal() {
        Vec::new()
    } else {
        transfers::findings_of(&app.db, &app.settings, l, now).await?
    };
    let price = match (&l.row.agreed_price, &l.row.price_currency) {
        (Some(amount), Some(currency)) if access::sees_price(actor) => Some(Price {
            amount: amount.clone(),
            currency: currency.clone(),
        }),
        _ => None,
    };
    Ok(TransferDetail {
        price,
        need: l.facts.need.as_ref().map(|n| Need {
            text: n.text.clone(),
            horizon_months: n.horizon_months,
            utilisation_percent: n.planned_utilisation_percent,
        }),
        fees: d
            .fees
            .into_iter()
            .map(|x| Fee {
                registry: view::registry_name(&x.registry),
                payer: x.payer,
                description: x.description,
                amount: x.amount,
                currency: x.currency,
            })
            .collect(),
        fees_confirmed: l.row.fees_confirmed_by.is_some(),
        findings: findings
            .iter()
            .map(|x| FindingOut {
                side: x.side.as_str().to_owned(),
                severity: x.severity.as_str().to_owned(),
                rule_id: x.rule_id.clone(),
                message: x.message.clone(),
                citation: x.citation.clone(),
                override_reason: d
                    .overrides
                    .iter()
                    .find(|o| o.rule_id == x.rule_id)
                    .map(|o| o.reason.clone()),
            })
            .collect(),
        documents: d.documents.into_iter().map(DocumentOut::from).collect(),
        events: d
            .history
            .into_iter()
            .map(|e| EventOut {
                at: e.created_at,
                what: crate::web::transfers::event_label(&e.event),
                event: e.event,
                who: e.actor_label,
                comment: e.comment,
            })
            .collect(),
        summary: summary(actor, l),
    })
}

impl From<DocumentInfo> for DocumentOut {
    fn from(d: DocumentInfo) -> Self {
        DocumentOut {
            id: d.id,
            kind: d.kind,
            filename: d.filename,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Which transfers a list shows.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    /// Transfers still in progress.
    #[default]
    Open,
    /// Finished ones too.
    All,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `open` (the default) or `all`.
    #[param(inline)]
    show: Option<Show>,
    /// Only transfers with an id below this (the previous page's `next_before`).
    #[param(minimum = 1)]
    before: Option<i64>,
    /// At most this many (1 to 100, default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// The transfers the token's owner may see: a member's organisation's, a hostmaster's
/// registry's, or all for auditors; newest first.
#[utoipa::path(get, path = "/transfers", tag = "transfers", params(ListParams),
    responses((status = 200, description = "A page of transfers", body = TransferPage), Problems))]
async fn list(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Json<TransferPage>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = page_size(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let open_only = q.show.unwrap_or_default() == Show::Open;
    let found = access::list(&app.db, &caller.actor, open_only, q.before, limit + 1).await?;
    let more = found.len() as u64 > limit;
    let found: Vec<_> = found.into_iter().take(limit as usize).collect();
    let loaded = transfers_db::load_many(&app.db, found).await?;
    let items: Vec<TransferSummary> = loaded.iter().map(|l| summary(&caller.actor, l)).collect();
    Ok(Json(TransferPage {
        next_before: more.then(|| items.last().map(|t| t.id)).flatten(),
        items,
    }))
}

/// One transfer with its fees, findings, documents and history.
#[utoipa::path(get, path = "/transfers/{id}", tag = "transfers",
    params(("id" = i64, Path, description = ID, example = 12)),
    responses((status = 200, description = "The transfer", body = TransferDetail), Problems))]
async fn show(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransferDetail>, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(detail(&app, &caller.actor, id).await?))
}

/// The steps waiting for the token owner's registry (hostmasters only), oldest first.
#[utoipa::path(get, path = "/queue", tag = "review",
    responses((status = 200, description = "The queue", body = Vec<TransferSummary>), Problems))]
async fn queue(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TransferSummary>>, ApiError> {
    caller.require(Scope::Read)?;
    let (_, loaded) = access::queue(&app.db, &caller.actor, QUEUE_SIZE).await?;
    Ok(Json(
        loaded.iter().map(|l| summary(&caller.actor, l)).collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Filing

/// An organisation a transfer may be filed to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recipient {
    pub org_id: i64,
    pub name: String,
    /// NRO name of its registry.
    pub registry: String,
    /// Its registry's opaque id.
    pub handle: String,
}

/// The organisations the token owner's organisation may file transfers to (members only), as
/// the filing form lists them.
#[utoipa::path(get, path = "/recipients", tag = "transfers",
    responses((status = 200, description = "Possible recipients", body = Vec<Recipient>), Problems))]
async fn recipients(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Recipient>>, ApiError> {
    caller.require(Scope::Read)?;
    access::require(&caller.actor, Action::FileTransfer)?;
    let crate::domain::authz::Role::Member { org_id } = caller.actor.role else {
        return Err(AppError::Forbidden("Only organisation members file transfers.".into()).into());
    };
    Ok(Json(
        access::recipients(&app.db, org_id)
            .await?
            .into_iter()
            .map(|o| Recipient {
                org_id: o.id,
                registry: crate::domain::Rir::from_token(&o.registry)
                    .map_or_else(|| o.registry.clone(), |r| r.nro_name().to_owned()),
                name: o.name,
                handle: o.handle,
            })
            .collect(),
    ))
}

/// A new transfer, filed by a member of the source organisation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FileTransfer {
    /// The recipient organisation's id.
    pub recipient_org_id: i64,
    /// RESOURCE_TRANSFER (the default) or MERGER_ACQUISITION.
    #[serde(default)]
    pub kind: Option<String>,
    /// The blocks to transfer, such as `198.51.100.0/24` or `198.51.100.0 - 198.51.100.255`.
    pub blocks: Vec<String>,
    #[serde(default)]
    pub agreed_price: Option<Price>,
}

/// Files a transfer from the token owner's organisation. Blocking policy findings refuse it
/// with the rules' messages; nothing is stored.
#[utoipa::path(post, path = "/transfers", tag = "transfers", request_body = FileTransfer,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer instead of filing again")),
    responses((status = 201, description = "Filed", body = TransferDetail,
        headers(("Location" = String, description = "The transfer's address in the API"))), Problems))]
async fn file(
    State(app): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<FileTransfer>,
) -> Result<Response, ApiError> {
    caller.require(Scope::TransfersWrite)?;
    access::require(&caller.actor, Action::FileTransfer)?;
    let crate::domain::authz::Role::Member { org_id } = caller.actor.role else {
        return Err(AppError::Forbidden("Only organisation members file transfers.".into()).into());
    };
    let mut errors = FormErrors::default();
    let kind = match body.kind.as_deref() {
        None => Some(TransferType::ResourceTransfer),
        Some(k) => TransferType::from_nro_name(k),
    };
    if kind.is_none() {
        errors.add("kind", "Choose the type of transfer");
    }
    let text = body.blocks.join("\n");
    let mut blocks = Vec::new();
    if text.trim().is_empty() {
        errors.add(
            "blocks",
            "Enter at least one block, such as 198.51.100.0/24",
        );
    } else if text.len() > 20_000 {
        errors.add("blocks", "The list of blocks is too long");
    } else {
        match parse_block_list(&text, app.settings.max_blocks) {
            Ok(b) => blocks = b,
            Err(list) => errors.add("blocks", listed(&list)),
        }
    }
    let price = body.agreed_price.as_ref().map_or(Ok(None), |p| {
        agreed_price(p.amount.trim(), &p.currency.trim().to_uppercase())
    });
    let price = price.unwrap_or_else(|(field, m)| {
        errors.add(field, m);
        None
    });
    let chosen = access::recipients(&app.db, org_id)
        .await?
        .iter()
        .any(|o| o.id == body.recipient_org_id);
    if !chosen {
        errors.add(
            "recipient",
            "Choose the recipient organisation from the list",
        );
    }
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return Err(errors.into_invalid().into());
    };
    let filing = Filing {
        source_org_id: org_id,
        recipient_org_id: body.recipient_org_id,
        kind,
        blocks,
        agreed_price: price,
    };
    let now = app.clock.now();
    let id = transfers::file_with_documents(
        &app.db,
        &app.settings,
        &caller.actor,
        filing,
        Vec::new(),
        now,
    )
    .await?;
    let detail = detail(&app, &caller.actor, id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/transfers/{id}"))],
        Json(detail),
    )
        .into_response())
}

/// A document to attach: `multipart/form-data` with the file in `document` and its kind in
/// `kind` (`transfer_agreement`, `company_registration` or `other`).
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the multipart body for the OpenAPI document only"
)]
struct DocumentUpload {
    #[schema(value_type = String, format = Binary)]
    document: Vec<u8>,
    kind: Option<String>,
}

/// Attaches a PDF, PNG or JPEG document (at most 10 MiB) to a transfer.
#[utoipa::path(post, path = "/transfers/{id}/documents", tag = "transfers",
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer instead of attaching again")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "Attached", body = DocumentOut), Problems))]
async fn upload(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::TransfersWrite)?;
    access::authorize(&app.db, &caller.actor, id, Action::UploadDocument).await?;
    let mut multipart = multipart?;
    let mut file: Option<NewDocument> = None;
    let mut kind = DocumentKind::Other;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("The upload could not be read: {e}"))
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match (field.name().unwrap_or_default(), field.file_name()) {
            ("document", Some(filename)) => {
                let filename = filename.to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some(NewDocument {
                    kind: DocumentKind::Other,
                    filename,
                    bytes: bytes.to_vec(),
                });
            }
            ("kind", None) => {
                let text = field.text().await.map_err(unreadable)?;
                kind = DocumentKind::parse(text.trim()).unwrap_or(DocumentKind::Other);
            }
            _ => {}
        }
    }
    let mut errors = FormErrors::default();
    let Some(u) = file else {
        errors.add("document", "Choose a file to upload");
        return Err(errors.into_invalid().into());
    };
    check_upload(&mut errors, "document", &u);
    if !errors.is_empty() {
        return Err(errors.into_invalid().into());
    }
    let now = app.clock.now();
    documents::attach(&app.db, &caller.actor, id, kind, &u.filename, &u.bytes, now).await?;
    let doc = access::documents(&app.db, id)
        .await?
        .into_iter()
        .next_back()
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the document just attached is missing"))
        })?;
    Ok((StatusCode::CREATED, Json(DocumentOut::from(doc))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Workflow steps

/// Checks the scope and that the step is the owner's to take (before the input is checked, as
/// the pages do), then the input, then applies the command with the one service.
async fn step(
    app: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
    checked: impl FnOnce(&mut FormErrors) -> Option<Command>,
) -> Result<Json<TransferDetail>, ApiError> {
    caller.require(Scope::TransfersWrite)?;
    access::authorize(&app.db, &caller.actor, id, action).await?;
    let mut errors = FormErrors::default();
    let command = checked(&mut errors);
    let (Some(command), true) = (command, errors.is_empty()) else {
        return Err(errors.into_invalid().into());
    };
    let now = app.clock.now();
    transfers::act(&app.db, &app.settings, &caller.actor, id, command, now)
        .await
        .map_err(|e| match e {
            // The page shows these next to the form, capitalised; the problem's detail does too.
            AppError::Invalid(m) => AppError::Invalid(capitalise(&m)),
            AppError::Conflict(m) => AppError::Conflict(capitalise(&m)),
            other => other,
        })?;
    Ok(Json(detail(app, &caller.actor, id).await?))
}

const ID: &str = "The transfer's id";

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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Accepted", body = TransferDetail), Problems))]
async fn accept(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Answered", body = TransferDetail), Problems))]
async fn answer(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Withdrawn", body = TransferDetail), Problems))]
async fn withdraw(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Approved", body = TransferDetail), Problems))]
async fn approve(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Asked", body = TransferDetail), Problems))]
async fn request_info(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Rejected", body = TransferDetail), Problems))]
async fn reject(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Fees confirmed", body = TransferDetail), Problems))]
async fn confirm_fees(
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
    params(("id" = i64, Path, description = ID, example = 12),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes a retry return the first answer")),
    responses((status = 200, description = "Finalized (or the first of two finalizations)", body = TransferDetail), Problems))]
async fn finalize(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransferDetail>, ApiError> {
    step(&app, &caller, id, Action::Finalize, |_| {
        Some(Command::Finalize)
    })
    .await
}
