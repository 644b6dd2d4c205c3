//! Public, unauthenticated routes for the world: the NRO transfer log at
//! `/stats/transfers_latest.json`, as the registries publish theirs (4.0, completed transfers,
//! producer `NRO`, no prices), streamed while it is written; and `/holdings`, the holdings of
//! each registry in one table. The home page links to both.
//!
//! Also the plumbing every streamed download shares: [`stream_export`] runs an export in a task
//! that writes into a bounded channel, and the response body reads from it, so a slow client
//! slows the export down instead of making it buffer.

use std::future::Future;
use std::io::{self, Write};

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::AppState;
use super::auth::Viewer;
use super::page::{Chrome, render};
use crate::domain::export::LedgerFilter;
use crate::domain::export::nro::NroVersion;
use crate::domain::format::group_thousands;
use crate::error::{AppError, AppResult};
use crate::services::export::{self, ExportReport, Sink};
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
    Ok(entry_counts(&stats::stats(&app.db).await?))
}

async fn holdings(State(app): State<AppState>, viewer: Viewer) -> Result<Html<String>, AppError> {
    let s = stats::stats(&app.db).await?;
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

async fn transfers_latest(State(app): State<AppState>) -> Response {
    stream_export("application/json", None, move |mut sink| async move {
        let filter = LedgerFilter::default();
        let now = OffsetDateTime::now_utc();
        export::transfer_log(&app.db, &mut sink, NroVersion::V4_0, None, &filter, now).await
    })
}

/// Chunks handed to the response body; a few in flight at most.
const CHANNEL_CHUNKS: usize = 4;

/// A [`Sink`] that sends what was written as one body chunk per page.
pub struct ChannelSink {
    buf: Vec<u8>,
    tx: mpsc::Sender<io::Result<Bytes>>,
}

impl Write for ChannelSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for ChannelSink {
    async fn drain(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// Streams what `export` writes as the response body. An error after the first bytes can only
/// cut the body short (the status is sent already): it is logged and the body ends with an I/O
/// error, so the client sees an incomplete download rather than a truncated file that looks whole.
pub fn stream_export<F, Fut>(
    content_type: &'static str,
    filename: Option<String>,
    export: F,
) -> Response
where
    F: FnOnce(ChannelSink) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<ExportReport>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_CHUNKS);
    let sink = ChannelSink {
        buf: Vec::new(),
        tx: tx.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = export(sink).await {
            tracing::error!(error = %e, "export failed while streaming");
            let _ = tx.send(Err(io::Error::other("the export failed"))).await;
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(name) = filename
        && let Ok(value) = format!("attachment; filename=\"{name}\"").parse()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
