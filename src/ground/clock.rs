//! The one clock: every "now" of the service comes from here, in UTC.

use time::OffsetDateTime;

/// Now, to the millisecond (what is stored and shown).
pub fn now() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

/// [`now`] in Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Now in Unix seconds (token times).
pub fn unix_now() -> i64 {
    now().unix_timestamp()
}

/// Milliseconds on a process-wide monotonic clock, for measuring spans (0 is never a reading).
pub fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    start.elapsed().as_millis() as u64 + 1
}

pub fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    let millis = at.millisecond();
    at.replace_millisecond(millis).unwrap_or(at)
}
