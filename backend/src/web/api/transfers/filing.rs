//! Filing through the API: the possible recipients, filing a transfer (JSON), and attaching a
//! document to one (multipart).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ID;
use super::answers::{DocumentOut, Price, TransferDetail, detail};
use crate::domain::TransferType;
use crate::domain::authz::Action;
use crate::domain::block::parse_block_list;
use crate::domain::transfer::DocumentKind;
use crate::error::AppError;
use crate::services::api_tokens::{Caller, Scope};
use crate::services::documents::{self, NewDocument};
use crate::services::transfer_access as access;
use crate::services::transfers::{self, Filing};
use crate::web::AppState;
use crate::web::api::IdempotencyKey;
use crate::web::api::problem::{ApiError, ApiJson, ApiPath, Problems};
use crate::web::forms::FormErrors;
use crate::web::transfers::{agreed_price, check_upload, listed};

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
pub(super) async fn recipients(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Recipient>>, ApiError> {
    caller.require(Scope::Read)?;
    access::require(&caller.actor, Action::FileTransfer)?;
    let crate::domain::authz::Role::Member { org_id } = caller.actor.role else {
        return Err(AppError::Forbidden("Only organisation members file transfers.".into()).into());
    };
    Ok(Json(
        access::recipients(&app.db, org_id.get())
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
    params(IdempotencyKey),
    responses((status = 201, description = "Filed", body = TransferDetail,
        headers(("Location" = String, description = "The transfer's address in the API"))), Problems))]
pub(super) async fn file(
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
    let chosen = access::recipients(&app.db, org_id.get())
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
        source_org_id: org_id.get(),
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
    params(("id" = i64, Path, description = ID, example = 12), IdempotencyKey),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "Attached", body = DocumentOut), Problems))]
pub(super) async fn upload(
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
