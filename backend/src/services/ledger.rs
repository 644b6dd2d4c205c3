//! Ledger verification: re-computes the hash chain over the stored entries (in keyset pages, so
//! memory stays flat) and checks that the imported snapshot with every transfer entry replayed
//! over it gives exactly the holdings registry.

use sea_orm::DatabaseConnection;

use crate::db::{self, holdings as holdings_db, ledger as ledger_db};
use crate::domain::ledger::{self, Audit, ChainBreak};
use crate::error::AppResult;

/// Entries read per page while verifying.
const PAGE: u64 = 2_000;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries whose hashes verified (all of them when `chain_break` is `None`).
    pub entries: u64,
    /// Hash of the last verified entry; `None` for an empty ledger.
    pub head_hash: Option<String>,
    pub chain_break: Option<ChainBreak>,
    /// First difference between snapshot-plus-ledger and the holdings registry, if any.
    pub holdings_mismatch: Option<String>,
}

impl Verification {
    /// True when both the chain and the holdings verified.
    pub fn is_intact(&self) -> bool {
        self.chain_break.is_none() && self.holdings_mismatch.is_none()
    }

    /// One line for people: "verified: N entries, head hash H" or what broke first.
    pub fn summary(&self) -> String {
        if let Some(b) = &self.chain_break {
            return format!("ledger chain broken at {b}");
        }
        if let Some(m) = &self.holdings_mismatch {
            return format!("holdings do not match the ledger: {m}");
        }
        format!(
            "verified: {} entries, head hash {}",
            self.entries,
            self.head_hash.as_deref().unwrap_or(ledger::GENESIS_HASH)
        )
    }
}

/// Verifies the stored ledger and holdings, all read in one snapshot (`db::begin_snapshot`), so
/// a transfer finalised meanwhile can neither show as a mismatch nor hide one.
pub async fn verify(db: &DatabaseConnection) -> AppResult<Verification> {
    let txn = db::begin_snapshot(db).await?;
    let conn = &txn;
    let mut audit = Audit::new(holdings_db::load_snapshot(conn).await?);
    let mut chain_break = None;
    let mut after = 0;
    let mut page = ledger_db::read_page_after(conn, after, PAGE).await?;
    while let Some(last) = page.last {
        // The next page is read while this one is unpacked and checked: the database (its own
        // thread or server) and this thread work at the same time.
        let (next, checked) = tokio::join!(ledger_db::read_page_after(conn, last, PAGE), async {
            let entries = ledger_db::unpack_page(page, after)?;
            AppResult::Ok(entries.iter().try_for_each(|e| audit.push(e)))
        });
        if let Err(b) = checked? {
            chain_break = Some(b);
            break;
        }
        (after, page) = (last, next?);
    }
    // A broken chain makes the holdings comparison meaningless: report the break alone.
    let holdings_mismatch = match chain_break {
        Some(_) => None,
        None => audit.holdings_mismatch(holdings_db::load_live(conn).await?),
    };
    txn.commit().await?;
    Ok(Verification {
        entries: audit.chain().count(),
        head_hash: audit.chain().head().map(|h| h.hash.clone()),
        chain_break,
        holdings_mismatch,
    })
}
