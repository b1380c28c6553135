//! Timestamps as the API shows them. A list page writes three per task and a page read from the
//! database parses three per row, so the one text form the service uses (UTC, `Z`, at most nine
//! fraction digits) is written and read here without the general RFC 3339 machinery, which cost
//! about a quarter of an uncached page; anything else is left to the `time` crate.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, Time};

/// A point in time as the API shows it: RFC 3339 in UTC, at microsecond precision (PostgreSQL's),
/// trailing zeros of the fraction left out. Whichever clock or database it came from, it is
/// truncated once, when made, so both backends serve the very same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Now, by this process's clock (the SQLite backend; PostgreSQL stamps with its own).
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self(at.replace_nanosecond(at.microsecond() * 1000).unwrap_or(at))
    }

    /// Parses the text form (any RFC 3339 offset is accepted and converted to UTC).
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_bytes(text.as_bytes())
    }

    /// [`Self::parse`] of text not yet known to be UTF-8 (a database column): the usual form
    /// is ASCII by construction, so only the others are checked.
    pub fn parse_bytes(text: &[u8]) -> Option<Self> {
        parse_utc(text)
            .or_else(|| {
                let text = std::str::from_utf8(text).ok()?;
                OffsetDateTime::parse(text, &Rfc3339).ok()
            })
            .map(Self::from_datetime)
    }

    /// Microseconds since the Unix epoch: what `sort=updated` orders by.
    pub fn unix_micros(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
    }

    pub fn as_datetime(self) -> OffsetDateTime {
        self.0
    }

    /// The text form, as `time`'s RFC 3339 formatter writes it; `None` for years it cannot
    /// write (outside 0 to 9999), which no clock or database of ours produces.
    pub(super) fn text(self) -> Option<Text> {
        let (year, month, day) = self.0.to_calendar_date();
        let (hour, minute, second, nanos) = self.0.to_hms_nano();
        let year = u32::try_from(year).ok().filter(|year| *year <= 9999)?;
        let mut text = Text { bytes: *b"0000-00-00T00:00:00.000000000Z", len: 20 };
        let bytes = &mut text.bytes;
        put_digits(&mut bytes[0..4], year);
        put_digits(&mut bytes[5..7], u32::from(u8::from(month)));
        put_digits(&mut bytes[8..10], u32::from(day));
        put_digits(&mut bytes[11..13], u32::from(hour));
        put_digits(&mut bytes[14..16], u32::from(minute));
        put_digits(&mut bytes[17..19], u32::from(second));
        if nanos == 0 {
            text.len = 19;
        } else {
            put_digits(&mut bytes[20..29], nanos);
            text.len = 29;
            while bytes[text.len - 1] == b'0' {
                text.len -= 1;
            }
        }
        bytes[text.len] = b'Z';
        text.len += 1;
        Some(text)
    }
}

/// A timestamp's text, on the stack.
pub(super) struct Text {
    bytes: [u8; 30],
    len: usize,
}

impl Text {
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// Writes `value` as exactly `out.len()` decimal digits (the caller's field is wide enough).
fn put_digits(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z`, the form this service writes; `None` for anything else
/// (other offsets, lower-case separators, leap seconds), which the general parser then reads.
fn parse_utc(text: &[u8]) -> Option<OffsetDateTime> {
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        digits.iter().try_fold(0u32, |value, &b| {
            b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if text.len() < 20 || separators.iter().any(|&(at, sep)| text[at] != sep) {
        return None;
    }
    let (zone, fraction) = text.split_last()?;
    if *zone != b'Z' {
        return None;
    }
    let nanos = match &fraction[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(20..20 + digits.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let date = Date::from_calendar_date(
        i32::try_from(number(0..4)?).ok()?,
        month,
        u8::try_from(number(8..10)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(number(11..13)?).ok()?,
        u8::try_from(number(14..16)?).ok()?,
        u8::try_from(number(17..19)?).ok()?,
        nanos,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().ok_or(fmt::Error)?.as_str())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.text() {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => Err(serde::ser::Error::custom("a year outside 0 to 9999")),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instants spread over years 0 to 9999, a third of them with a whole-second or
    /// whole-millisecond fraction (the trailing zeros the text leaves out).
    fn instants() -> impl Iterator<Item = OffsetDateTime> {
        let first = OffsetDateTime::parse("0000-01-01T00:00:00Z", &Rfc3339).unwrap();
        let span = 10_000 * 365 * 86_400_i64;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..50_000).map(move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let seconds = (state % span as u64) as i64;
            let micros = match n % 3 {
                0 => 0,
                1 => (state >> 40) as i64 % 1000 * 1000,
                _ => (state >> 40) as i64 % 1_000_000,
            };
            first + time::Duration::seconds(seconds) + time::Duration::microseconds(micros)
        })
    }

    #[test]
    fn the_text_is_what_the_rfc_3339_formatter_writes() {
        for at in instants() {
            let expected = at.format(&Rfc3339).unwrap();
            let stamp = Timestamp::from_datetime(at);
            assert_eq!(stamp.to_string(), expected);
            assert_eq!(serde_json::to_string(&stamp).unwrap(), format!("\"{expected}\""));
        }
    }

    #[test]
    fn the_text_reads_back_as_the_rfc_3339_parser_reads_it() {
        for at in instants() {
            let text = at.format(&Rfc3339).unwrap();
            assert_eq!(parse_utc(text.as_bytes()), Some(at), "{text}");
            assert_eq!(Timestamp::parse(&text), Some(Timestamp::from_datetime(at)));
        }
        for text in
            ["2026-11-21T09:00:00.1Z", "2026-11-21T09:00:00.123456789Z", "2024-02-29T23:59:59Z"]
        {
            let general = OffsetDateTime::parse(text, &Rfc3339).unwrap();
            assert_eq!(parse_utc(text.as_bytes()), Some(general), "{text}");
        }
    }

    #[test]
    fn other_forms_are_left_to_the_general_parser() {
        let cases = [
            ("2026-11-21T10:00:00+01:00", Some("2026-11-21T09:00:00Z")),
            ("2026-11-21t09:00:00z", Some("2026-11-21T09:00:00Z")),
            ("2026-11-21T09:00:00.1234567891Z", Some("2026-11-21T09:00:00.123456Z")),
            ("2026-02-30T09:00:00Z", None),
            ("2026-11-21T24:00:00Z", None),
            ("2026-11-21T09:00:00.Z", None),
            ("2026-11-21T09:00:0xZ", None),
            ("2026-11-21 09:00:00", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_utc(text.as_bytes()), None, "{text}");
            let parsed = Timestamp::parse(text).map(|stamp| stamp.to_string());
            assert_eq!(parsed.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn fractions_are_truncated_to_microseconds() {
        let stamp = Timestamp::parse("2026-11-21T09:00:00.123456789Z").unwrap();
        assert_eq!(stamp.to_string(), "2026-11-21T09:00:00.123456Z");
    }
}
