//! The auditors' pages: the ledger browser (filters, keyset pages newest first, every entry
//! touching an address or range), one entry with its hashes and the transfer it came from,
//! verification, export downloads (streamed, same filters) and the statistics with charts.
//!
//! Every handler asks [`authz::can`] through [`Viewer::require`]: `ViewLedger` for the browser,
//! entries and statistics, `VerifyLedger` for verification, `Export` for downloads. Prices are
//! shown to auditors only.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::AppState;
use super::auth::SignedIn;
use super::extract::{Path, Query};
use super::forms::FormErrors;
use super::page::{Chrome, render};
use super::spool::spooled_export;
use crate::db::ledger_query::{self, Direction};
use crate::domain::authz::{Action, Role};
use crate::domain::charts::{self, BarChart, Series};
use crate::domain::export::nro::NroVersion;
use crate::domain::export::{LedgerFilter, parse_day};
use crate::domain::format::group_thousands;
use crate::domain::ledger::{EntryKind, LedgerEntry, ledger_time};
use crate::domain::statistics::{DURATION_BUCKETS, SIZE_CLASSES};
use crate::domain::{Ipv4Range, Rir, TransferType};
use crate::error::AppError;
use crate::services::{export, ledger};

/// Entries per page of the browser.
const PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger", get(browse))
        .route("/ledger/verify", get(verify))
        .route("/ledger/exports", get(exports_page))
        .route("/ledger/export", get(download))
        .route("/ledger/{seq}", get(entry))
        .route("/ledger/{seq}/proof", get(entry_proof))
        .route("/stats", get(stats_page))
}

/// The filters as the browser's form and the download links carry them: strings, so that bad
/// input reaches [`FilterQuery::parse`] and is reported next to its field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FilterQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registry: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub transfer_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

impl FilterQuery {
    /// The filter, or what is wrong with each field.
    pub(crate) async fn parse(&self, app: &AppState) -> Result<LedgerFilter, FormErrors> {
        let mut errors = FormErrors::default();
        let mut f = LedgerFilter::default();
        let t = |s: &String| s.trim().to_owned();
        if !t(&self.registry).is_empty() {
            match t(&self.registry).parse::<Rir>() {
                Ok(r) => f.registry = Some(r),
                Err(e) => errors.add("registry", e.to_string()),
            }
        }
        if !t(&self.org).is_empty() {
            match export::organisation_ids(&app.db, &t(&self.org)).await {
                Ok(ids) => f.org_ids = Some(ids),
                Err(e) => errors.add("org", e.to_string()),
            }
        }
        for (field, value, slot) in [
            ("from", &self.from, &mut f.from),
            ("to", &self.to, &mut f.to),
        ] {
            if !t(value).is_empty() {
                match parse_day(value) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => errors.add(field, e),
                }
            }
        }
        if let (Some(a), Some(b)) = (f.from, f.to)
            && a > b
        {
            errors.add("to", "The end date is before the start date.");
        }
        match t(&self.kind).as_str() {
            "" => {}
            k => match EntryKind::parse(k) {
                Some(k) => f.kind = Some(k),
                None => errors.add("kind", "Choose imported or transfer."),
            },
        }
        match t(&self.transfer_type).as_str() {
            "" => {}
            k => match TransferType::from_nro_name(k) {
                Some(k) => f.transfer_type = Some(k),
                None => errors.add("type", "Choose RESOURCE_TRANSFER or MERGER_ACQUISITION."),
            },
        }
        if !t(&self.address).is_empty() {
            match t(&self.address).parse::<Ipv4Range>() {
                Ok(r) => f.touching = Some(r),
                Err(e) => errors.add("address", format!("{e}")),
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(errors)
        }
    }

    /// The query string of these filters (for pager and download links).
    fn query_string(&self) -> String {
        serde_html_form::to_string(self).unwrap_or_default()
    }

    /// The browser with these filters.
    fn href(&self) -> String {
        match self.query_string().as_str() {
            "" => "/ledger".to_owned(),
            q => format!("/ledger?{q}"),
        }
    }

    /// Each filter in use, as shown above the results, with a link to the same page without it.
    fn in_use(&self) -> Vec<FilterInUse> {
        type Field = fn(&mut FilterQuery) -> &mut String;
        let fields: [(&'static str, Field); 7] = [
            ("Address or range", |q| &mut q.address),
            ("Registry", |q| &mut q.registry),
            ("Organisation", |q| &mut q.org),
            ("On or after", |q| &mut q.from),
            ("On or before", |q| &mut q.to),
            ("Entry kind", |q| &mut q.kind),
            ("Transfer type", |q| &mut q.transfer_type),
        ];
        let mut out = Vec::new();
        for (label, field) in fields {
            let mut without = self.clone();
            let value = std::mem::take(field(&mut without)).trim().to_owned();
            if value.is_empty() {
                continue;
            }
            // The choices of the two lists in words, as their options say them.
            let value = match (label, value.as_str()) {
                ("Entry kind", "transfer") => "transfers finalized in ipxfer".to_owned(),
                ("Entry kind", "imported") => "imported from registry logs".to_owned(),
                ("Transfer type", "RESOURCE_TRANSFER") => "resource transfer".to_owned(),
                ("Transfer type", "MERGER_ACQUISITION") => "merger or acquisition".to_owned(),
                _ => value,
            };
            out.push(FilterInUse {
                label,
                value,
                clear: without.href(),
            });
        }
        out
    }
}

/// A filter in use, shown above the results with a link that clears it.
struct FilterInUse {
    label: &'static str,
    value: String,
    clear: String,
}

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
            transfer_id: m.transfer_id,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/audit/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    errors: FormErrors,
    q: FilterQuery,
    registries: Vec<&'static str>,
    rows: Vec<EntryRow>,
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
    checkpoint: Option<CheckpointView>,
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
    async fn latest(app: &AppState) -> Result<Option<Self>, AppError> {
        let Some(c) = crate::db::tlog::latest_checkpoint(&app.db).await? else {
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
    let (errors, rows, older) = match q.filter.parse(&app).await {
        Ok(filter) => {
            filtered = !filter.is_empty();
            let entries =
                ledger_query::page(&app.db, &filter, q.before, Direction::Backward, PAGE).await?;
            let older = (entries.len() as u64 == PAGE)
                .then(|| entries.last().map(|e| e.seq))
                .flatten()
                .map(|seq| format!("/ledger?{}&before={seq}", q.filter.query_string()));
            (
                FormErrors::default(),
                entries.iter().map(EntryRow::of).collect(),
                older,
            )
        }
        Err(errors) => (errors, Vec::new(), None),
    };
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
        rows,
        older,
        filtered,
        can_export: crate::domain::authz::can(&viewer.actor, Action::Export, None),
        can_verify: crate::domain::authz::can(&viewer.actor, Action::VerifyLedger, None),
        checkpoint: CheckpointView::latest(&app).await?,
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
        source_org_id: m.source.org_id,
        recipient_org_id: m.recipient.org_id,
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

#[derive(Template)]
#[template(path = "pages/audit/exports.html")]
struct ExportsPage {
    chrome: Chrome,
    q: FilterQuery,
    registries: Vec<&'static str>,
}

async fn exports_page(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<FilterQuery>,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::Export)?;
    render(&ExportsPage {
        chrome: viewer.chrome(&app).await?,
        q,
        registries: Rir::ALL.iter().map(|r| r.nro_name()).collect(),
    })
}

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub producer: String,
    #[serde(flatten)]
    pub filter: FilterQuery,
}

async fn download(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, AppError> {
    viewer.require(Action::Export)?;
    export_file(&app, q).await
}

/// An export as a file (the exports page's downloads and the API's `/ledger/export`); the caller
/// has checked that the person may export.
pub(crate) async fn export_file(app: &AppState, q: DownloadQuery) -> Result<Response, AppError> {
    let filter = q
        .filter
        .parse(app)
        .await
        .map_err(FormErrors::into_invalid)?;
    let producer = match q.producer.trim() {
        "" | "NRO" => None,
        p => Some(
            p.parse::<Rir>()
                .map_err(|e| AppError::invalid(e.to_string()))?,
        ),
    };
    let now = app.clock.now();
    let stamp = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let exports = &app.exports;
    let response = match q.format.as_str() {
        "nro-4.0" | "nro-5.0" => {
            let version = if q.format == "nro-4.0" {
                NroVersion::V4_0
            } else {
                NroVersion::V5_0
            };
            let name = format!("transfers_{version}_{stamp}.json");
            spooled_export(
                exports,
                "application/json",
                Some(name),
                |mut sink, db| async move {
                    let report =
                        export::transfer_log(&db, &mut sink, version, producer, &filter, now)
                            .await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "csv" => {
            let name = format!("ledger_{stamp}.csv");
            spooled_export(
                exports,
                "text/csv; charset=utf-8",
                Some(name),
                |mut sink, db| async move {
                    let report = export::csv(&db, &mut sink, &filter).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "bundle" => {
            let text = q.filter.query_string();
            let log = app.log.clone();
            let name = format!("ledger-bundle_{stamp}.jsonl");
            spooled_export(
                exports,
                "application/x-ndjson",
                Some(name),
                |mut sink, db| async move {
                    let report =
                        export::bundle(&db, &mut sink, &filter, text, now, log.as_deref()).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        "delegated" => {
            let registry = filter.registry.ok_or_else(|| {
                AppError::invalid(
                    "Choose the registry whose delegated-extended snapshot to export.",
                )
            })?;
            let name = format!("delegated-{}-extended-{stamp}", registry.token());
            spooled_export(
                exports,
                "text/plain; charset=utf-8",
                Some(name),
                |mut sink, db| async move {
                    let orgs = filter.org_ids.as_deref();
                    let report = export::delegated(&db, &mut sink, registry, orgs, now).await?;
                    Ok((report, sink))
                },
            )
            .await?
        }
        other => {
            return Err(AppError::invalid(format!(
                "There is no export format {other:?}: choose nro-4.0, nro-5.0, csv, bundle or delegated."
            )));
        }
    };
    Ok(response)
}

/// One chart with the table of its numbers.
struct ChartBlock {
    svg: String,
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
    caption: String,
}

#[derive(Template)]
#[template(path = "pages/audit/stats.html")]
struct StatsPage {
    chrome: Chrome,
    total: String,
    flows: ChartBlock,
    monthly: ChartBlock,
    durations: ChartBlock,
    median_days: Option<i64>,
    /// `None` unless the viewer is an auditor.
    prices: Option<Vec<ChartBlock>>,
}

/// Months the monthly chart shows at most (the most recent ones).
const MONTHS: usize = 24;

async fn stats_page(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ViewLedger)?;
    let auditor = viewer.actor.role == Role::Auditor;
    let s = super::cache::statistics(&app, auditor).await?;
    let names: Vec<&str> = Rir::ALL.iter().map(|r| r.nro_name()).collect();

    let flows = ChartBlock {
        svg: charts::matrix(
            "flows",
            "IPv4 addresses transferred between registries",
            "A matrix: each row is the source registry, each column the recipient registry, each \
             cell the number of addresses moved; the diagonal holds transfers within a registry.",
            "from (source)",
            "to (recipient)",
            &names,
            &s.flows.iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        ),
        head: names.iter().map(|n| (*n).to_owned()).collect(),
        rows: Rir::ALL
            .iter()
            .zip(s.flows.iter())
            .map(|(r, row)| {
                (
                    r.nro_name().to_owned(),
                    row.iter().map(|v| group_thousands(*v)).collect(),
                )
            })
            .collect(),
        caption: "Addresses from the row's registry to the column's registry".into(),
    };

    let months: Vec<(&String, &[u64; 5])> = s
        .monthly
        .iter()
        .rev()
        .take(MONTHS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let monthly = ChartBlock {
        svg: BarChart {
            id: "monthly".into(),
            title: "IPv4 addresses transferred per month".into(),
            desc: format!(
                "Stacked bars, one per month for the last {} months with transfers, each split by \
                 source registry.",
                months.len()
            ),
            x_label: "Month".into(),
            y_label: "IPv4 addresses".into(),
            categories: months.iter().map(|(m, _)| (*m).clone()).collect(),
            series: Rir::ALL
                .iter()
                .enumerate()
                .map(|(i, r)| Series {
                    name: r.nro_name().into(),
                    values: months.iter().map(|(_, v)| v[i] as f64).collect(),
                })
                .collect(),
            stacked: true,
        }
        .render(),
        head: names.iter().map(|n| (*n).to_owned()).collect(),
        rows: months
            .iter()
            .map(|(m, v)| {
                (
                    (*m).clone(),
                    v.iter().map(|x| group_thousands(*x)).collect(),
                )
            })
            .collect(),
        caption: "Addresses transferred per month, by source registry".into(),
    };

    let durations = ChartBlock {
        svg: BarChart {
            id: "durations".into(),
            title: "Time from filing to completion".into(),
            desc: "Bars: how many transfers completed in ipxfer took each span of days.".into(),
            x_label: "Days from filing to completion".into(),
            y_label: "Transfers".into(),
            categories: DURATION_BUCKETS
                .iter()
                .map(|(l, _)| (*l).to_owned())
                .collect(),
            series: vec![Series {
                name: "Transfers".into(),
                values: s.durations.iter().map(|v| *v as f64).collect(),
            }],
            stacked: false,
        }
        .render(),
        head: vec!["Transfers".into()],
        rows: DURATION_BUCKETS
            .iter()
            .zip(s.durations.iter())
            .map(|((l, _), v)| ((*l).to_owned(), vec![group_thousands(*v)]))
            .collect(),
        caption: "Completed transfers by time from filing to completion".into(),
    };

    let prices = auditor.then(|| {
        let points = s.prices();
        let mut currencies: Vec<String> = points.iter().map(|p| p.currency.clone()).collect();
        currencies.sort();
        currencies.dedup();
        currencies
            .into_iter()
            .map(|currency| {
                let mine: Vec<_> = points.iter().filter(|p| p.currency == currency).collect();
                let mut years: Vec<i32> = mine.iter().map(|p| p.year).collect();
                years.sort_unstable();
                years.dedup();
                let value = |year: i32, class: &str| {
                    mine.iter()
                        .find(|p| p.year == year && p.size_class == class)
                        .map(|p| p.mean_per_address)
                };
                ChartBlock {
                    svg: BarChart {
                        id: format!("prices-{}", currency.to_lowercase()),
                        title: format!("Price per address in {currency}, by year and block size"),
                        desc: "Grouped bars: for each year, the mean agreed price per address of \
                               completed transfers, one bar per block size."
                            .into(),
                        x_label: "Year of completion".into(),
                        y_label: format!("{currency} per address"),
                        categories: years.iter().map(ToString::to_string).collect(),
                        series: SIZE_CLASSES
                            .iter()
                            .map(|class| Series {
                                name: (*class).to_owned(),
                                values: years
                                    .iter()
                                    .map(|y| {
                                        value(*y, class)
                                            .and_then(|d| d.to_string().parse().ok())
                                            .unwrap_or(0.0)
                                    })
                                    .collect(),
                            })
                            .collect(),
                        stacked: false,
                    }
                    .render(),
                    head: SIZE_CLASSES.iter().map(|c| (*c).to_owned()).collect(),
                    rows: years
                        .iter()
                        .map(|y| {
                            (
                                y.to_string(),
                                SIZE_CLASSES
                                    .iter()
                                    .map(|c| {
                                        mine.iter()
                                            .find(|p| p.year == *y && p.size_class == *c)
                                            .map_or("–".to_owned(), |p| {
                                                format!(
                                                    "{currency} {} ({} transfers)",
                                                    p.mean_per_address, p.transfers
                                                )
                                            })
                                    })
                                    .collect(),
                            )
                        })
                        .collect(),
                    caption: format!("Mean price per address in {currency}"),
                }
            })
            .collect()
    });

    render(&StatsPage {
        chrome: viewer.chrome(&app).await?,
        total: group_thousands(s.total_moved()),
        flows,
        monthly,
        durations,
        median_days: s.median_days(),
        prices,
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

    #[test]
    fn the_query_string_keeps_every_filter() {
        let q = FilterQuery {
            registry: "RIPE NCC".into(),
            address: "20.0.4.0/22".into(),
            ..Default::default()
        };
        let s = q.query_string();
        assert!(s.contains("registry=RIPE+NCC"), "{s}");
        assert!(s.contains("address=20.0.4.0%2F22"), "{s}");
    }
}
