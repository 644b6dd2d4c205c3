//! The JSON API at `/api/v1/`, for brokers' and members' own systems: the same steps as the
//! transfer, queue and ledger pages, through the same services and `authz::can`, answered as JSON
//! and described by an OpenAPI 3.1 document generated from these handlers (`utoipa`), served at
//! `/api/v1/openapi.json`.
//!
//! Every call but the document carries a personal access token (`Authorization: Bearer`,
//! [`services::api_tokens`]); the session cookie is never read here, so a page of another site
//! cannot make a signed-in browser call the API (and a browser sends no `Authorization` header
//! cross-site without a CORS preflight, which is never granted). [`gate`] authenticates, applies
//! the per-token rate limit and the `Idempotency-Key` of POSTs before any handler runs.

pub mod ledger;
pub mod problem;
pub mod tokens;
pub mod transfers;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use self::problem::ApiError;
use super::AppState;
use crate::error::AppError;
use crate::services::api_tokens::{self, Caller};
use crate::services::idempotency::{self, Answer, Claim};

/// Requests one token may make per minute by default (a burst of as many, then one every
/// 60/n seconds).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
/// Largest stored answer of an idempotent POST (answers are small JSON documents).
const ANSWER_LIMIT: usize = 1024 * 1024;

/// The per-token rate limit (GCRA, `governor`), kept in memory: a restart forgets it, which
/// only ever allows a little more.
pub struct Limits {
    limiter: DefaultKeyedRateLimiter<i64>,
}

impl Limits {
    pub fn per_minute(n: u32) -> Limits {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Limits {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    /// `Err(seconds to wait)` when the token has used its allowance.
    fn check(&self, token_id: i64) -> Result<(), u64> {
        self.limiter.check_key(&token_id).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1
        })
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::per_minute(DEFAULT_REQUESTS_PER_MINUTE)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ipxfer API",
        version = "1",
        description = "File and follow IPv4 transfers between the five RIRs, review them as a \
            registry hostmaster, and read the ledger as an auditor. Every call acts as the \
            owner of its personal access token, through the same rules as the web pages. \
            Errors are RFC 9457 problem details. See docs/api.md."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(problem::Problem)),
    tags(
        (name = "transfers", description = "Filing transfers and their workflow steps"),
        (name = "review", description = "Registry hostmasters: the queue and decisions"),
        (name = "ledger", description = "Auditors: ledger entries and exports"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "A personal access token from your account page (`ipxfer_...`), with the `read` \
             scope for GETs and `transfers:write` for POSTs."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// The API's operations, relative to `/api/v1`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(transfers::routes())
        .merge(ledger::routes())
}

/// The OpenAPI document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api())
        .split_for_parts();
    doc
}

/// The API's routes, under `/api/v1/`.
pub fn routes(state: AppState) -> Router<AppState> {
    let gated = api()
        // Document uploads are the largest bodies (see `web::transfers::UPLOAD_LIMIT`).
        .layer(DefaultBodyLimit::max(super::transfers::UPLOAD_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state, gate));
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", gated)
        .split_for_parts();
    let document = Arc::new(doc.to_json().unwrap_or_default());
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        document.as_str().to_owned(),
                    )
                }
            }),
        )
        .route("/api/v1/{*rest}", any(not_found))
        .route("/api/v1", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}

/// A method an operation does not take (axum adds the `Allow` header).
async fn method_not_allowed() -> Response {
    problem::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "This address is not right",
        "This operation does not take this method: see /api/v1/openapi.json.",
    )
}

async fn not_found() -> ApiError {
    ApiError(AppError::NotFound(
        "There is no API operation at this address: see /api/v1/openapi.json.".into(),
    ))
}

/// The size of a page of a list: `limit` as asked (1 to `max`), or `default`.
fn page_size(limit: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError(AppError::BadRequest(format!(
            "limit must be from 1 to {max}."
        )))),
    }
}

/// The `Idempotency-Key` header every POST operation takes, described once for the OpenAPI
/// document; `gate` reads it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // read from the request's headers by `gate`, never deserialised into this
pub(crate) struct IdempotencyKey {
    /// Makes a retry return the first answer instead of doing the operation again.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, pattern = "^[!-~]{1,255}$")]
    key: Option<String>,
}

/// The bearer token of a request, if it sent one.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Before every API handler: the token (401 without a good one), the rate limit (429 with
/// `Retry-After`), then for a POST with an `Idempotency-Key` the claim of that key, so a retry
/// gets the first answer and never runs the step twice.
async fn gate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = app.clock.now();
    let caller = match bearer(&req) {
        None => {
            return ApiError(AppError::Unauthenticated(
                "Send a personal access token: Authorization: Bearer ipxfer_... (create one on \
                 your account page). The API does not use the browser's sign-in."
                    .into(),
            ))
            .into_response();
        }
        Some(token) => match api_tokens::authenticate(&app.db, token, now).await {
            Ok(caller) => caller,
            Err(e) => return ApiError(e).into_response(),
        },
    };
    if let Err(seconds) = app.api_limits.check(caller.token_id) {
        return ApiError(AppError::RateLimited(
            format!("This token made too many requests: try again in {seconds} s."),
            seconds,
        ))
        .into_response();
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned));
    let token_id = caller.token_id;
    req.extensions_mut().insert(caller);
    match (req.method() == Method::POST, key) {
        (true, Some(Ok(key))) => idempotent(&app, token_id, &key, req, next)
            .await
            .unwrap_or_else(|e| ApiError(e).into_response()),
        (true, Some(Err(_))) => ApiError(AppError::BadRequest(
            "The Idempotency-Key must be visible ASCII characters, such as a UUID.".into(),
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Runs a POST once per (token, key): claims the key, runs the handler and stores its answer,
/// or answers as the first request with this key did.
async fn idempotent(
    app: &AppState,
    token_id: i64,
    key: &str,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, super::transfers::UPLOAD_LIMIT)
        .await
        .map_err(|_| AppError::BadRequest("The request body is too large.".into()))?;
    let fingerprint = idempotency::request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    let now = app.clock.now();
    let id = match idempotency::claim(&app.db, token_id, key, &fingerprint, now).await? {
        Claim::Replay(answer) => return Ok(replay(answer)),
        Claim::Claimed(id) => id,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ANSWER_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            idempotency::release(&app.db, id).await?;
            return Err(AppError::Internal(anyhow::anyhow!(
                "reading an API answer: {e}"
            )));
        }
    };
    if parts.status.is_server_error() {
        // Nothing was changed (a use case commits all or nothing): a retry may run again.
        idempotency::release(&app.db, id).await?;
    } else {
        let answer = Answer {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        idempotency::finish(&app.db, id, &answer).await?;
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// The stored answer of the first request with a key.
fn replay(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The caller the gate authenticated, for handlers.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError(AppError::Unauthenticated(
                "Send a personal access token.".into(),
            ))
        })
    }
}
