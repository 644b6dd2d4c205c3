//! What the API answers about transfers: a summary per transfer, and the detail of one read
//! with `transfer_access::details`, as the transfer page reads it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::db::transfers::Loaded;
use crate::domain::Side;
use crate::domain::authz::{self, Action, Actor, TransferAccess};
use crate::domain::finding::Finding;
use crate::services::transfer_access::{self as access, DocumentInfo};
use crate::services::transfers::{self};
use crate::web::AppState;
use crate::web::api::problem::ApiError;
use crate::web::view;

/// An organisation taking part in a transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Party {
    pub org_id: i64,
    pub name: String,
    /// The organisation's registry (NRO name: AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC).
    pub registry: String,
}

/// A transfer as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferSummary {
    pub id: i64,
    /// `TX-2026-000012`.
    pub reference: String,
    /// The workflow state: awaiting_recipient, source_review, recipient_review,
    /// info_requested, awaiting_finalization, disputed, completed, rejected, withdrawn, expired.
    pub state: String,
    /// The state in words, as the pages' tags say it.
    pub status: String,
    /// The NRO transfer-log status, where one applies.
    pub nro_status: Option<String>,
    /// RESOURCE_TRANSFER or MERGER_ACQUISITION.
    pub kind: String,
    pub inter_rir: bool,
    pub source: Party,
    pub recipient: Party,
    /// The blocks, in CIDR or range notation.
    pub blocks: Vec<String>,
    pub addresses: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub filed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// When the step waited for expires, if it does.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<OffsetDateTime>,
    /// The steps the token's owner may take now: accept, answer, withdraw, approve_source,
    /// approve_recipient, confirm_fees, finalize, upload_document.
    pub actions: Vec<String>,
}

/// A page of transfers, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferSummary>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A page of a registry's queue, oldest waiting first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<TransferSummary>,
    /// Every step waiting on the registry, on this page or another.
    pub waiting: u64,
    /// Those past the registry's service level.
    pub overdue: u64,
    /// Pass as `after` for the next page (steps waiting less long); absent on the last page.
    #[schema(example = "1796032800123456000.42")]
    pub next_after: Option<String>,
}

/// An agreed price.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Price {
    /// A decimal number with at most 4 decimals, such as `45000.00`.
    pub amount: String,
    /// A three-letter currency code, such as `USD`.
    pub currency: String,
}

/// What the recipient said the addresses are for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Need {
    pub text: String,
    pub horizon_months: Option<u32>,
    pub utilisation_percent: Option<u32>,
}

/// One fee a registry charges.
#[derive(Debug, Serialize, ToSchema)]
pub struct Fee {
    pub registry: String,
    /// `source` or `recipient`.
    pub payer: String,
    pub description: String,
    pub amount: String,
    pub currency: String,
}

/// A registry policy finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOut {
    /// `source` or `recipient`.
    pub side: String,
    /// `blocking`, `warning` or `info`.
    pub severity: String,
    pub rule_id: String,
    pub message: String,
    pub citation: String,
    /// The hostmaster's reason, when a warning was overridden.
    pub override_reason: Option<String>,
}

/// One event of the transfer's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The event's name, such as `approved_source`.
    pub event: String,
    /// The event in words, as the timeline says it.
    pub what: String,
    pub who: String,
    pub comment: Option<String>,
}

/// A document attached to a transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    pub id: i64,
    /// `transfer_agreement`, `company_registration` or `other`.
    pub kind: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: OffsetDateTime,
}

/// A transfer with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferDetail {
    #[serde(flatten)]
    pub summary: TransferSummary,
    /// Confidential to the parties, their registries and auditors.
    pub price: Option<Price>,
    pub need: Option<Need>,
    pub fees: Vec<Fee>,
    pub fees_confirmed: bool,
    /// Both registries' findings as they stand (none once the transfer has ended).
    pub findings: Vec<FindingOut>,
    pub documents: Vec<DocumentOut>,
    pub events: Vec<EventOut>,
}

/// The steps the actor may take now, by name.
fn actions_of(actor: &Actor, access: &TransferAccess) -> Vec<String> {
    let candidates = [
        (Action::AcceptAsRecipient, "accept"),
        (Action::AnswerInfo, "answer"),
        (Action::Withdraw, "withdraw"),
        (Action::Decide { side: Side::Source }, "approve_source"),
        (
            Action::Decide {
                side: Side::Recipient,
            },
            "approve_recipient",
        ),
        (Action::ConfirmFees, "confirm_fees"),
        (Action::Finalize, "finalize"),
        (Action::UploadDocument, "upload_document"),
    ];
    candidates
        .into_iter()
        .filter(|(a, _)| authz::can(actor, *a, Some(access)))
        .map(|(_, name)| name.to_owned())
        .collect()
}

pub(super) fn summary(actor: &Actor, l: &Loaded) -> TransferSummary {
    let f = &l.facts;
    let access = TransferAccess::new(f, l.state.clone());
    let party = |o: &crate::domain::transfer::OrgFacts| Party {
        org_id: o.id.get(),
        name: o.name.clone(),
        registry: o.registry.nro_name().to_owned(),
    };
    TransferSummary {
        id: f.id.get(),
        reference: f.reference.clone(),
        state: l.state.to_parts().0.to_owned(),
        status: view::state_tag(&l.state).word.to_owned(),
        nro_status: l
            .state
            .nro_status(f.is_inter_rir())
            .map(|s| s.as_str().to_owned()),
        kind: f.kind.nro_name().to_owned(),
        inter_rir: f.is_inter_rir(),
        source: party(&f.source),
        recipient: party(&f.recipient),
        blocks: f.blocks.iter().map(ToString::to_string).collect(),
        addresses: f.address_count(),
        filed_at: l.row.filed_at,
        updated_at: l.row.updated_at,
        deadline: l.row.deadline,
        actions: actions_of(actor, &access),
    }
}

pub(super) async fn detail(
    app: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<TransferDetail, ApiError> {
    let (d, _) = access::details(&app.db, actor, id, false).await?;
    let l = &d.transfer;
    let now = app.clock.now();
    let findings: Vec<Finding> = if l.state.is_terminal() {
        Vec::new()
    } else {
        transfers::findings_of(&app.db, &app.settings, l, None, now).await?
    };
    let price = match (&l.row.agreed_price, &l.row.price_currency) {
        (Some(amount), Some(currency)) if access::sees_price(actor) => Some(Price {
            amount: amount.clone(),
            currency: currency.clone(),
        }),
        _ => None,
    };
    Ok(TransferDetail {
        price,
        need: l.facts.need.as_ref().map(|n| Need {
            text: n.text.clone(),
            horizon_months: n.horizon_months,
            utilisation_percent: n.planned_utilisation_percent,
        }),
        fees: d
            .fees
            .into_iter()
            .map(|x| Fee {
                registry: view::registry_name(&x.registry),
                payer: x.payer,
                description: x.description,
                amount: x.amount,
                currency: x.currency,
            })
            .collect(),
        fees_confirmed: l.row.fees_confirmed_by.is_some(),
        findings: findings
            .iter()
            .map(|x| FindingOut {
                side: x.side.as_str().to_owned(),
                severity: x.severity.as_str().to_owned(),
                rule_id: x.rule_id.clone(),
                message: x.message.clone(),
                citation: x.citation.clone(),
                override_reason: d
                    .overrides
                    .iter()
                    .find(|o| o.rule_id == x.rule_id)
                    .map(|o| o.reason.clone()),
            })
            .collect(),
        documents: d.documents.into_iter().map(DocumentOut::from).collect(),
        events: d
            .history
            .into_iter()
            .map(|e| EventOut {
                at: e.created_at,
                what: crate::web::transfers::event_label(&e.event),
                event: e.event,
                who: e.actor_label,
                comment: e.comment,
            })
            .collect(),
        summary: summary(actor, l),
    })
}

impl From<DocumentInfo> for DocumentOut {
    fn from(d: DocumentInfo) -> Self {
        DocumentOut {
            id: d.id,
            kind: d.kind,
            filename: d.filename,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
        }
    }
}
