//! What needs attention: failed e-mails, invitations still open, and how many organisations
//! and users there are.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::role_label;
use crate::db::{outbox, users as users_db};
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
    let now = app.clock.now();
    let invitations = users_db::pending_invitations(&app.db, now)
        .await?
        .into_iter()
        .map(|(u, expires)| InvitationRow {
            role: role_label(&u),
            name: u.display_name,
            email: u.email,
            expires: format!("{} ({})", utc_minute(expires), relative(expires, now)),
        })
        .collect();
    let counts = crate::web::cache::admin_counts(&app).await?;
    render(&AttentionPage {
        chrome: viewer.chrome(&app).await?,
        failed_emails: outbox::count_failed(&app.db).await?,
        invitations,
        organisations: group_thousands(counts.0),
        users: group_thousands(counts.1),
    })
}
