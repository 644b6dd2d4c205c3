//! The ledger browser: filtered pages of entries newest first with the latest signed checkpoint,
//! one entry with its hashes and inclusion proof, and verification of the whole chain.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{FilterInUse, FilterQuery};
use crate::db::ledger_query::{self, Direction};
use crate::domain::authz::Action;
use crate::domain::format::group_thousands;
use crate::domain::ledger::{LedgerEntry, ledger_time};
use crate::domain::transfer::{OrgId, TransferId};
use crate::domain::{Ipv4Range, Rir};
use crate::error::AppError;
use crate::services::ledger;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::extract::{Path, Query};
use crate::web::forms::FormErrors;
use crate::web::page::{Chrome, render, render_part};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger", get(browse))
        .route("/ledger/verify", get(verify))
        .route("/ledger/{seq}", get(entry))
        .route("/ledger/{seq}/proof", get(entry_proof))
}

/// Entries per page of the browser.
const PAGE: u64 = 50;

/// One row of the browser's table.
struct EntryRow {
    seq: i64,
    date: String,
    kind: &'static str,
    transfer_type: &'static str,
    source_rir: &'static str,
    recipient_rir: &'static str,
    source_org: String,
    recipient_org: String,
    range: String,
    reference: Option<String>,
    transfer_id: Option<i64>,
}

fn day_time(t: OffsetDateTime) -> String {
    let t = ledger_time(t);
    format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute())
}

/// `20.0.4.0/22, 1,024 addresses`, as `ui.md` writes blocks.
fn block(r: &Ipv4Range) -> String {
    format!("{r}, {} addresses", group_thousands(r.size()))
}

fn party(name: &Option<String>, country: &Option<String>) -> String {
    match (name, country) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n.clone(),
        (None, Some(c)) => format!("({c})"),
        (None, None) => "not published".into(),
    }
}

impl EntryRow {
    fn of(e: &LedgerEntry) -> Self {
        let m = &e.movement;
        EntryRow {
            seq: e.seq,
            date: day_time(m.transfer_date),
            kind: m.kind.as_str(),
            transfer_type: m.transfer_type.nro_name(),
            source_rir: m.source_rir.nro_name(),
            recipient_rir: m.recipient_rir.nro_name(),
            source_org: party(&m.source.name, &m.source.country),
            recipient_org: party(&m.recipient.name, &m.recipient.country),
            range: block(&m.range),
            reference: m.transfer_reference.clone(),
            transfer_id: m.transfer_id.map(TransferId::get),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/audit/ledger.html")]
struct LedgerPage<'a> {
    chrome: Chrome,
    errors: FormErrors,
    q: FilterQuery,
    registries: Vec<&'static str>,
    /// How many entries the page shows.
    shown: usize,
    /// Its rows as HTML ([`LedgerRows`]), borrowed from the page's [`LedgerView`], kept or read.
    rows_html: &'a str,
    /// Link to the next (older) page, filters kept.
    older: Option<String>,
    query: String,
    filtered: bool,
    in_use: Vec<FilterInUse>,
    /// Filters besides the address in use (the disclosure's summary says how many).
    more_in_use: usize,
    more_open: bool,
    can_export: bool,
    can_verify: bool,
    checkpoint: Option<&'a CheckpointView>,
}

/// The rows of a page of the ledger as HTML: every viewer sees the same, so a kept page is
/// rendered once, not at every view (50 rows were most of a view's time).
#[derive(Template)]
#[template(path = "partials/ledger_rows.html")]
struct LedgerRows<'a> {
    rows: &'a [EntryRow],
}

/// The latest signed checkpoint as the ledger page shows it.
struct CheckpointView {
    origin: String,
    size: String,
    signed_at: String,
    /// Witnesses whose cosignature is on it.
    witnessed_by: Vec<String>,
    /// Configured witnesses that have not cosigned it (yet).
    waiting_for: Vec<String>,
    /// Whether this server checked the cosignatures (it can only with the log's configuration).
    verified: bool,
    /// The checkpoint as `/tlog/checkpoint` serves it.
    note: String,
}

impl CheckpointView {
    fn of(
        app: &AppState,
        checkpoint: Option<crate::db::tlog::StoredCheckpoint>,
    ) -> Result<Option<Self>, AppError> {
        let Some(c) = checkpoint else {
            return Ok(None);
        };
        let note = c.published();
        let verified = app.log.is_some();
        let (witnessed_by, waiting_for) = match &app.log {
            // With the log's configuration, each cosignature is verified against its witness.
            Some(log) => {
                let v = crate::domain::tlog::verify_checkpoint(
                    &note,
                    &log.verifier(),
                    &log.witness_verifiers(),
                )
                .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
                let by: Vec<String> = v.cosigned_by.into_iter().map(|(n, _)| n).collect();
                let waiting = log
                    .witnesses
                    .iter()
                    .map(|w| w.verifier.name().to_owned())
                    .filter(|n| !by.contains(n))
                    .collect();
                (by, waiting)
            }
            // A server without the log's key lists the cosigners by name, unverified.
            None => {
                let names = crate::domain::tlog::signature_lines(&note)
                    .iter()
                    .filter_map(|l| l.strip_prefix("— ")?.split(' ').next().map(str::to_owned))
                    .filter(|n| *n != c.origin)
                    .collect();
                (names, Vec::new())
            }
        };
        Ok(Some(CheckpointView {
            origin: c.origin.clone(),
            size: group_thousands(c.size),
            signed_at: day_time(c.signed_at),
            witnessed_by,
            waiting_for,
            verified,
            note,
        }))
    }
}

#[derive(Deserialize)]
struct BrowseQuery {
    #[serde(flatten)]
    filter: FilterQuery,
    before: Option<i64>,
}

async fn browse(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<BrowseQuery>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ViewLedger)?;
    let mut filtered = false;
    let older_href = |seq: i64| format!("/ledger?{}&before={seq}", q.filter.query_string());
    // The page and the latest checkpoint are one read on SQLite; a wrong filter reads no page.
    let (errors, view) = match q.filter.parse(&app).await {
        // Everyone's first view, and the older pages from it: kept until an append or a new
        // checkpoint or cosignature (`web::cache::ledger_page`).
        Ok(filter) if filter.is_empty() => {
            let read = ledger_view(&app, &filter, q.before);
            let memos = &app.kept_rows.ledger_pages;
            let view = crate::web::cache::ledger_page(&app, &viewer, q.before, memos, read).await?;
            (FormErrors::default(), view)
        }
        Ok(filter) => {
            filtered = true;
            let view = ledger_view(&app, &filter, q.before).await?;
            (FormErrors::default(), Arc::new(view))
        }
        Err(errors) => {
            let latest = crate::db::tlog::latest_checkpoint(&app.db).await?;
            let view = LedgerView {
                shown: 0,
                rows_html: String::new(),
                older_seq: None,
                checkpoint: CheckpointView::of(&app, latest)?,
            };
            (errors, Arc::new(view))
        }
    };
    let older = view.older_seq.map(older_href);
    let in_use = q.filter.in_use();
    let more_in_use = in_use.len() - usize::from(!q.filter.address.trim().is_empty());
    // Closed while its filters are merely in use (the chips above the results say which, and
    // the summary how many), so the entries stay near the top; open when one of them is wrong.
    let more_open = errors.items.iter().any(|e| e.field != "address");
    render(&LedgerPage {
        chrome: viewer.chrome(&app).await?,
        query: q.filter.query_string(),
        in_use,
        more_in_use,
        more_open,
        errors,
        q: q.filter,
        registries: Rir::ALL.iter().map(|r| r.nro_name()).collect(),
        shown: view.shown,
        rows_html: &view.rows_html,
        older,
        filtered,
        can_export: crate::domain::authz::can(&viewer.actor, Action::Export, None),
        can_verify: crate::domain::authz::can(&viewer.actor, Action::VerifyLedger, None),
        checkpoint: view.checkpoint.as_ref(),
    })
}

/// A page of the ledger as the ledger page shows it: what [`browse`] renders, or keeps.
pub(crate) struct LedgerView {
    /// How many entries the page shows.
    shown: usize,
    /// Their rows as HTML ([`LedgerRows`]).
    rows_html: String,
    /// The last entry's sequence number when an older page may follow.
    older_seq: Option<i64>,
    /// The latest checkpoint, its cosignatures verified.
    checkpoint: Option<CheckpointView>,
}

/// Reads the page of entries that `filter` matches before `before`, newest first, with the
/// latest checkpoint.
async fn ledger_view(
    app: &AppState,
    filter: &crate::domain::export::LedgerFilter,
    before: Option<i64>,
) -> Result<LedgerView, AppError> {
    let (entries, latest) =
        ledger_query::page_with_checkpoint(&app.db, filter, before, Direction::Backward, PAGE)
            .await?;
    let rows: Vec<EntryRow> = entries.iter().map(EntryRow::of).collect();
    Ok(LedgerView {
        older_seq: (entries.len() as u64 == PAGE)
            .then(|| entries.last().map(|e| e.seq))
            .flatten(),
        shown: rows.len(),
        rows_html: render_part(&LedgerRows { rows: &rows })?,
        checkpoint: CheckpointView::of(app, latest)?,
    })
}

#[derive(Template)]
#[template(path = "pages/audit/entry.html")]
struct EntryPage {
    chrome: Chrome,
    row: EntryRow,
    recorded_at: String,
    original: Option<String>,
    cidrs: String,
    source_registration: Option<String>,
    source_org_id: Option<i64>,
    recipient_org_id: Option<i64>,
    prev_hash: String,
    hash: String,
    previous: Option<i64>,
    next: Option<i64>,
    /// The inclusion proof against the latest checkpoint, as text.
    proof: Option<String>,
}

async fn entry(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(seq): Path<String>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ViewLedger)?;
    let not_found = || AppError::NotFound("There is no ledger entry with this number.".into());
    let seq: i64 = seq.parse().map_err(|_| not_found())?;
    let e = ledger_query::entry(&app.db, seq)
        .await?
        .ok_or_else(not_found)?;
    let next = ledger_query::entry(&app.db, seq + 1).await?.map(|n| n.seq);
    let proof = crate::services::tlog::inclusion(&app.db, seq)
        .await?
        .map(|p| p.text());
    let m = &e.movement;
    render(&EntryPage {
        chrome: viewer.chrome(&app).await?,
        recorded_at: day_time(e.recorded_at),
        original: m.original.as_ref().map(block),
        cidrs: crate::domain::export::cidr_list(&m.range, ", "),
        source_registration: m.source_registration_date.map(day_time),
        source_org_id: m.source.org_id.map(OrgId::get),
        recipient_org_id: m.recipient.org_id.map(OrgId::get),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
        previous: (seq > 1).then_some(seq - 1),
        next,
        proof,
        row: EntryRow::of(&e),
    })
}

/// An entry's inclusion proof with the checkpoint it leads to, as plain text for auditors'
/// tools: the checkpoint note, a blank line, then the proof.
async fn entry_proof(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(seq): Path<String>,
) -> Result<Response, AppError> {
    viewer.require(Action::ViewLedger)?;
    let not_found = || {
        AppError::NotFound(
            "This entry has no inclusion proof yet: no signed checkpoint includes it.".into(),
        )
    };
    let seq: i64 = seq.parse().map_err(|_| not_found())?;
    let p = crate::services::tlog::inclusion(&app.db, seq)
        .await?
        .ok_or_else(not_found)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        format!("{}\n{}", p.checkpoint.published(), p.text()),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "pages/audit/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    intact: bool,
    summary: String,
    entries: String,
    broken_seq: Option<i64>,
    checked_at: String,
}

async fn verify(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::VerifyLedger)?;
    let v = ledger::verify(&app.db).await?;
    render(&VerifyPage {
        chrome: viewer.chrome(&app).await?,
        intact: v.is_intact(),
        summary: v.summary(),
        entries: group_thousands(v.entries),
        broken_seq: v.chain_break.as_ref().map(|b| b.seq()),
        checked_at: day_time(app.clock.now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_written_with_their_count() {
        assert_eq!(
            block(&"20.0.4.0/22".parse().unwrap()),
            "20.0.4.0/22, 1,024 addresses"
        );
    }
}
