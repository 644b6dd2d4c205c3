//! The users: the list, invitations, and deactivating or reactivating an account.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{
    Choice, Empty, ListQuery, MAX_HANDLE, PAGE, registry_choices, role_choices, role_label,
};
use crate::db::entities::user;
use crate::db::organisations as orgs_db;
use crate::db::users as users_db;
use crate::domain::Rir;
use crate::domain::authz::Action;
use crate::domain::format::group_thousands;
use crate::domain::transfer::UserId;
use crate::error::AppError;
use crate::services::accounts::{self, Invitation};
use crate::web::AppState;
use crate::web::auth::{CsrfForm, SignedIn, Viewer};
use crate::web::extract::{Path, Query};
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render};
use crate::web::view::registry_name;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(invite_user))
        .route("/admin/users/new", get(new_user))
        .route(
            "/admin/users/{id}/{change}",
            get(confirm_activation).post(change_activation),
        )
}

struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: String,
    /// "active", "invited" or "deactivated".
    status: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "pages/admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    total: String,
    next: Option<String>,
    first_page: bool,
}

/// Each user with what the list shows about them, organisations named.
async fn user_rows(app: &AppState, users: Vec<user::Model>) -> Result<Vec<UserRow>, AppError> {
    let org_ids: Vec<i64> = users.iter().filter_map(|u| u.organisation_id).collect();
    let orgs = orgs_db::by_ids(&app.db, org_ids).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let role = match (u.role.as_str(), u.organisation_id) {
                ("member", Some(id)) => orgs.iter().find(|o| o.id == id).map_or_else(
                    || format!("member of organisation {id}"),
                    |o| format!("member of {} ({})", o.name, registry_name(&o.registry)),
                ),
                _ => role_label(&u),
            };
            UserRow {
                id: u.id,
                status: match (u.active, u.password_hash.is_some()) {
                    (false, _) => "deactivated",
                    (true, false) => "invited",
                    (true, true) => "active",
                },
                active: u.active,
                name: u.display_name,
                email: u.email,
                role,
            }
        })
        .collect())
}

async fn users(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageUsers)?;
    let mut found = users_db::page(&app.db, query.after, PAGE + 1).await?;
    let more = found.len() as u64 > PAGE;
    found.truncate(PAGE as usize);
    let next = more
        .then(|| found.last().map(|u| u.id))
        .flatten()
        .map(|last| format!("/admin/users?after={last}"));
    render(&UsersPage {
        chrome: viewer.chrome(&app).await?,
        total: group_thousands(crate::web::cache::admin_counts(&app).await?.1),
        rows: user_rows(&app, found).await?,
        next,
        first_page: query.after.is_none(),
    })
}

#[derive(Template)]
#[template(path = "pages/admin/user_new.html")]
struct NewUserPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    display_name: String,
    roles: Vec<Choice>,
    registries: Vec<Choice>,
    org_handle: String,
}

async fn new_user(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageUsers)?;
    render(&NewUserPage {
        chrome: viewer.chrome(&app).await?,
        errors: FormErrors::default(),
        email: String::new(),
        display_name: String::new(),
        roles: role_choices(""),
        registries: registry_choices(""),
        org_handle: String::new(),
    })
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    registry: String,
    #[serde(default)]
    org_handle: String,
}

async fn invite_user(
    State(app): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<InviteForm>,
) -> Result<Response, AppError> {
    viewer.require(Action::ManageUsers)?;
    let registry = Rir::from_token(&form.registry);
    let mut errors = FormErrors::default();
    // The member's organisation is named by its handle at the chosen registry.
    let mut organisation_id = None;
    let handle = form.org_handle.trim();
    if form.role == "member" {
        match registry {
            None => errors.add(
                "registry",
                "Choose the registry of the member's organisation",
            ),
            Some(_) if handle.is_empty() => {
                errors.add(
                    "org_handle",
                    "Enter the handle of the member's organisation",
                );
            }
            Some(_) if handle.chars().count() > MAX_HANDLE => errors.add(
                "org_handle",
                format!("The handle must be {MAX_HANDLE} characters or fewer"),
            ),
            Some(rir) => {
                organisation_id = orgs_db::by_handle(&app.db, rir, handle)
                    .await?
                    .map(|o| o.id);
                if organisation_id.is_none() {
                    errors.add(
                        "org_handle",
                        format!("{} has no organisation {handle}", rir.nro_name()),
                    );
                }
            }
        }
    }
    let inv = Invitation::from_form(
        form.email.trim(),
        form.display_name.trim(),
        &form.role,
        organisation_id,
        registry,
    );
    for (field, message) in inv.clone().err().unwrap_or_default() {
        // A member without an organisation is already explained at the handle.
        if field != "organisation_id" && errors.get(field).is_empty() {
            errors.add(field, message);
        }
    }
    errors.items.sort_by_key(|e| {
        ["email", "display_name", "role", "registry", "org_handle"]
            .iter()
            .position(|f| *f == e.field)
    });
    if let (true, Ok(inv)) = (errors.is_empty(), &inv) {
        match accounts::invite(&app.db, inv, &app.settings.base_url, app.clock.now()).await {
            Ok(u) => {
                viewer
                    .flash(format!(
                        "{} <{}> is invited: the e-mail with a link to choose a password is queued",
                        u.display_name, u.email
                    ))
                    .await?;
                return Ok(Redirect::to("/admin/users").into_response());
            }
            Err(AppError::Invalid(message)) => errors.add("email", message),
            Err(e) => return Err(e),
        }
    }
    let page = NewUserPage {
        chrome: viewer.chrome(&app).await?,
        errors,
        email: form.email,
        display_name: form.display_name,
        roles: role_choices(&form.role),
        registries: registry_choices(&form.registry),
        org_handle: form.org_handle,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// Deactivating or reactivating an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    Deactivate,
    Reactivate,
}

impl Activation {
    fn parse(s: &str) -> Result<Activation, AppError> {
        match s {
            "deactivate" => Ok(Activation::Deactivate),
            "reactivate" => Ok(Activation::Reactivate),
            _ => Err(AppError::NotFound(
                "There is no page at this address.".into(),
            )),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/admin/user_activation.html")]
struct ActivationPage {
    chrome: Chrome,
    row: UserRow,
    deactivate: bool,
    action: String,
}

/// The user `id`, refusing the viewer's own account (an administrator cannot lock themself out).
async fn other_user(app: &AppState, viewer: &Viewer, id: i64) -> Result<user::Model, AppError> {
    let u = users_db::by_id(&app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no user {id}.")))?;
    if viewer.actor.user_id == Some(UserId(u.id)) {
        return Err(AppError::invalid(
            "You cannot deactivate or reactivate your own account; ask another administrator.",
        ));
    }
    Ok(u)
}

async fn confirm_activation(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, change)): Path<(i64, String)>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageUsers)?;
    let change = Activation::parse(&change)?;
    let u = other_user(&app, &viewer, id).await?;
    let row = user_rows(&app, vec![u]).await?.remove(0);
    render(&ActivationPage {
        chrome: viewer.chrome(&app).await?,
        action: format!(
            "/admin/users/{id}/{}",
            if change == Activation::Deactivate {
                "deactivate"
            } else {
                "reactivate"
            }
        ),
        deactivate: change == Activation::Deactivate,
        row,
    })
}

async fn change_activation(
    State(app): State<AppState>,
    Path((id, change)): Path<(i64, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Redirect, AppError> {
    viewer.require(Action::ManageUsers)?;
    let change = Activation::parse(&change)?;
    let u = other_user(&app, &viewer, id).await?;
    let active = change == Activation::Reactivate;
    accounts::set_active(&app.db, u.id, active, app.clock.now()).await?;
    viewer
        .flash(if active {
            format!("{} <{}> can sign in again", u.display_name, u.email)
        } else {
            format!(
                "{} <{}> is deactivated and can no longer sign in",
                u.display_name, u.email
            )
        })
        .await?;
    Ok(Redirect::to("/admin/users"))
}
