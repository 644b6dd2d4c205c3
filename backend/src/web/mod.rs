//! The web interface: every route in one list, thin handlers, askama pages, and the one place
//! where [`AppError`] becomes a response.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tower_http::trace::TraceLayer;

use crate::domain::format::group_thousands;
use crate::error::AppError;
use crate::services::stats;
use crate::services::transfers::Settings;

pub mod public;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Registry policy profiles, fees and workflow settings, with the operator's overrides.
    pub settings: Arc<Settings>,
}

/// The router with every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(stylesheet))
        .merge(public::routes())
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on `addr` until interrupted.
pub async fn serve(state: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("ipxfer listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (how service managers and containers stop a process), so
/// requests in flight finish before the server exits.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Renders a page; a render failure becomes an internal error.
fn render(page: &impl Template) -> Result<Html<String>, AppError> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::Internal(e.into()))
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::Invalid(m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please check what you entered",
                m.clone(),
            ),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "Page not found", m.clone()),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "You cannot do this", m.clone()),
            AppError::Conflict(m) => (
                StatusCode::CONFLICT,
                "Something changed meanwhile",
                m.clone(),
            ),
            AppError::Database(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error was logged. Please try again in a moment.".to_owned(),
                )
            }
        };
        let body = ErrorPage {
            title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| format!("{title}: {message}"));
        (status, Html(body)).into_response()
    }
}

async fn healthz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    app.db.ping().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound("There is no page at this address.".to_owned())
}

/// One row of the home page's table, counts written for people (`189,935,872`).
struct RegistryRow {
    name: String,
    organisations: String,
    holdings: String,
    ipv4_addresses: String,
    inventory_addresses: String,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    registries: Vec<RegistryRow>,
    imported_entries: String,
    transfer_entries: String,
}

async fn home(State(app): State<AppState>) -> Result<Html<String>, AppError> {
    let s = stats::stats(&app.db).await?;
    let page = HomePage {
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
        imported_entries: group_thousands(s.ledger.get("imported").copied().unwrap_or_default()),
        transfer_entries: group_thousands(s.ledger.get("transfer").copied().unwrap_or_default()),
    };
    render(&page)
}
