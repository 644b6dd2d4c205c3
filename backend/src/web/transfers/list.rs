//! The list of transfers a viewer may see, and the hostmaster queue.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use crate::db::transfers::Loaded;
use crate::domain::Side;
use crate::domain::authz::{self, Action, Role, TransferAccess};
use crate::domain::format::group_thousands;
use crate::error::AppError;
use crate::services::transfer_access as access;
use crate::web::AppState;
use crate::web::auth::{SignedIn, Viewer};
use crate::web::cache::ListRowText;
use crate::web::extract::Query;
use crate::web::page::{Chrome, render};
use crate::web::view::{self, TransferCells};

/// Rows of a page of the list and of the queue.
const PAGE_SIZE: u64 = 50;

/// One row of a list of transfers: the kept page's text and what is the view's own.
struct Row<'a> {
    text: &'a ListRowText,
    /// The time since the last change (`3 days ago`).
    ago: String,
    next_action: &'static str,
}

#[derive(Template)]
#[template(path = "pages/transfers/list.html")]
struct ListPage<'a> {
    chrome: Chrome,
    heading: String,
    rows: Vec<Row<'a>>,
    total: String,
    open_only: bool,
    can_file: bool,
    next_page: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    before: Option<i64>,
    /// `all` shows finished transfers too.
    show: Option<String>,
}

pub(super) async fn list(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let open_only = q.show.as_deref() != Some("all");
    let view = crate::web::cache::list(&app, &viewer, open_only, q.before, PAGE_SIZE + 1).await?;
    let more = view.found.len() as u64 > PAGE_SIZE;
    let found = &view.found[..view.found.len().min(PAGE_SIZE as usize)];
    let next_page = more.then(|| {
        format!(
            "/transfers?before={}{}",
            found.last().map_or(0, |t| t.facts.id.get()),
            if open_only { "" } else { "&show=all" }
        )
    });
    let rows = rows_for(&app, &viewer, found, &view.text);
    let total = view.total;
    let heading = match viewer.actor.role {
        Role::Member { .. } => "Your transfers",
        Role::Hostmaster { .. } => "Transfers touching your registry",
        _ => "Transfers",
    };
    render(&ListPage {
        chrome: viewer.chrome(&app).await?,
        heading: heading.to_owned(),
        rows,
        total: group_thousands(total),
        open_only,
        can_file: authz::can(&viewer.actor, Action::FileTransfer, None),
        next_page,
    })
}

/// Rows of a list: the kept text of each (`web::cache::ListView`) with the time since its last
/// change and the viewer's next action.
fn rows_for<'a>(
    app: &AppState,
    viewer: &Viewer,
    loaded: &[Loaded],
    text: &'a [ListRowText],
) -> Vec<Row<'a>> {
    let now = app.clock.now();
    loaded
        .iter()
        .zip(text)
        .map(|(l, text)| Row {
            text,
            ago: crate::domain::format::relative(l.row.updated_at, now),
            next_action: next_action(
                &viewer.actor,
                &TransferAccess::new(&l.facts, l.state.clone()),
            )
            .unwrap_or_default(),
        })
        .collect()
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

struct QueueRow<'a> {
    cells: &'a TransferCells,
    waited: String,
    overdue: bool,
    blocking: usize,
}

#[derive(Template)]
#[template(path = "pages/transfers/queue.html")]
struct QueuePage<'a> {
    chrome: Chrome,
    registry: String,
    rows: Vec<QueueRow<'a>>,
    waiting: String,
    overdue: String,
    any_waiting: bool,
    any_overdue: bool,
    /// Whether the queue is longer than this page.
    paged: bool,
    service_days: i64,
    next_page: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    /// The last step of the previous page (its `Next` link).
    after: Option<String>,
}

pub(super) async fn queue(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, AppError> {
    let after = access::queue_cursor(q.after.as_deref())?;
    let view = crate::web::cache::queue(&app, &viewer, after, PAGE_SIZE).await?;
    let (page, now) = (&view.page, app.clock.now());
    let service_days = app.settings.service_levels.of(page.registry).whole_days();
    let rows: Vec<QueueRow> = page
        .steps
        .iter()
        .zip(&view.cells)
        .zip(&view.blocking)
        .map(|((l, cells), blocking)| {
            let (overdue, waited) = view::service_level(l.row.updated_at, now, service_days);
            QueueRow {
                cells,
                waited,
                overdue,
                blocking: *blocking,
            }
        })
        .collect();
    let next_page = page.next.map(|c| format!("/queue?after={c}"));
    render(&QueuePage {
        chrome: viewer.chrome(&app).await?,
        registry: page.registry.to_string(),
        waiting: group_thousands(page.waiting),
        overdue: group_thousands(page.overdue),
        any_waiting: page.waiting > 0,
        any_overdue: page.overdue > 0,
        paged: page.waiting > rows.len() as u64,
        rows,
        service_days,
        next_page,
    })
}
