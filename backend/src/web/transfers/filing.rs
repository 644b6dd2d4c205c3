//! Filing a transfer: the form, its checks (shared with the API) and the multipart reader.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rust_decimal::Decimal;

use super::show::OrgView;
use crate::db::transfers as transfers_db;
use crate::domain::TransferType;
use crate::domain::authz::{Action, Role};
use crate::domain::block::parse_block_list;
use crate::domain::currency::Currency;
use crate::domain::format::{capitalise, group_thousands};
use crate::domain::transfer::DocumentKind;
use crate::error::AppError;
use crate::services::documents::{self, NewDocument};
use crate::services::transfer_access as access;
use crate::services::transfers::{self, Filing};
use crate::web::AppState;
use crate::web::auth::{SignedIn, Viewer};
use crate::web::extract::Multipart;
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render};
use crate::web::view;

/// Problems of a block list shown at most.
const LISTED_PROBLEMS: usize = 20;

#[derive(Debug, Default, Clone)]
pub(super) struct FilingForm {
    /// The recipient organisation's id.
    recipient: String,
    kind: String,
    blocks: String,
    price: String,
    currency: String,
}

#[derive(Template)]
#[template(path = "pages/transfers/new.html")]
struct NewPage {
    chrome: Chrome,
    errors: FormErrors,
    form: FilingForm,
    /// Organisations that can accept, by registry: (registry, [(id, name)]).
    recipients: Vec<(String, Vec<(String, String)>)>,
    source: OrgView,
    max_blocks: usize,
    max_mib: usize,
}

async fn new_page(
    app: &AppState,
    viewer: &Viewer,
    form: FilingForm,
    errors: FormErrors,
) -> Result<Html<String>, AppError> {
    let Role::Member { org_id } = viewer.actor.role else {
        return Err(AppError::Forbidden(
            "Only organisation members file transfers.".into(),
        ));
    };
    let org = access::organisation(&app.db, org_id.get()).await?;
    render(&NewPage {
        chrome: viewer.chrome(app).await?,
        errors,
        form,
        recipients: recipient_choices(app, org_id.get()).await?,
        source: OrgView {
            name: org.name,
            registry: view::registry_name(&org.registry),
            handle: org.handle,
        },
        max_blocks: app.settings.max_blocks,
        max_mib: documents::MAX_BYTES / (1024 * 1024),
    })
}

/// The organisations a member may file to, grouped by registry.
async fn recipient_choices(
    app: &AppState,
    own: i64,
) -> Result<Vec<(String, Vec<(String, String)>)>, AppError> {
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for o in access::recipients(&app.db, own).await? {
        let registry = view::registry_name(&o.registry);
        if groups.last().is_none_or(|(r, _)| *r != registry) {
            groups.push((registry.clone(), Vec::new()));
        }
        if let Some((_, list)) = groups.last_mut() {
            // The registry is the group; the opaque id would only widen the list.
            list.push((o.id.to_string(), o.name.clone()));
        }
    }
    Ok(groups)
}

pub(super) async fn new_form(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::FileTransfer)?;
    new_page(
        &app,
        &viewer,
        FilingForm {
            kind: "RESOURCE_TRANSFER".into(),
            currency: "USD".into(),
            ..Default::default()
        },
        FormErrors::default(),
    )
    .await
}

/// Reads a multipart form into its text fields and files; the CSRF token is checked first.
pub(super) async fn read_multipart(
    viewer: &Viewer,
    mut multipart: axum::extract::Multipart,
) -> Result<(BTreeMap<String, String>, Vec<(String, NewDocument)>), AppError> {
    let mut fields = BTreeMap::new();
    let mut files = Vec::new();
    let mut token_checked = false;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::invalid(format!("The upload could not be read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        // The token comes first in the form, so nothing is read for a forged request.
        if !token_checked {
            if name != crate::web::auth::CSRF_FIELD {
                viewer.check_csrf(None).await?;
            }
            let token = field
                .text()
                .await
                .map_err(|e| AppError::invalid(format!("The upload could not be read: {e}")))?;
            viewer.check_csrf(Some(&token)).await?;
            token_checked = true;
            continue;
        }
        if let Some(filename) = field.file_name().map(str::to_owned) {
            let bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::invalid(format!("{filename} is too large to upload")))?;
            if filename.is_empty() && bytes.is_empty() {
                continue; // a file input left empty
            }
            let kind = match name.as_str() {
                "registration" => DocumentKind::CompanyRegistration,
                "agreement" => DocumentKind::TransferAgreement,
                _ => DocumentKind::Other,
            };
            files.push((
                name,
                NewDocument {
                    kind,
                    filename,
                    bytes: bytes.to_vec(),
                },
            ));
        } else {
            let value = field
                .text()
                .await
                .map_err(|e| AppError::invalid(format!("The form could not be read: {e}")))?;
            fields.insert(name, value);
        }
    }
    if !token_checked {
        viewer.check_csrf(None).await?;
    }
    Ok((fields, files))
}

/// The problems listed of a block list: the first [`LISTED_PROBLEMS`], then how many more, so
/// the page stays short whatever was pasted.
pub(crate) fn listed(problems: &[(usize, crate::domain::block::BlockError)]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(LISTED_PROBLEMS)
        .map(|(line, e)| match line {
            0 => capitalise(&e.to_string()),
            _ => format!("line {line}: {e}"),
        })
        .collect();
    if problems.len() > LISTED_PROBLEMS {
        lines.push(format!(
            "and {} more",
            group_thousands((problems.len() - LISTED_PROBLEMS) as u64)
        ));
    }
    lines.join("; ")
}

/// The agreed price as typed (empty for none) with its currency, or the field that is wrong and
/// why (the filing page and the API say the same).
pub(crate) fn agreed_price(
    price: &str,
    currency: &str,
) -> Result<Option<(Decimal, Currency)>, (&'static str, &'static str)> {
    if price.is_empty() {
        return Ok(None);
    }
    match price.replace(',', "").parse::<Decimal>() {
        Ok(p) if p.is_sign_negative() => Err(("price", "The price cannot be negative")),
        Ok(p) if p.scale() > 4 || p > Decimal::from(1_000_000_000_000i64) => Err((
            "price",
            "Enter the price with at most 4 decimals, such as 45000.00",
        )),
        Ok(p) => match Currency::parse(currency) {
            Ok(c) => Ok(Some((p, c))),
            Err(_) => Err((
                "currency",
                "Enter a three-letter currency code, such as USD",
            )),
        },
        Err(_) => Err(("price", "Enter the price as a number, such as 45000.00")),
    }
}

/// Checks an upload before anything is stored: its name, its size and its type from its bytes.
pub(crate) fn check_upload(errors: &mut FormErrors, field: &'static str, u: &NewDocument) {
    if let Err(problem) = documents::check_file_name(&u.filename) {
        errors.add(field, problem);
    } else if u.bytes.len() > documents::MAX_BYTES {
        errors.add(
            field,
            format!(
                "{} is larger than {} MiB",
                u.filename,
                documents::MAX_BYTES / (1024 * 1024)
            ),
        );
    } else if documents::sniff(&u.bytes).is_none() {
        errors.add(
            field,
            format!("{} is not a PDF, PNG or JPEG file", u.filename),
        );
    }
}

pub(super) async fn create(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Multipart(multipart): Multipart,
) -> Result<Response, AppError> {
    viewer.require(Action::FileTransfer)?;
    let Role::Member { org_id } = viewer.actor.role else {
        return Err(AppError::Forbidden(
            "Only organisation members file transfers.".into(),
        ));
    };
    let (fields, files) = read_multipart(&viewer, multipart).await?;
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let form = FilingForm {
        recipient: get("recipient"),
        kind: get("kind"),
        blocks: get("blocks"),
        price: get("price").trim().to_owned(),
        currency: get("currency").trim().to_uppercase(),
    };
    let mut errors = FormErrors::default();
    let candidates = recipient_choices(&app, org_id.get()).await?;
    // The recipient is one of those offered: (its id, its name).
    let recipient: Option<(i64, String)> = candidates
        .iter()
        .flat_map(|(_, list)| list)
        .find(|(id, _)| *id == form.recipient)
        .and_then(|(id, name)| Some((id.parse::<i64>().ok()?, name.clone())));
    if recipient.is_none() {
        errors.add(
            "recipient",
            "Choose the recipient organisation from the list",
        );
    }
    let kind = TransferType::from_nro_name(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Choose the type of transfer");
    }
    let mut blocks = Vec::new();
    if form.blocks.trim().is_empty() {
        errors.add(
            "blocks",
            "Enter at least one block, such as 198.51.100.0/24",
        );
    } else if form.blocks.len() > 20_000 {
        errors.add("blocks", "The list of blocks is too long");
    } else {
        match parse_block_list(&form.blocks, app.settings.max_blocks) {
            Ok(b) => blocks = b,
            Err(list) => errors.add("blocks", listed(&list)),
        }
    }
    let agreed_price = agreed_price(&form.price, &form.currency).unwrap_or_else(|(field, m)| {
        errors.add(field, m);
        None
    });
    for (name, u) in &files {
        let field = if name == "registration" {
            "registration"
        } else {
            "agreement"
        };
        check_upload(&mut errors, field, u);
    }
    if !errors.is_empty() {
        let page = new_page(&app, &viewer, form, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let (Some(recipient), Some(kind)) = (recipient, kind) else {
        return Err(AppError::invalid("the recipient and type are required"));
    };
    let filing = Filing {
        source_org_id: org_id.get(),
        recipient_org_id: recipient.0,
        kind,
        blocks,
        agreed_price,
    };
    let now = app.clock.now();
    let docs = files.into_iter().map(|(_, u)| u).collect();
    let filed =
        transfers::file_with_documents(&app.db, &app.settings, &viewer.actor, filing, docs, now)
            .await;
    let id = match filed {
        Ok(id) => id,
        Err(AppError::Invalid(m) | AppError::Conflict(m)) => {
            let mut errors = FormErrors::default();
            errors.add("blocks", capitalise(&m));
            let page = new_page(&app, &viewer, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(e) => return Err(e),
    };
    let reference = transfers_db::load(&app.db, id)
        .await?
        .map(|l| l.facts.reference)
        .unwrap_or_default();
    viewer
        .flash(format!(
            "Transfer {reference} filed. {} has been asked to accept it.",
            recipient.1
        ))
        .await?;
    Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
}
