//! The web interface: the router of every page's module, thin handlers, askama pages, and the
//! one place where [`AppError`] becomes a response.

pub mod account;
pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod extract;
pub mod forms;
pub mod lookup;
pub mod pacing;
pub mod page;
pub mod public;
pub mod rdap;
pub mod records;
pub mod session_store;
pub mod spool;
pub mod tlog;
pub mod transfers;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use time::Duration;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use self::auth::Viewer;
use self::page::{Chrome, render};
use self::session_store::SeaOrmStore;
use crate::clock::{SharedClock, SystemClock};
use crate::db::Db;
use crate::db::freshness::{ContentsKey, LedgerPageKey};
use crate::domain::authz::Role;

use crate::config::Settings;
use crate::error::AppError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Registry policy profiles, fees and workflow settings, with the operator's overrides.
    pub settings: Arc<Settings>,
    /// Where "now" comes from (a test moves it to reach deadlines).
    pub clock: SharedClock,
    /// The transparency log's key and witnesses, when `serve` runs with `--log-key`.
    pub log: Option<Arc<crate::services::tlog::LogConfig>>,
    /// What views would otherwise recompute from whole tables (see [`cache`]).
    pub caches: Arc<cache::Caches>,
    /// The kept pages whose rows their own modules build (see [`KeptRows`]).
    pub kept_rows: Arc<KeptRows>,
    /// The bound on long exports and the connections they read with (see [`spool`]).
    pub exports: Arc<spool::Exports>,
    /// The JSON API's rate limit per token (see [`api`]).
    pub api_limits: Arc<api::Limits>,
    /// The bandwidth all downloads of the public transfer log share (see [`pacing`]).
    pub public_downloads: Arc<pacing::Budget>,
    /// Requests slower than this are logged as warnings (`--slow-ms`, see [`log_slow`]).
    pub slow_requests: std::time::Duration,
}

/// The kept pages (`web::cache`) whose values are rows their own modules build: the lookup's
/// and the whole ledger's. They live beside the state rather than in [`cache::Caches`], so that
/// `web::cache`, which those modules use, names none of them.
#[derive(Default)]
pub struct KeptRows {
    /// The lookup's rows, by range and cursors (`cache::lookup`).
    pub(crate) lookups: cache::Memos<cache::LookupPlace, ContentsKey, lookup::LookupRows>,
    /// The unfiltered ledger page, by the entry it starts before (`cache::ledger_page`).
    pub(crate) ledger_pages: cache::Memos<Option<i64>, LedgerPageKey, audit::LedgerView>,
}

impl AppState {
    /// State on the system clock.
    pub fn new(db: Db, settings: Settings) -> Self {
        AppState {
            exports: Arc::new(spool::Exports::new(db.clone(), spool::EXPORT_SLOTS)),
            db,
            settings: Arc::new(settings),
            clock: Arc::new(SystemClock),
            log: None,
            caches: Default::default(),
            kept_rows: Default::default(),
            api_limits: Default::default(),
            public_downloads: Default::default(),
            slow_requests: crate::db::DEFAULT_SLOW,
        }
    }

    /// The same state with another API rate limit (requests per minute per token).
    pub fn with_api_rate_limit(self, per_minute: u32) -> Self {
        AppState {
            api_limits: Arc::new(api::Limits::per_minute(per_minute)),
            ..self
        }
    }

    /// The same state with another budget for public downloads (MiB per second, 0: unpaced).
    pub fn with_public_download_rate(self, mib_per_second: u32) -> Self {
        AppState {
            public_downloads: Arc::new(pacing::Budget::mib_per_second(mib_per_second)),
            ..self
        }
    }

    /// The same state with a transparency log key.
    pub fn with_log(self, log: Arc<crate::services::tlog::LogConfig>) -> Self {
        AppState {
            log: Some(log),
            ..self
        }
    }

    /// The same state with long exports reading from their own pool (`serve` opens a small one,
    /// so that exports never take the connections pages and the e-mail worker use).
    pub fn with_export_db(self, db: Db) -> Self {
        AppState {
            exports: Arc::new(spool::Exports::new(db, spool::EXPORT_SLOTS)),
            ..self
        }
    }

    /// The same state on another clock.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        AppState { clock, ..self }
    }
}

/// A session lasts this long without a request.
const SESSION_IDLE: Duration = Duration::hours(8);

/// The router with every route.
pub fn router(state: AppState) -> Router {
    // Cookies are marked Secure when the public address is https (behind a TLS proxy).
    let secure = state.settings.base_url.starts_with("https://");
    let sessions = SessionManagerLayer::new(SeaOrmStore::new(state.db.clone()))
        .with_name("ipxfer_session")
        .with_http_only(true)
        // Lax, not Strict: a link in a notification e-mail must arrive signed in.
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(stylesheet))
        .merge(account::routes())
        .merge(transfers::routes())
        .merge(admin::routes())
        .merge(lookup::routes())
        .merge(records::routes())
        .merge(public::routes())
        .merge(rdap::routes())
        .merge(audit::routes())
        .merge(tlog::routes())
        .merge(api::tokens::routes())
        .merge(api::routes(state.clone()))
        .fallback(not_found)
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            secure,
            auth::form_token_cookie,
        ))
        // Cross-origin state changes are refused before any handler runs; the token in every
        // form (`auth::CsrfForm`) covers browsers without Fetch Metadata.
        .layer(CsrfLayer::new().with_rejection_response(cross_site_refusal))
        // Signed-in pages, documents and exports hold what only their viewer may see: no cache
        // (browser, proxy) keeps a copy. Only the stylesheet says otherwise.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Transfer pages' addresses do not travel to other sites in the Referer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.slow_requests,
            log_slow,
        ))
        .layer(axum::middleware::from_fn(run_to_completion))
        .with_state(state)
}

/// Runs each request to its end on a task of its own, even when its client goes away first.
///
/// Otherwise hyper drops the handler where it stands, and a handler dropped in the middle of a
/// statement costs a database connection: sqlx cannot tell where the server's answer stopped,
/// so it closes the connection instead of returning it to the pool, and the pool opens a new
/// one (a TCP and SCRAM handshake) while the next requests wait. Measured on PostgreSQL: wrk
/// closing its 32 connections at the end of a run left 14, then 9 of the pool's 16 open, and
/// the next run's first requests waited 0.25-1.3 s for a connection (sqlx's slow-acquire
/// warnings; docs/performance.md). A half-finished request also leaves nothing half done this
/// way (its session is saved, its transaction committed or rolled back by its own code). A
/// handler that panics is answered with a 500, as an error would be.
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(failed) => AppError::Internal(anyhow::anyhow!("the request's task failed: {failed}"))
            .into_response(),
    }
}

/// Logs a request that took longer than `slow` to answer, as a warning with its method, path
/// and status: what an operator needs to find it beside the slow statements that the pool
/// logs (`db::connect_with`). The time runs until the response's head is ready; a body that
/// is streamed afterwards (exports, the public log) is not counted.
async fn log_slow(
    State(slow): State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let took = started.elapsed();
    if took >= slow {
        tracing::warn!(
            %method,
            path = uri.path(),
            status = response.status().as_u16(),
            ms = took.as_millis() as u64,
            "slow request"
        );
    }
    response
}

/// Pages load only our own stylesheet (no script at all), may not be framed, and post forms only
/// to ipxfer itself.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Serves on `addr` until interrupted.
pub async fn serve(state: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("ipxfer listening on http://{}", listener.local_addr()?);
    let warming = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warm_caches(&warming).await {
            tracing::warn!("cannot compute the cached figures ahead of their first view: {e}");
        }
    });
    // The peer address is the client's for the sign-in throttle (see `auth::client_address`).
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

/// Opens the pool's connections ([`crate::db::open_all`]) and computes every memo of [`cache`]
/// for the database as it is, so that the first viewers after a start do not wait for what is
/// computed once per ledger state (on the scale data set, 2 s on PostgreSQL: the public log,
/// the statistics). `serve` runs it beside the first requests, which
/// wait for a memo being computed rather than compute it again. Run once, at start: a later
/// append recomputes on the next view, as before.
pub async fn warm_caches(app: &AppState) -> crate::error::AppResult<()> {
    let started = std::time::Instant::now();
    crate::db::open_all(&app.db).await?;
    public::warm(app).await?;
    audit::warm_statistics(app).await?;
    cache::home_stats(app).await?;
    cache::attention_now(app).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "public log, statistics and counts computed"
    );
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (how service managers and containers stop a process), so
/// requests in flight finish before the server exits.
pub async fn shutdown_signal() {
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

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    /// The status, title and message people are shown for this error, on a page or in an API
    /// problem document alike: the one mapping of [`AppError`] to what is answered.
    pub fn presentation(&self) -> (StatusCode, &'static str, String) {
        match self {
            AppError::Invalid(m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please check what you entered",
                m.clone(),
            ),
            AppError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "This address is not right",
                m.clone(),
            ),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "Page not found", m.clone()),
            AppError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, "Sign in first", m.clone()),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "You cannot do this", m.clone()),
            AppError::Throttled(m) | AppError::RateLimited(m, _) => {
                (StatusCode::TOO_MANY_REQUESTS, "Please wait", m.clone())
            }
            AppError::Busy(m, _) => (StatusCode::SERVICE_UNAVAILABLE, "Please wait", m.clone()),
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
        }
    }

    /// Seconds to wait before trying again, when the error says so (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Busy(_, seconds) | AppError::RateLimited(_, seconds) => Some(*seconds),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = self.presentation();
        let mut response = error_page(status, title, &message);
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The error page, on the layout without anyone's navigation.
fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = ErrorPage {
        chrome: Chrome::default(),
        title,
        message,
    }
    .render()
    .unwrap_or_else(|_| format!("{title}: {message}"));
    (status, Html(body)).into_response()
}

/// The page for a form that another site made the browser send (refused by `CsrfLayer`).
fn cross_site_refusal(_: tower_http::csrf::ProtectionError) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "This form was sent from another site",
        "Your browser sent this request to ipxfer from a page of another site, so ipxfer \
         refused it: nothing was changed. If you meant to do this, open ipxfer yourself, go to \
         the page again and send the form from there.",
    )
}

async fn healthz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    app.db.ping().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // Public and the same for everyone; five minutes keeps a new release visible soon.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound("There is no page at this address.".to_owned())
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: Chrome,
    imported_entries: String,
    transfer_entries: String,
}

/// Signed-in people start on their role's first page; everyone else sees what ipxfer is, what
/// they may read without an account, and how to get one.
async fn home(State(app): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let first_page = match viewer.actor.role {
        Role::Member { .. } => Some("/transfers"),
        Role::Hostmaster { .. } => Some("/queue"),
        Role::Auditor => Some("/ledger"),
        Role::Admin => Some("/admin"),
        Role::Anonymous => None,
    };
    if let Some(to) = first_page {
        return Ok(Redirect::to(to).into_response());
    }
    let (imported_entries, transfer_entries) = public::ledger_counts(&app).await?;
    let page = HomePage {
        chrome: viewer.chrome(&app).await?,
        imported_entries,
        transfer_entries,
    };
    Ok(render(&page)?.into_response())
}
