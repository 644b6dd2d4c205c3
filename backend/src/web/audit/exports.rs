//! Export downloads: the page that offers them and the streamed files, with the browser's filters.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::get;
use serde::Deserialize;

use super::FilterQuery;
use crate::domain::Rir;
use crate::domain::authz::Action;
use crate::domain::export::nro::NroVersion;
use crate::error::AppError;
use crate::services::export;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::extract::Query;
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render};
use crate::web::spool::spooled_export;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger/exports", get(exports_page))
        .route("/ledger/export", get(download))
}

#[derive(Template)]
#[template(path = "pages/audit/exports.html")]
struct ExportsPage {
    chrome: Chrome,
    q: FilterQuery,
    registries: Vec<&'static str>,
}

async fn exports_page(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<FilterQuery>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::Export)?;
    render(&ExportsPage {
        chrome: viewer.chrome(&app).await?,
        q,
        registries: Rir::ALL.iter().map(|r| r.nro_name()).collect(),
    })
}

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub producer: String,
    #[serde(flatten)]
    pub filter: FilterQuery,
}

async fn download(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, AppError> {
    viewer.require(Action::Export)?;
    export_file(&app, q).await
}

/// An export as a file (the exports page's downloads and the API's `/ledger/export`); the caller
/// has checked that the person may export.
pub(crate) async fn export_file(app: &AppState, q: DownloadQuery) -> Result<Response, AppError> {
    let filter = q
        .filter
        .parse(app)
        .await
        .map_err(FormErrors::into_invalid)?;
    let producer = match q.producer.trim() {
        "" | "NRO" => None,
        p => Some(
            p.parse::<Rir>()
                .map_err(|e| AppError::invalid(e.to_string()))?,
        ),
    };
    let now = app.clock.now();
    let stamp = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let exports = &app.exports;
    let response = match q.format.as_str() {
        "nro-4.0" | "nro-5.0" => {
            let version = if q.format == "nro-4.0" {
                NroVersion::V4_0
            } else {
                NroVersion::V5_0
            };
            let name = format!("transfers_{version}_{stamp}.json");
            spooled_export(
                exports,
                "application/json",
                Some(name),
                |mut sink, db| async move {
                    let report =
                        export::transfer_log(&db, &mut sink, version, producer, &filter, now)
                            .await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "csv" => {
            let name = format!("ledger_{stamp}.csv");
            spooled_export(
                exports,
                "text/csv; charset=utf-8",
                Some(name),
                |mut sink, db| async move {
                    let report = export::csv(&db, &mut sink, &filter).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "bundle" => {
            let text = q.filter.query_string();
            let log = app.log.clone();
            let name = format!("ledger-bundle_{stamp}.jsonl");
            spooled_export(
                exports,
                "application/x-ndjson",
                Some(name),
                |mut sink, db| async move {
                    let report =
                        export::bundle(&db, &mut sink, &filter, text, now, log.as_deref()).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "delegated" => {
            let registry = filter.registry.ok_or_else(|| {
                AppError::invalid(
                    "Choose the registry whose delegated-extended snapshot to export.",
                )
            })?;
            let name = format!("delegated-{}-extended-{stamp}", registry.token());
            spooled_export(
                exports,
                "text/plain; charset=utf-8",
                Some(name),
                |mut sink, db| async move {
                    let orgs = filter.org_ids.as_deref();
                    let report = export::delegated(&db, &mut sink, registry, orgs, now).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        other => {
            return Err(AppError::invalid(format!(
                "There is no export format {other:?}: choose nro-4.0, nro-5.0, csv, bundle or delegated."
            )));
        }
    };
    Ok(response)
}
