//! The transparency log, read-only and public (the registries' transfer logs are public): the
//! latest checkpoint with its cosignatures, and the tiles of C2SP tlog-tiles. Full tiles never
//! change, so they are cached for a year; the checkpoint and partial tiles only briefly.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::domain::tlog::TileRequest;
use crate::error::AppError;
use crate::services::tlog;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tlog/checkpoint", get(checkpoint))
        .route("/tlog/tile/{*path}", get(tile))
}

const FULL_TILE_CACHE: &str = "public, max-age=31536000, immutable";
const SHORT_CACHE: &str = "public, max-age=5";

fn not_found(what: &str) -> AppError {
    AppError::NotFound(format!("The transparency log has no {what}."))
}

async fn checkpoint(State(app): State<AppState>) -> Result<Response, AppError> {
    let c = crate::db::tlog::latest_checkpoint(&app.db)
        .await?
        .ok_or_else(|| not_found("checkpoint yet"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, SHORT_CACHE),
        ],
        c.published(),
    )
        .into_response())
}

async fn tile(State(app): State<AppState>, Path(path): Path<String>) -> Result<Response, AppError> {
    let t = TileRequest::parse(&path).ok_or_else(|| not_found("such tile"))?;
    let data = tlog::tile(&app.db, t)
        .await?
        .ok_or_else(|| not_found("such tile yet"))?;
    let cache = if t.is_full() {
        FULL_TILE_CACHE
    } else {
        SHORT_CACHE
    };
    let mut response = (StatusCode::OK, data).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}
