//! The transfer page: parties, blocks, findings, fees, holdings, documents, the timeline and
//! the viewer's actions, from one read of the transfer's details.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use rust_decimal::Decimal;

use crate::db::transfers::{Details, HeldBy, Loaded};
use crate::domain::authz::{self, Action, Role, TransferAccess};
use crate::domain::fees::format_amount;
use crate::domain::finding::{Severity, UNCONFIRMED_NOTE};
use crate::domain::format::{group_thousands, utc_minute};
use crate::domain::policy;
use crate::domain::timeline::TimelineEvent;
use crate::domain::transfer::DocumentKind;
use crate::domain::workflow::State as WorkflowState;
use crate::domain::{Side, TransferType};
use crate::error::AppError;
use crate::services::transfer_access as access;
use crate::web::AppState;
use crate::web::auth::{SignedIn, Viewer};
use crate::web::extract::Path;
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render};
use crate::web::view::{self, Parties, Tag};

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
pub(super) struct Typed {
    pub(super) need_text: String,
    pub(super) horizon_months: String,
    pub(super) utilisation_percent: String,
    pub(super) answer: String,
    pub(super) question: String,
    pub(super) reason: String,
}

/// An organisation as people read it: its name and registry; the registry's opaque id is
/// secondary (shown small, under the name).
pub(super) struct OrgView {
    pub(super) name: String,
    pub(super) registry: String,
    pub(super) handle: String,
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
pub(super) async fn load_visible(
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

pub(super) async fn show_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: FormErrors,
    typed: Typed,
) -> Result<Html<String>, AppError> {
    let is_hostmaster = matches!(viewer.actor.role, Role::Hostmaster { .. } | Role::Auditor);
    let (view, access) = crate::web::cache::transfer(app, viewer, id, is_hostmaster).await?;
    let Details {
        transfer: l,
        handles,
        overrides,
        documents,
        fees: fee_rows,
        history,
        holdings,
    } = &view.details;
    let findings = &view.findings;
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
    let holdings = holdings
        .iter()
        .flatten()
        .map(|HeldBy { holding: h, holder }| HoldingView {
            range: view::block_line(&h.range),
            holder: holder.clone(),
            registry: h.registry.to_string(),
            since: h
                .received_on
                .or(h.registered_on)
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unknown".into()),
            origin: h.origin.as_str().replace('_', " "),
        })
        .collect();
    let documents = documents
        .iter()
        .map(|d| DocumentView {
            id: d.id,
            kind: document_kind_label(&d.kind),
            filename: d.filename.clone(),
            size: format!(
                "{} bytes",
                group_thousands(u64::try_from(d.size_bytes).unwrap_or(0))
            ),
            sha256: d.sha256.clone(),
            uploaded: utc_minute(d.uploaded_at),
        })
        .collect();
    // Each registry confirms its own lines: the button is offered to one with unpaid lines, or,
    // when nobody bills anything, to either registry.
    if let Role::Hostmaster { registry } = viewer.actor.role {
        let own: Vec<_> = fee_rows
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
        .iter()
        .map(|x| FeeView {
            registry: view::registry_name(&x.registry),
            payer: x.payer.clone(),
            description: x.description.clone(),
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
        .iter()
        .map(|e| EventView {
            when: utc_minute(e.created_at),
            what: event_label(&e.event),
            who: e.actor_label.clone(),
            comment: e.comment.clone().unwrap_or_default(),
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
            handle: handle(f.source.id.get()),
        },
        recipient: OrgView {
            name: f.recipient.name.clone(),
            registry: f.recipient_rir().to_string(),
            handle: handle(f.recipient.id.get()),
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

pub(super) async fn show(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    show_page(&app, &viewer, id, FormErrors::default(), Typed::default()).await
}
