//! What needs attention: failed e-mails, invitations still open, and how many organisations
//! and users there are.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::role_label;
use crate::domain::authz::Action;
use crate::domain::format::{group_thousands, relative, utc_minute};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::page::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin", get(attention))
}

struct InvitationRow {
    name: String,
    email: String,
    role: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "pages/admin/attention.html")]
struct AttentionPage {
    chrome: Chrome,
    failed_emails: u64,
    invitations: Vec<InvitationRow>,
    organisations: String,
    users: String,
}

async fn attention(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageUsers)?;
    let kept = crate::web::cache::attention(&app, &viewer).await?;
    // Relative times are written per view; the rows are kept.
    let now = app.clock.now();
    let invitations = kept
        .attention
        .invitations
        .iter()
        .map(|(u, expires)| InvitationRow {
            role: role_label(u),
            name: u.display_name.clone(),
            email: u.email.clone(),
            expires: format!("{} ({})", utc_minute(*expires), relative(*expires, now)),
        })
        .collect();
    render(&AttentionPage {
        chrome: viewer.chrome(&app).await?,
        failed_emails: kept.attention.failed_emails,
        invitations,
        organisations: group_thousands(kept.counts.0),
        users: group_thousands(kept.counts.1),
    })
}
