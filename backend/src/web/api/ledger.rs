//! The ledger through the API, for auditors: entries (the ledger browser's filters and keyset
//! pages, newest first), one entry with its hashes, and the exports of the exports page. The
//! permission is the pages' (`ViewLedger`, `Export`); the filters are parsed by the browser's own
//! `FilterQuery`, so the same input gives the same entries and the same messages.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page_size;
use super::problem::{ApiError, ApiPath, ApiQuery, Problems};
use crate::db::ledger_query::{self, Direction};
use crate::domain::authz::Action;
use crate::domain::ledger::{LedgerEntry, LedgerParty};
use crate::domain::transfer::{OrgId, TransferId};
use crate::error::AppError;
use crate::services::api_tokens::{Caller, Scope};
use crate::services::transfer_access::require;
use crate::web::AppState;
use crate::web::audit::{DownloadQuery, FilterQuery, export_file};
use crate::web::forms::FormErrors;

const MAX_LIMIT: u64 = 200;
const DEFAULT_LIMIT: u64 = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entries))
        .routes(routes!(entry))
        .routes(routes!(export))
}

/// An organisation as the ledger records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyOut {
    pub org_id: Option<i64>,
    pub name: Option<String>,
    pub country: Option<String>,
}

impl From<&LedgerParty> for PartyOut {
    fn from(p: &LedgerParty) -> Self {
        PartyOut {
            org_id: p.org_id.map(OrgId::get),
            name: p.name.clone(),
            country: p.country.clone(),
        }
    }
}

/// One ledger entry: one movement of one contiguous range, hash-chained to the one before.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryOut {
    pub seq: i64,
    /// `imported` (from a registry's transfer log) or `transfer` (finalized in ipxfer).
    pub kind: String,
    pub transfer_id: Option<i64>,
    pub transfer_reference: Option<String>,
    /// RESOURCE_TRANSFER or MERGER_ACQUISITION.
    pub transfer_type: String,
    pub source_rir: String,
    pub recipient_rir: String,
    pub source: PartyOut,
    pub recipient: PartyOut,
    /// The range, `first - last`.
    pub range: String,
    pub start_address: String,
    pub end_address: String,
    pub addresses: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub transfer_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&LedgerEntry> for EntryOut {
    fn from(e: &LedgerEntry) -> Self {
        let m = &e.movement;
        EntryOut {
            seq: e.seq,
            kind: m.kind.as_str().to_owned(),
            transfer_id: m.transfer_id.map(TransferId::get),
            transfer_reference: m.transfer_reference.clone(),
            transfer_type: m.transfer_type.nro_name().to_owned(),
            source_rir: m.source_rir.nro_name().to_owned(),
            recipient_rir: m.recipient_rir.nro_name().to_owned(),
            source: (&m.source).into(),
            recipient: (&m.recipient).into(),
            range: m.range.to_string(),
            start_address: std::net::Ipv4Addr::from(m.range.start()).to_string(),
            end_address: std::net::Ipv4Addr::from(m.range.end()).to_string(),
            addresses: m.range.size(),
            transfer_date: m.transfer_date,
            recorded_at: e.recorded_at,
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// A page of ledger entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryOut>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The ledger browser's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    /// A registry on either side (NRO name, such as `ARIN`).
    registry: Option<String>,
    /// An organisation on either side: its registry's opaque id or handle.
    org: Option<String>,
    /// On or after this day (`YYYY-MM-DD`).
    from: Option<String>,
    /// On or before this day (`YYYY-MM-DD`).
    to: Option<String>,
    /// `imported` or `transfer`.
    kind: Option<String>,
    /// RESOURCE_TRANSFER or MERGER_ACQUISITION.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    transfer_type: Option<String>,
    /// Entries touching this address or range.
    address: Option<String>,
}

impl Filters {
    fn query(self) -> FilterQuery {
        FilterQuery {
            registry: self.registry.unwrap_or_default(),
            org: self.org.unwrap_or_default(),
            from: self.from.unwrap_or_default(),
            to: self.to.unwrap_or_default(),
            kind: self.kind.unwrap_or_default(),
            transfer_type: self.transfer_type.unwrap_or_default(),
            address: self.address.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Only entries with a sequence number below this (the previous page's `next_before`).
    #[param(minimum = 1)]
    before: Option<i64>,
    /// At most this many (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// Ledger entries passing the filters, newest first (auditors).
#[utoipa::path(get, path = "/ledger/entries", tag = "ledger", params(Filters, Paging),
    responses((status = 200, description = "A page of entries", body = EntryPage), Problems))]
async fn entries(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(filters): ApiQuery<Filters>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<EntryPage>, ApiError> {
    caller.require(Scope::Read)?;
    require(&caller.actor, Action::ViewLedger)?;
    let limit = page_size(paging.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = filters
        .query()
        .parse(&app)
        .await
        .map_err(FormErrors::into_invalid)?;
    let found = ledger_query::page(
        &app.db,
        &filter,
        paging.before,
        Direction::Backward,
        limit + 1,
    )
    .await?;
    let more = found.len() as u64 > limit;
    let items: Vec<EntryOut> = found
        .iter()
        .take(limit as usize)
        .map(EntryOut::from)
        .collect();
    Ok(Json(EntryPage {
        next_before: more.then(|| items.last().map(|e| e.seq)).flatten(),
        items,
    }))
}

/// One ledger entry (auditors).
#[utoipa::path(get, path = "/ledger/entries/{seq}", tag = "ledger",
    params(("seq" = i64, Path, description = "The entry's sequence number", example = 1)),
    responses((status = 200, description = "The entry", body = EntryOut), Problems))]
async fn entry(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(seq): ApiPath<i64>,
) -> Result<Json<EntryOut>, ApiError> {
    caller.require(Scope::Read)?;
    require(&caller.actor, Action::ViewLedger)?;
    let e = ledger_query::entry(&app.db, seq)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no ledger entry with this number.".into()))?;
    Ok(Json(EntryOut::from(&e)))
}

/// An export's format.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum Format {
    /// The NRO transfer log, version 4.0 (JSON).
    #[serde(rename = "nro-4.0")]
    Nro40,
    /// The NRO transfer log, version 5.0 (JSON).
    #[serde(rename = "nro-5.0")]
    Nro50,
    /// Every entry as CSV.
    #[serde(rename = "csv")]
    Csv,
    /// Entries with their inclusion proofs, one JSON object a line.
    #[serde(rename = "bundle")]
    Bundle,
    /// A registry's delegated-extended snapshot (needs `registry`).
    #[serde(rename = "delegated")]
    Delegated,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Nro40 => "nro-4.0",
            Format::Nro50 => "nro-5.0",
            Format::Csv => "csv",
            Format::Bundle => "bundle",
            Format::Delegated => "delegated",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    #[param(inline)]
    format: Format,
    /// For the NRO formats: the producing registry (NRO name), or `NRO` (the default).
    producer: Option<String>,
}

/// An export of the ledger, with the browser's filters (auditors): the same file as the exports
/// page's download.
#[utoipa::path(get, path = "/ledger/export", tag = "ledger", params(ExportParams, Filters),
    responses((status = 200, description = "The export as a file", content(
        (serde_json::Value = "application/json"),
        (String = "text/csv"),
        (String = "application/x-ndjson"),
        (String = "text/plain"))), Problems))]
async fn export(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ExportParams>,
    ApiQuery(filters): ApiQuery<Filters>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    require(&caller.actor, Action::Export)?;
    let q = DownloadQuery {
        format: params.format.as_str().to_owned(),
        producer: params.producer.unwrap_or_default(),
        filter: filters.query(),
    };
    Ok(export_file(&app, q).await?)
}
