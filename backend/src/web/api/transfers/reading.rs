//! Reading transfers through the API: the list (keyset pages, open or all), one transfer, and
//! the hostmasters' queue.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ID;
use super::answers::{QueuePage, TransferDetail, TransferPage, TransferSummary, detail, summary};
use crate::services::api_tokens::{Caller, Scope};
use crate::services::transfer_access as access;
use crate::web::AppState;
use crate::web::api::page_size;
use crate::web::api::problem::{ApiError, ApiPath, ApiQuery, Problems};

/// Most transfers one page of the list holds.
const MAX_LIMIT: u64 = 100;
const DEFAULT_LIMIT: u64 = 50;

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Only steps after this place (the previous page's `next_after`).
    #[param(example = "1796032800123456000.42")]
    after: Option<String>,
    /// At most this many (1 to 100, default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// The steps waiting for the token owner's registry (hostmasters only), oldest first, a page
/// at a time, with how many wait in all and how many are overdue.
#[utoipa::path(get, path = "/queue", tag = "review", params(QueueParams),
    responses((status = 200, description = "A page of the queue", body = QueuePage), Problems))]
pub(super) async fn queue(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> Result<Json<QueuePage>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = page_size(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = access::queue_cursor(q.after.as_deref())?;
    let page = access::queue(
        &app.db,
        &caller.actor,
        &app.settings.service_levels,
        app.clock.now(),
        after,
        limit,
    )
    .await?;
    Ok(Json(QueuePage {
        items: page
            .steps
            .iter()
            .map(|l| summary(&caller.actor, l))
            .collect(),
        waiting: page.waiting,
        overdue: page.overdue,
        next_after: page.next.map(|c| c.to_string()),
    }))
}
