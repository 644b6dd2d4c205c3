//! Idempotency keys of the JSON API's POSTs (the `Idempotency-Key` header, IETF
//! draft-ietf-httpapi-idempotency-key-header): the first request with a key claims it, and a
//! retry gets the first request's answer instead of doing the step again.
//!
//! The claim is a row unique on (token, key), inserted before the step runs: two concurrent
//! retries cannot both insert it, so at most one of them runs the step; the other is told the
//! first is still running (409) and, once it has finished, gets its answer. If the process dies
//! between the step and storing its answer, the key stays claimed and a retry keeps hearing 409
//! rather than filing a second transfer: that is the safe side.

use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::db::idempotency_keys as keys_db;
use crate::error::{AppError, AppResult};

/// Keys are kept this long; a retry after that is a new request.
pub const KEEP: Duration = Duration::hours(24);
const KEY_MAX: usize = 255;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then [`finish`] (or [`release`]) the claim.
    Claimed(i64),
    /// The first request with this key has answered: answer the same.
    Replay(Answer),
}

/// The fingerprint of a request: method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// Checks a key as sent: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(format!(
            "The Idempotency-Key must be 1 to {KEY_MAX} visible ASCII characters, such as a UUID."
        )));
    }
    Ok(())
}

/// Claims `key` for this token's request, or finds the answer of the request that claimed it.
pub async fn claim(
    db: &DatabaseConnection,
    token_id: i64,
    key: &str,
    request_hash: &str,
    now: OffsetDateTime,
) -> AppResult<Claim> {
    check_key(key)?;
    // An expired key of this token is forgotten first, so it can be claimed afresh.
    keys_db::forget_if_older(db, token_id, key, now - KEEP).await?;
    let inserted = keys_db::insert_if_new(db, token_id, key, request_hash, now).await?;
    let row = keys_db::find(db, token_id, key).await?.ok_or_else(|| {
        AppError::conflict("The Idempotency-Key was released meanwhile: send the request again.")
    })?;
    if inserted {
        return Ok(Claim::Claimed(row.id));
    }
    if row.request_hash != request_hash {
        return Err(AppError::Invalid(
            "This Idempotency-Key was used for a different request: use a new key for a new request."
                .into(),
        ));
    }
    match (row.status, row.content_type, row.body) {
        (Some(status), Some(content_type), Some(body)) => Ok(Claim::Replay(Answer {
            status: u16::try_from(status).unwrap_or(500),
            content_type,
            body,
        })),
        _ => Err(AppError::conflict(
            "A request with this Idempotency-Key is still being processed: retry in a moment to get its answer.",
        )),
    }
}

/// Stores the answer of a claimed request.
pub async fn finish(db: &DatabaseConnection, id: i64, answer: &Answer) -> AppResult<()> {
    let status = i32::from(answer.status);
    if !keys_db::store_answer(db, id, status, &answer.content_type, &answer.body).await? {
        return Err(AppError::Internal(anyhow::anyhow!(
            "idempotency key {id} vanished"
        )));
    }
    Ok(())
}

/// Gives a claim up (the request failed before it changed anything, e.g. a server error), so
/// a retry runs it again.
pub async fn release(db: &DatabaseConnection, id: i64) -> AppResult<()> {
    Ok(keys_db::delete(db, id).await?)
}

/// Deletes keys older than [`KEEP`]; returns how many went.
pub async fn prune(db: &DatabaseConnection, now: OffsetDateTime) -> AppResult<u64> {
    Ok(keys_db::delete_older(db, now - KEEP).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("3f2b-11ee").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("with space").is_err());
        assert!(check_key(&"x".repeat(256)).is_err());
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let a = request_hash("POST", "/api/v1/transfers", b"{}");
        assert_eq!(a, request_hash("POST", "/api/v1/transfers", b"{}"));
        assert_ne!(a, request_hash("POST", "/api/v1/transfers", b"{ }"));
        assert_ne!(a, request_hash("POST", "/api/v1/transfers/1/accept", b"{}"));
    }
}
