//! The account page for personal access tokens (`/account/tokens`): a signed-in person creates,
//! names, lists and revokes their tokens; a new token's secret is shown once, on the page that
//! answers its creation, and never again. An administrator also sees every active token and may
//! revoke any of them.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::authz::Role;
use crate::domain::format::{relative, utc_day};
use crate::error::AppError;
use crate::services::api_tokens::{self, MAX_DAYS, NewToken, Scope, TokenInfo};
use crate::web::AppState;
use crate::web::auth::{CsrfForm, SignedIn, Viewer};
use crate::web::extract::Path;
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/tokens", get(page).post(create))
        .route("/account/tokens/{id}/revoke", post(revoke))
}

/// A token as a row of the page.
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    expires: String,
    last_used: String,
    status: &'static str,
    owner: String,
}

#[derive(Template)]
#[template(path = "pages/account/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    errors: FormErrors,
    own: Vec<TokenRow>,
    all: Vec<TokenRow>,
    is_admin: bool,
    new_secret: Option<String>,
    new_name: String,
    name: String,
    read: bool,
    write: bool,
    days: String,
    max_days: i64,
}

/// What the creation form holds (kept when it comes back with errors).
#[derive(Debug, Clone, Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    days: String,
}

impl Default for CreateForm {
    fn default() -> Self {
        CreateForm {
            name: String::new(),
            scope: vec![Scope::Read.as_str().to_owned()],
            days: "90".into(),
        }
    }
}

async fn render_page(
    app: &AppState,
    viewer: &Viewer,
    form: CreateForm,
    errors: FormErrors,
    created: Option<(String, String)>,
) -> Result<Response, AppError> {
    let user = viewer.user()?;
    let now = app.clock.now();
    let row = |t: TokenInfo| TokenRow {
        id: t.row.id,
        status: t.status(now),
        name: t.row.name.clone(),
        prefix: t.row.prefix.clone(),
        scopes: t
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        expires: format!(
            "{} ({})",
            utc_day(t.row.expires_at),
            relative(t.row.expires_at, now)
        ),
        last_used: t
            .row
            .last_used_at
            .map_or_else(|| "never".to_owned(), |at| relative(at, now)),
        owner: t.owner,
    };
    let own = api_tokens::list_own(&app.db, user.id)
        .await?
        .into_iter()
        .map(row)
        .collect();
    let is_admin = viewer.actor.role == Role::Admin;
    let all = if is_admin {
        api_tokens::list_live(&app.db, now)
            .await?
            .into_iter()
            .map(row)
            .collect()
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (new_name, new_secret) = match created {
        Some((name, secret)) => (name, Some(secret)),
        None => (String::new(), None),
    };
    let page = TokensPage {
        chrome: viewer.chrome(app).await?,
        errors,
        own,
        all,
        is_admin,
        new_secret,
        new_name,
        read: form.scope.iter().any(|s| s == Scope::Read.as_str()),
        write: form
            .scope
            .iter()
            .any(|s| s == Scope::TransfersWrite.as_str()),
        name: form.name,
        days: form.days,
        max_days: MAX_DAYS,
    };
    Ok((status, render(&page)?).into_response())
}

async fn page(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Response, AppError> {
    render_page(
        &app,
        &viewer,
        CreateForm::default(),
        FormErrors::default(),
        None,
    )
    .await
}

async fn create(
    State(app): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<CreateForm>,
) -> Result<Response, AppError> {
    viewer.user()?;
    let mut errors = FormErrors::default();
    let scopes: Vec<Scope> = form.scope.iter().filter_map(|s| Scope::parse(s)).collect();
    if scopes.len() != form.scope.len() {
        errors.add("scopes", "Choose scopes from the list");
    }
    let days = form.days.trim().parse::<i64>().unwrap_or(0);
    let new = NewToken {
        name: form.name.clone(),
        scopes,
        days,
    };
    for (field, message) in api_tokens::check(&new) {
        errors.add(field, message);
    }
    if !errors.is_empty() {
        return render_page(&app, &viewer, form, errors, None).await;
    }
    match api_tokens::create(&app.db, &viewer.actor, &new, app.clock.now()).await {
        Ok((info, secret)) => {
            // The secret is on this answer only: no redirect, nothing in the session.
            render_page(
                &app,
                &viewer,
                CreateForm::default(),
                FormErrors::default(),
                Some((info.row.name, secret)),
            )
            .await
        }
        Err(AppError::Invalid(m)) => {
            errors.add("name", m);
            render_page(&app, &viewer, form, errors, None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn revoke(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let info = api_tokens::revoke(&app.db, &viewer.actor, id, app.clock.now()).await?;
    viewer
        .flash(format!(
            "The token “{}” is revoked: it no longer works.",
            info.row.name
        ))
        .await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
