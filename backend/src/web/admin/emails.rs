//! Failed e-mails: what could not be sent, and retrying one.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};

use super::Empty;
use crate::db::outbox;
use crate::domain::authz::Action;
use crate::domain::format::{group_thousands, relative, utc_minute};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::{CsrfForm, SignedIn};
use crate::web::extract::Path;
use crate::web::page::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/emails", get(failed_emails))
        .route("/admin/emails/{id}/retry", post(retry_email))
}

/// Failed e-mails shown (the oldest beyond this wait until the newest are dealt with).
const FAILED_SHOWN: u64 = 200;

struct EmailRow {
    id: i64,
    to: String,
    subject: String,
    attempts: i32,
    error: String,
    queued: String,
}

#[derive(Template)]
#[template(path = "pages/admin/emails.html")]
struct EmailsPage {
    chrome: Chrome,
    rows: Vec<EmailRow>,
    total: String,
}

async fn failed_emails(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ViewFailedEmails)?;
    let now = app.clock.now();
    let rows = outbox::failed(&app.db, FAILED_SHOWN)
        .await?
        .into_iter()
        .map(|m| EmailRow {
            id: m.id,
            to: m.to_address,
            subject: m.subject,
            attempts: m.attempts,
            error: m.last_error.unwrap_or_default(),
            queued: format!(
                "{} ({})",
                utc_minute(m.created_at),
                relative(m.created_at, now)
            ),
        })
        .collect();
    render(&EmailsPage {
        chrome: viewer.chrome(&app).await?,
        rows,
        total: group_thousands(outbox::count_failed(&app.db).await?),
    })
}

async fn retry_email(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Redirect, AppError> {
    viewer.require(Action::RetryEmail)?;
    let message = if outbox::requeue_failed(&app.db, id, app.clock.now()).await? {
        "The message is queued again and will be sent shortly"
    } else {
        "That message is no longer failed: it was already retried or sent"
    };
    viewer.flash(message).await?;
    Ok(Redirect::to("/admin/emails"))
}
