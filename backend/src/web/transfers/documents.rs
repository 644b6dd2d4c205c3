//! A transfer's documents: uploading one from the transfer page, downloading one.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::filing::{check_upload, read_multipart};
use super::show::Typed;
use super::steps::{authorize, invalid_form, refuse};
use crate::domain::authz::Action;
use crate::domain::transfer::DocumentKind;
use crate::error::AppError;
use crate::services::documents;
use crate::services::transfer_access as access;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::extract::{Multipart, Path};
use crate::web::forms::FormErrors;

pub(super) async fn upload(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
    Multipart(multipart): Multipart,
) -> Result<Response, AppError> {
    authorize(&app, &viewer, id, Action::UploadDocument).await?;
    let (fields, files) = read_multipart(&viewer, multipart).await?;
    let mut errors = FormErrors::default();
    let Some((_, mut u)) = files.into_iter().next() else {
        errors.add("document", "Choose a file to upload");
        return invalid_form(&app, &viewer, id, errors, Typed::default()).await;
    };
    u.kind = fields
        .get("kind")
        .and_then(|k| DocumentKind::parse(k))
        .unwrap_or(DocumentKind::Other);
    check_upload(&mut errors, "document", &u);
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, Typed::default()).await;
    }
    match documents::attach(
        &app.db,
        &viewer.actor,
        id,
        u.kind,
        &u.filename,
        &u.bytes,
        app.clock.now(),
    )
    .await
    {
        Ok(_) => {
            viewer.flash(format!("{} is attached.", u.filename)).await?;
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            refuse(
                &app,
                &viewer,
                id,
                "document",
                m,
                Typed::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn download(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let d = access::document_file(&app.db, &viewer.actor, id, doc).await?;
    // The name is the uploader's: keep only safe characters in the header.
    let safe: String = d
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, d.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        d.content,
    )
        .into_response())
}
