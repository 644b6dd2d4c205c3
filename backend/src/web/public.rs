//! Public, unauthenticated routes for the world: the NRO transfer log at
//! `/stats/transfers_latest.json`, as the registries publish theirs (4.0, completed transfers,
//! producer `NRO`, no prices). It is built once per state of the ledger into a stored artefact
//! (JSON and gzip, in memory) and served from it with `ETag`/`Last-Modified` (304 on a match),
//! so no download, however slow, holds a database connection; downloads share one bandwidth
//! budget ([`super::pacing`]), so however many and fast, they cannot take the site's cores.
//! Also `/holdings`, the holdings of each registry in one table (cached like the home page's
//! counts). The home page links to both.

use std::io::Write;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use flate2::Compression;
use flate2::write::GzEncoder;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::AppState;
use super::auth::Viewer;
use super::cache::{self, Artefact};
use super::page::{Chrome, render};
use crate::db::freshness::LedgerHead;
use crate::domain::export::LedgerFilter;
use crate::domain::export::nro::NroVersion;
use crate::domain::format::group_thousands;
use crate::error::{AppError, AppResult};
use crate::services::export::{self, WriteSink};
use crate::services::stats;

/// The public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats/transfers_latest.json", get(transfers_latest))
        .route("/holdings", get(holdings))
}

/// One registry's row, counts written for people (`189,935,872`).
struct RegistryRow {
    name: String,
    organisations: String,
    holdings: String,
    ipv4_addresses: String,
    inventory_addresses: String,
}

#[derive(Template)]
#[template(path = "pages/holdings.html")]
struct HoldingsPage {
    chrome: Chrome,
    registries: Vec<RegistryRow>,
    imported_entries: String,
    transfer_entries: String,
}

/// The ledger's entries by kind: (imported, finalized in ipxfer), written for people.
fn entry_counts(s: &stats::Stats) -> (String, String) {
    let count = |kind: &str| group_thousands(s.ledger.get(kind).copied().unwrap_or_default());
    (count("imported"), count("transfer"))
}

/// The ledger's entries by kind, as the home page states them.
pub async fn ledger_counts(app: &AppState) -> Result<(String, String), AppError> {
    let stats = cache::home_stats(app).await?;
    Ok(entry_counts(&stats))
}

async fn holdings(State(app): State<AppState>, viewer: Viewer) -> Result<Html<String>, AppError> {
    let s = cache::home_stats(&app).await?;
    let (imported_entries, transfer_entries) = entry_counts(&s);
    render(&HoldingsPage {
        chrome: viewer.chrome(&app).await?,
        registries: s
            .registries
            .iter()
            .map(|(name, r)| RegistryRow {
                name: name.clone(),
                organisations: group_thousands(r.organisations),
                holdings: group_thousands(r.holdings),
                ipv4_addresses: group_thousands(r.ipv4_addresses),
                inventory_addresses: group_thousands(r.inventory_addresses),
            })
            .collect(),
        imported_entries,
        transfer_entries,
    })
}

impl Artefact {
    async fn build(app: &AppState, key: &LedgerHead) -> AppResult<Artefact> {
        let mut sink = WriteSink(Vec::new());
        let now = app.clock.now();
        export::transfer_log(
            &app.db,
            &mut sink,
            NroVersion::V4_0,
            None,
            &LedgerFilter::default(),
            now,
        )
        .await?;
        let json = sink.0;
        let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::default());
        gz.write_all(&json)
            .and_then(|()| gz.finish())
            .map(|gzip| {
                let (seq, hash) = key.clone().unwrap_or_default();
                // Whole seconds: that is what Last-Modified and If-Modified-Since can say.
                let built_at = now.replace_nanosecond(0).unwrap_or(now);
                Artefact {
                    json: Bytes::from(json),
                    gzip: Bytes::from(gzip),
                    etag: HeaderValue::from_str(&format!(
                        "\"{seq}-{}\"",
                        &hash[..hash.len().min(16)]
                    ))
                    .unwrap_or(HeaderValue::from_static("\"empty\"")),
                    last_modified: HeaderValue::from_str(&http_date(built_at))
                        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
                    built_at,
                }
            })
            .map_err(|e| AppError::Internal(e.into()))
    }

    /// Whether the client's copy (by `If-None-Match`, else `If-Modified-Since`) is this one.
    fn is_fresh_for(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            let ours = self.etag.to_str().unwrap_or_default();
            return tags.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.trim_start_matches("W/") == ours
            });
        }
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| OffsetDateTime::parse(v, &Rfc2822).ok())
            .is_some_and(|since| since >= self.built_at)
    }
}

/// An HTTP date (RFC 9110 IMF-fixdate).
fn http_date(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// The public log's artefact for the ledger as it is now, built if it was not yet.
async fn artefact(app: &AppState) -> AppResult<std::sync::Arc<Artefact>> {
    let key = crate::db::freshness::ledger_head(&app.db).await?;
    app.caches
        .public_log
        .get(key.clone(), Artefact::build(app, &key))
        .await
}

/// Builds the public log ahead of its first download (see [`super::warm_caches`]).
pub(super) async fn warm(app: &AppState) -> AppResult<()> {
    artefact(app).await.map(drop)
}

async fn transfers_latest(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let artefact = artefact(&app).await?;
    let mut response = if artefact.is_fresh_for(&headers) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let gzip = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        let bytes = if gzip { &artefact.gzip } else { &artefact.json };
        let mut r = app.public_downloads.body(bytes.clone()).into_response();
        // A paced body is a stream, which would otherwise go out chunked, without its length.
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        if gzip {
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, artefact.etag.clone());
    h.insert(header::LAST_MODIFIED, artefact.last_modified.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    Ok(response)
}
