//! Transfer pages: the list, the filing form, the transfer page with its timeline, findings,
//! fees, documents and the viewer's actions, and the hostmaster queue. Handlers parse and
//! validate the form, call one service, and redirect or re-render with the errors.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::AppState;
use super::auth::{CsrfForm, SignedIn, Viewer};
use super::extract::{Multipart, Path, Query};
use super::forms::{self, FormErrors};
use super::page::{Chrome, render};
use super::view::{self, Parties, Tag};
use crate::db::entities::{document, organisation};
use crate::db::transfers::{self as transfers_db, Loaded};
use crate::domain::authz::{self, Action, Role, TransferAccess};
use crate::domain::block::parse_block_list;
use crate::domain::currency::Currency;
use crate::domain::fees::format_amount;
use crate::domain::finding::{Finding, Severity, UNCONFIRMED_NOTE};
use crate::domain::format::{capitalise, group_thousands, utc_minute};
use crate::domain::policy;
use crate::domain::timeline::TimelineEvent;
use crate::domain::transfer::{DocumentKind, NeedJustification};
use crate::domain::workflow::{Override, State as WorkflowState};
use crate::domain::{Side, TransferType};
use crate::error::AppError;
use crate::services::documents::{self, NewDocument};
use crate::services::transfer_access::{self as access, scope_of};
use crate::services::transfers::{self, Command, Filing};

/// Uploads: two documents of at most 10 MiB each, plus the form.
pub(crate) const UPLOAD_LIMIT: usize = 2 * documents::MAX_BYTES + 256 * 1024;
const PAGE_SIZE: u64 = 50;
const QUEUE_SIZE: u64 = 200;
pub(crate) const TEXT_MAX: usize = 4000;
/// Problems of a block list shown at most.
const LISTED_PROBLEMS: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(list))
        .route(
            "/transfers/new",
            get(new_form)
                .post(create)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/transfers/{id}", get(show))
        .route("/transfers/{id}/accept", post(accept))
        .route("/transfers/{id}/answer", post(answer))
        .route(
            "/transfers/{id}/withdraw",
            get(confirm_withdraw).post(withdraw),
        )
        .route("/transfers/{id}/approve", post(approve))
        .route("/transfers/{id}/reject", get(confirm_reject).post(reject))
        .route("/transfers/{id}/request-info", post(request_info))
        .route("/transfers/{id}/confirm-fees", post(confirm_fees))
        .route("/transfers/{id}/exception", post(record_exception))
        .route(
            "/transfers/{id}/finalize",
            get(confirm_finalize).post(finalize),
        )
        .route("/transfers/{id}/dispute", post(dispute))
        .route("/transfers/{id}/resolve-dispute", post(resolve_dispute))
        .route(
            "/transfers/{id}/documents",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/transfers/{id}/documents/{doc}", get(download))
        .route("/queue", get(queue))
}

// ---------------------------------------------------------------------------------------------
// The list

/// One row of a list of transfers.
struct Row {
    id: i64,
    reference: String,
    blocks: String,
    addresses: String,
    source: String,
    recipient: String,
    tag: Tag,
    nro: String,
    waiting_on: String,
    since: String,
    next_action: String,
}

#[derive(Template)]
#[template(path = "pages/transfers/list.html")]
struct ListPage {
    chrome: Chrome,
    heading: String,
    rows: Vec<Row>,
    total: String,
    open_only: bool,
    can_file: bool,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    before: Option<i64>,
    /// `all` shows finished transfers too.
    show: Option<String>,
}

async fn list(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let scope = scope_of(&viewer.actor.role);
    let open_only = q.show.as_deref() != Some("all");
    let found = access::list(&app.db, &viewer.actor, open_only, q.before, PAGE_SIZE + 1).await?;
    let more = found.len() as u64 > PAGE_SIZE;
    let found: Vec<_> = found.into_iter().take(PAGE_SIZE as usize).collect();
    let next_page = more.then(|| {
        format!(
            "/transfers?before={}{}",
            found.last().map_or(0, |t| t.id),
            if open_only { "" } else { "&show=all" }
        )
    });
    let rows = rows_for(&app, &viewer, found).await?;
    let heading = match viewer.actor.role {
        Role::Member { .. } => "Your transfers",
        Role::Hostmaster { .. } => "Transfers touching your registry",
        _ => "Transfers",
    };
    render(&ListPage {
        chrome: viewer.chrome(&app).await?,
        heading: heading.to_owned(),
        rows,
        total: group_thousands(transfers_db::count(&app.db, scope, open_only).await?),
        open_only,
        can_file: authz::can(&viewer.actor, Action::FileTransfer, None),
        next_page,
    })
}

/// Rows of a list with their blocks, names and the viewer's next action.
async fn rows_for(
    app: &AppState,
    viewer: &Viewer,
    found: Vec<crate::db::entities::transfer::Model>,
) -> Result<Vec<Row>, AppError> {
    let now = app.clock.now();
    let loaded = transfers_db::load_many(&app.db, found).await?;
    // A cancelled inter-RIR transfer shows its cancel status only if the NRO log had heard of
    // it (SOURCE_INITIALIZED); one read for the whole page, and none when nothing was cancelled.
    let cancelled: Vec<i64> = loaded
        .iter()
        .filter(|l| l.facts.is_inter_rir() && l.state.is_terminal())
        .filter(|l| l.state != crate::domain::workflow::State::Completed)
        .map(|l| l.facts.id)
        .collect();
    let initialized = transfers_db::ever_initialized(&app.db, &cancelled).await?;
    Ok(loaded
        .iter()
        .map(|l| {
            let f = &l.facts;
            let parties = Parties::of(f);
            let access = TransferAccess::new(f, l.state.clone());
            Row {
                id: f.id,
                reference: f.reference.clone(),
                blocks: view::blocks_brief(&f.blocks),
                addresses: view::total_addresses(&f.blocks),
                source: format!("{} ({})", parties.source, parties.source_rir),
                recipient: format!("{} ({})", parties.recipient, parties.recipient_rir),
                tag: view::state_tag(&l.state),
                nro: l
                    .state
                    .nro_status(f.is_inter_rir())
                    .filter(|_| !cancelled.contains(&f.id) || initialized.contains(&f.id))
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                waiting_on: view::waiting_on(&l.state, &parties).unwrap_or_default(),
                since: format!(
                    "{} ({})",
                    crate::domain::format::utc_day(l.row.updated_at),
                    crate::domain::format::relative(l.row.updated_at, now)
                ),
                next_action: next_action(&viewer.actor, &access)
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect())
}

/// The first step the actor may take on a transfer, in the words of its button.
fn next_action(actor: &authz::Actor, access: &TransferAccess) -> Option<&'static str> {
    let candidates: [(Action, &'static str); 8] = [
        (Action::AcceptAsRecipient, "Accept or let expire"),
        (Action::AnswerInfo, "Answer the request"),
        (
            Action::Decide { side: Side::Source },
            "Review the source side",
        ),
        (
            Action::Decide {
                side: Side::Recipient,
            },
            "Review the recipient side",
        ),
        (Action::ConfirmFees, "Confirm the fees"),
        (Action::Finalize, "Finalize"),
        (Action::ResolveDispute, "Resolve the dispute"),
        (Action::Withdraw, ""),
    ];
    candidates
        .into_iter()
        .filter(|(_, words)| !words.is_empty())
        .find(|(a, _)| authz::can(actor, *a, Some(access)))
        .map(|(_, words)| words)
}

// ---------------------------------------------------------------------------------------------
// The hostmaster queue

struct QueueRow {
    id: i64,
    reference: String,
    step: Tag,
    source: String,
    recipient: String,
    blocks: String,
    addresses: String,
    waited: String,
    overdue: bool,
    blocking: usize,
}

#[derive(Template)]
#[template(path = "pages/transfers/queue.html")]
struct QueuePage {
    chrome: Chrome,
    registry: String,
    rows: Vec<QueueRow>,
    overdue: usize,
    service_days: i64,
}

async fn queue(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    let (registry, loaded) = access::queue(&app.db, &viewer.actor, QUEUE_SIZE).await?;
    let now = app.clock.now();
    let service_days = app.settings.service_levels.of(registry).whole_days();
    let findings = transfers::findings_of_many(&app.db, &app.settings, &loaded, now).await?;
    let mut rows = Vec::new();
    for (l, findings) in loaded.iter().zip(&findings) {
        let f = &l.facts;
        let blocking = findings.iter().filter(|x| x.is_blocking()).count();
        let (overdue, waited) = view::service_level(l.row.updated_at, now, service_days);
        rows.push(QueueRow {
            id: f.id,
            reference: f.reference.clone(),
            step: view::state_tag(&l.state),
            source: format!("{} ({})", f.source.name, f.source_rir()),
            recipient: format!("{} ({})", f.recipient.name, f.recipient_rir()),
            blocks: view::blocks_brief(&f.blocks),
            addresses: view::total_addresses(&f.blocks),
            waited,
            overdue,
            blocking,
        });
    }
    render(&QueuePage {
        chrome: viewer.chrome(&app).await?,
        registry: registry.to_string(),
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        service_days,
    })
}

// ---------------------------------------------------------------------------------------------
// Filing

#[derive(Debug, Default, Clone)]
struct FilingForm {
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
    let org = organisation::Entity::find_by_id(org_id)
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::NotFound("your organisation is missing".into()))?;
    render(&NewPage {
        chrome: viewer.chrome(app).await?,
        errors,
        form,
        recipients: recipient_choices(app, org_id).await?,
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

async fn new_form(
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
async fn read_multipart(
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
            if name != super::auth::CSRF_FIELD {
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

async fn create(
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
    let candidates = recipient_choices(&app, org_id).await?;
    let chosen = candidates
        .iter()
        .flat_map(|(_, list)| list)
        .any(|(id, _)| *id == form.recipient);
    let recipient = match form.recipient.parse::<i64>() {
        Ok(id) if chosen => organisation::Entity::find_by_id(id).one(&app.db).await?,
        _ => None,
    };
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
        source_org_id: org_id,
        recipient_org_id: recipient.id,
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
            recipient.name
        ))
        .await?;
    Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// The transfer page

struct FindingView {
    severity: &'static str,
    message: String,
    citation: String,
    rule_id: String,
    overridden: String,
}

struct FindingGroup {
    registry: String,
    side: &'static str,
    findings: Vec<FindingView>,
}

struct EventView {
    when: String,
    what: String,
    who: String,
    comment: String,
}

struct DocumentView {
    id: i64,
    kind: &'static str,
    filename: String,
    size: String,
    sha256: String,
    uploaded: String,
}

struct FeeView {
    registry: String,
    payer: String,
    description: String,
    amount: String,
    /// "Paid (confirmed by ARIN on ...)" or "Not confirmed yet".
    paid: String,
    /// The line rests on an unconfirmed schedule value.
    unconfirmed: bool,
}

/// A finding the viewer may lift by recording the policy exception it names, with a reason.
struct ExceptionView {
    rule_id: String,
    name: String,
    message: String,
}

struct HoldingView {
    range: String,
    holder: String,
    registry: String,
    since: String,
    origin: String,
}

/// The warnings a hostmaster must answer to approve their side.
struct WarningView {
    rule_id: String,
    message: String,
}

/// What the viewer may do now.
#[derive(Default)]
struct Actions {
    accept: bool,
    answer: bool,
    withdraw: bool,
    /// `source` or `recipient` when the viewer reviews a side now, else empty.
    decide_side: &'static str,
    confirm_fees: bool,
    finalize: bool,
    dispute: bool,
    resolve_dispute: bool,
    upload: bool,
}

impl Actions {
    fn any(&self) -> bool {
        self.accept
            || self.answer
            || self.withdraw
            || !self.decide_side.is_empty()
            || self.confirm_fees
            || self.finalize
            || self.dispute
            || self.resolve_dispute
            || self.upload
    }
}

/// Values typed into the page's forms, kept when a form comes back with an error.
#[derive(Default, Clone)]
struct Typed {
    need_text: String,
    horizon_months: String,
    utilisation_percent: String,
    answer: String,
    question: String,
    reason: String,
}

/// An organisation as people read it: its name and registry; the registry's opaque id is
/// secondary (shown small, under the name).
struct OrgView {
    name: String,
    registry: String,
    handle: String,
}

#[derive(Template)]
#[template(path = "pages/transfers/show.html")]
struct ShowPage {
    chrome: Chrome,
    errors: FormErrors,
    typed: Typed,
    id: i64,
    reference: String,
    tag: Tag,
    nro: String,
    sentence: String,
    source: OrgView,
    recipient: OrgView,
    registries: String,
    kind: &'static str,
    blocks: Vec<String>,
    addresses: String,
    price: String,
    filed: String,
    deadline: String,
    need: String,
    fees: Vec<FeeView>,
    /// Registries of this transfer whose "no fee" is an unconfirmed default.
    fee_notes: Vec<String>,
    fees_confirmed: bool,
    finding_groups: Vec<FindingGroup>,
    exceptions: Vec<ExceptionView>,
    unconfirmed_note: &'static str,
    terminal: bool,
    holdings: Vec<HoldingView>,
    documents: Vec<DocumentView>,
    events: Vec<EventView>,
    actions: Actions,
    need_phrase: String,
    asks_horizon: bool,
    asks_utilisation: bool,
    warnings: Vec<WarningView>,
    question: String,
    large: bool,
}

/// Loads a transfer the viewer may see. One they may not see answers exactly as one that does
/// not exist, so nobody learns which transfer numbers are taken.
async fn load_visible(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<(Loaded, TransferAccess), AppError> {
    access::load_visible(&app.db, &viewer.actor, id).await
}

pub(crate) fn document_kind_label(kind: &str) -> &'static str {
    match DocumentKind::parse(kind) {
        Some(DocumentKind::TransferAgreement) => "Transfer agreement",
        Some(DocumentKind::CompanyRegistration) => "Company registration",
        _ => "Other document",
    }
}

pub(crate) fn event_label(event: &str) -> String {
    TimelineEvent::label_of(event)
}

async fn show_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Html<String>, AppError> {
    let (l, access) = load_visible(app, viewer, id).await?;
    let now = app.clock.now();
    let f = &l.facts;
    let parties = Parties::of(f);
    let can = |a: Action| authz::can(&viewer.actor, a, Some(&access));
    let decide_side = [Side::Source, Side::Recipient]
        .into_iter()
        .find(|s| can(Action::Decide { side: *s }));
    let mut actions = Actions {
        accept: can(Action::AcceptAsRecipient),
        answer: can(Action::AnswerInfo),
        withdraw: can(Action::Withdraw),
        decide_side: decide_side.map(Side::as_str).unwrap_or_default(),
        confirm_fees: can(Action::ConfirmFees),
        finalize: can(Action::Finalize),
        dispute: can(Action::MarkDisputed),
        resolve_dispute: can(Action::ResolveDispute),
        upload: can(Action::UploadDocument),
    };
    let terminal = l.state.is_terminal();
    let findings: Vec<Finding> = if terminal {
        Vec::new()
    } else {
        transfers::findings_of(&app.db, &app.settings, &l, now).await?
    };
    let overrides = transfers_db::overrides(&app.db, id).await?;
    let mut finding_groups = Vec::new();
    // A finding shared by both registries is shown once, under both.
    let groups = [
        (Some(Side::Source), f.source_rir().to_string(), "source"),
        (
            Some(Side::Recipient),
            f.recipient_rir().to_string(),
            "recipient",
        ),
        (
            None,
            format!("{} and {}", f.source_rir(), f.recipient_rir()),
            "both",
        ),
    ];
    for (side, registry, side_name) in groups {
        let of_side: Vec<FindingView> = findings
            .iter()
            .filter(|x| match side {
                Some(side) => x.side == side && !x.shared,
                None => x.shared,
            })
            .map(|x| FindingView {
                severity: x.severity.as_str(),
                message: x.message.clone(),
                citation: x.citation.clone(),
                rule_id: x.rule_id.clone(),
                overridden: overrides
                    .iter()
                    .find(|o| o.rule_id == x.rule_id)
                    .map(|o| o.reason.clone())
                    .unwrap_or_default(),
            })
            .collect();
        if side.is_none() && of_side.is_empty() {
            continue;
        }
        finding_groups.push(FindingGroup {
            registry,
            side: side_name,
            findings: of_side,
        });
    }
    let exceptions = decide_side
        .map(|side| {
            findings
                .iter()
                .filter(|x| x.side == side)
                .filter_map(|x| {
                    x.exception.as_ref().map(|name| ExceptionView {
                        rule_id: x.rule_id.clone(),
                        name: name.clone(),
                        message: x.message.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let warnings = decide_side
        .map(|side| {
            findings
                .iter()
                // An inter-RIR approval answers for its own side; the one intra-RIR review for both.
                .filter(|x| {
                    x.severity == Severity::Warning && (!f.is_inter_rir() || x.concerns(side))
                })
                .map(|x| WarningView {
                    rule_id: x.rule_id.clone(),
                    message: x.message.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let is_hostmaster = matches!(viewer.actor.role, Role::Hostmaster { .. } | Role::Auditor);
    let holdings = if is_hostmaster {
        let touching = transfers_db::holdings_touching(&app.db, &f.blocks).await?;
        let names =
            transfers_db::organisation_names(&app.db, touching.iter().map(|h| h.org_id)).await?;
        touching
            .iter()
            .map(|h| HoldingView {
                range: view::block_line(&h.range),
                holder: names.get(&h.org_id).cloned().unwrap_or_default(),
                registry: h.registry.to_string(),
                since: h
                    .received_on
                    .or(h.registered_on)
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                origin: h.origin.as_str().replace('_', " "),
            })
            .collect()
    } else {
        Vec::new()
    };
    let documents = access::documents(&app.db, id)
        .await?
        .into_iter()
        .map(|d| DocumentView {
            id: d.id,
            kind: document_kind_label(&d.kind),
            filename: d.filename,
            size: format!(
                "{} bytes",
                group_thousands(u64::try_from(d.size_bytes).unwrap_or(0))
            ),
            sha256: d.sha256,
            uploaded: utc_minute(d.uploaded_at),
        })
        .collect();
    let fee_rows = access::fees(&app.db, id).await?;
    // Each registry confirms its own lines: the button is offered to one with unpaid lines, or,
    // when nobody bills anything, to either registry.
    if let Role::Hostmaster { registry } = viewer.actor.role {
        let own: Vec<&crate::db::entities::fee_line::Model> = fee_rows
            .iter()
            .filter(|x| x.registry == registry.token())
            .collect();
        actions.confirm_fees &= if fee_rows.is_empty() {
            true
        } else {
            own.iter().any(|x| x.paid_by.is_none())
        };
    }
    let fee_notes = [f.source_rir(), f.recipient_rir()]
        .into_iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || f.is_inter_rir() && *r != f.source_rir())
        .filter(|(_, r)| {
            !app.settings.profiles.get(*r).fees.confirmed
                && !fee_rows.iter().any(|x| x.registry == r.token())
        })
        .map(|(_, r)| format!("{r} bills nothing here"))
        .collect();
    let fees = fee_rows
        .into_iter()
        .map(|x| FeeView {
            registry: view::registry_name(&x.registry),
            payer: x.payer,
            description: x.description,
            amount: x
                .amount
                .parse::<Decimal>()
                .map(|a| format_amount(a, &x.currency))
                .unwrap_or_else(|_| format!("{} {}", x.currency, x.amount)),
            paid: match x.paid_at {
                Some(at) => format!("Paid (confirmed {})", utc_minute(at)),
                None => "Not confirmed yet".to_owned(),
            },
            unconfirmed: !x.confirmed,
        })
        .collect();
    let history = transfers_db::history(&app.db, id).await?;
    // The question being answered is the latest request's comment.
    let question = match &l.state {
        WorkflowState::InfoRequested { .. } => history
            .iter()
            .rev()
            .find(|e| e.event.starts_with("information_requested"))
            .and_then(|e| e.comment.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    // What the NRO log has published, from the history: nothing for a transfer cancelled
    // before its source registry approved.
    let nro = if f.is_inter_rir() {
        let states: Vec<(&str, time::OffsetDateTime)> = history
            .iter()
            .map(|e| (e.to_state.as_str(), e.created_at))
            .collect();
        crate::domain::workflow::published_status(&states, &l.state)
            .map(|(s, _)| s.as_str().to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let events = history
        .into_iter()
        .map(|e| EventView {
            when: utc_minute(e.created_at),
            what: event_label(&e.event),
            who: e.actor_label,
            comment: e.comment.unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let need_req = policy::need_requirement(f, &app.settings.profiles);
    let price = match (&l.row.agreed_price, &l.row.price_currency) {
        // Confidential to the parties, their registries and auditors.
        (Some(p), Some(c)) if access::sees_price(&viewer.actor) => p
            .parse::<Decimal>()
            .map(|a| format_amount(a, c))
            .unwrap_or_default(),
        (Some(_), _) => "confidential".into(),
        _ => "none given".into(),
    };
    let need = f
        .need
        .as_ref()
        .map(|n| {
            let mut s = n.text.clone();
            if let Some(m) = n.horizon_months {
                s.push_str(&format!(" (over {m} months"));
                if let Some(p) = n.planned_utilisation_percent {
                    s.push_str(&format!(", {p}% used"));
                }
                s.push(')');
            }
            s
        })
        .unwrap_or_default();
    let handles: std::collections::HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in([f.source.id, f.recipient.id]))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.handle))
        .collect();
    let handle = |id: i64| handles.get(&id).cloned().unwrap_or_default();
    let filed_by = l
        .row
        .filed_by
        .map(|_| format!(" by {}", f.source.name))
        .unwrap_or_default();
    render(&ShowPage {
        chrome: viewer.chrome(app).await?,
        errors,
        typed,
        id,
        reference: f.reference.clone(),
        tag: view::state_tag(&l.state),
        nro,
        sentence: view::status_sentence(&l.state, &parties, l.row.updated_at, l.row.deadline, now),
        source: OrgView {
            name: f.source.name.clone(),
            registry: f.source_rir().to_string(),
            handle: handle(f.source.id),
        },
        recipient: OrgView {
            name: f.recipient.name.clone(),
            registry: f.recipient_rir().to_string(),
            handle: handle(f.recipient.id),
        },
        registries: if f.is_inter_rir() {
            format!("{} to {} (inter-RIR)", f.source_rir(), f.recipient_rir())
        } else {
            format!("{} (intra-RIR)", f.source_rir())
        },
        kind: match f.kind {
            TransferType::ResourceTransfer => "Resource transfer",
            TransferType::MergerAcquisition => "Merger or acquisition",
        },
        blocks: f.blocks.iter().map(view::block_line).collect(),
        addresses: view::total_addresses(&f.blocks),
        price,
        filed: format!("{}{filed_by}", utc_minute(l.row.filed_at)),
        deadline: l.row.deadline.map(utc_minute).unwrap_or_default(),
        need,
        fees,
        fee_notes,
        fees_confirmed: l.row.fees_confirmed_by.is_some(),
        finding_groups,
        exceptions,
        unconfirmed_note: UNCONFIRMED_NOTE,
        terminal,
        holdings,
        documents,
        events,
        need_phrase: need_req
            .as_ref()
            .map(|r| format!("{}: {}", r.citation, r.phrase()))
            .unwrap_or_default(),
        asks_horizon: need_req
            .as_ref()
            .is_some_and(|r| r.horizon_months.is_some()),
        asks_utilisation: need_req
            .as_ref()
            .is_some_and(|r| r.min_utilisation_percent.is_some()),
        actions,
        warnings,
        question,
        large: f.address_count() >= app.settings.four_eyes_addresses,
    })
}

async fn show(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    show_page(&app, &viewer, id, FormErrors::default(), Typed::default()).await
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Refuses unless the viewer may take `action` on the transfer now: checked before the form is
/// validated, so a person who may not act learns nothing from the form's errors.
async fn authorize(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    action: Action,
) -> Result<(), AppError> {
    access::authorize(&app.db, &viewer.actor, id, action).await?;
    Ok(())
}

/// Applies a command; a refusal the person can act on comes back on the transfer page, next
/// to the form it concerns, with what they typed.
async fn apply(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    command: Command,
    field: &'static str,
    typed: Typed,
    done: impl FnOnce(&Loaded) -> String,
) -> Result<Response, AppError> {
    let now = app.clock.now();
    match transfers::act(&app.db, &app.settings, &viewer.actor, id, command, now).await {
        Ok(_) => {
            if let Some(l) = transfers_db::load(&app.db, id).await? {
                viewer.flash(done(&l)).await?;
            }
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            refuse(
                app,
                viewer,
                id,
                field,
                m,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            refuse(app, viewer, id, field, m, typed, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

async fn refuse(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    field: &'static str,
    message: String,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    errors.add(field, capitalise(&message));
    let page = show_page(app, viewer, id, errors, typed).await?;
    Ok((status, page).into_response())
}

async fn invalid_form(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Response, AppError> {
    let page = show_page(app, viewer, id, errors, typed).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// A step that is one button (withdraw, confirm fees, finalize, resolve a dispute).
async fn button_step(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    action: Action,
    command: Command,
    field: &'static str,
    done: impl FnOnce(&Loaded) -> String,
) -> Result<Response, AppError> {
    authorize(app, viewer, id, action).await?;
    apply(app, viewer, id, command, field, Typed::default(), done).await
}

/// A step whose form is one required text (an answer, what is disputed): authorized, checked,
/// then applied, or shown again with the error and the text as typed.
struct TextStep {
    action: Action,
    field: &'static str,
    label: &'static str,
}

impl TextStep {
    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one step, named at the call"
    )]
    async fn apply(
        &self,
        app: &AppState,
        viewer: &Viewer,
        id: i64,
        text: String,
        typed: Typed,
        command: impl FnOnce(String) -> Command,
        done: impl FnOnce(&Loaded) -> String,
    ) -> Result<Response, AppError> {
        authorize(app, viewer, id, self.action).await?;
        let mut errors = FormErrors::default();
        forms::text(&mut errors, self.field, &text, self.label, true, TEXT_MAX);
        if !errors.is_empty() {
            return invalid_form(app, viewer, id, errors, typed).await;
        }
        let command = command(text.trim().to_owned());
        apply(app, viewer, id, command, self.field, typed, done).await
    }
}

#[derive(Deserialize, Default)]
struct AcceptForm {
    #[serde(default)]
    need_text: String,
    #[serde(default)]
    horizon_months: String,
    #[serde(default)]
    utilisation_percent: String,
}

fn number_field(
    errors: &mut FormErrors,
    field: &'static str,
    value: &str,
    label: &str,
    max: u32,
) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<u32>() {
        Ok(n) if n <= max => Some(n),
        _ => {
            errors.add(
                field,
                format!("Enter {label} as a whole number from 0 to {max}"),
            );
            None
        }
    }
}

async fn accept(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<AcceptForm>,
) -> Result<Response, AppError> {
    authorize(&app, &viewer, id, Action::AcceptAsRecipient).await?;
    let typed = Typed {
        need_text: form.need_text.clone(),
        horizon_months: form.horizon_months.clone(),
        utilisation_percent: form.utilisation_percent.clone(),
        ..Default::default()
    };
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "need_text",
        &form.need_text,
        "what the addresses are for",
        false,
        TEXT_MAX,
    );
    let horizon = number_field(
        &mut errors,
        "horizon_months",
        &form.horizon_months,
        "the months",
        120,
    );
    let percent = number_field(
        &mut errors,
        "utilisation_percent",
        &form.utilisation_percent,
        "the percentage",
        100,
    );
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, typed).await;
    }
    let need = NeedJustification {
        text: form.need_text.trim().to_owned(),
        horizon_months: horizon,
        planned_utilisation_percent: percent,
    };
    apply(
        &app,
        &viewer,
        id,
        Command::Accept { need },
        "need_text",
        typed,
        |l| {
            format!(
                "You accepted {}. {} reviews it next.",
                l.facts.reference,
                l.facts.source_rir()
            )
        },
    )
    .await
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

async fn answer(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<AnswerForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        answer: form.answer.clone(),
        ..Default::default()
    };
    let step = TextStep {
        action: Action::AnswerInfo,
        field: "answer",
        label: "your answer",
    };
    step.apply(
        &app,
        &viewer,
        id,
        form.answer,
        typed,
        |text| Command::Answer { text },
        |l| {
            format!(
                "Your answer is with the hostmasters of {}.",
                l.facts.reference
            )
        },
    )
    .await
}

#[derive(Deserialize)]
struct ApproveForm {
    #[serde(default)]
    side: String,
    /// Warning rule ids, each followed by its reason in `reason` at the same position.
    #[serde(default)]
    rule: Vec<String>,
    #[serde(default)]
    reason: Vec<String>,
}

fn parse_side(s: &str) -> Result<Side, AppError> {
    match s {
        "source" => Ok(Side::Source),
        "recipient" => Ok(Side::Recipient),
        _ => Err(AppError::invalid(
            "Say which side you decide for (source or recipient).",
        )),
    }
}

async fn approve(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ApproveForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    authorize(&app, &viewer, id, Action::Decide { side }).await?;
    let mut errors = FormErrors::default();
    for r in &form.reason {
        forms::text(&mut errors, "override", r, "the reason", false, TEXT_MAX);
    }
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, Typed::default()).await;
    }
    let overrides = form
        .rule
        .iter()
        .zip(&form.reason)
        .filter(|(_, reason)| !reason.trim().is_empty())
        .map(|(rule_id, reason)| Override {
            rule_id: rule_id.clone(),
            reason: reason.trim().to_owned(),
        })
        .collect();
    apply(
        &app,
        &viewer,
        id,
        Command::Approve { side, overrides },
        "override",
        Typed::default(),
        move |l| {
            format!(
                "You approved the {} side of {}.",
                side.as_str(),
                l.facts.reference
            )
        },
    )
    .await
}

#[derive(Deserialize)]
struct RequestInfoForm {
    #[serde(default)]
    side: String,
    #[serde(default)]
    asked: String,
    #[serde(default)]
    question: String,
}

async fn request_info(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<RequestInfoForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    authorize(&app, &viewer, id, Action::Decide { side }).await?;
    let typed = Typed {
        question: form.question.clone(),
        ..Default::default()
    };
    let mut errors = FormErrors::default();
    let asked = match form.asked.as_str() {
        "source" => Some(Side::Source),
        "recipient" => Some(Side::Recipient),
        _ => {
            errors.add("asked", "Choose the organisation to ask");
            None
        }
    };
    forms::text(
        &mut errors,
        "question",
        &form.question,
        "your question",
        true,
        TEXT_MAX,
    );
    let (Some(asked), true) = (asked, errors.is_empty()) else {
        return invalid_form(&app, &viewer, id, errors, typed).await;
    };
    let question = form.question.trim().to_owned();
    apply(
        &app,
        &viewer,
        id,
        Command::RequestInfo {
            side,
            asked,
            question,
        },
        "question",
        typed,
        |l| format!("Your question on {} was sent.", l.facts.reference),
    )
    .await
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    side: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "pages/transfers/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    errors: FormErrors,
    id: i64,
    reference: String,
    heading: String,
    consequences: Vec<String>,
    action: String,
    button: String,
    danger: bool,
    side: String,
    asks_reason: bool,
    reason: String,
}

#[derive(Deserialize)]
struct SideQuery {
    side: Option<String>,
}

async fn confirm_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    what: &str,
    side: Option<Side>,
    errors: FormErrors,
    reason: String,
) -> Result<Html<String>, AppError> {
    let (l, access) = load_visible(app, viewer, id).await?;
    let f = &l.facts;
    let blocks: Vec<String> = f.blocks.iter().map(view::block_line).collect();
    let (allowed, heading, consequences, button, danger, asks_reason) = match (what, side) {
        ("withdraw", _) => (
            authz::can(&viewer.actor, Action::Withdraw, Some(&access)),
            format!("Withdraw transfer {}?", f.reference),
            vec![
                format!(
                    "The transfer of {} to {} stops for good.",
                    blocks.join("; "),
                    f.recipient.name
                ),
                "The recipient and the registries are told by e-mail.".into(),
                "To transfer these addresses later, file a new transfer.".into(),
            ],
            "Withdraw this transfer".to_owned(),
            true,
            false,
        ),
        ("reject", Some(side)) => (
            authz::can(&viewer.actor, Action::Decide { side }, Some(&access)),
            format!(
                "Reject transfer {} for {}?",
                f.reference,
                f.registry_of(side)
            ),
            vec![
                "The transfer ends: no address moves.".into(),
                format!(
                    "{} and {} see your reason, and are told by e-mail.",
                    f.source.name, f.recipient.name
                ),
            ],
            format!("Reject for {}", f.registry_of(side)),
            true,
            true,
        ),
        ("finalize", _) => (
            authz::can(&viewer.actor, Action::Finalize, Some(&access)),
            format!("Finalize transfer {}?", f.reference),
            if f.address_count() >= app.settings.four_eyes_addresses
                && matches!(
                    l.state,
                    WorkflowState::AwaitingFinalization {
                        first_finalizer: None,
                        ..
                    }
                )
            {
                vec![format!(
                    "This transfer moves {} addresses, so a second {} hostmaster must finalize after you. Nothing moves yet.",
                    view::total_addresses(&f.blocks),
                    f.source_rir()
                )]
            } else {
                vec![
                    format!(
                        "{} move from {} ({}) to {} ({}).",
                        blocks.join("; "),
                        f.source.name,
                        f.source_rir(),
                        f.recipient.name,
                        f.recipient_rir()
                    ),
                    "Each block is appended to the ledger; this cannot be undone.".into(),
                    "Both organisations and both registries are told by e-mail.".into(),
                ]
            },
            "Finalize the transfer".to_owned(),
            false,
            false,
        ),
        _ => return Err(AppError::NotFound("There is no such step.".into())),
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "You cannot {what} transfer {} now.",
            f.reference
        )));
    }
    render(&ConfirmPage {
        chrome: viewer.chrome(app).await?,
        errors,
        id,
        reference: f.reference.clone(),
        heading,
        consequences,
        action: format!("/transfers/{id}/{what}"),
        button,
        danger,
        side: side.map(Side::as_str).unwrap_or_default().to_owned(),
        asks_reason,
        reason,
    })
}

async fn confirm_withdraw(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    confirm_page(
        &app,
        &viewer,
        id,
        "withdraw",
        None,
        FormErrors::default(),
        String::new(),
    )
    .await
}

async fn confirm_reject(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<SideQuery>,
) -> Result<Html<String>, AppError> {
    let side = parse_side(q.side.as_deref().unwrap_or_default())?;
    confirm_page(
        &app,
        &viewer,
        id,
        "reject",
        Some(side),
        FormErrors::default(),
        String::new(),
    )
    .await
}

async fn confirm_finalize(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    confirm_page(
        &app,
        &viewer,
        id,
        "finalize",
        None,
        FormErrors::default(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
struct Empty {}

async fn withdraw(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(
        &app,
        &viewer,
        id,
        Action::Withdraw,
        Command::Withdraw,
        "withdraw",
        |l| format!("You withdrew {}.", l.facts.reference),
    )
    .await
}

async fn reject(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let side = parse_side(&form.side)?;
    authorize(&app, &viewer, id, Action::Decide { side }).await?;
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "reason",
        &form.reason,
        "the reason for rejecting",
        true,
        TEXT_MAX,
    );
    if !errors.is_empty() {
        let page =
            confirm_page(&app, &viewer, id, "reject", Some(side), errors, form.reason).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let reason = form.reason.trim().to_owned();
    let typed = Typed {
        reason: reason.clone(),
        ..Default::default()
    };
    apply(
        &app,
        &viewer,
        id,
        Command::Reject { side, reason },
        "reject",
        typed,
        |l| {
            format!(
                "You rejected {}. Both organisations are told why.",
                l.facts.reference
            )
        },
    )
    .await
}

async fn confirm_fees(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(
        &app,
        &viewer,
        id,
        Action::ConfirmFees,
        Command::ConfirmFees,
        "fees",
        |l| match l.state {
            WorkflowState::AwaitingFinalization {
                fees_confirmed: true,
                ..
            } => format!(
                "Fees of {} confirmed. It can be finalized now.",
                l.facts.reference
            ),
            _ => format!(
                "Your registry's fees of {} are confirmed; the other registry confirms its own.",
                l.facts.reference
            ),
        },
    )
    .await
}

#[derive(Deserialize)]
struct ExceptionForm {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    reason: String,
}

/// Records that a policy exception applies (ARIN-2020-6), with the hostmaster's reason.
async fn record_exception(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ExceptionForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        reason: form.reason.clone(),
        ..Typed::default()
    };
    let mut errors = FormErrors::default();
    forms::text(
        &mut errors,
        "exception",
        &form.reason,
        "why the exception applies",
        true,
        TEXT_MAX,
    );
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, typed).await;
    }
    let now = app.clock.now();
    match transfers::record_exception(
        &app.db,
        &app.settings,
        &viewer.actor,
        id,
        &form.rule,
        &form.reason,
        now,
    )
    .await
    {
        Ok(()) => {
            viewer
                .flash("The exception is recorded; its finding no longer blocks approval.")
                .await?;
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refuse(&app, &viewer, id, "exception", m, typed, status).await
        }
        Err(AppError::Conflict(m)) => {
            refuse(
                &app,
                &viewer,
                id,
                "exception",
                m,
                typed,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn finalize(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    button_step(
        &app,
        &viewer,
        id,
        Action::Finalize,
        Command::Finalize,
        "finalize",
        |l| {
            if l.state == WorkflowState::Completed {
                format!(
                    "{} is complete: the addresses moved and the ledger has the entries.",
                    l.facts.reference
                )
            } else {
                format!(
                    "You finalized {} once. A second hostmaster must finalize it too.",
                    l.facts.reference
                )
            }
        },
    )
    .await
}

async fn dispute(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, form }: CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let typed = Typed {
        reason: form.reason.clone(),
        ..Default::default()
    };
    let step = TextStep {
        action: Action::MarkDisputed,
        field: "dispute_reason",
        label: "what is disputed",
    };
    step.apply(
        &app,
        &viewer,
        id,
        form.reason,
        typed,
        |reason| Command::MarkDisputed { reason },
        |l| {
            format!(
                "{} is marked disputed; nothing moves until it is resolved.",
                l.facts.reference
            )
        },
    )
    .await
}

async fn resolve_dispute(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let step = Command::ResolveDispute;
    button_step(
        &app,
        &viewer,
        id,
        Action::ResolveDispute,
        step,
        "dispute_reason",
        |l| {
            format!(
                "The dispute over {} is resolved; it awaits finalization again.",
                l.facts.reference
            )
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Documents

async fn upload(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
    Multipart(multipart): Multipart,
) -> Result<Response, AppError> {
    authorize(&app, &viewer, id, Action::UploadDocument).await?;
    let (fields, files) = read_multipart(&viewer, multipart).await?;
    let mut errors = FormErrors::default();
    let Some((_, mut u)) = files.into_iter().next() else {
        errors.add("document", "Choose a file to upload");
        return invalid_form(&app, &viewer, id, errors, Typed::default()).await;
    };
    u.kind = fields
        .get("kind")
        .and_then(|k| DocumentKind::parse(k))
        .unwrap_or(DocumentKind::Other);
    check_upload(&mut errors, "document", &u);
    if !errors.is_empty() {
        return invalid_form(&app, &viewer, id, errors, Typed::default()).await;
    }
    match documents::attach(
        &app.db,
        &viewer.actor,
        id,
        u.kind,
        &u.filename,
        &u.bytes,
        app.clock.now(),
    )
    .await
    {
        Ok(_) => {
            viewer.flash(format!("{} is attached.", u.filename)).await?;
            Ok(Redirect::to(&format!("/transfers/{id}")).into_response())
        }
        Err(AppError::Invalid(m)) => {
            refuse(
                &app,
                &viewer,
                id,
                "document",
                m,
                Typed::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn download(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    load_visible(&app, &viewer, id).await?;
    let d = document::Entity::find_by_id(doc)
        .filter(document::Column::TransferId.eq(id))
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Transfer {id} has no document {doc}.")))?;
    // The name is the uploader's: keep only safe characters in the header.
    let safe: String = d
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, d.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        d.content,
    )
        .into_response())
}
