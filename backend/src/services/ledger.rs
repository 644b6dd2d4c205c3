//! Ledger verification: re-computes the hash chain over the stored entries (in keyset pages, so
//! memory stays flat) and checks that the imported snapshot with every transfer entry replayed
//! over it gives exactly the holdings registry.

use sea_orm::ConnectionTrait;

use crate::db::{holdings as holdings_db, ledger as ledger_db};
use crate::domain::ledger::{self, ChainBreak, ChainVerifier, EntryKind, LedgerEntry};
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

/// Verifies a sequence of entries (from the database or a bundle), stopping at the first break,
/// and replays transfer entries over `holdings` as it goes.
pub fn verify_entries(
    entries: impl IntoIterator<Item = LedgerEntry>,
    verifier: &mut ChainVerifier,
    holdings: &mut Vec<ledger::Holding>,
    replay_error: &mut Option<String>,
) -> Result<(), ChainBreak> {
    for e in entries {
        verifier.push(&e)?;
        if replay_error.is_none()
            && e.movement.kind == EntryKind::Transfer
            && let Err(err) = ledger::apply_movement(holdings, &e.movement)
        {
            *replay_error = Some(format!("entry {}: {err}", e.seq));
        }
    }
    Ok(())
}

/// Verifies the stored ledger and holdings.
pub async fn verify(conn: &impl ConnectionTrait) -> AppResult<Verification> {
    let mut verifier = ChainVerifier::new();
    let mut replayed = holdings_db::load_snapshot(conn).await?;
    let mut replay_error = None;
    let mut after = 0;
    let mut chain_break = None;
    loop {
        let page = ledger_db::page_after(conn, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        if let Err(b) = verify_entries(page, &mut verifier, &mut replayed, &mut replay_error) {
            chain_break = Some(b);
            break;
        }
    }
    let holdings_mismatch = if chain_break.is_some() {
        None
    } else if replay_error.is_some() {
        replay_error
    } else {
        let live = holdings_db::load_live(conn).await?;
        ledger::first_difference(&ledger::normalise(&replayed), &ledger::normalise(&live))
    };
    Ok(Verification {
        entries: verifier.count(),
        head_hash: verifier.head().map(|h| h.hash.clone()),
        chain_break,
        holdings_mismatch,
    })
}
