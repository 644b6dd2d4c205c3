//! The organisations: a searchable list with their holdings, and the form that creates one.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Choice, ListQuery, MAX_HANDLE, PAGE, registry_choices};
use crate::db::holdings;
use crate::db::organisations::{self as orgs_db, NewOrganisation};
use crate::domain::Rir;
use crate::domain::authz::Action;
use crate::domain::format::group_thousands;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::{CsrfForm, SignedIn, urlencode};
use crate::web::extract::Query;
use crate::web::forms::{self, FormErrors};
use crate::web::page::{Chrome, render};
use crate::web::view::registry_name;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/organisations",
            get(organisations).post(create_organisation),
        )
        .route("/admin/organisations/new", get(new_organisation))
}

struct OrgRow {
    registry: String,
    handle: String,
    name: String,
    country: String,
    holdings: String,
}

#[derive(Template)]
#[template(path = "pages/admin/organisations.html")]
struct OrganisationsPage {
    chrome: Chrome,
    q: String,
    rows: Vec<OrgRow>,
    total: String,
    /// The link to the next page, when there is one.
    next: Option<String>,
    first_page: bool,
}

/// Longest search text (a handle or part of a name).
const MAX_SEARCH: usize = 100;

async fn organisations(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageOrganisations)?;
    let q: String = query.q.trim().chars().take(MAX_SEARCH).collect();
    let total = orgs_db::count_matching(&app.db, &q).await?;
    let mut orgs = orgs_db::search(&app.db, &q, query.after, PAGE + 1).await?;
    let more = orgs.len() as u64 > PAGE;
    orgs.truncate(PAGE as usize);
    let counts =
        holdings::count_by_organisation(&app.db, orgs.iter().map(|o| o.id).collect()).await?;
    let next = more
        .then(|| orgs.last().map(|o| o.id))
        .flatten()
        .map(|last| format!("/admin/organisations?q={}&after={last}", urlencode(&q)));
    let rows = orgs
        .into_iter()
        .map(|o| OrgRow {
            holdings: group_thousands(
                counts
                    .iter()
                    .find(|(id, _)| *id == o.id)
                    .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0)),
            ),
            registry: registry_name(&o.registry),
            handle: o.handle,
            name: o.name,
            country: o.country.unwrap_or_default(),
        })
        .collect();
    render(&OrganisationsPage {
        chrome: viewer.chrome(&app).await?,
        q,
        rows,
        total: group_thousands(total),
        next,
        first_page: query.after.is_none(),
    })
}

#[derive(Template)]
#[template(path = "pages/admin/organisation_new.html")]
struct NewOrganisationPage {
    chrome: Chrome,
    errors: FormErrors,
    registries: Vec<Choice>,
    handle: String,
    name: String,
    country: String,
}

async fn new_organisation(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManageOrganisations)?;
    render(&NewOrganisationPage {
        chrome: viewer.chrome(&app).await?,
        errors: FormErrors::default(),
        registries: registry_choices(""),
        handle: String::new(),
        name: String::new(),
        country: String::new(),
    })
}

#[derive(Deserialize)]
struct OrganisationForm {
    #[serde(default)]
    registry: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    country: String,
}

const MAX_ORG_NAME: usize = 200;

/// The problems of an organisation form, per field.
fn check_organisation(f: &OrganisationForm) -> FormErrors {
    let mut errors = FormErrors::default();
    if Rir::from_token(&f.registry).is_none() {
        errors.add(
            "registry",
            "Choose the registry the organisation is a member of",
        );
    }
    let handle = f.handle.trim();
    forms::text(
        &mut errors,
        "handle",
        handle,
        "the handle",
        true,
        MAX_HANDLE,
    );
    if !handle.is_empty()
        && handle.chars().count() <= MAX_HANDLE
        && !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        errors.add(
            "handle",
            format!(
                "\"{handle}\" is not a handle: use letters, digits, '-', '_' and '.' (like ORG-EXAMPLE1-RIPE)"
            ),
        );
    }
    forms::text(
        &mut errors,
        "name",
        &f.name,
        "the organisation's name",
        true,
        MAX_ORG_NAME,
    );
    let country = f.country.trim();
    let two_letters = country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic());
    if !country.is_empty() && !two_letters {
        errors.add(
            "country",
            format!("\"{country}\" is not a country code: use two letters, like NL or BR"),
        );
    }
    errors
}

async fn create_organisation(
    State(app): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<OrganisationForm>,
) -> Result<Response, AppError> {
    viewer.require(Action::ManageOrganisations)?;
    let mut errors = check_organisation(&form);
    if errors.is_empty()
        && let Some(registry) = Rir::from_token(&form.registry)
    {
        let created = orgs_db::create(
            &app.db,
            registry,
            NewOrganisation {
                handle: form.handle.trim().to_owned(),
                name: form.name.trim().to_owned(),
                country: Some(form.country.trim().to_uppercase()).filter(|c| !c.is_empty()),
            },
            app.clock.now(),
        )
        .await?;
        match created {
            Some(o) => {
                viewer
                    .flash(format!(
                        "{} ({} at {}) was created",
                        o.name,
                        o.handle,
                        registry.nro_name()
                    ))
                    .await?;
                let to = format!("/admin/organisations?q={}", urlencode(&o.handle));
                return Ok(Redirect::to(&to).into_response());
            }
            None => errors.add(
                "handle",
                format!(
                    "{} already has an organisation {}",
                    registry.nro_name(),
                    form.handle.trim()
                ),
            ),
        }
    }
    let page = NewOrganisationPage {
        chrome: viewer.chrome(&app).await?,
        errors,
        registries: registry_choices(&form.registry),
        handle: form.handle,
        name: form.name,
        country: form.country,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(registry: &str, handle: &str, name: &str, country: &str) -> OrganisationForm {
        OrganisationForm {
            registry: registry.into(),
            handle: handle.into(),
            name: name.into(),
            country: country.into(),
        }
    }

    #[test]
    fn organisation_forms_are_checked_field_by_field() {
        assert!(check_organisation(&form("ripencc", "ORG-EX1-RIPE", "Example", "nl")).is_empty());
        assert!(check_organisation(&form("arin", "a.b_c-1", "Example", "")).is_empty());
        let e = check_organisation(&form("", "", "", ""));
        assert_eq!(
            e.items.iter().map(|i| i.field).collect::<Vec<_>>(),
            ["registry", "handle", "name"]
        );
        let e = check_organisation(&form("iana", "no spaces", "x", "NLD"));
        assert_eq!(
            e.get("registry"),
            "Choose the registry the organisation is a member of"
        );
        assert!(e.get("handle").starts_with("\"no spaces\" is not a handle"));
        assert!(
            e.get("country")
                .starts_with("\"NLD\" is not a country code")
        );
        let long = "x".repeat(MAX_HANDLE + 1);
        let e = check_organisation(&form("arin", &long, "x", ""));
        // One message per field: the length, not also the characters.
        assert_eq!(e.items.len(), 1);
        assert!(e.get("handle").contains("64 characters or fewer"));
    }
}
