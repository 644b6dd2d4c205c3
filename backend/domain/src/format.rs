//! How numbers and times are written for people: `189,935,872 addresses`, `USD 1,500.00`,
//! `2026-11-28 14:05 UTC`, `5 days ago`.

use time::{Duration, OffsetDateTime, UtcOffset};

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A string of ASCII digits with a comma every three from the right.
pub(crate) fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A sentence with its first letter in capitals: `transfer completed` as `Transfer completed`.
pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A moment as `2026-11-28 14:05 UTC`.
pub fn utc_minute(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A day as `2026-11-28`.
pub fn utc_day(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// How long something took or has waited, in its largest whole unit: `3 minutes`, `1 hour`,
/// `5 days`. Negative spans count as zero.
pub fn span(d: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.whole_days() >= 1 {
        plural(d.whole_days(), "day")
    } else if d.whole_hours() >= 1 {
        plural(d.whole_hours(), "hour")
    } else {
        plural(d.whole_minutes().max(0), "minute")
    }
}

/// `5 days ago`, or `in 5 days` for a moment still to come.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    if t <= now {
        format!("{} ago", span(now - t))
    } else {
        format!("in {}", span(t - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_written_in_utc_to_the_minute() {
        assert_eq!(
            utc_minute(datetime!(2026-11-28 14:05:59 UTC)),
            "2026-11-28 14:05 UTC"
        );
        assert_eq!(
            utc_minute(datetime!(2026-11-28 23:30 -2)),
            "2026-11-29 01:30 UTC"
        );
        assert_eq!(utc_day(datetime!(2026-01-02 23:59 UTC)), "2026-01-02");
    }

    #[test]
    fn spans_use_their_largest_whole_unit() {
        let now = datetime!(2026-11-28 12:00 UTC);
        assert_eq!(relative(now - Duration::days(5), now), "5 days ago");
        assert_eq!(relative(now - Duration::hours(25), now), "1 day ago");
        assert_eq!(relative(now - Duration::minutes(90), now), "1 hour ago");
        assert_eq!(relative(now - Duration::seconds(30), now), "0 minutes ago");
        assert_eq!(relative(now + Duration::days(7), now), "in 7 days");
        assert_eq!(span(Duration::minutes(1)), "1 minute");
        assert_eq!(span(Duration::seconds(-5)), "0 minutes");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_024), "1,024");
        assert_eq!(group_thousands(189_935_872), "189,935,872");
        assert_eq!(group_thousands(4_294_967_296), "4,294,967,296");
    }
}
