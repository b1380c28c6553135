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

pub fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    let millis = at.millisecond();
    at.replace_millisecond(millis).unwrap_or(at)
}
