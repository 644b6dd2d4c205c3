//! axum's `Path`, `Query` and `Multipart` with their rejections turned into [`AppError`], so a
//! malformed address (`/transfers/abc`, `?before=abc`) or a body that is not a form gets the
//! HTML error page with a clear message instead of axum's plain text. Handlers import these
//! instead of axum's own (the pattern of axum's `customize-extractor-error` example).

use axum::extract::multipart::MultipartRejection;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};

use crate::error::AppError;

/// Path parameters; one that does not parse is a page that does not exist (404).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Query parameters; one that does not parse is a bad request (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// A multipart form (uploads); a body that is not one is a bad request.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Ok(Multipart(
            axum::extract::Multipart::from_request(req, state).await?,
        ))
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        let bad_value = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::ParseErrorAtKey { value, .. }
                | ErrorKind::ParseErrorAtIndex { value, .. }
                | ErrorKind::ParseError { value, .. } => Some(value.clone()),
                _ => None,
            },
            _ => None,
        };
        match bad_value {
            Some(v) => AppError::NotFound(format!(
                "There is no page at this address: “{v}” is not a number ipxfer uses here."
            )),
            None => {
                tracing::warn!("path rejected: {rejection}");
                AppError::NotFound("There is no page at this address.".into())
            }
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        // axum says which parameter and why: "before: invalid digit found in string".
        let detail = rejection.body_text();
        let detail = detail
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&detail);
        AppError::BadRequest(format!(
            "The part of the address after “?” is not valid ({detail}). Go back and follow a link \
             instead of editing the address."
        ))
    }
}

impl From<MultipartRejection> for AppError {
    fn from(rejection: MultipartRejection) -> Self {
        AppError::BadRequest(format!(
            "The form could not be read as an upload ({}). Send it from its page again.",
            rejection.body_text()
        ))
    }
}
