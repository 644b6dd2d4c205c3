//! What pages would otherwise recompute from whole tables on every view (issue 11): the public
//! transfer log as a stored artefact, the statistics, the counts of the home and admin pages and
//! the totals of the registries' and auditors' lists (`services::transfer_access::ListTotals`).
//! Each is kept with the key it was computed for (the ledger's head, the newest row ids), which a
//! view reads with one cheap indexed query; a new key (an append, an import, a new organisation,
//! also by another process on the same database) recomputes it once, while concurrent viewers
//! wait for that result instead of computing it too.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderValue;
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
        let mut slot = self.slot.lock().await;
        if let Some((k, v)) = slot.as_ref()
            && *k == key
        {
            return Ok(v.clone());
        }
        let v = Arc::new(compute.await?);
        *slot = Some((key, v.clone()));
        Ok(v)
    }
}

pub use crate::db::freshness::LedgerKey;
use crate::db::freshness::{self, HoldingsKey};
use crate::error::AppResult;

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
    pub public_log: Memo<LedgerKey, Artefact>,
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
    /// The totals of the hostmasters' and auditors' lists, by the transfers' revision.
    pub list_totals: crate::services::transfer_access::ListTotals,
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
/// rendered again only after an append.
pub async fn statistics_page(
    app: &super::AppState,
    with_prices: bool,
    render: impl FnOnce(&crate::domain::statistics::TransferStatistics) -> AppResult<String>,
) -> AppResult<Arc<String>> {
    let key = freshness::ledger_key(&app.db).await?;
    let memo = if with_prices {
        &app.caches.statistics
    } else {
        &app.caches.statistics_without_prices
    };
    memo.get(key.clone(), async {
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
