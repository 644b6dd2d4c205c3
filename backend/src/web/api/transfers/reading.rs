//! Reading transfers through the API: the list (keyset pages, open or all), one transfer, and
//! the hostmasters' queue.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ID;
use super::answers::{TransferDetail, TransferPage, TransferSummary, detail, summary};
use crate::services::api_tokens::{Caller, Scope};
use crate::services::transfer_access as access;
use crate::web::AppState;
use crate::web::api::page_size;
use crate::web::api::problem::{ApiError, ApiPath, ApiQuery, Problems};

/// Most transfers one page of the list holds.
const MAX_LIMIT: u64 = 100;
const DEFAULT_LIMIT: u64 = 50;
/// Most rows of the queue, as on the queue page.
const QUEUE_SIZE: u64 = 200;

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
pub(super) async fn list(
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
    let items: Vec<TransferSummary> = found.iter().map(|l| summary(&caller.actor, l)).collect();
    Ok(Json(TransferPage {
        next_before: more.then(|| items.last().map(|t| t.id)).flatten(),
        items,
    }))
}

/// One transfer with its fees, findings, documents and history.
#[utoipa::path(get, path = "/transfers/{id}", tag = "transfers",
    params(("id" = i64, Path, description = ID, example = 12)),
    responses((status = 200, description = "The transfer", body = TransferDetail), Problems))]
pub(super) async fn show(
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
pub(super) async fn queue(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TransferSummary>>, ApiError> {
    caller.require(Scope::Read)?;
    let (_, loaded) = access::queue(&app.db, &caller.actor, QUEUE_SIZE).await?;
    Ok(Json(
        loaded.iter().map(|l| summary(&caller.actor, l)).collect(),
    ))
}
