//! Where "now" comes from. Services take the time as an argument; the server, the worker and the
//! scheduler ask an injected [`Clock`], so tests can move time (deadlines, reminders, expiry).

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    pub fn at(now: OffsetDateTime) -> Self {
        ManualClock(Arc::new(Mutex::new(now)))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    pub fn set(&self, to: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The clock shared by the server's handlers and background tasks.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(datetime!(2026-11-28 12:00 UTC));
        assert_eq!(c.now(), datetime!(2026-11-28 12:00 UTC));
        c.advance(Duration::days(7));
        assert_eq!(c.now(), datetime!(2026-12-05 12:00 UTC));
        let shared: SharedClock = Arc::new(c.clone());
        c.set(datetime!(2027-01-01 0:00 UTC));
        assert_eq!(shared.now(), datetime!(2027-01-01 0:00 UTC));
    }
}
