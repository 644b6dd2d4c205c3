//! The block lookup: who holds an address, prefix or range now, at which registry, and the
//! ledger entries that moved any of it. Every signed-in role may use it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::auth::{SignedIn, urlencode};
use super::extract::Query;
use super::forms::FormErrors;
use super::page::{Chrome, render, render_part};
use crate::db::holdings::range_of;
use crate::domain::authz::Role;
use crate::domain::format::{capitalise, group_thousands, utc_day};
use crate::domain::ledger::{LedgerParty, Movement};
use crate::domain::{Ipv4Range, Rir};
use crate::error::AppError;

/// Holdings and ledger entries a lookup page shows of each list; a wide range pages on.
const SHOWN: u64 = 50;
/// Longest accepted query (a range of two addresses with spaces fits easily).
const MAX_QUERY: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new().route("/lookup", get(lookup))
}

/// A range as people read it: each CIDR with its address count.
#[derive(Clone)]
pub struct Cidrs {
    pub blocks: Vec<String>,
    pub addresses: String,
}

fn cidrs(range: Ipv4Range) -> Cidrs {
    Cidrs {
        blocks: range.to_cidrs().iter().map(ToString::to_string).collect(),
        addresses: group_thousands(range.size()),
    }
}

struct HoldingRow {
    holder: String,
    handle: String,
    registry: &'static str,
    range: Cidrs,
    status: String,
    since: String,
    origin: String,
    /// The holding's records page, linked for registry staff and auditors only.
    href: String,
}

struct EntryRow {
    seq: i64,
    date: String,
    kind: &'static str,
    from: String,
    to: String,
    range: Cidrs,
    reference: Option<String>,
    transfer_href: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/lookup.html")]
struct LookupPage<'a> {
    chrome: Chrome,
    errors: FormErrors,
    q: String,
    /// The parsed query, once there is one.
    searched: Option<Cidrs>,
    /// The rows as HTML, borrowed from the kept [`LookupRows`]: the holdings' with their
    /// records links for registry staff and auditors.
    holdings_html: &'a str,
    entries_html: &'a str,
    any_holdings: bool,
    any_entries: bool,
    /// What the captions add: which part of a longer list this is.
    holdings_part: String,
    entries_part: String,
    /// The links to each list's next [`SHOWN`] rows, when there are more.
    more_holdings: Option<String>,
    more_entries: Option<String>,
    /// Back to each list's first page, on a later page.
    first_holdings: Option<String>,
    first_entries: Option<String>,
}

#[derive(Deserialize)]
struct LookupQuery {
    #[serde(default)]
    q: String,
    /// The previous page's last holding's first address: holdings starting after it.
    holdings_after: Option<String>,
    /// The previous page's oldest entry: entries before it.
    entries_before: Option<String>,
}

/// A lookup of `q` at a place in each list, scrolled to `anchor`.
fn lookup_href(
    q: &str,
    holdings_after: Option<&str>,
    entries_before: Option<i64>,
    anchor: &str,
) -> String {
    let mut href = format!("/lookup?q={}", urlencode(q));
    if let Some(a) = holdings_after {
        href.push_str(&format!("&holdings_after={a}"));
    }
    if let Some(b) = entries_before {
        href.push_str(&format!("&entries_before={b}"));
    }
    format!("{href}#{anchor}")
}

/// The pager's cursors, read from the query; a link damaged in transit gets a message, not a
/// wrong page.
fn cursors(query: &LookupQuery) -> Result<(Option<u32>, Option<i64>), String> {
    let damaged = "This page's link is damaged: look the range up again and follow its links";
    let after = query
        .holdings_after
        .as_deref()
        .map(|a| a.parse::<std::net::Ipv4Addr>().map(u32::from))
        .transpose()
        .map_err(|_| damaged.to_owned())?;
    let before = query
        .entries_before
        .as_deref()
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| damaged.to_owned())?;
    Ok((after, before))
}

fn party(p: &LedgerParty, rir: Rir) -> String {
    format!(
        "{} ({})",
        p.name.clone().unwrap_or_else(|| "unnamed holder".into()),
        rir.nro_name()
    )
}

fn entry_row(m: &Movement, seq: i64) -> EntryRow {
    EntryRow {
        seq,
        date: utc_day(m.transfer_date),
        kind: m.kind.as_str(),
        from: party(&m.source, m.source_rir),
        to: party(&m.recipient, m.recipient_rir),
        range: cidrs(m.range),
        reference: m.transfer_reference.clone(),
        transfer_href: m.transfer_id.map(|id| format!("/transfers/{id}")),
    }
}

/// The holdings' rows of a lookup as HTML.
#[derive(Template)]
#[template(path = "partials/lookup_holdings.html")]
struct HoldingRows<'a> {
    holdings: &'a [HoldingRow],
    /// Whether the records links show.
    staff: bool,
}

/// The ledger history's rows of a lookup as HTML.
#[derive(Template)]
#[template(path = "partials/lookup_entries.html")]
struct EntryRows<'a> {
    entries: &'a [EntryRow],
}

/// The lookup's lists for a range at its cursors, as the page shows them: what
/// `web::cache::lookup` keeps. Every viewer sees the same rows (staff with the holdings'
/// records links), so they are rendered when the lists are read, not at every view (100 rows
/// were most of a view's time).
pub(crate) struct LookupRows {
    /// The holdings' rows without and with their records links.
    holdings_html: [String; 2],
    entries_html: String,
    any_holdings: bool,
    any_entries: bool,
    /// Where each list's next page starts, when it goes on past [`SHOWN`] rows: after the last
    /// holding's first address, before the last entry.
    next_holdings: Option<String>,
    next_entries: Option<i64>,
}

/// Reads the lookup's lists (`services::lookup::holdings_and_history`) and builds their rows.
async fn lookup_rows(
    app: &AppState,
    range: Ipv4Range,
    cursors: (Option<u32>, Option<i64>),
) -> Result<LookupRows, AppError> {
    let (mut holdings, mut entries) =
        crate::services::lookup::holdings_and_history(&app.db, range, cursors, SHOWN + 1).await?;
    let more_holdings = holdings.len() as u64 > SHOWN;
    holdings.truncate(SHOWN as usize);
    let more_entries = entries.len() as u64 > SHOWN;
    entries.truncate(SHOWN as usize);
    let next_holdings = match holdings.last().filter(|_| more_holdings) {
        Some(last) => {
            let start = range_of(last.holding.start_addr, last.holding.end_addr)?.start();
            Some(std::net::Ipv4Addr::from(start).to_string())
        }
        None => None,
    };
    let next_entries = entries.last().filter(|_| more_entries).map(|e| e.seq);
    let mut rows = Vec::with_capacity(holdings.len());
    for held in holdings {
        let (h, org) = (held.holding, held.holder);
        let since = h.received_on.or(h.registered_on);
        rows.push(HoldingRow {
            holder: org.name,
            handle: org.handle,
            registry: Rir::from_token(&h.registry).map_or("unknown", Rir::nro_name),
            range: cidrs(range_of(h.start_addr, h.end_addr)?),
            status: h.status,
            since: since.map(|d| d.to_string()).unwrap_or_default(),
            origin: h.origin.replace('_', " "),
            href: format!("/holdings/{}", h.id),
        });
    }
    let entries: Vec<EntryRow> = entries
        .iter()
        .map(|e| entry_row(&e.movement, e.seq))
        .collect();
    Ok(LookupRows {
        holdings_html: [
            render_part(&HoldingRows {
                holdings: &rows,
                staff: false,
            })?,
            render_part(&HoldingRows {
                holdings: &rows,
                staff: true,
            })?,
        ],
        entries_html: render_part(&EntryRows { entries: &entries })?,
        any_holdings: !rows.is_empty(),
        any_entries: !entries.is_empty(),
        next_holdings,
        next_entries,
    })
}

async fn lookup(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(query): Query<LookupQuery>,
) -> Result<Response, AppError> {
    let q = query.q.trim().to_owned();
    let mut page = LookupPage {
        chrome: viewer.chrome(&app).await?,
        errors: FormErrors::default(),
        searched: None,
        holdings_html: "",
        entries_html: "",
        any_holdings: false,
        any_entries: false,
        holdings_part: String::new(),
        entries_part: String::new(),
        more_holdings: None,
        more_entries: None,
        first_holdings: None,
        first_entries: None,
        q: q.clone(),
    };
    if q.is_empty() {
        return Ok(render(&page)?.into_response());
    }
    let parsed = if q.chars().count() > MAX_QUERY {
        Err(format!(
            "Enter one address, prefix or range of at most {MAX_QUERY} characters"
        ))
    } else {
        q.parse::<Ipv4Range>().map_err(|e| {
            // "198.51.100.0/33 is not a valid prefix: ..." reads as a sentence at the field,
            // without the quotes an importer's message puts around the input.
            capitalise(&e.to_string().replacen(&format!("\"{q}\""), &q, 1))
        })
    };
    let parsed = parsed.and_then(|range| cursors(&query).map(|c| (range, c)));
    let (range, (after, before)) = match parsed {
        Ok(found) => found,
        Err(message) => {
            page.q = q.chars().take(MAX_QUERY).collect();
            page.errors.add("q", message);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };

    let read = lookup_rows(&app, range, (after, before));
    let memos = &app.kept_rows.lookups;
    let found =
        crate::web::cache::lookup(&app, &viewer, range, (after, before), memos, read).await?;
    let more_holdings = found.next_holdings.is_some();
    let more_entries = found.next_entries.is_some();
    // Each list's links keep the other list where it is.
    let after_text = after.map(|a| std::net::Ipv4Addr::from(a).to_string());
    if let Some(a) = &after_text {
        page.holdings_part = format!(" starting after {a}");
        page.first_holdings = Some(lookup_href(&q, None, before, "holders"));
    } else if more_holdings {
        page.holdings_part = format!(" (the first {SHOWN})");
    }
    if let Some(next) = &found.next_holdings {
        page.more_holdings = Some(lookup_href(&q, Some(next), before, "holders"));
    }
    if let Some(b) = before {
        page.entries_part = format!(", those before entry {b}");
        page.first_entries = Some(lookup_href(&q, after_text.as_deref(), None, "history"));
    } else if more_entries {
        page.entries_part = format!(" (the latest {SHOWN})");
    }
    if let Some(next) = found.next_entries {
        page.more_entries = Some(lookup_href(
            &q,
            after_text.as_deref(),
            Some(next),
            "history",
        ));
    }
    // The holdings' records pages are for registry staff and auditors.
    let staff = matches!(
        viewer.actor.role,
        Role::Hostmaster { .. } | Role::Admin | Role::Auditor
    );
    page.holdings_html = &found.holdings_html[usize::from(staff)];
    page.entries_html = &found.entries_html;
    page.any_holdings = found.any_holdings;
    page.any_entries = found.any_entries;
    page.searched = Some(cidrs(range));
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_as_cidrs_with_counts() {
        let c = cidrs("198.51.100.0 - 198.51.101.127".parse().unwrap());
        assert_eq!(c.blocks, ["198.51.100.0/24", "198.51.101.0/25"]);
        assert_eq!(c.addresses, "384");
    }
}
