//! The administrator's pages: what needs attention, organisations, users and invitations, the
//! registry policy profiles the server runs with, and failed e-mails.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::auth::{CsrfForm, SignedIn, Viewer, urlencode};
use super::extract::{Path, Query};
use super::forms::{self, FormErrors};
use super::page::{Chrome, render};
use super::view::registry_name;
use crate::db::entities::user;
use crate::db::organisations::{self as orgs_db, NewOrganisation};
use crate::db::{holdings, outbox, users as users_db};
use crate::domain::Rir;
use crate::domain::authz::Action;
use crate::domain::fees::{Payer, format_amount};
use crate::domain::format::{group_thousands, relative, utc_minute};
use crate::domain::policy::RegistryProfile;
use crate::error::AppError;
use crate::services::accounts::{self, Invitation};

/// Rows per page of the organisation and user lists.
const PAGE: u64 = 50;
/// Failed e-mails shown (the oldest beyond this wait until the newest are dealt with).
const FAILED_SHOWN: u64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(attention))
        .route(
            "/admin/organisations",
            get(organisations).post(create_organisation),
        )
        .route("/admin/organisations/new", get(new_organisation))
        .route("/admin/users", get(users).post(invite_user))
        .route("/admin/users/new", get(new_user))
        .route(
            "/admin/users/{id}/{change}",
            get(confirm_activation).post(change_activation),
        )
        .route("/admin/policy", get(policy))
        .route("/admin/emails", get(failed_emails))
        .route("/admin/emails/{id}/retry", post(retry_email))
}

/// A choice of a `<select>` or radio group, marked when it is the entered value.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn registry_choices(selected: &str) -> Vec<Choice> {
    Rir::ALL
        .iter()
        .map(|r| Choice {
            value: r.token(),
            label: r.nro_name(),
            selected: r.token() == selected,
        })
        .collect()
}

const ROLES: [(&str, &str); 4] = [
    ("member", "Member of an organisation"),
    ("hostmaster", "Registry hostmaster"),
    ("auditor", "Auditor"),
    ("admin", "Administrator"),
];

fn role_choices(selected: &str) -> Vec<Choice> {
    ROLES
        .iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: *value == selected,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What needs attention

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
    let counts = super::cache::admin_counts(&app).await?;
    render(&AttentionPage {
        chrome: viewer.chrome(&app).await?,
        failed_emails: outbox::count_failed(&app.db).await?,
        invitations,
        organisations: group_thousands(counts.0),
        users: group_thousands(counts.1),
    })
}

/// "member (organisation 12)", "RIPE NCC hostmaster", "auditor".
fn role_label(u: &user::Model) -> String {
    match u.role.as_str() {
        "hostmaster" => format!(
            "{} hostmaster",
            registry_name(u.registry.as_deref().unwrap_or_default())
        ),
        other => other.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations

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

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    /// The last id of the previous page (keyset pagination).
    after: Option<i64>,
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

const MAX_HANDLE: usize = 64;
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

// ---------------------------------------------------------------------------------------------
// Users

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
        total: group_thousands(super::cache::admin_counts(&app).await?.1),
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
    let inv = Invitation {
        email: form.email.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        role: form.role.clone(),
        organisation_id,
        registry,
    };
    for (field, message) in accounts::check_invitation(&inv) {
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
    if errors.is_empty() {
        match accounts::invite(&app.db, &inv, &app.settings.base_url, app.clock.now()).await {
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
    if viewer.actor.user_id == Some(u.id) {
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

#[derive(Deserialize)]
struct Empty {}

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

// ---------------------------------------------------------------------------------------------
// Registry policy profiles

/// One parameter of a registry's policy as the running server applies it.
struct Rule {
    name: &'static str,
    value: String,
    citation: String,
}

struct FeeRow {
    description: String,
    payer: &'static str,
    amount: String,
}

struct RegistryPolicy {
    name: &'static str,
    token: &'static str,
    transfer_policy: String,
    rules: Vec<Rule>,
    currency: String,
    fees: Vec<FeeRow>,
    /// The values that are configurable defaults, not confirmed (`confirmed = false`).
    defaults: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/admin/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    registries: Vec<RegistryPolicy>,
    four_eyes: String,
    consent_days: i64,
    information_days: i64,
}

fn months(m: u32) -> String {
    format!("{m} months")
}

fn rules_of(p: &RegistryProfile) -> Vec<Rule> {
    let mut rules = vec![
        Rule {
            name: "Smallest block",
            value: p.minimum_size.prefix.to_string(),
            citation: p.minimum_size.citation.clone(),
        },
        Rule {
            name: "Holding period",
            value: format!(
                "{}{}{}",
                months(p.holding_period.months),
                p.holding_period
                    .registry_issued_months
                    .map(|m| format!(" ({} for space the registry issued)", months(m)))
                    .unwrap_or_default(),
                if p.holding_period.exempt_merger_acquisition {
                    "; mergers and acquisitions exempt"
                } else {
                    ""
                }
            ),
            citation: p.holding_period.citation.clone(),
        },
    ];
    for r in &p.restricted {
        rules.push(Rule {
            name: "Restricted",
            value: format!(
                "{}{}",
                r.description,
                r.months
                    .map(|m| format!(" for {}", months(m)))
                    .unwrap_or_default()
            ),
            citation: r.citation.clone(),
        });
    }
    rules.push(Rule {
        name: "Inter-RIR transfers",
        value: if p.inter_rir.enabled {
            format!(
                "with {}",
                p.inter_rir
                    .partners
                    .iter()
                    .map(|r| r.nro_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            "not accepted".to_owned()
        },
        citation: p.inter_rir.citation.clone(),
    });
    rules.push(Rule {
        name: "Need justification",
        value: if p.need.required {
            match (p.need.horizon_months, p.need.min_utilisation_percent) {
                (Some(h), Some(u)) => format!("required: {u}% used within {}", months(h)),
                (Some(h), None) => format!("required: use within {}", months(h)),
                _ => "required".to_owned(),
            }
        } else {
            match &p.need.inbound_from_needs_based {
                Some(plan) => format!(
                    "only from needs-based registries: {}% used within {}",
                    plan.min_utilisation_percent,
                    months(plan.horizon_months)
                ),
                None => "not required".to_owned(),
            }
        },
        citation: p.need.citation.clone(),
    });
    rules.push(Rule {
        name: "Documents",
        value: p
            .documents
            .required
            .iter()
            .map(|d| d.as_str().replace('_', " "))
            .collect::<Vec<_>>()
            .join(", "),
        citation: p.documents.citation.clone(),
    });
    rules
}

fn payer_label(p: Payer) -> &'static str {
    match p {
        Payer::Source => "source",
        Payer::Recipient => "recipient",
        Payer::RecipientElseSource => "recipient (source if outside the registry)",
        Payer::SourceElseRecipient => "source (recipient if outside the registry)",
    }
}

async fn policy(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManagePolicyProfiles)?;
    let unconfirmed = crate::domain::policy::unconfirmed(&app.settings.profiles);
    let registries = Rir::ALL
        .iter()
        .map(|rir| {
            let p = app.settings.profiles.get(*rir);
            let schedule = app.settings.fees.get(*rir);
            let fees = schedule
                .items
                .iter()
                .map(|item| {
                    let amount = match (&item.amount, &item.bands) {
                        (Some(flat), _) => format_amount(*flat, &schedule.currency),
                        (None, Some(bands)) => bands
                            .iter()
                            .map(|b| {
                                let size = match (b.up_to, b.below) {
                                    (Some(l), _) => format!("up to {l}"),
                                    (None, Some(l)) => format!("below {l}"),
                                    (None, None) => "larger".to_owned(),
                                };
                                format!("{size}: {}", format_amount(b.amount, &schedule.currency))
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                        (None, None) => "none".to_owned(),
                    };
                    FeeRow {
                        description: item.description.clone(),
                        payer: payer_label(item.payer),
                        amount: match item.percent {
                            Some(pct) => format!("{pct}% of {amount}"),
                            None => amount,
                        },
                    }
                })
                .collect();
            RegistryPolicy {
                defaults: unconfirmed
                    .iter()
                    .filter(|u| u.registry == *rir)
                    .map(|u| format!("{} ({})", u.value, u.key))
                    .collect(),
                name: rir.nro_name(),
                token: rir.token(),
                transfer_policy: p.transfer_policy.clone(),
                rules: rules_of(p),
                currency: schedule.currency.clone(),
                fees,
            }
        })
        .collect();
    render(&PolicyPage {
        chrome: viewer.chrome(&app).await?,
        registries,
        four_eyes: group_thousands(app.settings.four_eyes_addresses),
        consent_days: app.settings.consent_days,
        information_days: app.settings.information_days,
    })
}

// ---------------------------------------------------------------------------------------------
// Failed e-mails

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

    #[test]
    fn choices_mark_the_entered_value() {
        let chosen: Vec<_> = registry_choices("lacnic")
            .into_iter()
            .filter(|c| c.selected)
            .map(|c| c.label)
            .collect();
        assert_eq!(chosen, ["LACNIC"]);
        assert!(role_choices("root").iter().all(|c| !c.selected));
        assert_eq!(registry_name("ripencc"), "RIPE NCC");
        assert_eq!(registry_name("iana"), "iana");
    }

    #[test]
    fn every_registry_profile_reads_as_rules_with_citations() {
        let settings = crate::services::transfers::Settings::default();
        for rir in Rir::ALL {
            let rules = rules_of(settings.profiles.get(rir));
            assert_eq!(rules[0].name, "Smallest block");
            assert!(rules.iter().all(|r| !r.citation.is_empty()), "{rir}");
        }
    }
}
