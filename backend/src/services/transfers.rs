//! Transfer use cases: file, then every workflow event (accept, decide, answer, withdraw,
//! confirm fees, finalize, dispute) and the expiry of overdue deadlines.
//!
//! Each runs in one write transaction: take the transfer's lock (version bump), load, authorize
//! with `authz::can`, evaluate policy, apply the pure workflow, then persist the new state, a
//! history row, overrides, holdings and ledger entries, and outbox e-mails together. A failure at
//! any point rolls everything back.

use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
};
use time::{Duration, OffsetDateTime, Time};

use crate::db::entities::organisation;
use crate::db::holdings as holdings_db;
use crate::db::outbox;
use crate::db::transfer_store::{
    self as store, History, NewException, NewTransfer, StateWrite, record_event,
};
use crate::db::transfers::{self as transfers_db, Loaded, Record};
use crate::db::{self, ledger as ledger_db};
use crate::domain::authz::{self, Action, Actor, Role, TransferAccess};

use crate::config::Settings;
use crate::domain::currency::Currency;
use crate::domain::fees;
use crate::domain::ledger::{
    self, EntryKind, HoldingRecord, LedgerEntry, LedgerParty, MoveError, MoveTo, Movement,
};
use crate::domain::policy::{self, PolicyInput, Stage};
use crate::domain::timeline::TimelineEvent;
use crate::domain::transfer::{HoldingFacts, HoldingOrigin, NeedJustification, TransferFacts};
use crate::domain::transfer::{OrgId, TransferId, UserId};
use crate::domain::workflow::{
    self, DeadlineKind, Effect, Event, Override, State, Transition, WorkflowContext, WorkflowError,
};
use crate::domain::{Finding, Ipv4Range, Rir, Side, TransferType};
use crate::error::{AppError, AppResult};
use crate::services::accounts::actor_label;
use crate::services::documents::{self, NewDocument};
use crate::services::notifications;
use crate::services::transfer_access::{lock_and_load, not_found, not_yours};

/// The reference a transfer holds while it is filed, before its id is known: random, so
/// filings of several processes on one database never collide, and within the column's 32
/// characters (a per-process counter after a timestamp outgrew them at the 10,000th filing,
/// which PostgreSQL refuses and SQLite does not check).
fn placeholder_reference() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 10];
    rand_core::OsRng.fill_bytes(&mut bytes);
    format!("pending-{}", hex::encode(bytes))
}

/// A filing by a member of the source organisation.
#[derive(Debug, Clone)]
pub struct Filing {
    pub source_org_id: i64,
    pub recipient_org_id: i64,
    pub kind: TransferType,
    pub blocks: Vec<Ipv4Range>,
    /// Optional agreed price and its ISO currency: confidential to parties, registries, auditors.
    pub agreed_price: Option<(Decimal, Currency)>,
}

/// What a person asks to do with a transfer.
#[derive(Debug, Clone)]
pub enum Command {
    Accept {
        need: NeedJustification,
    },
    Approve {
        side: Side,
        overrides: Vec<Override>,
    },
    Reject {
        side: Side,
        reason: String,
    },
    RequestInfo {
        side: Side,
        asked: Side,
        question: String,
    },
    Answer {
        text: String,
    },
    Withdraw,
    ConfirmFees,
    Finalize,
    MarkDisputed {
        reason: String,
    },
    ResolveDispute,
}

impl Command {
    fn action(&self) -> Action {
        match self {
            Command::Accept { .. } => Action::AcceptAsRecipient,
            Command::Approve { side, .. }
            | Command::Reject { side, .. }
            | Command::RequestInfo { side, .. } => Action::Decide { side: *side },
            Command::Answer { .. } => Action::AnswerInfo,
            Command::Withdraw => Action::Withdraw,
            Command::ConfirmFees => Action::ConfirmFees,
            Command::Finalize => Action::Finalize,
            Command::MarkDisputed { .. } => Action::MarkDisputed,
            Command::ResolveDispute => Action::ResolveDispute,
        }
    }

    /// The event for the workflow and the comment for the timeline.
    fn event(&self, user_id: i64) -> (Event, Option<String>) {
        match self.clone() {
            Command::Accept { need } => (Event::RecipientAccept, Some(need.text)),
            Command::Approve { side, overrides } => {
                let comment = overrides
                    .iter()
                    .map(|o| format!("override {}: {}", o.rule_id, o.reason))
                    .collect::<Vec<_>>()
                    .join("\n");
                (
                    Event::Approve { side, overrides },
                    (!comment.is_empty()).then_some(comment),
                )
            }
            Command::Reject { side, reason } => (
                Event::Reject {
                    side,
                    reason: reason.clone(),
                },
                Some(reason),
            ),
            Command::RequestInfo {
                side,
                asked,
                question,
            } => (
                Event::RequestInfo {
                    side,
                    asked,
                    question: question.clone(),
                },
                Some(question),
            ),
            Command::Answer { text } => (Event::AnswerInfo, Some(text)),
            Command::Withdraw => (Event::Withdraw, None),
            Command::ConfirmFees => (
                Event::ConfirmFees {
                    by: UserId(user_id),
                },
                None,
            ),
            Command::Finalize => (
                Event::Finalize {
                    by: UserId(user_id),
                },
                None,
            ),
            Command::MarkDisputed { reason } => (
                Event::MarkDisputed {
                    reason: reason.clone(),
                },
                Some(reason),
            ),
            Command::ResolveDispute => (Event::ResolveDispute, None),
        }
    }
}

/// What an applied event did, with what the page that asked for it says next: a step reads its
/// transfer once, in its transaction.
#[derive(Debug, Clone)]
pub struct Applied {
    pub reference: String,
    pub source_rir: Rir,
    /// The state the transfer is in now.
    pub state: State,
    /// Ledger entries appended (finalization only).
    pub ledger_entries: Vec<LedgerEntry>,
}

fn access(l: &Loaded) -> TransferAccess {
    TransferAccess::new(&l.facts, l.state.clone())
}

/// Evaluates policy for a transfer as it stands.
async fn evaluate(
    conn: &impl ConnectionTrait,
    settings: &Settings,
    facts: &TransferFacts,
    stage: Stage,
    now: OffsetDateTime,
) -> AppResult<Vec<Finding>> {
    Ok(evaluate_many(conn, settings, &[(facts, stage)], None, now)
        .await?
        .pop()
        .unwrap_or_default())
}

/// Evaluates policy for several transfers (a page of a queue) with one read of the holdings and
/// one of the claims in flight for all of them. `holdings`, when the caller read them already
/// (`transfers_db::details`), are the holdings touching each transfer's blocks.
async fn evaluate_many(
    conn: &impl ConnectionTrait,
    settings: &Settings,
    transfers: &[(&TransferFacts, Stage)],
    holdings: Option<Vec<Vec<HoldingFacts>>>,
    now: OffsetDateTime,
) -> AppResult<Vec<Vec<Finding>>> {
    // One list per transfer, or the findings would be paired with other transfers' holdings.
    if let Some(h) = &holdings
        && h.len() != transfers.len()
    {
        return Err(AppError::Internal(anyhow::anyhow!(
            "policy was given holdings for {} transfers, not {}",
            h.len(),
            transfers.len()
        )));
    }
    let blocks: Vec<&[Ipv4Range]> = transfers.iter().map(|(f, _)| f.blocks.as_slice()).collect();
    // At finalization the holdings registry itself decides who may move the addresses; other
    // transfers still in flight over them will fail on `source.holder` once this one completes.
    let claimed: Vec<(Option<i64>, &[Ipv4Range])> = transfers
        .iter()
        .map(|(f, stage)| match stage {
            Stage::Finalization => (None, &[][..]),
            _ => (Some(f.id.get()).filter(|id| *id > 0), f.blocks.as_slice()),
        })
        .collect();
    // Sources whose registry holds the source rather than the block (ARIN, AFRINIC): what they
    // received within the longest period that applies.
    let today = now.date();
    let mut receipt_orgs = Vec::new();
    let mut since = today;
    for (facts, _) in transfers {
        let hold = &settings.profiles.get(facts.source_rir()).holding_period;
        if hold.any_receipt {
            receipt_orgs.push(facts.source.id.get());
            let months = hold.months.max(hold.registry_issued_months.unwrap_or(0));
            since = since.min(policy::months_before(today, months));
        }
    }
    let ids: Vec<i64> = transfers
        .iter()
        .map(|(f, _)| f.id.get())
        .filter(|id| *id > 0)
        .collect();
    let read = transfers_db::rule_reads(
        conn,
        holdings.is_none().then_some(blocks.as_slice()),
        &claimed,
        (&receipt_orgs, since),
        &ids,
    )
    .await?;
    let holdings = match (holdings, read.holdings) {
        (Some(given), _) => given,
        (None, Some(read)) => read,
        (None, None) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the holdings the rules need were not read"
            )));
        }
    };
    let (in_flight, receipts, exceptions) = (read.in_flight, read.receipts, read.exceptions);
    Ok(transfers
        .iter()
        .zip(holdings.iter().zip(&in_flight))
        .map(|((facts, stage), (holdings, in_flight))| {
            let source_receipts: Vec<_> = receipts
                .iter()
                .filter(|h| h.org_id == facts.source.id)
                .cloned()
                .collect();
            let input = PolicyInput {
                transfer: facts,
                source_holdings: holdings,
                in_flight,
                source_receipts: &source_receipts,
                exceptions: exceptions.get(&facts.id.get()).map_or(&[], Vec::as_slice),
                today,
                stage: *stage,
            };
            policy::evaluate(&input, &settings.profiles)
        })
        .collect())
}

/// Findings of both registries for a transfer, as a reviewer sees them now.
pub async fn findings(
    db: &DatabaseConnection,
    settings: &Settings,
    id: i64,
    now: OffsetDateTime,
) -> AppResult<Vec<Finding>> {
    let l = transfers_db::load(db, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    findings_of(db, settings, &l, None, now).await
}

/// Findings of a transfer already loaded; `holdings` are those touching its blocks when the
/// caller has read them already (the transfer page's "held by" panel), else they are read.
pub async fn findings_of(
    db: &DatabaseConnection,
    settings: &Settings,
    l: &Loaded,
    holdings: Option<Vec<HoldingFacts>>,
    now: OffsetDateTime,
) -> AppResult<Vec<Finding>> {
    let stage = stage_of(&l.state);
    Ok(evaluate_many(
        db,
        settings,
        &[(&l.facts, stage)],
        holdings.map(|h| vec![h]),
        now,
    )
    .await?
    .pop()
    .unwrap_or_default())
}

/// The policy stage a transfer's state is checked at.
fn stage_of(state: &State) -> Stage {
    match state {
        State::AwaitingRecipient => Stage::Filing,
        State::AwaitingFinalization { .. } => Stage::Finalization,
        _ => Stage::Review,
    }
}

/// Findings of a page of loaded transfers (a queue), with a constant number of queries.
pub async fn findings_of_many(
    db: &DatabaseConnection,
    settings: &Settings,
    loaded: &[Loaded],
    now: OffsetDateTime,
) -> AppResult<Vec<Vec<Finding>>> {
    let transfers: Vec<(&TransferFacts, Stage)> = loaded
        .iter()
        .map(|l| (&l.facts, stage_of(&l.state)))
        .collect();
    evaluate_many(db, settings, &transfers, None, now).await
}

fn workflow_error(e: WorkflowError) -> AppError {
    match e {
        WorkflowError::BlockingFindings(findings) => AppError::Conflict(format!(
            "blocked by policy: {}",
            findings
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )),
        WorkflowError::UnjustifiedWarnings(_)
        | WorkflowError::MissingReason(_)
        | WorkflowError::MissingNeedJustification => AppError::Invalid(e.to_string()),
        other => AppError::Conflict(other.to_string()),
    }
}

/// A refusal in the words of the policy that causes it: what to write, not which rule id.
fn explain(
    e: WorkflowError,
    command: &Command,
    facts: &TransferFacts,
    findings: &[Finding],
    settings: &Settings,
) -> AppError {
    match e {
        WorkflowError::UnjustifiedWarnings(rule_ids) => {
            let warnings: Vec<&str> = findings
                .iter()
                .filter(|f| rule_ids.contains(&f.rule_id))
                // An inter-RIR approval answers for its own side; the one intra-RIR review for both.
                .filter(|f| match command {
                    Command::Approve { side, .. } if facts.is_inter_rir() => f.concerns(*side),
                    _ => true,
                })
                .map(|f| f.message.as_str())
                .collect();
            AppError::Invalid(format!(
                "to approve, give a written reason for overriding each warning: {}",
                warnings.join("; ")
            ))
        }
        WorkflowError::MissingNeedJustification => {
            match policy::need_requirement(facts, &settings.profiles) {
                Some(r) => AppError::Invalid(format!(
                    "{}: to accept, {} must give {}",
                    r.citation,
                    facts.recipient.name,
                    r.phrase()
                )),
                None => workflow_error(e),
            }
        }
        other => workflow_error(other),
    }
}

/// Files a transfer for the actor's organisation. Blocking findings at filing (the source does
/// not hold a block, it is in another transfer, it is special-purpose, ...) refuse the filing
/// with the rules' messages; nothing is stored.
pub async fn file(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    filing: Filing,
    now: OffsetDateTime,
) -> AppResult<i64> {
    file_with_documents(db, settings, actor, filing, Vec::new(), now).await
}

/// [`file`] with the documents sent along, all in one transaction: a document that is refused
/// (checked before anything is written) refuses the filing, and nothing is stored or e-mailed.
pub async fn file_with_documents(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    filing: Filing,
    documents: Vec<NewDocument>,
    now: OffsetDateTime,
) -> AppResult<i64> {
    let content_types = documents
        .iter()
        .map(|d| documents::check_document(&d.filename, &d.bytes))
        .collect::<AppResult<Vec<_>>>()?;
    match actor.role {
        Role::Member { org_id }
            if org_id == OrgId(filing.source_org_id)
                && authz::can(actor, Action::FileTransfer, None) => {}
        _ => {
            return Err(AppError::Forbidden(
                "only members of the source organisation may file its transfers".into(),
            ));
        }
    }
    if filing.blocks.is_empty() {
        return Err(AppError::invalid("list at least one block to transfer"));
    }
    if filing.blocks.len() > settings.max_blocks {
        return Err(AppError::invalid(format!(
            "a transfer may list at most {} blocks",
            settings.max_blocks
        )));
    }
    let mut sorted = filing.blocks.clone();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0].overlaps(&w[1])) {
        return Err(AppError::invalid(format!(
            "{} and {} overlap: list each address once",
            w[0], w[1]
        )));
    }
    if let Some((price, _)) = &filing.agreed_price
        && price.is_sign_negative()
    {
        return Err(AppError::invalid("the agreed price must be zero or more"));
    }

    let txn = db::begin_write(db).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Competing filings over the same holdings queue here, so the in-flight check below
        // sees every filing committed before it.
        for block in &sorted {
            holdings_db::lock_overlapping(&txn, *block).await?;
        }
    }
    let org = |id: i64| {
        let txn = &txn;
        async move {
            crate::db::organisations::by_id(txn, id)
                .await?
                .ok_or_else(|| AppError::invalid(format!("there is no organisation {id}")))
        }
    };
    let source = crate::db::organisations::to_facts(&org(filing.source_org_id).await?)?;
    let recipient = crate::db::organisations::to_facts(&org(filing.recipient_org_id).await?)?;
    let facts = TransferFacts {
        id: TransferId(0),
        reference: String::new(),
        kind: filing.kind,
        source,
        recipient,
        blocks: sorted,
        need: None,
        documents: Vec::new(),
    };
    let blocking: Vec<Finding> = evaluate(&txn, settings, &facts, Stage::Filing, now)
        .await?
        .into_iter()
        .filter(Finding::is_blocking)
        .collect();
    if !blocking.is_empty() {
        return Err(AppError::Invalid(
            blocking
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }

    let transition = workflow::filed();
    let new = NewTransfer {
        facts: &facts,
        state: &transition.next,
        deadline: deadline_after(&transition.effects, None, settings, now),
        agreed_price: filing.agreed_price.as_ref(),
        filed_by: actor.user_id.map(UserId::get),
    };
    let placeholder = placeholder_reference();
    let reference = |id: i64| format!("TX-{}-{:06}", now.year(), id);
    let (id, reference, row) = store::insert(&txn, new, placeholder, reference, now).await?;
    let facts = TransferFacts {
        id: TransferId(id),
        reference,
        ..facts
    };
    let lines = fees::invoice(&facts, |rir| &settings.profiles.get(rir).fees);
    store::insert_fee_lines(&txn, id, &lines).await?;
    let (user_id, label) = actor_label(&txn, actor).await?;
    let history = History {
        event: TimelineEvent::Filed,
        actor: Some(user_id),
        label,
        comment: None,
    };
    let state_name = transition.next.as_str();
    let event_id = record_event(&txn, id, None, state_name, history.clone(), now).await?;
    for (doc, content_type) in documents.iter().zip(content_types) {
        let who = (user_id, history.label.clone());
        documents::store(&txn, id, state_name, doc, content_type, who, now).await?;
    }
    let loaded = Loaded {
        row,
        facts,
        state: transition.next.clone(),
    };
    perform(
        &txn,
        settings,
        &loaded,
        &transition.effects,
        event_id,
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Applies a person's command to a transfer.
pub async fn act(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    id: i64,
    command: Command,
    now: OffsetDateTime,
) -> AppResult<Applied> {
    apply_command(db, settings, actor, id, command, now, false).await
}

/// [`act`] for a step a person takes from a page or the API: a step that is not theirs to take
/// is refused first, in the words of [`not_yours`], as `transfer_access::authorize` refuses it
/// before their input is checked. The caller needs no read of its own: the transfer is loaded
/// once, under its lock.
pub async fn take_step(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    id: i64,
    command: Command,
    now: OffsetDateTime,
) -> AppResult<Applied> {
    apply_command(db, settings, actor, id, command, now, true).await
}

async fn apply_command(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    id: i64,
    command: Command,
    now: OffsetDateTime,
    step_first: bool,
) -> AppResult<Applied> {
    let txn = db::begin_write(db).await?;
    let mut l = lock_and_load(&txn, id).await?;
    if !authz::can(actor, Action::ViewTransfer, Some(&access(&l))) {
        return Err(not_found(id));
    }
    if step_first && !authz::can(actor, command.action(), Some(&access(&l))) {
        return Err(not_yours(&l));
    }
    let (user_id, label) = actor_label(&txn, actor).await?;
    if let Command::Accept { need } = &command {
        l.facts.need = Some(need.clone());
    }
    let stage = if matches!(command, Command::Finalize) {
        Stage::Finalization
    } else {
        Stage::Review
    };
    let findings = evaluate(&txn, settings, &l.facts, stage, now).await?;
    let (event, comment) = command.event(user_id);
    let ctx = WorkflowContext {
        inter_rir: l.facts.is_inter_rir(),
        findings,
        large_transfer: l.facts.address_count() >= settings.four_eyes_addresses,
        need_required: policy::need_requirement(&l.facts, &settings.profiles).is_some(),
        need: l.facts.need.clone(),
    };
    let transition = workflow::apply(&ctx, &l.state, &event);
    if !authz::can(actor, command.action(), Some(&access(&l))) {
        // Someone who may see the transfer learns why the step is not open (already rejected,
        // they finalized first); otherwise it is simply not theirs to take.
        return Err(match transition {
            Err(
                e @ (WorkflowError::NotAllowed { .. }
                | WorkflowError::SecondFinalizerRequired { .. }
                | WorkflowError::FeesAlreadyConfirmed),
            ) => workflow_error(e),
            _ => AppError::Forbidden(format!(
                "you may not {} transfer {}",
                describe_action(command.action()),
                l.facts.reference
            )),
        });
    }
    let transition =
        transition.map_err(|e| explain(e, &command, &l.facts, &ctx.findings, settings))?;
    // Each registry confirms its own fee lines; the fees are confirmed once every registry that
    // bills something has.
    let mut comment = comment;
    if matches!(command, Command::ConfirmFees) {
        let (all_paid, said) = confirm_registry_fees(&txn, actor, &l, user_id, now).await?;
        if !all_paid {
            let history = History {
                event: TimelineEvent::FeesPaid,
                actor: Some(user_id),
                label,
                comment: Some(said),
            };
            let state = l.state.as_str();
            record_event(&txn, id, Some(state), state, history, now).await?;
            txn.commit().await?;
            return Ok(Applied {
                reference: l.facts.reference.clone(),
                source_rir: l.facts.source_rir(),
                state: l.state,
                ledger_entries: Vec::new(),
            });
        }
        comment = Some(said);
    }

    // What the event itself writes on the row; the transition adds the rest.
    let mut write = RowWrite::default();
    match &command {
        Command::Accept { need } => write.need = Some(need.clone()),
        Command::ConfirmFees => write.fees_confirmed_by = Some(Some(user_id)),
        Command::Approve { overrides, .. } => {
            for o in overrides {
                store::insert_override(&txn, id, o, user_id, now).await?;
            }
        }
        _ => {}
    }
    let history = History {
        event: TimelineEvent::of(&event, &transition.next),
        actor: Some(user_id),
        label,
        comment,
    };
    let state = transition.next.clone();
    let (reference, source_rir) = (l.facts.reference.clone(), l.facts.source_rir());
    let ledger_entries =
        store_transition(&txn, settings, l, write, transition, history, now).await?;
    txn.commit().await?;
    Ok(Applied {
        reference,
        source_rir,
        state,
        ledger_entries,
    })
}

/// Marks the fee lines of the confirming hostmaster's registry paid. Returns whether every
/// registry's lines are now paid, and what to write on the timeline. A transfer nobody bills
/// is confirmed by one hostmaster of either registry.
async fn confirm_registry_fees(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    l: &Loaded,
    user_id: i64,
    now: OffsetDateTime,
) -> AppResult<(bool, String)> {
    let Role::Hostmaster { registry } = actor.role else {
        return Err(AppError::Forbidden(
            "only a hostmaster of a registry that bills the transfer confirms its fees".into(),
        ));
    };
    let lines = transfers_db::fee_lines(conn, l.facts.id.get()).await?;
    if lines.is_empty() {
        return Ok((true, "no registry bills this transfer".to_owned()));
    }
    let token = registry.token();
    let own: Vec<_> = lines.iter().filter(|x| x.registry == token).collect();
    if own.is_empty() {
        return Err(AppError::Conflict(format!(
            "{registry} bills nothing for transfer {}: the registries that do confirm their own fees",
            l.facts.reference
        )));
    }
    if own.iter().all(|x| x.paid_by.is_some()) {
        return Err(AppError::Conflict(format!(
            "{registry}'s fees for transfer {} are already confirmed",
            l.facts.reference
        )));
    }
    store::mark_fees_paid(conn, l.facts.id.get(), registry, user_id, now).await?;
    let waiting: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|x| x.registry != token && x.paid_by.is_none())
        .filter_map(|x| Rir::from_token(&x.registry).map(|r| r.to_string()))
        .collect();
    let all_paid = waiting.is_empty();
    let mut said = format!("{registry}'s fees confirmed paid");
    if all_paid {
        said.push_str("; every registry's fees are paid");
    } else {
        let names: Vec<String> = waiting.into_iter().collect();
        said.push_str(&format!("; waiting for {}", names.join(" and ")));
    }
    Ok((all_paid, said))
}

/// Records, with a reason, that a policy exception the profile names (ARIN-2020-6) applies to a
/// transfer: the finding it lifts becomes information. Only a hostmaster reviewing the side of
/// that finding may, and only while the finding stands.
pub async fn record_exception(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    id: i64,
    rule_id: &str,
    reason: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    let l = lock_and_load(&txn, id).await?;
    if !authz::can(actor, Action::ViewTransfer, Some(&access(&l))) {
        return Err(not_found(id));
    }
    let findings = evaluate(&txn, settings, &l.facts, Stage::Review, now).await?;
    let Some((side, name)) = findings
        .iter()
        .find(|f| f.rule_id == rule_id && f.exception.is_some())
        .map(|f| (f.side, f.exception.clone().unwrap_or_default()))
    else {
        return Err(AppError::Conflict(format!(
            "no finding of transfer {} can be lifted by recording an exception to {rule_id}",
            l.facts.reference
        )));
    };
    if !authz::can(actor, Action::Decide { side }, Some(&access(&l))) {
        return Err(AppError::Forbidden(format!(
            "only a {} hostmaster reviewing transfer {} may record that {name} applies",
            l.facts.registry_of(side),
            l.facts.reference
        )));
    }
    if reason.trim().is_empty() {
        return Err(AppError::invalid(format!(
            "say why {name} applies: recording it needs a written reason"
        )));
    }
    let (user_id, label) = actor_label(&txn, actor).await?;
    let exception = NewException {
        rule_id,
        name: &name,
        reason: reason.trim(),
        user_id,
    };
    store::insert_exception(&txn, id, exception, now).await?;
    let history = History {
        event: TimelineEvent::ExceptionRecorded,
        actor: Some(user_id),
        label,
        comment: Some(format!("{name} applies: {}", reason.trim())),
    };
    let state = l.state.as_str();
    record_event(&txn, id, Some(state), state, history, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Expires every transfer whose consent or information deadline passed; returns how many.
/// Each expiry is its own transaction, so one failure does not hold back the others.
pub async fn expire_overdue(
    db: &DatabaseConnection,
    settings: &Settings,
    now: OffsetDateTime,
) -> AppResult<u64> {
    // Only waiting states carry a deadline: leaving one clears it.
    let due = store::past_deadline(db, now).await?;
    let mut expired = 0;
    for id in due {
        let txn = db::begin_write(db).await?;
        let l = lock_and_load(&txn, id).await?;
        // Re-check under the lock: someone may have acted since the list was read.
        if l.row.deadline.is_none_or(|d| d > now) {
            continue;
        }
        let ctx = WorkflowContext {
            inter_rir: l.facts.is_inter_rir(),
            ..Default::default()
        };
        let Ok(transition) = workflow::apply(&ctx, &l.state, &Event::Expire) else {
            continue;
        };
        let history = History {
            event: TimelineEvent::Expired,
            actor: None,
            label: "ipxfer (deadline passed)".to_owned(),
            comment: None,
        };
        let write = RowWrite::default();
        store_transition(&txn, settings, l, write, transition, history, now).await?;
        txn.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

fn describe_action(a: Action) -> &'static str {
    match a {
        Action::AcceptAsRecipient => "accept",
        Action::Decide { .. } => "decide on",
        Action::AnswerInfo => "answer for",
        Action::Withdraw => "withdraw",
        Action::ConfirmFees => "confirm the fees of",
        Action::Finalize => "finalize",
        Action::MarkDisputed => "mark disputed",
        Action::ResolveDispute => "resolve the dispute of",
        _ => "change",
    }
}

/// The deadline a transfer runs under once a transition's effects apply.
fn deadline_after(
    effects: &[Effect],
    current: Option<OffsetDateTime>,
    settings: &Settings,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    effects
        .iter()
        .fold(current, |deadline, effect| match effect {
            Effect::StartDeadline { kind } => Some(
                now + Duration::days(match kind {
                    DeadlineKind::Consent => settings.consent_days,
                    DeadlineKind::Information => settings.information_days,
                }),
            ),
            Effect::ClearDeadline => None,
            _ => deadline,
        })
}

/// What an event writes on a transfer's row before its transition adds the rest.
#[derive(Default)]
struct RowWrite {
    need: Option<NeedJustification>,
    fees_confirmed_by: Option<Option<i64>>,
}

/// Stores a transition of a loaded transfer: the new state and what it implies on the row
/// (with the event's own columns from the caller), a timeline row, then the effects.
async fn store_transition(
    conn: &impl ConnectionTrait,
    settings: &Settings,
    l: Loaded,
    write: RowWrite,
    transition: Transition,
    history: History,
    now: OffsetDateTime,
) -> AppResult<Vec<LedgerEntry>> {
    let id = l.facts.id;
    let deadline = deadline_after(&transition.effects, l.row.deadline, settings, now);
    let mut fees_confirmed_by = write.fees_confirmed_by;
    let mut first_finalizer = None;
    if let State::AwaitingFinalization {
        first_finalizer: first,
        fees_confirmed,
    } = &transition.next
    {
        first_finalizer = Some(first.map(UserId::get));
        // A resolved dispute starts finalization again: the earlier confirmation no longer holds.
        if !fees_confirmed {
            fees_confirmed_by = Some(None);
            store::clear_fee_payments(conn, id.get()).await?;
        }
    }
    let completed_at = (transition.next == State::Completed).then_some(now);
    let state_write = StateWrite {
        state: &transition.next,
        updated_at: now,
        deadline,
        need: write.need.as_ref(),
        fees_confirmed_by,
        first_finalizer,
        completed_at,
    };
    store::store_state(conn, id.get(), state_write).await?;
    // The e-mails quote what the person wrote (a rejection's reason, a question).
    let comment = history.comment.clone();
    let (name, from) = (transition.next.as_str(), l.state.as_str());
    let event_id = record_event(conn, id.get(), Some(from), name, history, now).await?;
    let loaded = Loaded {
        row: Record {
            updated_at: now,
            deadline,
            completed_at: completed_at.or(l.row.completed_at),
            fees_confirmed_by: fees_confirmed_by.unwrap_or(l.row.fees_confirmed_by),
            ..l.row
        },
        facts: l.facts,
        state: transition.next,
    };
    perform(
        conn,
        settings,
        &loaded,
        &transition.effects,
        event_id,
        comment.as_deref(),
        now,
    )
    .await
}

/// Performs a transition's effects inside the transaction: deadlines are already on the row,
/// blocks move first (a completion's e-mail states the ledger entries), then the e-mails go into
/// the outbox of the same transaction. `comment` is what the actor wrote with the event.
async fn perform(
    conn: &impl ConnectionTrait,
    settings: &Settings,
    l: &Loaded,
    effects: &[Effect],
    event_id: i64,
    comment: Option<&str>,
    now: OffsetDateTime,
) -> AppResult<Vec<LedgerEntry>> {
    let mut entries = Vec::new();
    let mut notifications = Vec::new();
    for effect in effects {
        match effect {
            // Already on the row, saved before the effects run (see `store_transition`).
            Effect::StartDeadline { .. } | Effect::ClearDeadline => {}
            Effect::MoveBlocks => entries = move_blocks(conn, l, now).await?,
            Effect::Notify(n) => notifications.push(n),
        }
    }
    let emails = notifications::transition_emails(
        conn,
        &settings.base_url,
        l,
        &notifications,
        &entries,
        event_id,
        comment,
    )
    .await?;
    outbox::enqueue(conn, &emails, now).await?;
    Ok(entries)
}

/// Moves every block: the plan of the pure core ([`ledger::plan_move`]) says which of the
/// source's holdings end and which begin (their remainders, the recipient's blocks); they are
/// written here with one ledger entry per block. A holding that is no longer there (another
/// transfer moved it first) is a conflict and rolls everything back.
async fn move_blocks(
    conn: &impl ConnectionTrait,
    l: &Loaded,
    now: OffsetDateTime,
) -> AppResult<Vec<LedgerEntry>> {
    let f = &l.facts;
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in([f.source.id.get(), f.recipient.id.get()]))
        .all(conn)
        .await?;
    let country = |id: i64| {
        orgs.iter()
            .find(|o| o.id == id)
            .and_then(|o| o.country.clone())
    };
    let mut held: Vec<(i64, HoldingRecord)> = Vec::new();
    for block in &f.blocks {
        for h in holdings_db::overlapping(conn, *block).await? {
            let source =
                h.organisation_id == f.source.id.get() && h.registry == f.source_rir().token();
            if source && !held.iter().any(|(id, _)| *id == h.id) {
                held.push(holdings_db::record_of(h)?);
            }
        }
    }
    let to = MoveTo {
        registry: f.recipient_rir(),
        org_id: f.recipient.id,
        origin: match f.kind {
            TransferType::ResourceTransfer => HoldingOrigin::Transferred,
            TransferType::MergerAcquisition => HoldingOrigin::MergerAcquisition,
        },
        received_on: now.date(),
        country: country(f.recipient.id.get()),
    };
    let plan = ledger::plan_move(&held, (f.source.id, f.source_rir()), &f.blocks, &to).map_err(
        |e| match e {
            MoveError::NotHeld { range, .. } => moved_meanwhile(f, &range),
            other => AppError::Internal(other.into()),
        },
    )?;
    for (id, block) in &plan.delete {
        if !holdings_db::delete_live(conn, *id).await? {
            return Err(moved_meanwhile(f, block));
        }
    }
    holdings_db::insert_live(conn, &plan.create).await?;
    let movements = plan
        .moved
        .into_iter()
        .map(|m| Movement {
            kind: EntryKind::Transfer,
            transfer_id: Some(f.id),
            transfer_reference: Some(f.reference.clone()),
            transfer_type: f.kind,
            source_rir: f.source_rir(),
            recipient_rir: f.recipient_rir(),
            source: LedgerParty {
                org_id: Some(f.source.id),
                name: Some(f.source.name.clone()),
                country: country(f.source.id.get()),
            },
            recipient: LedgerParty {
                org_id: Some(f.recipient.id),
                name: Some(f.recipient.name.clone()),
                country: country(f.recipient.id.get()),
            },
            range: m.block,
            original: Some(m.original),
            transfer_date: now,
            source_registration_date: m
                .registered_on
                .map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
        })
        .collect();
    Ok(ledger_db::append(conn, movements, now).await?)
}

fn moved_meanwhile(f: &TransferFacts, block: &Ipv4Range) -> AppError {
    AppError::Conflict(format!(
        "{block} is no longer held by {} at {}: another transfer moved it first, so {} cannot be finalized",
        f.source.name,
        f.source_rir(),
        f.reference
    ))
}

#[cfg(test)]
mod tests {
    use super::placeholder_reference;

    #[test]
    fn placeholder_references_fit_their_column_and_differ() {
        let all: std::collections::HashSet<String> =
            (0..20_000).map(|_| placeholder_reference()).collect();
        assert_eq!(all.len(), 20_000);
        assert!(
            all.iter()
                .all(|p| p.len() <= 32 && p.starts_with("pending-"))
        );
    }
}
