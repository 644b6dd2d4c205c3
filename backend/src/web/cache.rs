//! What pages would otherwise recompute from whole tables on every view (issue 11): the public
//! transfer log as a stored artefact, the statistics, the counts of the home and admin pages and
//! the totals of the registries' and auditors' lists (`services::transfer_access::ListTotals`);
//! and what the busiest pages read, kept between views (the queue, the lists of transfers, the
//! transfer pages, the lookup, the whole ledger's page, the admin's attention page). Each is kept
//! with the key it was computed for (the ledger's head, the newest row ids, the `contents` and
//! `attention` revisions that triggers move: `db::freshness`), which a view reads with one cheap
//! indexed query or with its session; a new key (an append, an import, any write a page shows,
//! also by another process on the same database) recomputes it once, while concurrent viewers
//! wait for that result instead of computing it too. A value is never older than its key: the
//! key is read first.

use std::hash::Hash;
use std::sync::{Arc, PoisonError};

use axum::body::Bytes;
use axum::http::HeaderValue;
use hashlink::LruCache;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// One computed value and the key it is valid for.
pub struct Memo<K, V> {
    slot: Mutex<Option<(K, Arc<V>)>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            slot: Mutex::new(None),
        }
    }
}

impl<K: PartialEq, V> Memo<K, V> {
    /// The value for `key`: the stored one if it was computed for `key`, else `compute`'s.
    pub async fn get<E, F>(&self, key: K, compute: F) -> Result<Arc<V>, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        self.get_while(key, |_| true, compute).await
    }

    /// [`Memo::get`] for a value that also ages: the stored one only while `fresh` holds of it.
    pub async fn get_while<E, F>(
        &self,
        key: K,
        fresh: impl FnOnce(&V) -> bool,
        compute: F,
    ) -> Result<Arc<V>, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((k, v)) = slot.as_ref()
            && *k == key
            && fresh(v)
        {
            return Ok(v.clone());
        }
        let v = Arc::new(compute.await?);
        *slot = Some((key, v.clone()));
        Ok(v)
    }
}

/// Memos of one kind of page, one for each of what tells its pages apart (a registry and a
/// cursor). At most [`Memos::MOST`] are kept, the least recently viewed dropped first: the
/// pages in use stay while links crafted by the thousand cannot grow the memory (dropping all at
/// once made 10,000 transfer pages viewed in turn all read again).
pub struct Memos<P, K, V> {
    pages: std::sync::Mutex<LruCache<P, Arc<Memo<K, V>>>>,
}

impl<P: Eq + Hash, K, V> Default for Memos<P, K, V> {
    fn default() -> Self {
        Memos {
            pages: std::sync::Mutex::new(LruCache::new(Self::MOST)),
        }
    }
}

impl<P: Eq + Hash, K, V> Memos<P, K, V> {
    const MOST: usize = 1_024;

    /// The memo of `page`, now the most recently used.
    pub fn of(&self, page: P) -> Arc<Memo<K, V>> {
        // A panic while the map was held leaves it whole (each step below is one call).
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(memo) = pages.get(&page) {
            return memo.clone();
        }
        let memo = Arc::<Memo<K, V>>::default();
        pages.insert(page, memo.clone());
        memo
    }

    /// How many pages are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

pub use crate::db::freshness::LedgerKey;
use crate::db::freshness::{self, AttentionKey, ContentsKey, HoldingsKey, LedgerPageKey};
use crate::db::transfers::{Loaded, QueueCursor, Scope};
use crate::domain::authz::{self, Action, TransferAccess};
use crate::domain::{Ipv4Range, Rir};
use crate::error::AppResult;
use crate::services::transfer_access::{self as access, QueuePage};
use crate::web::auth::Viewer;

/// The public transfer log as built for one state of the ledger: the JSON and its gzip, sent
/// from memory (no database connection is held while a client downloads it, however slowly).
/// `web::public` builds and serves it.
pub struct Artefact {
    pub(super) json: Bytes,
    pub(super) gzip: Bytes,
    pub(super) etag: HeaderValue,
    pub(super) last_modified: HeaderValue,
    pub(super) built_at: OffsetDateTime,
}

/// Every memo of the web interface.
#[derive(Default)]
pub struct Caches {
    /// The public transfer log, by ledger head.
    pub public_log: Memo<freshness::LedgerHead, Artefact>,
    /// The statistics page's figures as rendered HTML: auditors' (with prices) and everyone
    /// else's, by ledger head.
    pub statistics: Memo<LedgerKey, String>,
    pub statistics_without_prices: Memo<LedgerKey, String>,
    /// The figures both are rendered from, read from the whole ledger once per ledger head
    /// (prices included; everyone else's rendering gets them without).
    pub statistics_data: Memo<LedgerKey, crate::domain::statistics::TransferStatistics>,
    /// The home page's counts, by ledger head and the newest organisation and import.
    pub home: Memo<HoldingsKey, crate::services::stats::Stats>,
    /// The admin page's organisation and user counts, by the newest of each.
    pub admin_counts: Memo<(Option<i64>, Option<i64>), (u64, u64)>,
    /// The administrator's attention page, as [`attention`] reads it.
    pub attention: Memo<AttentionKey, AttentionView>,
    /// The totals of the hostmasters' and auditors' lists, by the transfers' revision.
    pub list_totals: crate::services::transfer_access::ListTotals,
    /// The lists of transfers, by scope, filter and page, as [`list`] reads them.
    pub lists: Memos<(Scope, bool, Option<i64>, u64), ContentsKey, ListView>,
    /// The transfer pages' records and findings, by transfer and whether the reviewer's
    /// holdings are read, as [`transfer`] reads them.
    pub transfers: Memos<(i64, bool), ContentsKey, TransferView>,
    /// The hostmasters' queue, by registry and page, as [`queue`] reads it.
    pub queue: Memos<(Rir, Option<QueueCursor>, u64), ContentsKey, QueueView>,
}

/// A page of a hostmaster's queue with what its rules find, as [`queue`] keeps it.
pub struct QueueView {
    pub page: QueuePage,
    /// How many blocking findings each step of the page has.
    pub blocking: Vec<usize>,
    /// What each step's row shows the same to every viewer, in the order of the steps.
    pub cells: Vec<crate::web::view::TransferCells>,
    /// When it must be read again though nothing was written: a step's wait reaches the service
    /// level (the overdue count grows) or the day ends (the rules judge by the date).
    until: OffsetDateTime,
}

/// A page of at most `limit` steps of the actor's queue (`services::transfer_access::queue`)
/// with the blocking findings of each, read again only when a transfer, a holding, an
/// organisation or the ledger changed (`db::freshness::contents_key`), or time moved a count or
/// a rule. Every hostmaster of a registry views the same pages, so they share them.
pub async fn queue(
    app: &super::AppState,
    viewer: &Viewer,
    after: Option<QueueCursor>,
    limit: u64,
) -> AppResult<Arc<QueueView>> {
    let actor = &viewer.actor;
    let registry = access::queue_registry(actor)?;
    let key = keys(app, viewer).await?.contents;
    let now = app.clock.now();
    let memo = app.caches.queue.of((registry, after, limit));
    memo.get_while(key, |view| now < view.until, async {
        let levels = &app.settings.service_levels;
        let page = access::queue(&app.db, actor, levels, now, after, limit).await?;
        let findings =
            crate::services::transfers::findings_of_many(&app.db, &app.settings, &page.steps, now)
                .await?;
        let blocking = findings
            .iter()
            .map(|f| f.iter().filter(|x| x.is_blocking()).count())
            .collect();
        let until = match page.next_overdue {
            Some(at) => at.min(end_of_day(now)),
            None => end_of_day(now),
        };
        let cells = page
            .steps
            .iter()
            .map(|l| crate::web::view::TransferCells::of(&l.facts, &l.state))
            .collect();
        Ok(QueueView {
            page,
            blocking,
            cells,
            until,
        })
    })
    .await
}

/// How many organisations and users there are, counted again only when one was added.
pub async fn admin_counts(app: &super::AppState) -> AppResult<Arc<(u64, u64)>> {
    admin_counts_at(app, freshness::people_key(&app.db).await?).await
}

/// [`admin_counts`] for a key already read (`db::freshness::people_key`'s).
pub async fn admin_counts_at(
    app: &super::AppState,
    key: (Option<i64>, Option<i64>),
) -> AppResult<Arc<(u64, u64)>> {
    app.caches
        .admin_counts
        .get(key, async { Ok(freshness::people_counts(&app.db).await?) })
        .await
}

/// What the administrator's attention page shows, as [`attention`] keeps it.
pub struct AttentionView {
    /// The open invitations, the failed e-mails and the newest ids.
    pub attention: crate::db::users::Attention,
    /// How many organisations and users there are.
    pub counts: (u64, u64),
    /// When the first of the invitations shown expires (and leaves the page).
    until: Option<OffsetDateTime>,
}

/// The administrator's attention page, read again only when a user, an invitation link, an
/// organisation or a failed e-mail was written (`db::freshness::AttentionKey`) or an invitation
/// shown expired. Administrators only: the caller checks the role first.
pub async fn attention(app: &super::AppState, viewer: &Viewer) -> AppResult<Arc<AttentionView>> {
    attention_at(app, keys(app, viewer).await?.attention).await
}

/// [`attention`] with the key read by itself (to compute it before anyone views it: the admin's
/// counts with it).
pub async fn attention_now(app: &super::AppState) -> AppResult<Arc<AttentionView>> {
    attention_at(app, freshness::attention_key(&app.db).await?).await
}

async fn attention_at(app: &super::AppState, key: AttentionKey) -> AppResult<Arc<AttentionView>> {
    let now = app.clock.now();
    let fresh = |view: &AttentionView| view.until.is_none_or(|until| now < until);
    app.caches
        .attention
        .get_while(key, fresh, async {
            let attention = crate::db::users::attention(&app.db, now).await?;
            let counts = *admin_counts_at(app, attention.people_key).await?;
            let until = attention.invitations.iter().map(|(_, e)| *e).min();
            Ok(AttentionView {
                attention,
                counts,
                until,
            })
        })
        .await
}

/// The home page's counts per registry, computed again only after an append, an import or a new
/// organisation.
pub async fn home_stats(app: &super::AppState) -> AppResult<Arc<crate::services::stats::Stats>> {
    let key = freshness::holdings_key(&app.db).await?;
    app.caches
        .home
        .get(key, crate::services::stats::stats(&app.db))
        .await
}

/// The statistics page's figures (with prices for auditors) as `render` makes them, computed and
/// rendered again only after an append; `head` is the ledger's head when it was read already
/// (with the session).
pub async fn statistics_page(
    app: &super::AppState,
    head: Option<LedgerKey>,
    with_prices: bool,
    render: impl FnOnce(&crate::domain::statistics::TransferStatistics) -> AppResult<String>,
) -> AppResult<Arc<String>> {
    let key = match head {
        Some(head) => head,
        None => freshness::ledger_key(&app.db).await?,
    };
    let memo = if with_prices {
        &app.caches.statistics
    } else {
        &app.caches.statistics_without_prices
    };
    memo.get(key, async {
        let figures = app
            .caches
            .statistics_data
            .get(key, crate::services::statistics::statistics(&app.db))
            .await?;
        if with_prices {
            render(&figures)
        } else {
            render(&figures.without_prices())
        }
    })
    .await
}

/// A page of a list of transfers, as [`list`] keeps it.
pub struct ListView {
    /// At most `limit` transfers, newest first.
    pub found: Vec<Loaded>,
    /// How many the scope holds (open ones, with `open_only`).
    pub total: u64,
    /// What each row shows the same to every viewer, in the order of `found`.
    pub text: Vec<ListRowText>,
}

/// A row of a list as every viewer of the page sees it ([`crate::web::view::TransferCells`]
/// and the list's own columns).
pub struct ListRowText {
    pub cells: crate::web::view::TransferCells,
    /// The NRO status, empty when there is none to show: an ended inter-RIR transfer shows its
    /// cancel status only if the NRO log had heard of it (`db::transfers::ever_initialized`).
    pub nro: String,
    pub waiting_on: String,
    /// The day of the last change (`2026-11-28`); the time since it is the view's.
    pub since_day: String,
}

/// A page of the transfers the actor may see (`services::transfer_access::list_with_total`),
/// read again only when a transfer or an organisation changed (`db::freshness::contents_key`;
/// the list shows no holdings and nothing that ages). Everyone with the same scope (a
/// registry's hostmasters, an organisation's members, the auditors) shares its pages.
pub async fn list(
    app: &super::AppState,
    viewer: &Viewer,
    open_only: bool,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Arc<ListView>> {
    let actor = &viewer.actor;
    let scope = access::list_scope(actor)?;
    let key = keys(app, viewer).await?.contents;
    let memo = app.caches.lists.of((scope, open_only, before, limit));
    memo.get(key, async {
        let totals = &app.caches.list_totals;
        let (found, total) =
            access::list_with_total(&app.db, totals, actor, open_only, before, limit).await?;
        let cancelled: Vec<i64> = found
            .iter()
            .filter(|l| cancel_status_depends_on_the_log(l))
            .map(|l| l.facts.id.get())
            .collect();
        let initialized = crate::db::transfers::ever_initialized(&app.db, &cancelled).await?;
        let text = found
            .iter()
            .map(|l| {
                let f = &l.facts;
                let nro = l
                    .state
                    .nro_status(f.is_inter_rir())
                    .filter(|_| {
                        !cancel_status_depends_on_the_log(l) || initialized.contains(&f.id.get())
                    })
                    .map(|s| s.as_str().to_owned());
                let parties = crate::web::view::Parties::of(f);
                ListRowText {
                    cells: crate::web::view::TransferCells::of(f, &l.state),
                    nro: nro.unwrap_or_default(),
                    waiting_on: crate::web::view::waiting_on(&l.state, &parties)
                        .unwrap_or_default(),
                    since_day: crate::domain::format::utc_day(l.row.updated_at),
                }
            })
            .collect();
        Ok(ListView { found, total, text })
    })
    .await
}

/// An inter-RIR transfer that ended without completing shows its cancel status only if the NRO
/// log had heard of it (SOURCE_INITIALIZED).
fn cancel_status_depends_on_the_log(l: &Loaded) -> bool {
    l.facts.is_inter_rir()
        && l.state.is_terminal()
        && l.state != crate::domain::workflow::State::Completed
}

/// What a transfer page shows of a transfer, as [`transfer`] keeps it.
pub struct TransferView {
    pub details: crate::db::transfers::Details,
    /// Both registries' findings now; none once the transfer ended.
    pub findings: Vec<crate::domain::finding::Finding>,
    /// The end of the day: the rules judge by the date.
    until: OffsetDateTime,
}

/// A transfer's records and findings for its page (`services::transfer_access::details`, with
/// the holdings its blocks touch when `with_holdings`), read again only when what it shows may
/// have changed (`db::freshness::contents_key`) or the day ended; with what the actor may do
/// on it. Every viewer is checked against the transfer as kept, not only the one who read it:
/// one who may not see it gets the same "not found" whether it was kept or not.
pub async fn transfer(
    app: &super::AppState,
    viewer: &Viewer,
    id: i64,
    with_holdings: bool,
) -> AppResult<(Arc<TransferView>, TransferAccess)> {
    let actor = &viewer.actor;
    let key = keys(app, viewer).await?.contents;
    let now = app.clock.now();
    let memo = app.caches.transfers.of((id, with_holdings));
    let view = memo
        .get_while(key, |view| now < view.until, async {
            let (details, _) = access::details(&app.db, actor, id, with_holdings).await?;
            let l = &details.transfer;
            let findings = if l.state.is_terminal() {
                Vec::new()
            } else {
                // The "held by" panel's holdings, when read, are the ones policy reads too.
                let known = details
                    .holdings
                    .as_ref()
                    .map(|h| h.iter().map(|h| h.holding.clone()).collect());
                crate::services::transfers::findings_of(&app.db, &app.settings, l, known, now)
                    .await?
            };
            Ok::<_, crate::error::AppError>(TransferView {
                details,
                findings,
                until: end_of_day(now),
            })
        })
        .await?;
    let l = &view.details.transfer;
    let transfer_access = TransferAccess::new(&l.facts, l.state.clone());
    if !authz::can(actor, Action::ViewTransfer, Some(&transfer_access)) {
        return Err(access::not_found(id));
    }
    Ok((view, transfer_access))
}

/// The first instant of the next day, in `now`'s offset.
fn end_of_day(now: OffsetDateTime) -> OffsetDateTime {
    match now.date().next_day() {
        Some(day) => day.midnight().assume_offset(now.offset()),
        None => now,
    }
}

/// What tells the lookup's pages apart: the range, the first address after which holdings are
/// shown, and the sequence number before which entries are.
pub type LookupPlace = (Ipv4Range, Option<u32>, Option<i64>);

/// The lookup's two lists for a range, as `read` builds them (`web::lookup`), read again only
/// when a holding, an organisation or the ledger may have changed
/// (`db::freshness::contents_key`: holdings are inserted and deleted only with a ledger entry
/// or an import, and their updates move the `contents` revision). Everyone who may look up
/// sees the same, so everyone shares them.
pub(crate) async fn lookup<V>(
    app: &super::AppState,
    viewer: &Viewer,
    range: Ipv4Range,
    (after, before): (Option<u32>, Option<i64>),
    memos: &Memos<LookupPlace, ContentsKey, V>,
    read: impl Future<Output = AppResult<V>>,
) -> AppResult<Arc<V>> {
    let key = keys(app, viewer).await?.contents;
    memos.of((range, after, before)).get(key, read).await
}

/// A page of the whole ledger (no filter) before `before`, read by `read` only after an append,
/// a new checkpoint or a cosignature (`db::freshness::ledger_page_key`): entries never change,
/// and the checkpoint's cosignatures, verified when read, are only ever added.
pub(crate) async fn ledger_page<V>(
    app: &super::AppState,
    viewer: &Viewer,
    before: Option<i64>,
    memos: &Memos<Option<i64>, LedgerPageKey, V>,
    read: impl Future<Output = AppResult<V>>,
) -> AppResult<Arc<V>> {
    let key = keys(app, viewer).await?.ledger_page;
    memos.of(before).get(key, read).await
}

/// The kept pages' keys: those read with the viewer's session (a request that only reads), else
/// read now.
async fn keys(app: &super::AppState, viewer: &Viewer) -> AppResult<freshness::Freshness> {
    match &viewer.freshness {
        Some(keys) => Ok(keys.clone()),
        None => Ok(freshness::freshness(&app.db).await?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pages = Memos<usize, (), usize>;

    #[tokio::test]
    async fn memos_drop_the_least_recently_viewed_page_first() {
        let memos = Pages::default();
        let in_use = memos.of(0);
        let kept = in_use.get((), async { Ok::<_, ()>(7) }).await.unwrap();
        let second = memos.of(1);
        for page in 2..Pages::MOST {
            memos.of(page);
        }
        assert_eq!(memos.len(), Pages::MOST);
        // Viewed again, the first page is the most recent; a new page drops the second.
        assert!(Arc::ptr_eq(&memos.of(0), &in_use));
        memos.of(Pages::MOST);
        assert_eq!(memos.len(), Pages::MOST, "no more than MOST");
        let again = memos.of(0);
        assert!(Arc::ptr_eq(&again, &in_use), "the page in use stays");
        let value = again.get((), async { Err::<usize, ()>(()) }).await.unwrap();
        assert!(Arc::ptr_eq(&value, &kept), "with its value");
        assert!(
            !Arc::ptr_eq(&memos.of(1), &second),
            "the least recent was dropped"
        );
    }
}
