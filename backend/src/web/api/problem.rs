//! Errors of the JSON API as RFC 9457 problem details (`application/problem+json`). The status,
//! title and message come from [`AppError::presentation`], the same mapping the HTML error pages
//! use, so the API and the pages say the same thing.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{self, ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::domain::format::capitalise;
use crate::error::AppError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of problem (a `tag:` URI; see docs/api.md).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary, the heading the web page shows for the same error.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong and what to do, in the words the web page shows.
    pub detail: String,
}

/// An [`AppError`] answered as a problem document.
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// Anything that becomes an [`AppError`] (database errors, rejections) becomes an API error.
impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// The problem type's last part, by status.
fn slug(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not-found",
        409 => "conflict",
        405 => "method-not-allowed",
        422 => "invalid",
        429 => "rate-limited",
        503 => "busy",
        _ => "internal",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail) = self.0.presentation();
        let mut response = problem(status, title, &detail);
        if let Some(seconds) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A problem document with this status, title and detail.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let problem = Problem {
        kind: format!("tag:ipxfer,2026:problem:{}", slug(status)),
        title: title.to_owned(),
        status: status.as_u16(),
        detail: capitalise(detail),
    };
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"ipxfer\""),
        );
    }
    response
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => AppError::Invalid(format!(
                "The request body does not have the fields expected: {}",
                e.body_text()
            )),
            other => AppError::BadRequest(format!(
                "The request body could not be read as JSON ({}). Send Content-Type: \
                 application/json and a JSON object.",
                other.body_text()
            )),
        }
    }
}

/// A JSON body; one that does not parse is a problem document.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters; one that does not parse is a 404 problem.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; one that does not parse is a 400 problem.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The error answers every operation may give, documented once.
pub struct Problems;

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

impl IntoResponses for Problems {
    fn responses() -> BTreeMap<String, RefOr<openapi::response::Response>> {
        let retry_after = openapi::HeaderBuilder::new()
            .schema(Some(
                openapi::ObjectBuilder::new()
                    .schema_type(openapi::schema::Type::Integer)
                    .minimum(Some(0)),
            ))
            .description(Some("Seconds to wait before trying again"))
            .build();
        [
            ("400", problem_response("The request is malformed (a query or body that does not parse, a bad Idempotency-Key)")),
            ("401", problem_response("No valid bearer token: missing, unknown, revoked or expired")),
            ("403", problem_response("The token's scopes or its owner's role do not allow this")),
            ("404", problem_response("There is no such thing that the token's owner may see")),
            ("409", problem_response("The state changed meanwhile, or a request with the same Idempotency-Key is still running")),
            ("422", problem_response("The input is not valid; the detail says what to fix")),
            ("429", problem_response("Too many requests with this token").header("Retry-After", retry_after.clone())),
            ("503", problem_response("Busy: too many exports at once").header("Retry-After", retry_after)),
        ]
        .into_iter()
        .map(|(code, r)| (code.to_owned(), RefOr::T(r.build())))
        .collect()
    }
}
