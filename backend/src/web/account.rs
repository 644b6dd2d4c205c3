//! Signing in and out, invitations and password resets.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::auth::{CsrfForm, Viewer, safe_next};
use super::extract::{Path, Query};
use super::forms::FormErrors;
use super::page::{Chrome, render};
use crate::error::AppError;
use crate::services::accounts::{self, TokenPurpose};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/password-reset", get(reset_form).post(request_reset))
        .route(
            "/password-reset/{token}",
            get(reset_password_form).post(reset_password),
        )
        .route(
            "/invitation/{token}",
            get(invitation_form).post(accept_invitation),
        )
}

#[derive(Template)]
#[template(path = "pages/account/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if viewer.user.is_some() {
        return Ok(
            Redirect::to(&safe_next(q.next.as_deref(), &app.settings.base_url)).into_response(),
        );
    }
    Ok(render(&LoginPage {
        chrome: viewer.chrome_for_form(&app).await?,
        errors: FormErrors::default(),
        email: String::new(),
        next: safe_next(q.next.as_deref(), &app.settings.base_url),
    })?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login(
    State(app): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref(), &app.settings.base_url);
    let failed = |message: String| async {
        let mut errors = FormErrors::default();
        errors.add("email", message);
        let page = LoginPage {
            chrome: viewer.chrome_for_form(&app).await?,
            errors,
            email: form.email.trim().to_owned(),
            next: next.clone(),
        };
        render(&page)
    };
    match accounts::authenticate(
        &app.db,
        &form.email,
        &form.password,
        viewer.client,
        app.clock.now(),
    )
    .await
    {
        Ok(u) => {
            viewer.sign_in(&u).await?;
            Ok(Redirect::to(&next).into_response())
        }
        Err(AppError::Invalid(m)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            failed(m).await?,
        )
            .into_response()),
        Err(AppError::Throttled(m)) => {
            Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, failed(m).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Redirect, AppError> {
    viewer.sign_out().await?;
    Ok(Redirect::to("/login"))
}

#[derive(Template)]
#[template(path = "pages/account/reset_request.html")]
struct ResetRequestPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    sent: bool,
}

async fn reset_form(State(app): State<AppState>, viewer: Viewer) -> Result<Html<String>, AppError> {
    render(&ResetRequestPage {
        chrome: viewer.chrome_for_form(&app).await?,
        errors: FormErrors::default(),
        email: String::new(),
        sent: false,
    })
}

#[derive(Deserialize)]
struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

async fn request_reset(
    State(app): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<ResetRequestForm>,
) -> Result<Html<String>, AppError> {
    let email = form.email.trim().to_owned();
    let mut errors = FormErrors::default();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        errors.add("email", "Enter an e-mail address like name@example.net");
    } else {
        // The same answer whether or not the address has an account.
        accounts::request_password_reset(&app.db, &email, &app.settings.base_url, app.clock.now())
            .await?;
    }
    render(&ResetRequestPage {
        chrome: viewer.chrome_for_form(&app).await?,
        sent: errors.is_empty(),
        errors,
        email,
    })
}

#[derive(Template)]
#[template(path = "pages/account/set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    errors: FormErrors,
    heading: &'static str,
    email: String,
    action: String,
}

async fn set_password_form(
    app: &AppState,
    viewer: &Viewer,
    token: &str,
    purpose: TokenPurpose,
    errors: FormErrors,
) -> Result<Html<String>, AppError> {
    let u = accounts::token_user(&app.db, token, purpose, app.clock.now()).await?;
    let (heading, action) = match purpose {
        TokenPurpose::Invitation => ("Choose your password", format!("/invitation/{token}")),
        TokenPurpose::PasswordReset => {
            ("Choose a new password", format!("/password-reset/{token}"))
        }
    };
    render(&SetPasswordPage {
        chrome: viewer.chrome_for_form(app).await?,
        errors,
        heading,
        email: u.email,
        action,
    })
}

#[derive(Deserialize)]
struct SetPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

async fn set_password(
    app: &AppState,
    viewer: Viewer,
    token: &str,
    purpose: TokenPurpose,
    form: SetPasswordForm,
) -> Result<Response, AppError> {
    if let Err(message) = accounts::check_new_password(&form.password, &form.confirmation) {
        let mut errors = FormErrors::default();
        errors.add("password", message);
        let page = set_password_form(app, &viewer, token, purpose, errors).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let u =
        accounts::redeem_token(&app.db, token, purpose, &form.password, app.clock.now()).await?;
    viewer.sign_in(&u).await?;
    viewer
        .flash("Your password is saved and you are signed in.")
        .await?;
    Ok(Redirect::to("/").into_response())
}

async fn reset_password_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Html<String>, AppError> {
    set_password_form(
        &app,
        &viewer,
        &token,
        TokenPurpose::PasswordReset,
        FormErrors::default(),
    )
    .await
}

async fn reset_password(
    State(app): State<AppState>,
    Path(token): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<SetPasswordForm>,
) -> Result<Response, AppError> {
    set_password(&app, viewer, &token, TokenPurpose::PasswordReset, form).await
}

async fn invitation_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Html<String>, AppError> {
    set_password_form(
        &app,
        &viewer,
        &token,
        TokenPurpose::Invitation,
        FormErrors::default(),
    )
    .await
}

async fn accept_invitation(
    State(app): State<AppState>,
    Path(token): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<SetPasswordForm>,
) -> Result<Response, AppError> {
    set_password(&app, viewer, &token, TokenPurpose::Invitation, form).await
}
