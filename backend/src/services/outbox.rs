//! Delivering the outbox: claim due rows, send each through the [`Mailer`], then mark it sent or
//! schedule its next attempt with exponential backoff; after the last attempt it is `failed` and
//! listed for admins, who may put it back in the queue.
//!
//! Delivery is at least once with a stable Message-ID: a worker that dies between the server's
//! "250 OK" and marking the row leaves a claim that is sent again, by the next process on the same
//! machine to see it dead (at once: see [`crate::process`]) or by any process once the lease runs
//! out; mail clients show the two copies as one message. Nothing is ever sent twice otherwise:
//! claims are exclusive (see `db::outbox::claim_due`), and only a dead claimer's are released.

use sea_orm::DatabaseConnection;
use time::{Duration, OffsetDateTime};

use crate::db::entities::email_outbox;
use crate::db::outbox;
use crate::error::{AppError, AppResult};
use crate::mail::{Mailer, Outgoing, SEND_TIMEOUT};

/// How hard the worker tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Rows claimed per round.
    pub batch: u64,
    /// How long a claim keeps other workers off a row. It must outlast sending the whole batch
    /// (`batch` x [`crate::mail::SEND_TIMEOUT`]), or another worker could claim a row still being sent.
    pub lease: Duration,
    /// Wait after the first failed attempt; doubled after each further one.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_retry: Duration,
    /// Attempts before a row is `failed`.
    pub max_attempts: i32,
}

impl Default for DeliveryPolicy {
    /// 1, 2, 4, ... minutes up to an hour: ten attempts span about seven hours. Batches of 10
    /// under a 10-minute lease: even a server that times out every send cannot outlast it.
    fn default() -> Self {
        DeliveryPolicy {
            batch: 10,
            lease: Duration::minutes(10),
            first_retry: Duration::minutes(1),
            max_retry: Duration::hours(1),
            max_attempts: 10,
        }
    }
}

/// The longest lease `--outbox-lease` accepts: a week.
const MAX_LEASE_SECS: u64 = 7 * 24 * 3600;

impl DeliveryPolicy {
    /// The defaults under another lease (`--outbox-lease`): the batch shrinks so that sending it
    /// still cannot outlast the lease. The lease must outlast one send
    /// ([`crate::mail::SEND_TIMEOUT`]).
    pub fn with_lease(lease: std::time::Duration) -> Result<DeliveryPolicy, String> {
        let send = SEND_TIMEOUT.as_secs();
        let secs = lease.as_secs();
        if secs <= send {
            return Err(format!(
                "the outbox lease must be longer than the {send} seconds one send may take, not {secs} seconds"
            ));
        }
        if secs > MAX_LEASE_SECS {
            return Err(format!(
                "the outbox lease is at most {MAX_LEASE_SECS} seconds (a week), not {secs}"
            ));
        }
        let default = DeliveryPolicy::default();
        Ok(DeliveryPolicy {
            lease: Duration::seconds(secs.try_into().unwrap_or(i64::MAX)),
            // The most whole sends that end before the lease does.
            batch: ((secs - 1) / send).min(default.batch),
            ..default
        })
    }

    /// The wait after failed attempt number `attempts` (1-based): exponential, capped.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        let wait = self
            .first_retry
            .checked_mul(2i32.saturating_pow(doublings))
            .unwrap_or(self.max_retry);
        wait.min(self.max_retry)
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: u64,
    /// Failed this time, to be tried again later.
    pub deferred: u64,
    /// Failed for good: out of attempts, or refused permanently.
    pub failed: u64,
}

impl Delivered {
    /// Rows this round handled.
    pub fn claimed(&self) -> u64 {
        self.sent + self.deferred + self.failed
    }
}

/// The message an outbox row carries, without the outbox's bookkeeping.
fn outgoing(row: &email_outbox::Model) -> Outgoing {
    Outgoing {
        message_id: row.message_id.clone(),
        to_address: row.to_address.clone(),
        subject: row.subject.clone(),
        body_text: row.body_text.clone(),
        body_html: row.body_html.clone(),
        created_at: row.created_at,
    }
}

/// One round: claims up to a batch of due rows and tries each once.
pub async fn deliver_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    policy: &DeliveryPolicy,
    now: OffsetDateTime,
) -> AppResult<Delivered> {
    let mut done = Delivered::default();
    outbox::release_dead_claims(db, now).await?;
    for row in outbox::claim_due(db, policy.batch, policy.lease, now).await? {
        match mailer.send(&outgoing(&row)).await {
            Ok(()) => {
                outbox::mark_sent(db, row.id, now).await?;
                done.sent += 1;
            }
            Err(e) => {
                let retry_at = (!e.permanent && row.attempts < policy.max_attempts)
                    .then(|| now + policy.backoff(row.attempts));
                tracing::warn!(
                    message_id = %row.message_id,
                    attempt = row.attempts,
                    retry_at = ?retry_at,
                    "e-mail not sent: {}",
                    e.message
                );
                outbox::mark_attempt_failed(db, row.id, &e.message, retry_at).await?;
                match retry_at {
                    Some(_) => done.deferred += 1,
                    None => done.failed += 1,
                }
            }
        }
    }
    Ok(done)
}

/// Rounds until no row is due; returns the totals. Each round asks `now` for the time, so a long
/// backlog claims under fresh leases. Rows deferred in a round wait at least
/// `first_retry`, so this ends.
pub async fn drain(
    db: &DatabaseConnection,
    mailer: &Mailer,
    policy: &DeliveryPolicy,
    now: impl Fn() -> OffsetDateTime,
) -> AppResult<Delivered> {
    let mut total = Delivered::default();
    loop {
        let round = deliver_due(db, mailer, policy, now()).await?;
        if round.claimed() == 0 {
            return Ok(total);
        }
        total.sent += round.sent;
        total.deferred += round.deferred;
        total.failed += round.failed;
    }
}

/// A message that ran out of attempts, as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEmail {
    pub id: i64,
    pub message_id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub transfer_id: Option<i64>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

impl From<email_outbox::Model> for FailedEmail {
    fn from(r: email_outbox::Model) -> Self {
        FailedEmail {
            id: r.id,
            message_id: r.message_id,
            kind: r.kind,
            to: r.to_address,
            subject: r.subject,
            transfer_id: r.transfer_id,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
        }
    }
}

/// Messages that ran out of attempts, newest first, at most `limit` (for admins).
pub async fn failed(db: &DatabaseConnection, limit: u64) -> AppResult<Vec<FailedEmail>> {
    Ok(outbox::failed(db, limit)
        .await?
        .into_iter()
        .map(FailedEmail::from)
        .collect())
}

/// Puts a failed message back in the queue with a fresh budget of attempts (an admin's retry).
/// The Message-ID stays, so recipients see one message even if an earlier attempt got through.
pub async fn retry(db: &DatabaseConnection, id: i64, now: OffsetDateTime) -> AppResult<()> {
    if outbox::requeue_failed(db, id, now).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "there is no failed e-mail {id} to retry"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_outlasts_a_batch_of_timed_out_sends() {
        let p = DeliveryPolicy::default();
        let worst = Duration::try_from(SEND_TIMEOUT).unwrap() * p.batch as i32;
        assert!(p.lease > worst, "{} <= {worst}", p.lease);
    }

    #[test]
    fn a_configured_lease_shrinks_the_batch_to_fit() {
        let minutes = |m: u64| DeliveryPolicy::with_lease(std::time::Duration::from_secs(m * 60));
        assert_eq!(minutes(10).unwrap(), DeliveryPolicy::default());
        assert_eq!(minutes(1).unwrap().batch, 1);
        assert_eq!(minutes(1).unwrap().lease, Duration::minutes(1));
        assert_eq!(minutes(60).unwrap().batch, 10);
        for secs in [31, 59, 60, 61, 299, 300, 301, 3600] {
            let p = DeliveryPolicy::with_lease(std::time::Duration::from_secs(secs)).unwrap();
            let worst = Duration::try_from(SEND_TIMEOUT).unwrap() * p.batch as i32;
            assert!(
                p.batch >= 1 && p.lease > worst,
                "{secs} s: batch {}",
                p.batch
            );
        }
        let error =
            DeliveryPolicy::with_lease(std::time::Duration::from_secs(u64::MAX)).unwrap_err();
        assert_eq!(
            error,
            format!(
                "the outbox lease is at most 604800 seconds (a week), not {}",
                u64::MAX
            )
        );
        assert!(minutes(7 * 24 * 60).is_ok());
        let error = DeliveryPolicy::with_lease(std::time::Duration::from_secs(30)).unwrap_err();
        assert_eq!(
            error,
            "the outbox lease must be longer than the 30 seconds one send may take, not 30 seconds"
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let p = DeliveryPolicy::default();
        let waits: Vec<i64> = (1..=9).map(|a| p.backoff(a).whole_minutes()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.backoff(0), Duration::minutes(1));
        assert_eq!(p.backoff(i32::MAX), Duration::hours(1));
        let total: i64 = (1..p.max_attempts)
            .map(|a| p.backoff(a).whole_minutes())
            .sum();
        assert_eq!(total, 1 + 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60);
    }
}
