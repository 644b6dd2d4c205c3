//! One bandwidth budget shared by every download of the public transfer log (issue 11: no
//! anonymous client may starve the site). Served from memory, the 35 MB log costs no database
//! connection, but eight clients reading it as fast as the loopback allows kept both cores
//! copying (ours and theirs) and `/ledger` fell to a seventh of its speed. Sharing one budget
//! bounds what public downloads cost together, however many clients there are; pages, and the
//! signed-in auditors' exports (bounded by [`super::spool`]), are not paced.
//!
//! The budget is the generic cell rate algorithm over bytes (a token bucket: a burst of a
//! quarter of a second's bytes, then the rate), as `governor` implements it for the API's
//! requests. It is written here, in a few lines, because a download waits on it with tokio's
//! timer, which tests drive on a paused clock; `governor`'s `until_ready` waits on a timer of
//! its own that a paused clock does not move, so its pacing could only be tested in real time.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use tokio::time::Instant;

/// Bytes sent at once; a download reserves its budget a chunk at a time.
const CHUNK: usize = 64 * 1024;

/// The default budget, in MiB per second for all public downloads together.
pub const DEFAULT_MIB_PER_SECOND: u32 = 16;

/// The shared budget.
#[derive(Debug)]
pub struct Budget {
    /// Bytes per second; `None` sends at whatever speed the client reads.
    rate: Option<u64>,
    /// The budget's theoretical arrival time: when everything reserved so far has been sent.
    busy_until: Mutex<Option<Instant>>,
}

impl Budget {
    /// A budget of `mib` MiB per second shared by all downloads; 0 means unpaced.
    pub fn mib_per_second(mib: u32) -> Budget {
        Budget {
            rate: (mib > 0).then(|| u64::from(mib) << 20),
            busy_until: Mutex::new(None),
        }
    }

    /// Reserves `n` bytes at `now` and says when they may be sent: at once while the burst
    /// lasts, then as the rate allows, in the order downloads asked.
    fn reserve(&self, n: u64, now: Instant) -> Instant {
        let Some(rate) = self.rate else {
            return now;
        };
        let nanos = |bytes: u64| Duration::from_nanos(bytes.saturating_mul(1_000_000_000) / rate);
        let mut busy_until = self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        let start = busy_until.map_or(now, |t| t.max(now));
        let done = start + nanos(n);
        *busy_until = Some(done);
        // A quarter of a second's bytes may run ahead of the rate.
        done.checked_sub(nanos(rate / 4))
            .map_or(now, |t| t.max(now))
    }

    /// `bytes` as a response body sent within the budget.
    pub fn body(self: &Arc<Self>, bytes: Bytes) -> Body {
        if self.rate.is_none() || bytes.len() <= CHUNK {
            return Body::from(bytes);
        }
        let chunks = futures_util::stream::unfold(
            (self.clone(), bytes, 0),
            |(budget, bytes, at)| async move {
                if at >= bytes.len() {
                    return None;
                }
                let end = (at + CHUNK).min(bytes.len());
                let when = budget.reserve((end - at) as u64, Instant::now());
                tokio::time::sleep_until(when).await;
                let chunk = bytes.slice(at..end);
                Some((Ok::<_, Infallible>(chunk), (budget, bytes, end)))
            },
        );
        Body::from_stream(chunks)
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::mib_per_second(DEFAULT_MIB_PER_SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    const MIB: usize = 1 << 20;

    fn payload(len: usize) -> Bytes {
        (0..len).map(|i| (i % 251) as u8).collect::<Vec<_>>().into()
    }

    /// Reads a body to its end, returning it and how long it took on the (paused) clock.
    async fn read(body: Body) -> (Bytes, Duration) {
        let started = Instant::now();
        let bytes = body.collect().await.unwrap().to_bytes();
        (bytes, started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_download_past_the_burst_goes_at_the_rate_and_arrives_whole() {
        let budget = Arc::new(Budget::mib_per_second(1));
        let sent = payload(4 * MIB + 123);
        let (got, took) = read(budget.body(sent.clone())).await;
        assert_eq!(got, sent);
        // 4 MiB and 123 bytes at 1 MiB/s, less the quarter-second burst: about 3.75 s.
        assert!(took >= Duration::from_millis(3_750), "{took:?}");
        assert!(took <= Duration::from_millis(3_760), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn downloads_at_the_same_time_share_one_budget() {
        let budget = Arc::new(Budget::mib_per_second(2));
        let sent = payload(4 * MIB);
        let started = Instant::now();
        let (a, b) = tokio::join!(
            read(budget.body(sent.clone())),
            read(budget.body(sent.clone()))
        );
        assert_eq!((&a.0, &b.0), (&sent, &sent));
        // 8 MiB together at 2 MiB/s, less the burst; alone, either would have taken 1.75 s.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(3_750), "{took:?}");
        assert!(took <= Duration::from_millis(3_760), "{took:?}");
        assert!(
            a.1.min(b.1) >= Duration::from_secs(3),
            "{:?} {:?}",
            a.1,
            b.1
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_budget_refills_and_small_or_unpaced_bodies_go_at_once() {
        let budget = Arc::new(Budget::mib_per_second(1));
        let (_, first) = read(budget.body(payload(2 * MIB))).await;
        assert!(first >= Duration::from_millis(1_750), "{first:?}");
        tokio::time::sleep(Duration::from_secs(10)).await;
        // After a pause the burst is there again, and no more than the burst.
        let (_, again) = read(budget.body(payload(2 * MIB))).await;
        assert_eq!(again, first);

        let (_, small) = read(budget.body(payload(CHUNK))).await;
        assert_eq!(small, Duration::ZERO);
        let unpaced = Arc::new(Budget::mib_per_second(0));
        let sent = payload(8 * MIB);
        let (got, took) = read(unpaced.body(sent.clone())).await;
        assert_eq!((got, took), (sent, Duration::ZERO));
    }
}
